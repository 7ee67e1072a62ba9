"""`toolkit suggest` against the real Label Studio: gold in, predictions out, accepted and
changed by an annotator, and the `origin` column back in the pull.

Seven articles are pushed: the five seeds and two new ones written for this test. Four
seeds get their gold annotation (tests/fixtures/seed_gold.json) through the API; seed
001 (the syndicated copy of seed 000) and the two new articles stay unannotated, so they
are the only tasks that may receive predictions.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from seed_gold import export_tasks

from helpers import SEEDS, copy_seeds, run_toolkit
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.labels.pull import pull
from toolkit.labels.suggest import GAZETTEER, PROPAGATION
from toolkit.labels.suggest_release import (
    CACHED,
    COMPUTED,
    MODEL_VERSION_PREFIX,
    NOT_EVALUATED,
    ModelChoice,
    model_choice,
    read_gold,
    suggest,
)
from toolkit.studio.client import connect
from toolkit.studio.predictions import answered, count_tasks, holding, task_states
from toolkit.studio.push import push_release

pytestmark = pytest.mark.studio

# Two articles written for this test (own words).
NEW = {
    "kunjungan": (
        "Presiden Rusia Vladimir Putin menerima Menteri Luar Negeri Tiongkok Wang Yi di "
        "Kremlin pada Senin pagi. Keduanya membahas Forum Belt and Road yang akan digelar di "
        "Beijing.\n\nJuru bicara Kremlin Dmitry Peskov mengatakan Moskow dan Beijing sepakat "
        "memperluas perdagangan, sementara Barat terus menekan kedua negara."
    ),
    "kereta": (
        "Pemimpin Korea Utara Kim Jong Un tiba di Vostochny dengan kereta lapis baja. Kantor "
        "berita KCNA melaporkan bahwa Kim dan Putin membicarakan kerja sama militer.\n\n"
        "Korea Selatan dan Amerika Serikat menyatakan keprihatinan atas pertemuan itu."
    ),
}
# What the gazetteer of the four annotated seeds must find there, read off by hand
# ("Amerika Serikat" is gold only in seed 001, which is not annotated: not found).
EXPECTED = {
    "kunjungan": [
        ("Rusia", "GPE"), ("Vladimir Putin", "PER"), ("Tiongkok", "GPE"), ("Wang Yi", "PER"),
        ("Kremlin", "ORG"), ("Forum Belt and Road", "EVT"), ("Beijing", "GPE"),
        ("Kremlin", "ORG"), ("Dmitry Peskov", "PER"), ("Moskow", "GPE"), ("Beijing", "GPE"),
        ("Barat", "NOR"),
    ],
    "kereta": [
        ("Korea Utara", "GPE"), ("Kim Jong Un", "PER"), ("Vostochny", "GPE"), ("KCNA", "ORG"),
        ("Kim", "PER"), ("Putin", "PER"), ("Korea Selatan", "GPE"),
    ],
}  # fmt: skip
COPY = "001_5258ceb684c511fe.txt"  # seed 001: syndicated copy of seed 000, not annotated


def at(text: str, pairs: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Offsets of each (surface, type) in order of appearance."""
    out, pos = [], 0
    for surface, etype in pairs:
        start = text.index(surface, pos)
        out.append((start, start + len(surface), etype))
        pos = start + len(surface)
    return out


