"""Suggestion sources and their cross-validation, on the gold fixture of the five seeds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from seed_gold import FIXTURE, export_tasks, gold_articles

from helpers import SEEDS
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.labels.evaluate import (
    ALL,
    COMBINED,
    Counts,
    EvaluationError,
    count,
    evaluate,
    folds,
)
from toolkit.labels.suggest import (
    GAZETTEER,
    MODEL,
    PROPAGATION,
    Gazetteer,
    GoldArticle,
    Span,
    StanceProposer,
    combine,
    longest_first,
    on_token_boundaries,
    propagate,
)
from toolkit.labels.suggest_release import prediction_result
from toolkit.labels.suggest_usage import usage_section
from toolkit.studio import label_config

TYPES = {"PER", "ORG", "NOR", "GPE", "LOC", "FAC", "EVT", "LAW"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("suggest") / "news"
    wait_for_build(build([SEEDS], out, name="news"))
    return out


@pytest.fixture(scope="module")
def gold(seeds: Path) -> list[GoldArticle]:
    return gold_articles(seeds)


def test_fixture_spans_are_exact_and_complete(seeds: Path, gold: list[GoldArticle]) -> None:
    tasks = export_tasks(seeds)
    assert len(tasks) == 5 == len(gold)
    for task in tasks:
        text = task["data"]["text"]
        result = task["annotations"][0]["result"]
        spans = [r for r in result if r["from_name"] == "entity"]
        stances = [r for r in result if r["from_name"] == "entity_stance"]
        assert {r["id"] for r in spans} == {r["id"] for r in stances}  # a stance for each
        for r in spans:
            v = r["value"]
            assert text[v["start"] : v["end"]] == v["text"]
            assert v["labels"][0] in TYPES
            assert on_token_boundaries(text, v["start"], v["end"]), v
        targets = {r["from_name"] for r in result if r["from_name"].startswith("stance_")}
        assert targets == set(label_config.target_controls())
    # every mention went through the pull's own checks into gold rows, none lost
    assert sum(len(a.spans) for a in gold) == sum(
        1 for t in tasks for r in t["annotations"][0]["result"] if r["from_name"] == "entity"
    )
    assert all(len(a.stances) == 5 for a in gold)
    # spans never overlap inside one article
    for art in gold:
        assert longest_first(art.spans) == sorted(art.spans)


def test_fixture_holds_no_article_text() -> None:
    raw = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert all("text" not in t["data"] for t in raw)


def test_token_boundaries_follow_spacy() -> None:
    text = "hubungan Rusia-Tiongkok dengan Wangi, (PBB) ke-18"
    assert on_token_boundaries(text, text.index("Rusia"), text.index("Rusia") + 5)
    assert on_token_boundaries(text, text.index("Tiongkok"), text.index("Tiongkok") + 8)
    assert not on_token_boundaries(text, text.index("Wangi"), text.index("Wangi") + 4)
    assert on_token_boundaries(text, text.index("PBB"), text.index("PBB") + 3)
    assert not on_token_boundaries(text, text.index("hubungan") + 1, text.index("hubungan") + 8)


def test_gazetteer_longest_first_majority_type_and_boundaries() -> None:
    rows = [
        {"surface": "Kim Jong Un", "type": "PER"},
        {"surface": "Kim", "type": "PER"},
        {"surface": "Wang", "type": "PER"},
        {"surface": "Kremlin", "type": "ORG"},
        {"surface": "Kremlin", "type": "ORG"},
        {"surface": "Kremlin", "type": "FAC"},
    ]
    gaz = Gazetteer.from_rows(rows)
    text = "Kim Jong Un dan Wangi ke Kremlin; Kim pulang."
    found = gaz.find(text)
    got = [(text[s.start : s.end], s.type, round(s.score, 3)) for s in found]
    assert got == [
        ("Kim Jong Un", "PER", 1.0),
        ("Kremlin", "ORG", 0.667),  # two of three annotators
        ("Kim", "PER", 1.0),
    ]


def test_propagation_copies_spans_into_the_syndicated_copy(gold: list[GoldArticle]) -> None:
    grouped = [a for a in gold if a.group is not None]
    assert len(grouped) == 2  # 000 and 001 are one near-duplicate group
    first, second = grouped
    target = GoldArticle(second.article_id, second.text, group=second.group,
                         paragraphs=second.paragraphs)  # fmt: skip
    proposed = propagate([first], target)
    assert proposed
    truth = set(second.spans)
    for span in proposed:
        assert span.source == PROPAGATION
        assert on_token_boundaries(second.text, span.start, span.end)
    # every proposal is a gold span of the copy (the two articles were annotated alike)
    assert {(s.start, s.end, s.type) for s in proposed} <= {(s.start, s.end, s.type) for s in truth}
    assert propagate([first], GoldArticle("x", second.text)) == []  # no group, no copy


def test_combine_prefers_earlier_sources_and_never_overlaps() -> None:
    spans = combine(
        {
            GAZETTEER: [Span(0, 5, "GPE", 1.0, GAZETTEER), Span(10, 14, "PER", 1.0, GAZETTEER)],
            PROPAGATION: [Span(0, 8, "ORG", 1.0, PROPAGATION)],
            MODEL: [Span(12, 20, "PER", 0.5, MODEL), Span(30, 33, "LOC", 0.5, MODEL)],
        }
    )
    assert [(s.start, s.end, s.source) for s in spans] == [
        (0, 8, PROPAGATION),
        (10, 14, GAZETTEER),
        (30, 33, MODEL),
    ]


def test_count_exact_and_overlap() -> None:
    gold = [Span(0, 5, "PER"), Span(10, 15, "GPE")]
    predicted = [Span(0, 5, "PER"), Span(11, 15, "GPE"), Span(20, 22, "ORG")]
    c = count(predicted, gold)[ALL]
    assert (c.gold, c.predicted, c.exact, c.predicted_overlap, c.gold_overlap) == (2, 3, 1, 2, 2)
    p, r, f = c.scores("exact")
    assert (p, r) == (pytest.approx(1 / 3), pytest.approx(1 / 2)) and f == pytest.approx(0.4)
    assert Counts().scores("overlap") == (0.0, 0.0, 0.0)


def test_folds_partition_whole_articles(gold: list[GoldArticle]) -> None:
    parts = folds(gold, 5)
    ids = [a.article_id for part in parts for a in part]
    assert sorted(ids) == sorted(a.article_id for a in gold) and len(set(ids)) == len(ids)
    assert all(parts)
    assert [len(p) for p in folds(gold, 2)] and sum(len(p) for p in folds(gold, 2)) == 5
    with pytest.raises(EvaluationError):
        evaluate(gold[:1])


@pytest.fixture(scope="module")
def evaluation(gold: list[GoldArticle]):  # type: ignore[no-untyped-def]
    return evaluate(gold, 5)


def test_evaluation_on_seed_gold_is_consistent(evaluation, gold: list[GoldArticle]) -> None:  # type: ignore[no-untyped-def]
    assert evaluation.articles == 5 and evaluation.folds == 5
    assert evaluation.gold_mentions == sum(len(a.spans) for a in gold)
    for source in (GAZETTEER, PROPAGATION, MODEL, COMBINED):
        by_type = evaluation.counts[source]
        assert by_type[ALL].gold == evaluation.gold_mentions
        assert sum(c.gold for t, c in by_type.items() if t != ALL) == by_type[ALL].gold
        for c in by_type.values():
            assert c.exact <= c.predicted_overlap <= c.predicted
            assert c.gold_overlap <= c.gold
    # propagation only predicts inside the one near-duplicate group (articles 000 and 001)
    grouped_gold = sum(len(a.spans) for a in gold if a.group is not None)
    assert 0 < evaluation.counts[PROPAGATION][ALL].predicted <= grouped_gold
    # the model is kept exactly where it beat the gazetteer
    for t in TYPES & set(evaluation.counts[MODEL]):
        beats = evaluation.f1(MODEL, t) > evaluation.f1(GAZETTEER, t)
        assert (t in evaluation.model_types) == beats
    # the combination adds spans to the gazetteer's, so its recall is never lower
    combined, gaz = evaluation.counts[COMBINED][ALL], evaluation.counts[GAZETTEER][ALL]
    assert combined.scores("exact")[1] >= gaz.scores("exact")[1]
    table = evaluation.markdown()
    assert "| combined | all |" in table and "5-fold" in table
    data = evaluation.as_dict()
    assert {r["source"] for r in data["scores"]} == {GAZETTEER, PROPAGATION, MODEL, COMBINED}
    assert {s["target"] for s in data["stance"]} == set(label_config.target_controls().values())


def test_stance_proposer_needs_enough_gold(gold: list[GoldArticle]) -> None:
    proposals = StanceProposer(gold).propose()
    for target, (stance, share) in proposals.items():
        votes = Counter(a.stances[target] for a in gold if target in a.stances)
        assert votes[stance] == max(votes.values()) and share == votes[stance] / sum(votes.values())
    assert StanceProposer(gold[:2]).propose() == {}  # 2 < MIN_STANCE_GOLD


def test_prediction_result_is_label_studio_json(seeds: Path) -> None:
    text = next(r["text"] for r in read_articles(seeds))
    spans = [Span(0, 8, "PER", 0.75, GAZETTEER)]
    items = prediction_result(text, spans, {"Rusia": ("NONE", 0.8)})
    assert items[0]["value"] == {"start": 0, "end": 8, "text": text[:8], "labels": ["PER"]}
    assert items[0]["from_name"] == "entity" and items[0]["score"] == 0.75
    assert items[0]["id"].startswith("gaze")
    assert items[1]["from_name"] == "stance_rusia"
    assert items[1]["value"] == {"choices": ["NONE"]}


def test_usage_section_counts_origins() -> None:
    rows = [{"origin": "prediction"}] * 3 + [{"origin": "prediction-changed"}, {"origin": None}]
    text = next(iter(usage_section(rows).values()))
    assert "Of 5 entity rows: 3 (60.0%) accepted" in text
    assert "1 (20.0%) changed one, 0 (0.0%) were drawn by hand, 1 (20.0%) do not say" in text
