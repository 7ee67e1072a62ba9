"""Any malformed result, annotation or task becomes quarantine rows, never an exception.

Pure transforms on export-shaped JSON (the same odd inputs are posted to a real server in
tests/test_studio_robust.py). Before issue 18, four of the seven cases raised and three
made rows sharing a key, which the release refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.labels import export as labels
from toolkit.labels.export import ArticleText
from toolkit.labels.tables import build_tables

TEXT = "Presiden Putin bertemu Kim Jong Un di Vostochny pada Rabu pagi."
SHA = hashlib.sha256(TEXT.encode()).hexdigest()
ARTICLES = {"a1": ArticleText(TEXT, SHA)}


def span(surface: str, rid: Any = None, **value: Any) -> dict:
    i = TEXT.index(surface)
    item = {
        "from_name": "entity",
        "to_name": "text",
        "type": "labels",
        "value": {"start": i, "end": i + len(surface), "text": surface, "labels": ["PER"], **value},
    }
    if rid is not None:
        item["id"] = rid
    return item


def doc(stance: str, rid: str) -> dict:
    value = {"choices": [stance]}
    return {"id": rid, "from_name": "stance_rusia", "to_name": "text", "type": "choices",
            "value": value}  # fmt: skip


def task(results: Any, article_id: Any = "a1", **annotation: Any) -> dict:
    return {
        "id": 1,
        "data": {"text": TEXT, "article_id": article_id},
        "meta": {"article_id": article_id, "text_sha256": SHA},
        "annotations": [{"id": 7, "completed_by": 1, "result": results, "was_cancelled": False,
                         "updated_at": "2026-01-01T00:00:00Z", **annotation}],
    }  # fmt: skip


RELATION = {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right"}
CASES = {
    "two-stances": ([doc("FAVOR", "d1"), doc("AGAINST", "d2")], [labels.REPEATED_CONTROL] * 2),
    "no-id": ([span("Putin")], [labels.NO_REGION_ID]),
    "two-relations": (
        [span("Putin", "r1"), span("Kim Jong Un", "r2"), RELATION, RELATION],
        [labels.REPEATED_RESULT, labels.UNKNOWN_CONTROL],
    ),
    "empty-ids": ([span("Putin", ""), span("Kim Jong Un", "")], [labels.NO_REGION_ID] * 2),
    "list-text": ([span("Putin", "l1", text=["Putin"])], [labels.MALFORMED_RESULT]),
    "string-value": ([{**span("Putin", "s1"), "value": "Putin"}], [labels.MALFORMED_RESULT]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_odd_result_is_quarantined_and_the_tables_build(case: str) -> None:
    results, reasons = CASES[case]
    built = build_tables([task(results)], ARTICLES, {1: "ann@example.com"})
    assert sorted(r["reason"] for r in built.rows.quarantine) == sorted(reasons)
    assert built.tables["quarantine"].num_rows == len(reasons)


def test_a_numeric_article_id_is_quarantined() -> None:
    built = build_tables([task([span("Putin", "h1")], article_id=123)], ARTICLES, {})
    assert [(r["reason"], r["article_id"]) for r in built.rows.quarantine] == [
        (labels.BAD_ARTICLE_ID, "123")
    ]


def test_an_edited_task_text_quarantines_its_labels() -> None:
    edited = task([span("Putin", "p")])
    edited["data"]["text"] = "Putin menyambut tamu. " + TEXT
    built = build_tables([edited], ARTICLES, {})
    assert [r["reason"] for r in built.rows.quarantine] == [labels.TASK_TEXT_EDITED]
    assert built.rows.entities == []


def test_deleted_annotators_never_merge() -> None:
    two = task([doc("FAVOR", "d")], completed_by=None)
    two["annotations"].append({**two["annotations"][0], "id": 8, "result": [doc("NONE", "d")]})
    built = build_tables([two], ARTICLES, {})
    assert len({r["annotator"] for r in built.rows.stance}) == 2
    assert built.agreement.articles == 1


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
FIELD = st.sampled_from(["id", "from_name", "type", "value", "to_name"])
NAMES = st.sampled_from(["entity", "entity_stance", "stance_rusia", None, 3])


@st.composite
def odd_result(draw: st.DrawFn) -> Any:
    """A result near the real shape, with fields dropped, retyped or duplicated."""
    base = draw(st.sampled_from([span("Putin", "x"), doc("FAVOR", "y"), RELATION]))
    item = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(FIELD)
        if draw(st.booleans()):
            item.pop(key, None)
        else:
            item[key] = draw(NAMES) if key == "from_name" else draw(JSONISH)
    return draw(st.sampled_from([item, item, item, draw(JSONISH)]))


@settings(max_examples=150, deadline=None)
@given(st.lists(odd_result(), max_size=6), st.sampled_from(["a1", 5, None, ["a1"]]))
def test_any_malformed_annotation_is_quarantined_never_raised(results: list, article: Any) -> None:
    built = build_tables([task(results, article_id=article)], ARTICLES, {})
    # nothing lost: every result is in a row or in quarantine
    held = sum(len(json.loads(r["result_json"])) for r in built.rows.quarantine)
    with_stance = sum(1 for r in built.rows.entities if r["stance"] is not None)
    rows = len(built.rows.entities) + with_stance + len(built.rows.stance)
    assert rows + held == len(results)
