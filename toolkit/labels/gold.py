"""The gold view: which rows of `entities` and `stance` are the adjudicated labels.

Rows are never merged or rewritten: the gold view is the `gold` column set to true on
the rows that carry the chosen label, so every annotator's work stays in the table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from toolkit.labels.export import Annotation

GOLD_RULE = (
    "Stance, per article and target: the annotation marked ground truth in Label Studio "
    "wins; otherwise the stance chosen by a strict majority of annotators; otherwise (a tie) "
    "the most recently updated annotation. Entities, per article: the ground-truth "
    "annotation's mentions; otherwise, with three or more annotators, the mentions (same "
    "start, end and type) marked by a strict majority; with one or two annotators, the "
    "mentions of the most recently updated annotation. Each gold label is carried by one "
    "row (gold = true): the most recently updated annotation that has it. Each annotator "
    "counts once per article, with their most recently updated annotation."
)


def _recency(ann: Annotation) -> tuple[float, int]:
    # later update first; the annotation id (creation order) breaks ties
    return (ann.updated_at.timestamp() if ann.updated_at else float("-inf"), ann.annotation_id)


def effective_annotations(annotations: Iterable[Annotation]) -> dict[str, list[Annotation]]:
    """Per article, the annotations that count: each annotator's most recent one, plus any
    ground-truth annotation; most recent first."""
    latest: dict[tuple[str, str], Annotation] = {}
    ground: list[Annotation] = []
    for ann in annotations:
        key = (ann.article_id, ann.annotator)
        if key not in latest or _recency(ann) > _recency(latest[key]):
            latest[key] = ann
        if ann.ground_truth:
            ground.append(ann)
    per_article: dict[str, dict[int, Annotation]] = defaultdict(dict)
    for ann in [*latest.values(), *ground]:
        per_article[ann.article_id][ann.annotation_id] = ann
    return {
        art: sorted(anns.values(), key=_recency, reverse=True) for art, anns in per_article.items()
    }


def mark_gold(
    entities: list[dict[str, Any]],
    stance: list[dict[str, Any]],
    annotations: Iterable[Annotation],
) -> None:
    """Set `gold` on the rows chosen by GOLD_RULE (in place)."""
    per_article = effective_annotations(annotations)
    _mark_stance(stance, per_article)
    _mark_entities(entities, per_article)


def _mark_stance(rows: list[dict[str, Any]], per_article: dict[str, list[Annotation]]) -> None:
    by_group: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for row in rows:
        row["gold"] = False
        by_group[(row["article_id"], row["target"])][row["annotation_id"]] = row
    for (article_id, _target), by_ann in by_group.items():
        ranked = [a for a in per_article.get(article_id, []) if a.annotation_id in by_ann]
        if not ranked:
            continue
        ground = [a for a in ranked if a.ground_truth]
        if ground:
            by_ann[ground[0].annotation_id]["gold"] = True
            continue
        votes = Counter(by_ann[a.annotation_id]["stance"] for a in ranked)
        top, n = votes.most_common(1)[0]
        majority = top if n * 2 > len(ranked) else None
        for ann in ranked:  # most recent first
            if majority is None or by_ann[ann.annotation_id]["stance"] == majority:
                by_ann[ann.annotation_id]["gold"] = True
                break


def _mention(row: dict[str, Any]) -> tuple[int, int, str]:
    return (row["start"], row["end"], row["type"])


def _mark_entities(rows: list[dict[str, Any]], per_article: dict[str, list[Annotation]]) -> None:
    by_ann: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        row["gold"] = False
        by_ann[row["annotation_id"]].append(row)
    for ranked in per_article.values():
        ground = [a for a in ranked if a.ground_truth]
        if ground:
            chosen = {_mention(r) for r in by_ann[ground[0].annotation_id]}
            pool = [ground[0]]
        elif len(ranked) >= 3:
            votes = Counter(
                m for a in ranked for m in {_mention(r) for r in by_ann[a.annotation_id]}
            )
            chosen = {m for m, n in votes.items() if n * 2 > len(ranked)}
            pool = ranked
        else:
            chosen = {_mention(r) for r in by_ann[ranked[0].annotation_id]}
            pool = ranked[:1]
        for mention in chosen:
            for ann in pool:  # most recent first: its row carries the gold label
                row = next((r for r in by_ann[ann.annotation_id] if _mention(r) == mention), None)
                if row is not None:
                    row["gold"] = True
                    break


def gold_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r.get("gold")]
