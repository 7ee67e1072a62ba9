"""What a release's labels say: counts per label and target, each annotator's progress,
agreement per target and per entity type (with the number of items each figure rests
on), and the disagreements still open. Read from the release alone (no server).

Progress: an annotator's `done` is the articles they annotated, out of the release's
articles (`total`): the queue may serve anyone any article until each has its k
annotators, so the release is every annotator's horizon.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from toolkit.dataset import release
from toolkit.dataset.project import release_project
from toolkit.dataset.schema import label_names, use_scheme
from toolkit.errors import ReleaseError
from toolkit.labels.agreement import Agreement, agreement
from toolkit.labels.disagreements import Disagreement, confusion, find_disagreements
from toolkit.labels.export import Annotation
from toolkit.labels.gold import effective_annotations
from toolkit.labels.pull import label_decoder
from toolkit.labels.tables import annotations_from_rows
from toolkit.studio.push import release_index


@dataclass(frozen=True)
class TypeAgreement:
    """Pairwise exact-span F1 for one entity type: matches over the mentions of that type
    both annotators of a pair marked (`mentions`), over `pairs` annotator pairs."""

    entity_type: str
    f1_exact: float | None
    mentions: int
    pairs: int


@dataclass
class Report:
    version: str
    articles: int
    counts: dict[str, int]
    entity_types: dict[str, dict[str, int]]  # type -> {"mentions", "gold"}
    entity_stances: dict[str, int]
    targets: dict[str, dict[str, int]]  # target -> stance -> rows
    annotators: list[dict[str, Any]]
    agreement: Agreement
    type_agreement: list[TypeAgreement]
    disagreements: list[Disagreement]
    quarantine_reasons: dict[str, int]
    confusion: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)

    @property
    def open_disagreements(self) -> list[Disagreement]:
        return [d for d in self.disagreements if not d.settled]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "articles": self.articles,
            "counts": self.counts,
            "quarantine_reasons": self.quarantine_reasons,
            **self.agreement.as_dict(),
            "entity_types": self.entity_types,
            "entity_stances": self.entity_stances,
            "targets": self.targets,
            "annotators": self.annotators,
            "entity_type_agreement": {
                t.entity_type: {"f1_exact": t.f1_exact, "mentions": t.mentions, "pairs": t.pairs}
                for t in self.type_agreement
            },
            "disagreements": {
                "open": [d.as_dict() for d in self.open_disagreements],
                "settled": sum(1 for d in self.disagreements if d.settled),
            },
            "confusion": {
                kind: [{"a": a, "b": b, "count": n} for (a, b), n in sorted(table.items())]
                for kind, table in self.confusion.items()
            },
        }


def build_report(release_dir: Path) -> Report:
    """The report of a release's label configs (ReleaseError if it holds no labels), read
    with the label scheme the release was built with (its dataset.yaml)."""
    release_dir = Path(release_dir)
    with use_scheme(release_project(release_dir).labels):
        return _build_report(release_dir)


def _build_report(release_dir: Path) -> Report:
    if not release.config_files(release_dir, "entities"):
        raise ReleaseError(f"{release_dir} holds no labels yet; run `toolkit pull` first")
    entities = [label_decoder("entities")(r) for r in release.read_rows(release_dir, "entities")]
    stance = [label_decoder("stance")(r) for r in release.read_rows(release_dir, "stance")]
    quarantine = list(release.read_rows(release_dir, "quarantine"))
    _, version, hashes = release_index(release_dir)
    annotations = annotations_from_rows(entities, stance)
    return summarise(version, len(hashes), entities, stance, quarantine, annotations)


def summarise(
    version: str,
    articles: int,
    entities: list[dict[str, Any]],
    stance: list[dict[str, Any]],
    quarantine: list[dict[str, Any]],
    annotations: list[Annotation],
) -> Report:
    """The report from label rows (pure)."""
    types = label_names("entity_types")
    entity_types = {
        t: {
            "mentions": sum(1 for r in entities if r["type"] == t),
            "gold": sum(1 for r in entities if r["type"] == t and r["gold"]),
        }
        for t in types
    }
    entity_stances = Counter(r["stance"] or "(none)" for r in entities)
    targets = {t: {s: 0 for s in label_names("stances")} for t in label_names("stance_targets")}
    for r in stance:
        targets[r["target"]][r["stance"]] += 1
    disagreements = find_disagreements(entities, stance, annotations)
    agree = agreement(entities, stance, annotations, label_names("stance_targets"))
    counts = {
        "annotations": len({a.annotation_id for a in annotations}),
        "articles_annotated": len({a.article_id for a in annotations}),
        "entity_rows": len(entities),
        "stance_rows": len(stance),
        "gold_entities": sum(1 for r in entities if r["gold"]),
        "relocated": sum(1 for r in entities if r["relocated"]),
        "quarantined": len(quarantine),
        "annotators": len({a.annotator for a in annotations}),
    }
    return Report(
        version=version,
        articles=articles,
        counts=counts,
        entity_types=entity_types,
        entity_stances=dict(sorted(entity_stances.items())),
        targets=targets,
        annotators=_annotators(entities, stance, annotations, articles),
        agreement=agree,
        type_agreement=type_agreement(entities, annotations, types),
        disagreements=disagreements,
        quarantine_reasons=dict(Counter(r["reason"] for r in quarantine)),
        confusion={
            kind: confusion(disagreements, kind) for kind in ("stance", "entity", "entity_stance")
        },
    )


def _annotators(
    entities: list[dict[str, Any]],
    stance: list[dict[str, Any]],
    annotations: list[Annotation],
    articles: int,
) -> list[dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for a in annotations:
        row = per.setdefault(a.annotator, {"annotator": a.annotator, "ids": set(), "arts": set()})
        row["ids"].add(a.annotation_id)
        row["arts"].add(a.article_id)
    entity_rows = Counter(r["annotator"] for r in entities)
    stance_rows = Counter(r["annotator"] for r in stance)
    return [
        {
            "annotator": name,
            "annotations": len(row["ids"]),
            "done": len(row["arts"]),
            "total": articles,
            "entity_rows": entity_rows[name],
            "stance_rows": stance_rows[name],
        }
        for name, row in sorted(per.items())
    ]


def type_agreement(
    entities: Iterable[Mapping[str, Any]], annotations: Iterable[Annotation], types: Iterable[str]
) -> list[TypeAgreement]:
    """Pairwise exact-span F1 per entity type, over articles with two or more annotators
    (ground-truth annotations are reviews, not votes: left out, as in `agreement`)."""
    mentions: dict[int, Counter[tuple[int, int, str]]] = defaultdict(Counter)
    for r in entities:
        mentions[r["annotation_id"]][(r["start"], r["end"], r["type"])] += 1
    matched: Counter[str] = Counter()
    total: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for anns in effective_annotations(annotations).values():
        voters: dict[str, Annotation] = {}
        for a in anns:  # most recent first: one annotation per annotator, reviews left out
            if a.ground_truth:
                continue
            voters.setdefault(a.annotator, a)
        for a, b in combinations(voters.values(), 2):
            ma, mb = mentions[a.annotation_id], mentions[b.annotation_id]
            common = ma & mb
            seen = set()
            for m, n in (ma + mb).items():
                total[m[2]] += n
                seen.add(m[2])
            for m, n in common.items():
                matched[m[2]] += n
            for t in seen:
                pairs[t] += 1
    return [
        TypeAgreement(t, 2 * matched[t] / total[t] if total[t] else None, total[t], pairs[t])
        for t in types
    ]
