"""Where annotators of the same article disagree, and whether a reviewer settled it (pure).

Compared per article, over each annotator's most recent annotation (`effective_annotations`,
one per person): the document stance toward each target, each marked span (its type, or
not marked at all), and the stance given to a span all of them marked with the same type.
A disagreement is settled once the article has a ground-truth annotation (a reviewer's:
labels/pull.reviews_as_ground_truth): the gold rule then takes its labels (labels/gold.py).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from toolkit.labels.export import Annotation
from toolkit.labels.gold import effective_annotations

NOT_MARKED = "(not marked)"
NO_STANCE = "(no stance)"


@dataclass(frozen=True)
class Disagreement:
    article_id: str
    task_id: int
    kind: str  # "stance" (document), "entity" (span type or marked at all), "entity_stance"
    what: str  # the target, or the span as `surface [start:end]`
    values: tuple[tuple[str, str], ...]  # (annotator, value), by annotator
    settled: bool  # an annotation of the article is marked ground truth

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "task_id": self.task_id,
            "kind": self.kind,
            "what": self.what,
            "values": dict(self.values),
            "settled": self.settled,
        }


def find_disagreements(
    entities: Iterable[Mapping[str, Any]],
    stance: Iterable[Mapping[str, Any]],
    annotations: Iterable[Annotation],
) -> list[Disagreement]:
    """Every point on which the annotators of an article differ, article by article."""
    entities, stance, annotations = list(entities), list(stance), list(annotations)
    settled = {a.article_id for a in annotations if a.ground_truth}
    # Ground-truth annotations settle, they do not vote: compare the annotators only.
    per_article = effective_annotations(a for a in annotations if not a.ground_truth)
    doc: dict[int, dict[str, str]] = defaultdict(dict)
    for r in stance:
        doc[r["annotation_id"]][r["target"]] = r["stance"]
    spans: dict[int, dict[tuple[int, int], Mapping[str, Any]]] = defaultdict(dict)
    for r in entities:
        spans[r["annotation_id"]][(r["start"], r["end"])] = r

    found: list[Disagreement] = []
    for article_id in sorted(per_article):
        anns = _one_per_annotator(per_article[article_id])
        if len(anns) < 2:
            continue
        anns.sort(key=lambda a: a.annotator)
        task_id = anns[0].task_id
        is_settled = article_id in settled

        def add(kind: str, what: str, values: list[tuple[str, str]], art: str = article_id,
                task: int = task_id, done: bool = is_settled) -> None:  # fmt: skip
            found.append(Disagreement(art, task, kind, what, tuple(values), done))

        targets = sorted({t for a in anns for t in doc[a.annotation_id]})
        for target in targets:
            values = [(a.annotator, doc[a.annotation_id].get(target, NO_STANCE)) for a in anns]
            if len({v for _, v in values}) > 1:
                add("stance", target, values)
        for start, end in sorted({s for a in anns for s in spans[a.annotation_id]}):
            rows = [spans[a.annotation_id].get((start, end)) for a in anns]
            surface = next(r["surface"] for r in rows if r is not None)
            what = f"{surface} [{start}:{end}]"
            pairs = list(zip(anns, rows, strict=True))
            types = [(a.annotator, r["type"] if r else NOT_MARKED) for a, r in pairs]
            if len({v for _, v in types}) > 1:
                add("entity", what, types)
                continue
            stances = [(a.annotator, r["stance"] or NO_STANCE) for a, r in pairs if r]
            if len({v for _, v in stances}) > 1:
                add("entity_stance", what, stances)
    return found


def _one_per_annotator(anns: list[Annotation]) -> list[Annotation]:
    seen: dict[str, Annotation] = {}
    for ann in anns:  # most recent first
        seen.setdefault(ann.annotator, ann)
    return list(seen.values())


def confusion(disagreements: Iterable[Disagreement], kind: str) -> dict[tuple[str, str], int]:
    """How often one annotator said a and another b, over the disagreements of `kind`
    (pairs of annotators, a <= b so the table is a triangle)."""
    counts: Counter[tuple[str, str]] = Counter()
    for d in disagreements:
        if d.kind != kind:
            continue
        for (_, a), (_, b) in combinations(d.values, 2):
            if a != b:
                counts[(min(a, b), max(a, b))] += 1
    return dict(counts)
