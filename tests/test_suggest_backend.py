"""The suggestion ML backend's HTTP side without Label Studio: requests shaped as Label
Studio 1.23 sends them (ml/api_connector.py), answers as it reads them (ml/models.py),
on the seed gold fixture. The real server's side is tests/test_suggest_backend_studio.py.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from seed_gold import gold_articles

from helpers import ROOT, SEEDS
from toolkit.dataset.project import load_project
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.labels.suggest import GoldArticle
from toolkit.labels.suggest_backend import (
    ANNOTATED,
    NOT_IN_RELEASE,
    SUGGESTED,
    BackendServer,
    Predictor,
)
from toolkit.labels.suggest_release import (
    ReleaseGold,
    Suggester,
    make_suggestions,
    prediction_result,
)

COPY = "001_5258ceb684c511fe.txt"  # seed 001, the syndicated copy of seed 000: no gold here
SCHEME = load_project(ROOT / "dataset.yaml").labels


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("backend") / "news"
    wait_for_build(build([SEEDS], out, name="news"))
    return out


@pytest.fixture(scope="module")
def rows(release: Path) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in read_articles(release)}


@pytest.fixture(scope="module")
def data(release: Path, rows: dict[str, dict[str, Any]]) -> ReleaseGold:
    """What read_gold gives for a release whose gold is the fixture's, seed 001 left out."""
    copy_id = next(a for a, r in rows.items() if r["source_file"] == COPY)
    gold = [a for a in gold_articles(release) if a.article_id != copy_id]
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for art in gold:
        for s in art.spans:
            votes[art.text[s.start : s.end]][s.type] += 1
    articles = {
        a: GoldArticle(a, r["text"], group=r["near_duplicate_group"],
                       paragraphs=tuple((p["start"], p["end"]) for p in r["paragraphs"]))
        for a, r in rows.items()
    }  # fmt: skip
    shas = {a: r["text_sha256"] for a, r in rows.items()}
    return ReleaseGold("1.0.0", "news", gold, articles, votes, shas)


@pytest.fixture
def backend(data: ReleaseGold) -> Iterator[tuple[BackendServer, httpx.Client]]:
    server = BackendServer(Predictor(Suggester(data), SCHEME)).start()
    with server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield server, http


def task(task_id: int, row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A task as TaskSimpleSerializer sends it (the fields the backend reads, and others)."""
    return {
        "id": task_id, "project": 3, "data": {"text": row["text"], "title": row["title"]},
        "meta": {"article_id": row["id"], "text_sha256": row["text_sha256"]},
        "annotations": [], "predictions": [], "total_annotations": 0,
        "cancelled_annotations": 0, "is_labeled": False, **extra,
    }  # fmt: skip


def test_health_setup_and_webhook(backend: tuple[BackendServer, httpx.Client]) -> None:
    server, http = backend
    version = server.predictor.model_version
    assert version.startswith("toolkit-suggest:propagation+gazetteer+stance@news-1.0.0#")
    health = http.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "UP"
    setup = {"project": "3.1700000000", "schema": "<View/>", "hostname": "http://x",
             "access_token": "secret-token-of-the-owner", "extra_params": None}  # fmt: skip
    assert http.post("/setup", json=setup).json() == {"model_version": version}
    assert http.post("/webhook", json={"action": "ANNOTATION_CREATED"}).status_code == 200
    assert http.get("/nothing").status_code == 404
    bad = http.post("/predict", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400
    assert http.post("/predict", json={"tasks": "x"}).status_code == 400


def test_predict_answers_each_task_in_order(
    backend: tuple[BackendServer, httpx.Client],
    data: ReleaseGold,
    rows: dict[str, dict[str, Any]],
) -> None:
    server, http = backend
    copy_row = next(r for r in rows.values() if r["source_file"] == COPY)
    other = next(r for r in rows.values() if r["source_file"] != COPY)
    edited = {**copy_row, "text": copy_row["text"] + " Tambahan."}
    moved = {**copy_row, "text_sha256": hashlib.sha256(b"an older text").hexdigest()}
    tasks = [
        task(1, copy_row),
        task(2, other, annotations=[{"id": 9, "result": []}]),
        task(3, other, cancelled_annotations=1),
        task(4, edited),  # its text was edited inside Label Studio
        task(5, moved),  # pushed with another text than the release's
        task(6, {**copy_row, "id": "not-in-the-release"}),
        task(7, copy_row),
    ]
    body = {"tasks": tasks, "project": "3.1700000000", "label_config": "<View/>",
            "params": {"login": None, "password": None, "context": None}}  # fmt: skip
    answer = http.post("/predict", json=body)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == len(tasks)
    assert results[1:6] == [[], [], [], [], []]
    # exactly the bulk path's prediction, for both tasks holding the article
    made = make_suggestions(data, [copy_row["id"]])
    items = prediction_result(copy_row["text"], made.spans[copy_row["id"]], made.stances)
    scores = [i["score"] for i in items]
    expected = {"result": items, "score": round(sum(scores) / len(scores), 4),
                "model_version": made.model_version}  # fmt: skip
    assert results[0] == expected and results[6] == expected
    assert any(i["id"].startswith("prop") for i in items)  # propagated from seed 000's gold
    assert {i["from_name"] for i in items if i["type"] == "choices"} == {
        "stance_rusia", "stance_tiongkok", "stance_korea_utara", "stance_icc", "stance_barat"
    }  # fmt: skip
    assert server.predictor.counts == Counter({SUGGESTED: 2, ANNOTATED: 2, NOT_IN_RELEASE: 3})


def test_a_taken_port_is_a_clean_error(backend: tuple[BackendServer, httpx.Client]) -> None:
    from toolkit.errors import ToolkitError

    server, _ = backend
    port = int(server.server_address[1])
    with pytest.raises(ToolkitError, match=f"cannot listen on 127.0.0.1:{port}"):
        BackendServer(server.predictor, "127.0.0.1", port)


def test_cli_serve_is_not_an_evaluation(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    done = CliRunner().invoke(cli, ["suggest", str(tmp_path), "--serve", "--evaluate"])
    assert done.exit_code == 2
    assert "--serve serves the suggestions; evaluate them on their own" in done.output


def test_the_model_trained_once_predicts_as_the_bulk_path(
    data: ReleaseGold, rows: dict[str, dict[str, Any]]
) -> None:
    """With the model chosen for some types, the backend trains it at start and the bulk
    path per run; same seed, same gold: the same prediction."""
    from toolkit.labels.suggest_release import ModelChoice

    choice = ModelChoice(("EVT", "ORG"), {"EVT": 0.5, "ORG": 0.7})
    predictor = Predictor(Suggester(data, choice=choice), SCHEME)
    assert "+model" in predictor.model_version
    new = [r for r in rows.values() if r["source_file"] != COPY][:2]  # any two articles
    served = predictor.predict([task(i, r) for i, r in enumerate(new)])
    bulk = make_suggestions(data, [r["id"] for r in new], choice=choice)  # trains its own
    for row, answer in zip(new, served, strict=True):
        items = prediction_result(row["text"], bulk.spans[row["id"]], bulk.stances)
        assert answer["result"] == items and answer["model_version"] == bulk.model_version
    # the model takes part (its spans lose the overlaps to the gazetteer's on this gold)
    ner = predictor.suggester._ner
    assert ner is not None and any(ner.predict([r["text"] for r in new], types=["EVT", "ORG"]))
