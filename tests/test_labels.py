"""Export JSON -> label rows, on an export recorded from a real Label Studio 1.23 server.

tests/recorded/export_two_annotators.json: three tasks. `art-emoji` has two annotators
(ann1 sent "Kim Jong Un" with UTF-16 offsets, ann2 a shorter "Kim Jong", a misspelled
surface and a per-region stance without a span) and one cancelled annotation;
`art-changed` was annotated but its text changed since the push; `art-draft` holds
only a draft and a prediction.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from toolkit.labels import export as labels
from toolkit.labels import gold, spans
from toolkit.labels.export import ArticleText, Controls, parse_time, rows_from_export

RECORDED = Path(__file__).parent / "recorded"
T_EMOJI = "Presiden Putin 🙂 bertemu  Kim Jong Un di Vostochny, Rusia."
T_DRAFT = "Mao Ning berbicara di Beijing."
T_CHANGED_NOW = "Wang Yi tiba di Moskow pada Senin."  # pushed as "Wang Yi tiba di Moskow."
CONTROLS = Controls(
    entity="entity",
    region_stance="entity_stance",
    targets={
        "stance_rusia": "Rusia",
        "stance_tiongkok": "Tiongkok",
        "stance_korea_utara": "Korea Utara",
        "stance_icc": "ICC",
        "stance_barat": "Barat",
    },
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def article(text: str) -> ArticleText:
    return ArticleText(text, sha(text))


ARTICLES = {
    "art-emoji": article(T_EMOJI),
    "art-changed": article(T_CHANGED_NOW),
    "art-draft": article(T_DRAFT),
}


@pytest.fixture(scope="module")
def export():
    return json.loads((RECORDED / "export_two_annotators.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def users():
    raw = json.loads((RECORDED / "users.json").read_text(encoding="utf-8"))
    return {int(k): v for k, v in raw.items()}


@pytest.fixture()
def rows(export, users):
    return rows_from_export(export, ARTICLES, CONTROLS, users)


def times(export, annotation_id):
    ann = next(a for t in export for a in t["annotations"] if a["id"] == annotation_id)
    return parse_time(ann["created_at"]), parse_time(ann["updated_at"])


def test_counts_exclude_cancelled_drafts_and_predictions(rows):
    assert rows.counts == {
        "tasks": 3,
        "annotations": 3,
        "cancelled": 1,
        "drafts": 1,
        "predictions": 1,
        "relocated": 1,
    }
    assert {r["annotation_id"] for r in rows.entities + rows.stance} == {3, 4}


def test_entity_rows_exact(rows, export):
    c3, u3 = times(export, 3)
    c4, u4 = times(export, 4)
    common = {"article_id": "art-emoji", "text_sha256": sha(T_EMOJI), "task_id": 5003}
    ann1 = {"annotator": "ann1@example.com", "annotator_id": 2, "annotation_id": 3}
    ann1 |= {"created_at": c3, "updated_at": u3, "lead_time": 42.5}
    ann2 = {"annotator": "ann2@example.com", "annotator_id": 3, "annotation_id": 4}
    ann2 |= {"created_at": c4, "updated_at": u4, "lead_time": 30.0}

    def row(start, end, type_, stance, relocated, region, who):
        return {
            **common,
            "start": start,
            "end": end,
            "surface": T_EMOJI[start:end],
            "type": type_,
            "stance": stance,
            "relocated": relocated,
            "origin": "manual",
            "gold": False,
            "ground_truth": False,
            "region_id": region,
            **who,
        }

    expected = [
        row(9, 14, "PER", "AGAINST", False, "r-putin", ann1),
        row(26, 37, "PER", None, True, "r-kim", ann1),  # UTF-16 offsets 27..38 re-located
        row(52, 57, "GPE", "FAVOR", False, "r-rusia", ann1),
        row(9, 14, "PER", None, False, "s-putin", ann2),
        row(26, 34, "PER", "NONE", False, "s-kim", ann2),
    ]
    assert rows.entities == expected
    assert [r["surface"] for r in rows.entities] == [
        "Putin",
        "Kim Jong Un",
        "Rusia",
        "Putin",
        "Kim Jong",
    ]
    assert list(rows.entities[0]) == [
        "article_id",
        "text_sha256",
        "start",
        "end",
        "surface",
        "type",
        "stance",
        "relocated",
        "origin",
        "gold",
        "ground_truth",
        "annotator",
        "annotator_id",
        "annotation_id",
        "task_id",
        "region_id",
        "created_at",
        "updated_at",
        "lead_time",
    ]


def test_stance_rows_exact(rows):
    got = [(r["annotator"], r["target"], r["stance"]) for r in rows.stance]
    assert got == [
        ("ann1@example.com", "Rusia", "FAVOR"),
        ("ann1@example.com", "Korea Utara", "NONE"),
        ("ann2@example.com", "Rusia", "AGAINST"),
        ("ann2@example.com", "Korea Utara", "NONE"),
    ]
    assert all(r["article_id"] == "art-emoji" and r["task_id"] == 5003 for r in rows.stance)


def test_quarantine_rows_and_reasons(rows):
    got = [
        (
            r["article_id"],
            r["annotation_id"],
            r["annotator"],
            r["reason"],
            json.loads(r["result_json"]),
        )
        for r in rows.quarantine
    ]
    assert [g[:4] for g in got] == [
        ("art-emoji", 4, "ann2@example.com", spans.NOT_FOUND),
        ("art-emoji", 4, "ann2@example.com", labels.ORPHAN_REGION_STANCE),
        ("art-changed", 6, "ann1@example.com", labels.TEXT_CHANGED),
        ("art-changed", 6, "ann1@example.com", labels.TEXT_CHANGED),
    ]
    assert got[0][4][0]["value"]["text"] == "Vostochni"
    assert got[1][4][0]["id"] == "s-orphan"
    assert [g[4][0]["from_name"] for g in got[2:]] == ["entity", "stance_tiongkok"]


def test_unknown_article_and_missing_id_are_quarantined(export, users):
    rows = rows_from_export(export, {"art-draft": article(T_DRAFT)}, CONTROLS, users)
    assert {r["reason"] for r in rows.quarantine} == {labels.ARTICLE_MISSING}
    assert rows.entities == [] and rows.stance == []
    stripped = [{**t, "data": {"text": t["data"]["text"]}} for t in export]
    rows = rows_from_export(stripped, ARTICLES, CONTROLS, users)
    assert {r["reason"] for r in rows.quarantine} == {labels.NO_ARTICLE_ID}


def test_unknown_labels_and_multiple_labels_are_quarantined(export, users):
    task = json.loads(json.dumps(export[0]))
    ann = task["annotations"][0]
    ann["result"][0]["value"]["labels"] = ["PER", "ORG"]
    ann["result"][3]["value"]["labels"] = ["CITY"]
    ann["result"][5]["value"]["choices"] = ["MAYBE"]
    ann["result"].append(
        {"id": "z", "from_name": "mystery", "type": "choices", "value": {"choices": ["X"]}}
    )
    rows = rows_from_export([task], ARTICLES, CONTROLS, users)
    reasons = [r["reason"] for r in rows.quarantine if r["annotation_id"] == 3]
    assert reasons == [
        labels.MULTIPLE_LABELS,
        labels.UNKNOWN_LABEL,
        labels.UNKNOWN_LABEL,
        labels.UNKNOWN_CONTROL,
    ]


def test_every_exported_result_is_accounted_for(rows, export):
    """Nothing lost: each result of an accepted annotation is in a table or in quarantine."""
    accepted = [a for t in export for a in t["annotations"] if not a["was_cancelled"]]
    n_results = sum(len(a["result"]) for a in accepted)
    in_quarantine = sum(len(json.loads(r["result_json"])) for r in rows.quarantine)
    with_stance = sum(1 for r in rows.entities if r["stance"] is not None)
    assert len(rows.entities) + with_stance + len(rows.stance) + in_quarantine == n_results


def test_gold_rule_most_recent_wins_a_tie_majority_otherwise(rows):
    gold.mark_gold(rows.entities, rows.stance, rows.annotations)
    # two annotators, no ground truth: the most recent annotation (ann2, id 4) is gold
    assert [(r["region_id"], r["gold"]) for r in rows.entities] == [
        ("r-putin", False),
        ("r-kim", False),
        ("r-rusia", False),
        ("s-putin", True),
        ("s-kim", True),
    ]
    # Rusia: FAVOR vs AGAINST, a tie -> most recent; Korea Utara: both NONE -> majority
    assert [(r["annotation_id"], r["target"], r["gold"]) for r in rows.stance] == [
        (3, "Rusia", False),
        (3, "Korea Utara", False),
        (4, "Rusia", True),
        (4, "Korea Utara", True),
    ]


def test_gold_rule_ground_truth_wins(export, users):
    task = json.loads(json.dumps(export[0]))
    task["annotations"][0]["ground_truth"] = True  # the older annotation, by ann1
    rows = rows_from_export([task], ARTICLES, CONTROLS, users)
    gold.mark_gold(rows.entities, rows.stance, rows.annotations)
    assert [r["region_id"] for r in rows.entities if r["gold"]] == ["r-putin", "r-kim", "r-rusia"]
    assert [(r["annotation_id"], r["target"]) for r in rows.stance if r["gold"]] == [
        (3, "Rusia"),
        (3, "Korea Utara"),
    ]


def test_gold_rule_majority_of_three(export, users):
    task = json.loads(json.dumps(export[0]))
    third = json.loads(json.dumps(task["annotations"][0]))  # a copy of ann1's work by admin
    third |= {"id": 99, "completed_by": 1, "updated_at": "2020-01-01T00:00:00Z"}
    task["annotations"].append(third)
    rows = rows_from_export([task], ARTICLES, CONTROLS, users)
    gold.mark_gold(rows.entities, rows.stance, rows.annotations)
    gold_mentions = sorted(
        (r["start"], r["end"], r["annotation_id"]) for r in rows.entities if r["gold"]
    )
    # Putin: all three (most recent: 4); Kim Jong Un and Rusia: ann1 + admin (most recent: 3)
    assert gold_mentions == [(9, 14, 4), (26, 37, 3), (52, 57, 3)]
    assert [(r["annotation_id"], r["target"]) for r in rows.stance if r["gold"]] == [
        (3, "Rusia"),  # FAVOR by two of three
        (4, "Korea Utara"),  # NONE by all: the most recent carries it
    ]
    assert "ground truth" in gold.GOLD_RULE and "majority" in gold.GOLD_RULE


def test_build_tables_types_every_config(export, users):
    from toolkit.dataset.schema import config_schema
    from toolkit.labels.tables import build_tables, card_sections

    built = build_tables(export, ARTICLES, users)
    for name, table in built.tables.items():
        assert table.schema == config_schema(name).arrow_schema, name
    assert [t.num_rows for t in built.tables.values()] == [5, 4, 4, 1]
    features = config_schema("entities").features
    types = [features["type"].int2str(v) for v in built.tables["entities"]["type"].to_pylist()]
    assert types == ["PER", "PER", "GPE", "PER", "PER"]
    ner = built.tables["ner"].to_pylist()[0]
    tags = config_schema("ner").features["labels"].feature.int2str(ner["labels"])
    # gold = ann2's annotation (most recent of two): "Putin", "Kim Jong"
    assert list(zip(ner["tokens"], tags, strict=True))[1:7] == [
        ("Putin", "B-PER"),
        ("🙂", "O"),
        ("bertemu", "O"),
        ("Kim", "B-PER"),
        ("Jong", "I-PER"),
        ("Un", "O"),
    ]
    sections = card_sections(built)
    assert sections["Gold labels"] == gold.GOLD_RULE
    assert "| Rusia | 0.000 | 1 | 2 |" in sections["Agreement"]
    assert "exact 0.400, overlap 0.800" in sections["Agreement"]
    assert "1 cancelled (skipped), 1 drafts" in sections["Label statistics"]


def test_build_tables_batch_by_batch_equals_all_at_once(export, users, monkeypatch):
    """NER rows are made per batch of tasks; an article whose annotations sit in two
    tasks of two batches (gold changes once both are seen) is tagged again."""
    from toolkit.dataset.schema import config_schema
    from toolkit.labels import tables as label_tables

    split = []  # every task with several annotations becomes one task per annotation
    for task in export:
        for i, ann in enumerate(task.get("annotations") or [None]):
            copy = json.loads(json.dumps(task))
            copy["id"] = task["id"] * 100 + i
            copy["annotations"] = [ann] if ann else []
            split.append(copy)
    assert len(split) > len(export)
    whole = label_tables.build_tables(split, ARTICLES, users)
    monkeypatch.setattr(label_tables, "BATCH_TASKS", 1)
    batched = label_tables.build_tables(split, ARTICLES, users)
    for name, table in whole.tables.items():
        assert batched.tables[name].equals(table), name
    assert batched.ner == whole.ner
    tags = (
        config_schema("ner")
        .features["labels"]
        .feature.int2str(batched.tables["ner"].to_pylist()[0]["labels"])
    )
    assert tags[1:7] == ["B-PER", "O", "O", "B-PER", "I-PER", "O"]  # ann2's gold, not ann1's
