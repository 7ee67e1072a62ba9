"""Disagreements, per-type agreement, the report and its HTML page (pure, on hand-made rows),
and how build prints its progress off a terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpers import SEEDS, clean_env, run_toolkit
from toolkit.labels.disagreements import NOT_MARKED, confusion, find_disagreements
from toolkit.labels.export import Annotation
from toolkit.labels.report import summarise, type_agreement
from toolkit.labels.report_html import render_html


def ann(aid: int, article: str, who: str, minute: int, gt: bool = False) -> Annotation:
    return Annotation(aid, 100 + int(article[-1]), article, who,
                      datetime(2024, 1, 1, 0, minute, tzinfo=UTC), gt)  # fmt: skip


def ent(aid, article, who, start, end, type_, stance=None, gold=False):
    return {"annotation_id": aid, "article_id": article, "annotator": who, "start": start,
            "end": end, "type": type_, "stance": stance, "surface": f"s{start}",
            "gold": gold, "relocated": False}  # fmt: skip


def st(aid, article, who, target, stance, gold=False):
    return {"annotation_id": aid, "article_id": article, "annotator": who, "target": target,
            "stance": stance, "gold": gold}  # fmt: skip


ANNS = [ann(1, "a1", "ana", 1), ann(2, "a1", "budi", 2), ann(3, "a2", "ana", 3),
        ann(4, "a2", "budi", 4), ann(5, "a3", "ana", 5)]  # fmt: skip
ENTS = [
    ent(1, "a1", "ana", 0, 5, "PER", "AGAINST"),
    ent(2, "a1", "budi", 0, 5, "PER", "FAVOR"),  # same span and type, other stance
    ent(1, "a1", "ana", 10, 15, "GPE", "NONE"),
    ent(2, "a1", "budi", 10, 15, "LOC", "NONE"),  # other type
    ent(3, "a2", "ana", 0, 4, "ORG", "NONE"),  # budi did not mark it
    ent(3, "a2", "ana", 6, 9, "PER", "NONE"),
    ent(4, "a2", "budi", 6, 9, "PER", "NONE"),  # agreed
    ent(5, "a3", "ana", 0, 3, "PER", "NONE"),  # one annotator only: nothing to compare
]
STANCE = [
    st(1, "a1", "ana", "Rusia", "AGAINST"),
    st(2, "a1", "budi", "Rusia", "NONE"),
    st(3, "a2", "ana", "Rusia", "FAVOR"),
    st(4, "a2", "budi", "Rusia", "FAVOR"),
    st(5, "a3", "ana", "Rusia", "NOT_DISCUSSED"),
]


def test_every_kind_of_disagreement_is_found_and_nothing_else() -> None:
    found = [(d.article_id, d.kind, d.what, dict(d.values), d.settled)
             for d in find_disagreements(ENTS, STANCE, ANNS)]  # fmt: skip
    assert found == [
        ("a1", "stance", "Rusia", {"ana": "AGAINST", "budi": "NONE"}, False),
        ("a1", "entity_stance", "s0 [0:5]", {"ana": "AGAINST", "budi": "FAVOR"}, False),
        ("a1", "entity", "s10 [10:15]", {"ana": "GPE", "budi": "LOC"}, False),
        ("a2", "entity", "s0 [0:4]", {"ana": "ORG", "budi": NOT_MARKED}, False),
    ]
    assert confusion(find_disagreements(ENTS, STANCE, ANNS), "entity") == {
        ("GPE", "LOC"): 1,
        (NOT_MARKED, "ORG"): 1,
    }


def test_a_review_settles_the_article_and_does_not_vote() -> None:
    review = ann(9, "a1", "reviewer", 30, gt=True)
    rows = [*STANCE, st(9, "a1", "reviewer", "Rusia", "AGAINST")]
    found = find_disagreements(ENTS, rows, [*ANNS, review])
    a1 = [d for d in found if d.article_id == "a1"]
    assert len(a1) == 3 and all(d.settled for d in a1)
    assert all("reviewer" not in dict(d.values) for d in a1)
    assert not any(d.settled for d in found if d.article_id == "a2")


def test_type_agreement_by_hand() -> None:
    # a1: PER 0-5 matched (2 mentions), GPE vs LOC unmatched (1 + 1); a2: ORG unmatched (1),
    # PER 6-9 matched (2). PER: 2*2/4 = 1; GPE: 0/1; LOC: 0/1; ORG: 0/1; a3 not paired.
    got = {t.entity_type: (t.f1_exact, t.mentions, t.pairs)
           for t in type_agreement(ENTS, ANNS, ["PER", "ORG", "GPE", "LOC", "LAW"])}  # fmt: skip
    assert got == {
        "PER": (1.0, 4, 2),
        "ORG": (0.0, 1, 1),
        "GPE": (0.0, 1, 1),
        "LOC": (0.0, 1, 1),
        "LAW": (None, 0, 0),
    }


def test_report_counts_progress_and_html_page() -> None:
    rep = summarise("1.1.0", 4, ENTS, STANCE, [], ANNS)
    assert rep.entity_types["PER"] == {"mentions": 5, "gold": 0}
    assert rep.targets["Rusia"] == {"FAVOR": 2, "AGAINST": 1, "NONE": 1, "NOT_DISCUSSED": 1}
    assert [(a["annotator"], a["done"], a["total"]) for a in rep.annotators] == [
        ("ana", 3, 4),
        ("budi", 2, 4),
    ]
    assert len(rep.open_disagreements) == 4
    as_json = rep.as_dict()
    assert as_json["disagreements"]["settled"] == 0
    assert as_json["stance_alpha"]["Rusia"]["units"] == 2  # a1 and a2
    assert as_json["entity_type_agreement"]["PER"]["mentions"] == 4
    page = render_html(rep, "news 1.1.0")
    # one self-contained page: charts inlined as SVG, nothing loaded from elsewhere
    assert page.count("<svg") == 3 and "<script" not in page and "src=" not in page
    assert "s10 [10:15]" in page and "s0 [0:4]" in page  # the open disagreements are listed
    assert "ana: AGAINST; budi: NONE" in page


@pytest.mark.parametrize("command", ["build"])
def test_progress_off_a_terminal_is_one_plain_line_per_stage(command: str, tmp_path: Path) -> None:
    done = run_toolkit(command, str(SEEDS), "--out", str(tmp_path / "news"), env=clean_env())
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == ["extract: 5 pages", "write: 5 pages"]


def test_the_owners_annotation_is_a_review_only_when_others_annotated() -> None:
    from toolkit.labels.pull import reviews_as_ground_truth

    def task(*annotators: int) -> dict:
        return {"annotations": [{"completed_by": {"id": a}} for a in annotators]}

    reviewed, one_of_two, alone, cancelled = task(2, 3, 1), task(1, 2), task(1), task(2, 1)
    cancelled["annotations"].insert(0, {"completed_by": 3, "was_cancelled": True})
    out = list(reviews_as_ground_truth([reviewed, one_of_two, alone, cancelled], reviewer=1))
    marks = [[bool(a.get("ground_truth")) for a in t["annotations"]] for t in out]
    assert marks == [[False, False, True], [False, False], [False], [False, False, False]]