class Api:
    """Plain HTTP calls an annotator's browser would make (token auth)."""

    def __init__(self, studio: Any) -> None:
        self.http = httpx.Client(
            base_url=studio.url, headers={"Authorization": f"Token {studio.api_key}"}, timeout=60
        )

    def post(self, path: str, body: Any) -> Any:
        r = self.http.post(path, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def user(self, email: str) -> int:
        found = [u for u in self.http.get("/api/users/").json() if u["email"] == email]
        if found:
            return found[0]["id"]
        return self.post("/api/users/", {"email": email, "username": email.split("@")[0]})["id"]

    def tasks(self, project_id: int) -> dict[str, int]:
        r = self.http.get("/api/tasks/", params={"project": project_id, "page_size": 1000})
        return {t["meta"]["article_id"]: t["id"] for t in r.json()["tasks"]}

    def predictions(self, task_id: int) -> list[dict[str, Any]]:
        r = self.http.get("/api/predictions/", params={"task": task_id})
        assert r.status_code == 200, r.text
        return [p for p in r.json() if p["task"] == task_id]

    def annotations(self, task_id: int) -> list[dict[str, Any]]:
        r = self.http.get(f"/api/tasks/{task_id}/annotations/")
        assert r.status_code == 200, r.text
        return r.json()

    def annotate(self, task_id: int, result: list, user: int, **extra: Any) -> int:
        body = {"result": result, "completed_by": user, "lead_time": 20.0, **extra}
        return self.post(f"/api/tasks/{task_id}/annotations/", body)["id"]


def wait_until_answered(client: Any, pid: int, n: int, timeout: float = 90.0) -> None:
    """The test's setup is what it says before suggest runs: the toolkit's own task listing
    counts `n` answered tasks (bounded wait; the task counters alone once read 0 here)."""
    deadline = time.monotonic() + timeout
    while sum(1 for t in task_states(client, pid) if t.annotations) < n:
        assert time.monotonic() < deadline, f"the server never listed {n} answered tasks"
        time.sleep(1.0)


def seeds_and_new_articles(folder: Path) -> Path:
    """The five seeds and the two articles written for these tests (a JSONL file)."""
    pages = copy_seeds(folder)
    lines = [
        json.dumps({"url": f"https://example.com/{k}", "title": f"Berita {k}", "text": v})
        for k, v in NEW.items()
    ]
    (pages / "new.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return pages


@pytest.fixture(scope="module")
def world(studio: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("suggest-studio")
    pages = seeds_and_new_articles(root / "pages")
    out = root / "news"
    wait_for_build(build([pages], out, name="news"))
    rows = {r["id"]: r for r in read_articles(out)}
    ids = {r["source_file"]: a for a, r in rows.items()}
    new_ids = {k: a for a, r in rows.items() for k in NEW if (r["url"] or "").endswith(k)}
    title = f"suggest-test-{root.name}"
    client = connect(studio.url, studio.api_key)
    pid = list(push_release(client, out, project_title=title))[-1].result.project_id
    api = Api(studio)
    tasks = api.tasks(pid)
    annotator = api.user("gold@example.com")
    seeds_release = root / "seeds-only"
    wait_for_build(build([SEEDS], seeds_release, name="news"))
    for task in export_tasks(seeds_release):
        if task["meta"]["source_file"] == COPY:
            continue
        ann = task["annotations"][0]
        api.annotate(tasks[task["meta"]["article_id"]], ann["result"], annotator, ground_truth=True)
    pulled = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    assert pulled.tables.counts["annotations"] == 4
    wait_until_answered(client, pid, 4)
    first = suggest(out, project=title, client=client, model=False, stance=False)
    second = suggest(out, project=title, client=client, model=False)  # other sources: replaces
    third = suggest(out, project=title, client=client, model=False)  # the same: keeps
    return {
        "out": out, "title": title, "pid": pid, "api": api, "tasks": tasks, "rows": rows,
        "ids": ids, "new": new_ids, "first": first, "second": second, "third": third,
        "client": client,
    }  # fmt: skip


def spans_of(prediction: dict[str, Any]) -> list[tuple[int, int, str]]:
    return sorted(
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in prediction["result"]
        if r["from_name"] == "entity"
    )


def test_predictions_only_on_unannotated_tasks(world: dict[str, Any]) -> None:
    api, tasks, second = world["api"], world["tasks"], world["second"]
    unannotated = {world["ids"][COPY], *world["new"].values()}
    assert second.tasks == 7 and second.annotated == 4 and second.suggested == 3
    for article_id, task_id in tasks.items():
        found = api.predictions(task_id)
        if article_id in unannotated:
            assert len(found) == 1, article_id  # replaced on the re-run, never duplicated
            assert found[0]["model_version"] == second.model_version
            assert found[0]["model_version"].startswith(MODEL_VERSION_PREFIX)
        else:
            assert found == [], article_id
    assert world["first"].model_version != second.model_version
    assert second.replaced == {world["first"].model_version: 3}
    assert f"@news-{read_gold(world['out']).version}#" in second.model_version


def test_an_unchanged_rerun_keeps_the_predictions(world: dict[str, Any]) -> None:
    second, third = world["second"], world["third"]
    assert third.model_version == second.model_version
    assert (third.kept, third.suggested, third.replaced) == (3, 0, {})
    assert third.annotated == 4


def test_new_articles_get_exactly_the_expected_spans(world: dict[str, Any]) -> None:
    api, rows = world["api"], world["rows"]
    for key, article_id in world["new"].items():
        text = rows[article_id]["text"]
        (prediction,) = api.predictions(world["tasks"][article_id])
        assert spans_of(prediction) == at(text, EXPECTED[key]), key
        for r in prediction["result"]:
            if r["from_name"] == "entity":
                v = r["value"]
                assert text[v["start"] : v["end"]] == v["text"]
                assert r["id"].startswith(GAZETTEER[:4])
        stance = {r["from_name"]: r["value"]["choices"] for r in prediction["result"]
                  if r["from_name"].startswith("stance_")}  # fmt: skip
        # four annotated seeds: NONE is the majority for every target
        assert stance == {c: ["NONE"] for c in stance} and len(stance) == 5


def test_syndicated_copy_gets_propagated_gold(world: dict[str, Any]) -> None:
    api, rows = world["api"], world["rows"]
    article_id = world["ids"][COPY]
    text = rows[article_id]["text"]
    (prediction,) = api.predictions(world["tasks"][article_id])
    propagated = [r for r in prediction["result"] if r["id"].startswith(PROPAGATION[:4])]
    assert propagated and world["second"].by_source[PROPAGATION] == len(propagated)
    # each propagated span is one the fixture's own gold of seed 001 holds
    copy_gold = next(t for t in export_tasks(world["out"]) if t["meta"]["source_file"] == COPY)
    truth = {
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in copy_gold["annotations"][0]["result"]
        if r["from_name"] == "entity"
    }
    for r in propagated:
        v = r["value"]
        assert (v["start"], v["end"], v["labels"][0]) in truth
        assert text[v["start"] : v["end"]] == v["text"]


def test_project_shows_the_predictions(world: dict[str, Any]) -> None:
    project = world["api"].http.get(f"/api/projects/{world['pid']}/").json()
    assert project["show_collab_predictions"] is True
    assert project["model_version"] == world["second"].model_version


def test_accepted_and_changed_suggestions_come_back_with_their_origin(
    world: dict[str, Any], studio: Any
) -> None:
    api, tasks = world["api"], world["tasks"]
    annotator = api.user("ann1@example.com")
    accepted_task = tasks[world["new"]["kunjungan"]]
    (pred,) = api.predictions(accepted_task)
    accepted = [{**copy.deepcopy(r), "origin": "prediction"} for r in pred["result"]]
    api.annotate(accepted_task, accepted, annotator, parent_prediction=pred["id"])

    changed_task = tasks[world["new"]["kereta"]]
    (pred2,) = api.predictions(changed_task)
    changed = [{**copy.deepcopy(r), "origin": "prediction"} for r in pred2["result"]]
    kim = next(r for r in changed if r.get("value", {}).get("text") == "Kim")
    kim["value"]["labels"] = ["ORG"]  # the annotator changes one suggestion's type
    kim["origin"] = "prediction-changed"
    text = world["rows"][world["new"]["kereta"]]["text"]
    start = text.index("Amerika Serikat")
    changed.append(
        {"id": "hand-1", "from_name": "entity", "to_name": "text", "type": "labels",
         "origin": "manual", "value": {"start": start, "end": start + 15,
                                       "text": "Amerika Serikat", "labels": ["GPE"]}}
    )  # fmt: skip
    api.annotate(changed_task, changed, annotator, parent_prediction=pred2["id"])
    # the listing filters suggest counts with: two answered tasks hold the version, one not
    version, client, pid = world["second"].model_version, world["client"], world["pid"]
    wait_until_answered(client, pid, 6)
    assert count_tasks(client, pid, [holding(version), answered()]) == 2
    assert count_tasks(client, pid, [holding(version), answered(False)]) == 1
    assert count_tasks(client, pid, [holding(version, False)]) == 4

    result = pull(world["out"], project=world["title"], url=studio.url, api_key=studio.api_key)
    rows = result.tables.rows.entities
    mine = {r["surface"]: r["origin"] for r in rows if r["task_id"] == changed_task}
    assert mine == {
        "Korea Utara": "prediction", "Kim Jong Un": "prediction", "Vostochny": "prediction",
        "KCNA": "prediction", "Kim": "prediction-changed", "Putin": "prediction",
        "Korea Selatan": "prediction", "Amerika Serikat": "manual",
    }  # fmt: skip
    kim_row = next(r for r in rows if r["task_id"] == changed_task and r["surface"] == "Kim")
    assert kim_row["type"] == "ORG"
    accepted_rows = [r for r in rows if r["task_id"] == accepted_task]
    assert len(accepted_rows) == len(EXPECTED["kunjungan"])
    assert {r["origin"] for r in accepted_rows} == {"prediction"}
    # the gold seeds were drawn by hand
    assert {r["origin"] for r in rows if r["annotator"] == "gold@example.com"} == {"manual"}
    # predictions never become label rows: every row belongs to a finished annotation
    assert result.tables.counts["predictions"] == 3
    card = (world["out"] / "README.md").read_text(encoding="utf-8")
    n = len(rows)
    accepted_n = sum(1 for r in rows if r["origin"] == "prediction")
    assert f"Of {n} entity rows: {accepted_n} ({100 * accepted_n / n:.1f}%) accepted" in card

    # a re-run leaves the now annotated tasks (and their annotations) alone
    wait_until_answered(world["client"], world["pid"], 6)
    again = suggest(world["out"], project=world["title"], client=world["client"], model=False)
    assert again.suggested == 1 and again.annotated == 6
    assert api.predictions(accepted_task) == [] and api.predictions(changed_task) == []
    assert len(api.annotations(accepted_task)) == 1 and len(api.annotations(changed_task)) == 1
    assert len(api.predictions(tasks[world["ids"][COPY]])) == 1


def test_cli_suggest_and_evaluate(
    world: dict[str, Any], studio: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    monkeypatch.setenv("TOOLKIT_HOME", str(tmp_path))  # the caches go there
    runner = CliRunner()
    where = ["--project", world["title"], "--url", studio.url, "--api-key", studio.api_key]
    pushed = runner.invoke(cli, ["push", str(world["out"]), *where, "--suggest"])
    assert pushed.exit_code == 0, pushed.output
    assert "0 task(s) created, 7 already present" in pushed.output
    # the same gold, sources and code as the last run: its prediction is kept
    assert "suggest: 0 task(s) given predictions" in pushed.output
    assert "1 task(s) kept theirs (unchanged)" in pushed.output
    args = ["suggest", str(world["out"]), "--project", world["title"], "--url", studio.url,
            "--api-key", studio.api_key, "--no-model"]  # fmt: skip
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert "suggest: 0 task(s) given predictions" in done.output
    assert studio.api_key not in done.output
    shown = runner.invoke(cli, ["suggest", str(world["out"]), "--evaluate", "--no-model",
                                "--folds", "2", "--json"])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["folds"] == 2 and data["articles"] == 6
    card = (world["out"] / "README.md").read_text(encoding="utf-8")
    assert "## Suggestions: evaluation" in card and "2-fold cross-validation" in card
    # ... and its summary is croissant.json's second machine annotation tool
    doc = json.loads((world["out"] / "croissant.json").read_text(encoding="utf-8"))
    tools = doc["rai:machineAnnotationTools"]
    assert len(tools) == 2 and "2-fold cross-validation over 6 gold article(s)" in tools[1]
    gazetteer = next(r for r in data["scores"] if r["source"] == "gazetteer" and r["type"] == "all")
    assert f"gazetteer P {gazetteer['exact_precision']:.3f}" in tools[1]
    # from a shell, where no test has set the seed scheme: the release's own one is used
    # (before, the built-in scheme's label names met the seed labels' ids: IndexError)
    shell = run_toolkit("suggest", str(world["out"]), "--evaluate", "--no-model", "--folds",
                        "2", "--json", env=studio.cli_env())  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert json.loads(shell.stdout)["scores"] == data["scores"]
    where = ["--project", world["title"], "--url", studio.url]
    shell = run_toolkit("suggest", str(world["out"]), *where, "--no-model",
                        env=studio.cli_env())  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert "suggest: 0 task(s) given predictions" in shell.stdout


def test_suggest_without_labels_is_a_clean_error(tmp_path: Path, studio: Any) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    bare = tmp_path / "bare"
    wait_for_build(build([SEEDS], bare, name="bare"))
    done = CliRunner().invoke(cli, ["suggest", str(bare), "--url", studio.url,
                                    "--api-key", studio.api_key])  # fmt: skip
    assert done.exit_code == 1
    assert done.output == f"Error: {bare} holds no labels yet; run `toolkit pull` first\n"


def test_model_choice_is_cross_validated_once_per_gold(
    world: dict[str, Any], tmp_path: Path
) -> None:
    data = read_gold(world["out"])
    assert model_choice(data, tmp_path) == (ModelChoice(), NOT_EVALUATED)  # model unused
    first, how = model_choice(data, tmp_path, compute=True)
    assert how == COMPUTED and list(tmp_path.glob("*.json"))
    again, how = model_choice(data, tmp_path)
    assert how == CACHED and again == first
    assert set(first.precision) == set(first.types)
    assert all(0.0 <= p <= 1.0 for p in first.precision.values())


def test_a_task_whose_text_was_edited_gets_no_prediction(world: dict[str, Any]) -> None:
    """Runs last: it edits the syndicated copy's text in Label Studio. Other sources make
    another digest, so every task is listed again: the edited one is not the release's
    text any more and gets no spans at the pushed offsets (its old prediction goes with
    the old version)."""
    api, task_id = world["api"], world["tasks"][world["ids"][COPY]]
    assert len(api.predictions(task_id)) == 1
    task = api.http.get(f"/api/tasks/{task_id}/").json()
    data = {**task["data"], "text": "(disunting) " + task["data"]["text"]}
    assert api.http.patch(f"/api/tasks/{task_id}/", json={"data": data}).status_code == 200
    done = suggest(
        world["out"], project=world["title"], client=world["client"], model=False, stance=False
    )
    assert (done.suggested, done.kept, done.not_in_release) == (0, 0, 1)
    assert api.predictions(task_id) == []
