"""Inter-annotator agreement over articles with two or more annotators.

Stance: Krippendorff's alpha (nominal) per target, articles as units. Entities: pairwise
span F1 between annotators of the same article, exact (same start, end, type) and
overlap (same type, spans overlap; one-to-one), micro-averaged over all pairs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from toolkit.labels.export import Annotation
from toolkit.labels.gold import effective_annotations


@dataclass(frozen=True)
class TargetAlpha:
    target: str
    alpha: float | None  # None when undefined (fewer than two values, or one category only)
    units: int  # articles with two or more stance values for this target
    values: int


@dataclass
class Agreement:
    stance: list[TargetAlpha] = field(default_factory=list)
    entity_f1_exact: float | None = None
    entity_f1_overlap: float | None = None
    entity_pairs: int = 0  # annotator pairs compared (summed over articles)
    articles: int = 0  # articles with two or more annotators

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles_with_two_or_more_annotators": self.articles,
            "stance_alpha": {
                t.target: {"alpha": t.alpha, "units": t.units, "values": t.values}
                for t in self.stance
            },
            "entity_pairs": self.entity_pairs,
            "entity_f1_exact": self.entity_f1_exact,
            "entity_f1_overlap": self.entity_f1_overlap,
        }


def krippendorff_alpha_nominal(units: Iterable[Sequence[str]]) -> float | None:
    """Alpha for nominal data; each unit is the list of values it received.

    Built from the coincidence matrix (Krippendorff 2011): units with fewer than two
    values are not pairable and are left out.
    """
    coincidence: Counter[tuple[str, str]] = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        for i, a in enumerate(values):
            for j, b in enumerate(values):
                if i != j:
                    coincidence[(a, b)] += 1 / (m - 1)
    n_c: Counter[str] = Counter()
    for (a, _b), w in coincidence.items():
        n_c[a] += w
    n = sum(n_c.values())
    if n < 2:
        return None
    observed = sum(w for (a, b), w in coincidence.items() if a != b)
    expected = sum(n_c[a] * n_c[b] for a in n_c for b in n_c if a != b) / (n - 1)
    if expected == 0:
        return None
    return 1 - observed / expected


def _overlap_matches(a: list[tuple[int, int, str]], b: list[tuple[int, int, str]]) -> int:
    """One-to-one matches of same-type overlapping spans, greedy by largest overlap."""
    pairs = sorted(
        (
            (min(x[1], y[1]) - max(x[0], y[0]), i, j)
            for i, x in enumerate(a)
            for j, y in enumerate(b)
            if x[2] == y[2] and max(x[0], y[0]) < min(x[1], y[1])
        ),
        reverse=True,
    )
    used_a, used_b, matches = set(), set(), 0
    for _, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches += 1
    return matches


def agreement(
    entities: Iterable[Mapping[str, Any]],
    stance: Iterable[Mapping[str, Any]],
    annotations: Iterable[Annotation],
    targets: Sequence[str],
) -> Agreement:
    """Agreement over articles that two or more annotators annotated."""
    # one annotation per annotator; ground-truth annotations are a reviewer's verdict on a
    # disagreement, not one more annotator's vote (labels/pull.reviews_as_ground_truth)
    per_article = {
        art: _one_per_annotator([a for a in anns if not a.ground_truth])
        for art, anns in effective_annotations(annotations).items()
    }
    multi = {art: anns for art, anns in per_article.items() if len(anns) >= 2}
    result = Agreement(articles=len(multi))

    stance_by: dict[tuple[str, int], str] = {
        (r["target"], r["annotation_id"]): r["stance"] for r in stance
    }
    for target in targets:
        units = [
            [
                stance_by[(target, a.annotation_id)]
                for a in anns
                if (target, a.annotation_id) in stance_by
            ]
            for anns in multi.values()
        ]
        units = [u for u in units if len(u) >= 2]
        result.stance.append(
            TargetAlpha(target, krippendorff_alpha_nominal(units), len(units), sum(map(len, units)))
        )

    mentions: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for r in entities:
        mentions[r["annotation_id"]].append((r["start"], r["end"], r["type"]))
    exact = overlap = total = 0
    for anns in multi.values():
        for a, b in combinations(anns, 2):
            ma, mb = mentions[a.annotation_id], mentions[b.annotation_id]
            result.entity_pairs += 1
            total += len(ma) + len(mb)
            exact += sum((Counter(ma) & Counter(mb)).values())
            overlap += _overlap_matches(ma, mb)
    if total:
        result.entity_f1_exact = 2 * exact / total
        result.entity_f1_overlap = 2 * overlap / total
    return result


def _one_per_annotator(anns: list[Annotation]) -> list[Annotation]:
    seen: dict[str, Annotation] = {}
    for ann in anns:  # most recent first
        seen.setdefault(ann.annotator, ann)
    return list(seen.values())
