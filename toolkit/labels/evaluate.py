"""How good the suggestions are: k-fold cross-validation over the gold articles (pure).

Folds are whole articles (an article's spans are never both in training and test), fixed
by a hash of the article id. Each fold's sources learn from the other folds' gold only:
the gazetteer, propagation from near-duplicates in the training folds, the spaCy model,
the stance proposal. Scores per source, per entity type and overall, on exact spans
(same start, end, type) and on overlap (a predicted span of the right type that overlaps
a gold one counts for precision, a gold span overlapped by one for recall). The model is
kept for the types where its exact F1 beats the gazetteer's; the combination is scored
with that choice, made on the same folds (slightly optimistic, said on the card).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import ToolkitError
from toolkit.labels.suggest import (
    GAZETTEER,
    MODEL,
    PROPAGATION,
    Gazetteer,
    GoldArticle,
    Span,
    StanceProposer,
    combine,
    propagate,
)

COMBINED = "combined"
ALL = "all"
DEFAULT_FOLDS = 5
EVAL_SOURCES = (GAZETTEER, PROPAGATION, MODEL, COMBINED)


class EvaluationError(ToolkitError):
    """Too little gold to cross-validate."""


@dataclass
class Counts:
    gold: int = 0
    predicted: int = 0
    exact: int = 0  # predicted spans equal to a gold span
    predicted_overlap: int = 0  # predicted spans overlapping a gold span of their type
    gold_overlap: int = 0  # gold spans overlapped by a predicted span of their type

    def add(self, other: Counts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def scores(self, match: str) -> tuple[float, float, float]:
        """(precision, recall, F1); 0 where undefined (nothing predicted / no gold)."""
        if match == "exact":
            p = self.exact / self.predicted if self.predicted else 0.0
            r = self.exact / self.gold if self.gold else 0.0
        else:
            p = self.predicted_overlap / self.predicted if self.predicted else 0.0
            r = self.gold_overlap / self.gold if self.gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def count(predicted: Sequence[Span], gold: Sequence[Span]) -> dict[str, Counts]:
    """Counts per type (and ALL) for one article."""
    out: dict[str, Counts] = defaultdict(Counts)
    gold_keys = {(g.start, g.end, g.type) for g in gold}
    for g in gold:
        hit = any(p.type == g.type and p.start < g.end and g.start < p.end for p in predicted)
        for key in (g.type, ALL):
            out[key].gold += 1
            out[key].gold_overlap += hit
    for p in predicted:
        hit = any(p.type == g.type and p.start < g.end and g.start < p.end for g in gold)
        for key in (p.type, ALL):
            out[key].predicted += 1
            out[key].exact += (p.start, p.end, p.type) in gold_keys
            out[key].predicted_overlap += hit
    return out


@dataclass
class StanceScore:
    target: str
    evaluated: int = 0  # gold stances in test folds that had a proposal
    correct: int = 0
    unproposed: int = 0  # gold stances whose target had too little training gold

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.evaluated if self.evaluated else None


@dataclass
class Evaluation:
    articles: int
    folds: int
    gold_mentions: int
    counts: dict[str, dict[str, Counts]]  # source -> type -> counts
    model_types: list[str]
    stance: list[StanceScore] = field(default_factory=list)

    def f1(self, source: str, etype: str, match: str = "exact") -> float:
        return self.counts.get(source, {}).get(etype, Counts()).scores(match)[2]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for source in EVAL_SOURCES:
            by_type = self.counts.get(source, {})
            for etype in sorted(by_type, key=lambda t: (t == ALL, t)):
                c = by_type[etype]
                row: dict[str, Any] = {
                    "source": source,
                    "type": etype,
                    "gold": c.gold,
                    "predicted": c.predicted,
                }
                for match in ("exact", "overlap"):
                    p, r, f = c.scores(match)
                    row |= {f"{match}_precision": p, f"{match}_recall": r, f"{match}_f1": f}
                out.append(row)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "folds": self.folds,
            "gold_mentions": self.gold_mentions,
            "model_types": self.model_types,
            "scores": self.rows(),
            "stance": [
                {
                    "target": s.target,
                    "evaluated": s.evaluated,
                    "correct": s.correct,
                    "accuracy": s.accuracy,
                    "unproposed": s.unproposed,
                }
                for s in self.stance
            ],
        }

    def summary(self) -> str:
        """One paragraph for croissant.json's machine annotation tools."""
        scores = "; ".join(
            f"{source} P {c.scores('exact')[0]:.3f} R {c.scores('exact')[1]:.3f} "
            f"F1 {c.scores('exact')[2]:.3f}"
            for source in EVAL_SOURCES
            if (c := self.counts.get(source, {}).get(ALL)) is not None
        )
        chosen = ", ".join(self.model_types) or "no type"
        return (
            "Pre-annotation suggestions (`toolkit suggest`), shown to annotators as Label "
            "Studio predictions, never label rows: a gazetteer of gold surfaces, propagation "
            "of gold spans inside near-duplicate groups, a spaCy NER model trained on the "
            f"gold (used for {chosen}), a majority stance per target. Measured by "
            f"{self.folds}-fold cross-validation over {self.articles} gold article(s) "
            f"({self.gold_mentions} mentions), exact span match, all types: {scores}."
        )

    def markdown(self) -> str:
        lines = [
            f"{self.folds}-fold cross-validation over {self.articles} gold article(s), "
            f"{self.gold_mentions} gold mention(s); folds are whole articles. Small gold "
            "gives wide error bars: read these as a first measure, not a benchmark.",
            "",
            "| source | type | gold | predicted | exact P | exact R | exact F1 "
            "| overlap P | overlap R | overlap F1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows():
            lines.append(
                f"| {r['source']} | {r['type']} | {r['gold']} | {r['predicted']} | "
                f"{r['exact_precision']:.3f} | {r['exact_recall']:.3f} | {r['exact_f1']:.3f} | "
                f"{r['overlap_precision']:.3f} | {r['overlap_recall']:.3f} | "
                f"{r['overlap_f1']:.3f} |"
            )
        chosen = ", ".join(self.model_types) or "none"
        lines += [
            "",
            f"The model is used for the types where its exact F1 beats the gazetteer's: "
            f"{chosen} (chosen on these same folds, so `combined` is slightly optimistic).",
        ]
        if self.stance:
            lines += [
                "",
                "| stance target | proposed in test folds | correct | accuracy |",
                "|---|---|---|---|",
            ]
            for s in self.stance:
                acc = "undefined" if s.accuracy is None else f"{s.accuracy:.3f}"
                lines.append(f"| {s.target} | {s.evaluated} | {s.correct} | {acc} |")
        return "\n".join(lines)


def fold_of(article_id: str, k: int) -> int:
    return int(hashlib.sha256(article_id.encode()).hexdigest(), 16) % k


def folds(articles: Sequence[GoldArticle], k: int) -> list[list[GoldArticle]]:
    """k folds of whole articles, by hash of the id; an empty fold takes the next article
    in id order so every fold tests something (tiny gold)."""
    k = min(k, len(articles))
    out: list[list[GoldArticle]] = [[] for _ in range(k)]
    for art in sorted(articles, key=lambda a: a.article_id):
        out[fold_of(art.article_id, k)].append(art)
    for i, fold in enumerate(out):
        if not fold:
            donor = max(range(k), key=lambda j: len(out[j]))
            fold.append(out[donor].pop())
            assert out[donor], i
    return out


def evaluate(
    articles: Sequence[GoldArticle], k: int = DEFAULT_FOLDS, *, model: bool = True
) -> Evaluation:
    """Cross-validate every source on the gold articles."""
    if len(articles) < 2:
        raise EvaluationError(
            f"cross-validation needs gold on at least 2 articles, the release has {len(articles)}"
        )
    from toolkit.labels.suggest_model import NerModel

    parts = folds(articles, k)
    per_article: list[tuple[GoldArticle, dict[str, list[Span]]]] = []
    stance: dict[str, StanceScore] = {}
    for i, test in enumerate(parts):
        train = [a for j, part in enumerate(parts) if j != i for a in part]
        gazetteer = Gazetteer.from_articles(train)
        ner = NerModel(train) if model else None
        predicted = ner.predict([a.text for a in test]) if ner else [[] for _ in test]
        proposals = StanceProposer(train).propose()
        for art, model_spans in zip(test, predicted, strict=True):
            per_article.append(
                (
                    art,
                    {
                        GAZETTEER: gazetteer.find(art.text),
                        PROPAGATION: propagate(train, art),
                        MODEL: model_spans,
                    },
                )
            )
            for target, gold_stance in art.stances.items():
                score = stance.setdefault(target, StanceScore(target))
                if target in proposals:
                    score.evaluated += 1
                    score.correct += proposals[target][0] == gold_stance
                else:
                    score.unproposed += 1
    counts: dict[str, dict[str, Counts]] = defaultdict(lambda: defaultdict(Counts))
    for art, by_source in per_article:
        for source, spans in by_source.items():
            for etype, c in count(spans, art.spans).items():
                counts[source][etype].add(c)
    model_types = sorted(
        t
        for t, c in counts[MODEL].items()
        if t != ALL and c.scores("exact")[2] > counts[GAZETTEER][t].scores("exact")[2]
    )
    for art, by_source in per_article:
        kept = {**by_source, MODEL: [s for s in by_source[MODEL] if s.type in model_types]}
        for etype, c in count(combine(kept), art.spans).items():
            counts[COMBINED][etype].add(c)
    return Evaluation(
        articles=len(articles),
        folds=len(parts),
        gold_mentions=sum(len(a.spans) for a in articles),
        counts={s: dict(v) for s, v in counts.items()},
        model_types=model_types,
        stance=sorted(stance.values(), key=lambda s: s.target),
    )
