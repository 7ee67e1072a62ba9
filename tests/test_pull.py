"""Pull against the real Label Studio server: known annotations in, exact tables out.

Four articles are built and pushed. `emoji` (an emoji, and double spaces in the source
page) gets two annotators who disagree on one stance and one span boundary; ann1's
offsets are in UTF-16 code units, as some browsers send them. `kremlin` gets one
ground-truth annotation; `draft` only a draft and a prediction; `changed` an annotation,
then its text changes in the next build. Plus one cancelled annotation.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import httpx
import pytest

from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.dataset.schema import config_schema
from toolkit.labels import export as labels
from toolkit.labels import spans
from toolkit.labels.gold import GOLD_RULE
from toolkit.labels.pull import pull, report
from toolkit.studio.client import connect
from toolkit.studio.push import push_release

pytestmark = pytest.mark.studio

EMOJI_SOURCE = (
    "Presiden Vladimir Putin 🙂 bertemu  Kim Jong Un di kosmodrom Vostochny, Rusia, pada Rabu."
    "\n\nMenteri Luar Negeri Tiongkok Wang Yi  memuji pertemuan itu di Beijing."
)
PAGES = {
    "emoji": EMOJI_SOURCE,
    "kremlin": "Kremlin menolak surat perintah ICC terhadap Putin. Juru bicara Kremlin menyebut "
    "keputusan itu batal demi hukum bagi Rusia.",
    "draft": "Juru bicara Kementerian Luar Negeri Tiongkok Mao Ning berbicara di Beijing pada "
    "Kamis tentang hubungan dengan Korea Utara.",
    "changed": "Menteri Luar Negeri Tiongkok Wang Yi tiba di Moskow untuk berunding dengan "
    "Menteri Luar Negeri Rusia Sergei Lavrov tentang kerja sama kedua negara.",
}
CHANGED_LATER = PAGES["changed"].replace("Moskow", "Moskow pada Senin")


def write_pages(folder: Path, changed_text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, text in PAGES.items():
        text = changed_text if key == "changed" else text
        record = {"url": f"https://example.com/{key}", "title": f"Berita {key}", "text": text}
        lines.append(json.dumps(record, ensure_ascii=False))
    (folder / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def utf16(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


def span(text, surface, type_, rid, *, nth=0, units="cp", stance=None, as_surface=None):
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    end = start + len(surface)
    if units == "utf16":
        start, end = utf16(text, start), utf16(text, end)
    value = {"start": start, "end": end, "text": as_surface or surface}
    out = [
        {
            "id": rid,
            "from_name": "entity",
            "to_name": "text",
            "type": "labels",
            "value": {**value, "labels": [type_]},
        }
    ]
    if stance:
        out.append(
            {
                "id": rid,
                "from_name": "entity_stance",
                "to_name": "text",
                "type": "choices",
                "value": {**value, "choices": [stance]},
            }
        )
    return out


def doc(target_control, stance):
    return {
        "id": f"doc-{target_control}",
        "from_name": target_control,
        "to_name": "text",
        "type": "choices",
        "value": {"choices": [stance]},
    }


class Api:
    """Plain HTTP calls an annotator's browser would make (token auth)."""

    def __init__(self, studio):
        self.http = httpx.Client(
            base_url=studio.url, headers={"Authorization": f"Token {studio.api_key}"}, timeout=60
        )

    def post(self, path, body):
        r = self.http.post(path, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def user(self, email):
        found = [u for u in self.http.get("/api/users/").json() if u["email"] == email]
        if found:
            return found[0]["id"]
        return self.post("/api/users/", {"email": email, "username": email.split("@")[0]})["id"]

    def tasks(self, project_id):
        r = self.http.get("/api/tasks/", params={"project": project_id, "page_size": 1000})
        return {t["meta"]["article_id"]: t["id"] for t in r.json()["tasks"]}

    def annotate(self, task_id, result, user, **extra):
        body = {"result": result, "completed_by": user, "lead_time": 10.0, **extra}
        return self.post(f"/api/tasks/{task_id}/annotations/", body)["id"]


def push(studio, release_dir, title):
    client = connect(studio.url, studio.api_key)
    events = list(push_release(client, release_dir, project_title=title))
    return events[-1].result.project_id


@pytest.fixture(scope="module")
def world(studio, tmp_path_factory):
    root = tmp_path_factory.mktemp("pull")
    out = root / "news"
    write_pages(root / "v1", PAGES["changed"])
    wait_for_build(build([root / "v1"], out, name="news"))
    texts = {row["url"].rsplit("/", 1)[1]: row for row in read_articles(out)}
    title = f"pull-test-{root.name}"
    project_id = push(studio, out, title)
    api = Api(studio)
    tasks = api.tasks(project_id)
    ids = {key: row["id"] for key, row in texts.items()}
    task = {key: tasks[ids[key]] for key in ids}
    ann1, ann2 = api.user("ann1@example.com"), api.user("ann2@example.com")
    admin = api.http.get("/api/current-user/whoami").json()["id"]

    e = texts["emoji"]["text"]
    a1 = [
        *span(e, "Vladimir Putin", "PER", "a-putin", units="utf16"),
        *span(e, "Kim Jong Un", "PER", "a-kim", units="utf16"),
        *span(e, "Rusia", "GPE", "a-rusia", units="utf16", stance="FAVOR"),
        *span(e, "Wang Yi", "PER", "a-wang", units="utf16"),
        doc("stance_rusia", "FAVOR"),
        doc("stance_tiongkok", "NONE"),
    ]
    a2 = [
        *span(e, "Vladimir Putin", "PER", "b-putin", stance="AGAINST"),
        *span(e, "Kim Jong", "PER", "b-kim"),
        *span(e, "Rusia", "GPE", "b-rusia"),
        *span(e, "Wang Yi", "PER", "b-wang"),
        *span(e, "Vostochny", "FAC", "b-vos", as_surface="Vostochni"),
        doc("stance_rusia", "AGAINST"),
        doc("stance_tiongkok", "NONE"),
    ]
    k = texts["kremlin"]["text"]
    gt = [
        *span(k, "Kremlin", "ORG", "k-1", stance="AGAINST"),
        *span(k, "ICC", "ORG", "k-2"),
        *span(k, "Putin", "PER", "k-3"),
        *span(k, "Kremlin", "ORG", "k-4", nth=1),
        *span(k, "Rusia", "GPE", "k-5"),
        doc("stance_icc", "AGAINST"),
    ]
    c = texts["changed"]["text"]
    annotation_ids = {
        "a1": api.annotate(task["emoji"], a1, ann1, lead_time=42.5),
        "a2": api.annotate(task["emoji"], a2, ann2, lead_time=30.0),
        "cancelled": api.annotate(task["emoji"], [], admin, was_cancelled=True),
        "gt": api.annotate(task["kremlin"], gt, ann1, ground_truth=True),
        "changed": api.annotate(task["changed"], span(c, "Sergei Lavrov", "PER", "c-1"), ann2),
    }
    draft = span(texts["draft"]["text"], "Mao Ning", "PER", "d-1")
    api.post(f"/api/tasks/{task['draft']}/drafts", {"result": draft, "lead_time": 3.0})
    prediction = {"task": task["draft"], "result": draft, "score": 0.9, "model_version": "m1"}
    api.post("/api/predictions/", prediction)

    # the "changed" article's text changes in the next build (same id, new text hash)
    write_pages(root / "v2", CHANGED_LATER)
    rebuilt = wait_for_build(build([root / "v2"], out, name="news"))
    assert rebuilt.bump == "major"
    result = pull(out, project=title, url=studio.url, api_key=studio.api_key, page_size=2)
    return {
        "out": out,
        "root": root,
        "result": result,
        "texts": {key: row["text"] for key, row in texts.items()},
        "ids": ids,
        "task": task,
        "ann": annotation_ids,
        "title": title,
        "api": api,
    }


def test_release_text_is_cleaned_and_labels_point_into_it(world):
    assert "  " not in world["texts"]["emoji"] and "🙂" in world["texts"]["emoji"]


def test_counts(world):
    counts = world["result"].tables.counts
    assert counts["tasks"] == 4
    assert counts["annotations"] == 4  # a1, a2, gt, changed
    assert (counts["cancelled"], counts["drafts"], counts["predictions"]) == (1, 1, 1)
    assert counts["relocated"] == 3  # Kim Jong Un, Rusia, Wang Yi after the emoji


def content(rows, names):
    """Entity rows as (article key, surface, start, end, type, stance, relocated, gold, who)."""
    key = {v: k for k, v in names.items()}
    out = []
    for r in rows:
        out.append(
            (
                key[r["article_id"]],
                r["surface"],
                r["start"],
                r["end"],
                r["type"],
                r["stance"],
                r["relocated"],
                r["gold"],
                r["annotator"],
            )
        )
    return sorted(out, key=repr)


def test_entity_rows_exact(world):
    e, k = world["texts"]["emoji"], world["texts"]["kremlin"]
    rows = world["result"].tables.rows.entities

    def at(text, surface, nth=0):
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        return start, start + len(surface)

    one, two = "ann1@example.com", "ann2@example.com"
    expected = [
        ("emoji", "Vladimir Putin", *at(e, "Vladimir Putin"), "PER", None, False, False, one),
        ("emoji", "Kim Jong Un", *at(e, "Kim Jong Un"), "PER", None, True, False, one),
        ("emoji", "Rusia", *at(e, "Rusia"), "GPE", "FAVOR", True, False, one),
        ("emoji", "Wang Yi", *at(e, "Wang Yi"), "PER", None, True, False, one),
        ("emoji", "Vladimir Putin", *at(e, "Vladimir Putin"), "PER", "AGAINST", False, True, two),
        ("emoji", "Kim Jong", *at(e, "Kim Jong"), "PER", None, False, True, two),
        ("emoji", "Rusia", *at(e, "Rusia"), "GPE", None, False, True, two),
        ("emoji", "Wang Yi", *at(e, "Wang Yi"), "PER", None, False, True, two),
        ("kremlin", "Kremlin", *at(k, "Kremlin"), "ORG", "AGAINST", False, True, one),
        ("kremlin", "ICC", *at(k, "ICC"), "ORG", None, False, True, one),
        ("kremlin", "Putin", *at(k, "Putin"), "PER", None, False, True, one),
        ("kremlin", "Kremlin", *at(k, "Kremlin", 1), "ORG", None, False, True, one),
        ("kremlin", "Rusia", *at(k, "Rusia"), "GPE", None, False, True, one),
    ]
    assert content(rows, world["ids"]) == sorted(expected, key=repr)
    for r in rows:
        assert r["text_sha256"] and r["task_id"] == world["task"][_key(world, r)]
        assert r["created_at"].tzinfo is not None and r["lead_time"] in (42.5, 30.0, 10.0)


def _key(world, row):
    return {v: k for k, v in world["ids"].items()}[row["article_id"]]


def test_stance_rows_exact(world):
    rows = world["result"].tables.rows.stance
    got = sorted(
        (_key(world, r), r["target"], r["stance"], r["annotator"], r["gold"]) for r in rows
    )
    assert got == [
        ("emoji", "Rusia", "AGAINST", "ann2@example.com", True),  # a tie: most recent wins
        ("emoji", "Rusia", "FAVOR", "ann1@example.com", False),
        ("emoji", "Tiongkok", "NONE", "ann1@example.com", False),
        ("emoji", "Tiongkok", "NONE", "ann2@example.com", True),  # majority, most recent row
        ("kremlin", "ICC", "AGAINST", "ann1@example.com", True),  # ground truth
    ]


def test_quarantine_rows_and_reasons(world):
    rows = world["result"].tables.rows.quarantine
    got = sorted(
        (_key(world, r), r["annotation_id"], r["reason"], json.loads(r["result_json"])[0]["id"])
        for r in rows
    )
    assert got == [
        ("changed", world["ann"]["changed"], labels.TEXT_CHANGED, "c-1"),
        ("emoji", world["ann"]["a2"], spans.NOT_FOUND, "b-vos"),
    ]


def test_agreement_by_hand(world):
    agree = world["result"].tables.agreement
    assert agree.articles == 1 and agree.entity_pairs == 1
    # emoji: ann1 {Putin, Kim Jong Un, Rusia, Wang Yi}, ann2 {Putin, Kim Jong, Rusia, Wang Yi}
    # exact matches 3, overlapping 4, 8 mentions: F1 = 2*3/8 and 2*4/8
    assert agree.entity_f1_exact == pytest.approx(0.75)
    assert agree.entity_f1_overlap == pytest.approx(1.0)
    alpha = {t.target: t.alpha for t in agree.stance}
    # Rusia: one unit {FAVOR, AGAINST}: D_o = 2, D_e = (1*1 + 1*1)/1 = 2 -> alpha 0
    assert alpha["Rusia"] == pytest.approx(0.0)
    assert alpha["Tiongkok"] is None  # one category only: undefined
    again = report(world["out"])
    assert again.agreement.as_dict() == agree.as_dict()
    assert again.quarantine_reasons == {labels.TEXT_CHANGED: 1, spans.NOT_FOUND: 1}


def test_release_card_and_version(world):
    rel = world["result"].release
    assert rel.bump == "minor" and rel.version == "2.1.0"
    card = (world["out"] / "README.md").read_text(encoding="utf-8")
    assert GOLD_RULE in card
    assert "| Rusia | 0.000 | 1 | 2 |" in card and "exact 0.750, overlap 1.000" in card


@pytest.mark.parametrize("config", ["entities", "stance", "ner"])
def test_load_dataset_gives_declared_features(world, config):
    ds = datasets.load_dataset(str(world["out"]), config)
    declared = config_schema(config).features
    for split in ds.values():
        assert split.features == declared
    if config == "entities":
        assert ds[next(iter(ds))].features["type"].names == list(
            config_schema("entities").features["type"].names
        )
    if config == "ner":
        rows = [r for split in ds.values() for r in split]
        assert sorted(r["id"] for r in rows) == sorted(
            [world["ids"]["emoji"], world["ids"]["kremlin"]]
        )
        names = declared["labels"].feature.names
        emoji = next(r for r in rows if r["id"] == world["ids"]["emoji"])
        tagged = [(t, names[i]) for t, i in zip(emoji["tokens"], emoji["labels"], strict=True)]
        assert ("Kim", "B-PER") in tagged and ("Jong", "I-PER") in tagged and ("Un", "O") in tagged


def test_rerun_gives_the_same_tables_and_no_new_version(world, studio):
    again = pull(world["out"], project=world["title"], url=studio.url, api_key=studio.api_key)
    assert again.release.unchanged
    for name, table in again.tables.tables.items():
        assert table.equals(world["result"].tables.tables[name]), name


def test_round_trip_gold_as_predictions(world, studio):
    """Gold entities -> predictions in a fresh project -> accepted as annotations -> pulled
    again: the same gold entities."""
    out = world["root"] / "roundtrip"
    shutil.copytree(world["out"], out)
    title = world["title"] + "-rt"
    project_id = push(studio, out, title)
    api = world["api"]
    tasks = api.tasks(project_id)
    gold = [r for r in world["result"].tables.rows.entities if r["gold"]]
    by_article: dict[str, list[dict]] = {}
    for r in gold:
        result = span(world_text(world, r), r["surface"], r["type"], r["region_id"],
                      stance=r["stance"])  # fmt: skip
        for item in result:  # exact offsets of the gold row, not the first occurrence
            item["value"].update(start=r["start"], end=r["end"])
        by_article.setdefault(r["article_id"], []).extend(result)
    stance_gold = [r for r in world["result"].tables.rows.stance if r["gold"]]
    for r in stance_gold:
        control = "stance_" + r["target"].lower().replace(" ", "_")
        by_article.setdefault(r["article_id"], []).append(doc(control, r["stance"]))
    annotator = api.user("ann1@example.com")
    for article_id, result in by_article.items():
        task_id = tasks[article_id]
        body = {"task": task_id, "result": result, "model_version": "gold", "score": 1.0}
        pred = api.post("/api/predictions/", body)
        # accepting a prediction: an annotation made from its result, linked to it
        api.annotate(task_id, pred["result"], annotator, parent_prediction=pred["id"])
    back = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    cols = ["article_id", "start", "end", "surface", "type", "stance", "relocated"]

    def project(rows):
        return sorted(tuple(r[c] for c in cols) for r in rows)

    assert back.tables.counts["predictions"] == len(by_article)
    assert project(back.tables.rows.entities) == project(gold)
    assert all(r["gold"] for r in back.tables.rows.entities)
    assert sorted((r["article_id"], r["target"], r["stance"]) for r in back.tables.rows.stance) == (
        sorted((r["article_id"], r["target"], r["stance"]) for r in stance_gold)
    )


def world_text(world, row):
    return world["texts"][_key(world, row)]


def test_cli_pull_rerun_and_report(world, studio):
    from click.testing import CliRunner

    from toolkit.cli import cli

    runner = CliRunner()
    args = ["pull", str(world["out"]), "--project", world["title"], "--url", studio.url]
    done = runner.invoke(cli, [*args, "--api-key", studio.api_key])
    assert done.exit_code == 0, done.output
    assert "labels unchanged since 2.1.0: no new version made" in done.output
    assert "excluded: 1 cancelled, 1 drafts; predictions not mixed in: 1" in done.output
    assert studio.api_key not in done.output
    shown = runner.invoke(cli, ["report", str(world["out"]), "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["version"] == "2.1.0"
    assert data["entity_f1_exact"] == pytest.approx(0.75)
    assert data["stance_alpha"]["Rusia"]["alpha"] == pytest.approx(0.0)
    text = runner.invoke(cli, ["report", str(world["out"])])
    assert "stance Rusia: alpha 0.000 (1 articles)" in text.output


def test_cli_errors_are_clean(world, studio):
    from click.testing import CliRunner

    from toolkit.cli import cli

    bare = world["root"] / "bare"
    wait_for_build(build([world["root"] / "v2"], bare, name="bare"))
    runner = CliRunner()
    shown = runner.invoke(cli, ["report", str(bare)])
    assert shown.exit_code == 1
    assert shown.output == f"Error: {bare} holds no labels yet; run `toolkit pull` first\n"
    args = ["pull", str(bare), "--url", studio.url, "--api-key", studio.api_key]
    missing = runner.invoke(cli, args)
    assert missing.exit_code == 1
    assert missing.output == (
        f"Error: no project titled 'bare' at {studio.url.rstrip('/')}; run push first\n"
    )
    wrong = runner.invoke(cli, [*args[:4], "--api-key", "0" * 40])
    assert wrong.exit_code == 1 and "refused the API key (HTTP 401)" in wrong.output
    assert "0" * 40 not in wrong.output
