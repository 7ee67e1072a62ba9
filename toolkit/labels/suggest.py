"""Suggestions from the project's own gold labels: the sources and how they combine (pure).

No model can be downloaded, so every proposal is learnt from the gold rows of a release:

- `Gazetteer`: every gold surface with the type most annotators gave it, found again in
  new texts on token boundaries (spaCy's `blank("id")` tokenizer: Indonesian rules, no
  download), longest first, never inside another match. Candidates come from one
  Aho-Corasick pass over the text; only the whitespace-separated chunks at a candidate's
  two ends are tokenized (cached), since tokenizing every text costs ~30k tokens/s here.
- `propagate`: near-duplicate groups (syndicated copy). A gold span in a paragraph that
  reappears verbatim in another article of its group is proposed there, at that
  article's offsets.
- `NerModel` (toolkit.labels.suggest_model): spaCy NER trained in-process on the gold,
  used only for the types where cross-validation (toolkit.labels.evaluate) shows it beats
  the gazetteer.
- `StanceProposer`: per stance target, the stance most gold rows give, once there are
  enough of them to measure it.

`combine` merges the sources: propagation first (a copy of a gold span), then the
gazetteer, then the model; a later span overlapping an earlier one is dropped.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ahocorasick_rs import AhoCorasick, MatchKind

GAZETTEER = "gazetteer"
PROPAGATION = "propagation"
MODEL = "model"
STANCE = "stance"
SOURCES = (PROPAGATION, GAZETTEER, MODEL)  # precedence when spans overlap
MIN_STANCE_GOLD = 3  # gold rows a target needs before its stance is proposed


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    type: str
    score: float = field(default=1.0, compare=False)
    source: str = field(default=GAZETTEER, compare=False)


@dataclass(frozen=True)
class GoldArticle:
    """An article with its gold entity spans and document stances (target -> stance)."""

    article_id: str
    text: str
    spans: tuple[Span, ...] = ()
    stances: Mapping[str, str] = field(default_factory=dict)
    group: str | None = None
    paragraphs: tuple[tuple[int, int], ...] = ()


# ---------------------------------------------------------------- token boundaries


@functools.cache
def _tokenizer() -> Any:
    import spacy  # imported on first use: loading spaCy takes a second

    return spacy.blank("id").tokenizer


@functools.lru_cache(maxsize=65536)
def _chunk_bounds(chunk: str) -> frozenset[int]:
    """Offsets inside a whitespace-free chunk where a token starts or ends."""
    bounds = {0, len(chunk)}
    for token in _tokenizer()(chunk):
        bounds.add(token.idx)
        bounds.add(token.idx + len(token.text))
    return frozenset(bounds)


def _is_boundary(text: str, i: int) -> bool:
    """Whether offset i of text falls between two tokens. spaCy splits on whitespace first
    and then tokenizes each chunk alone, so the chunk around i decides."""
    if i <= 0 or i >= len(text) or text[i - 1].isspace() or text[i].isspace():
        return True
    start = i
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = i
    while end < len(text) and not text[end].isspace():
        end += 1
    return (i - start) in _chunk_bounds(text[start:end])


def on_token_boundaries(text: str, start: int, end: int) -> bool:
    return _is_boundary(text, start) and _is_boundary(text, end)


class _Taken:
    """Which offsets are covered already: a byte per offset, so that testing a span is one
    `bytearray.find` in C (comparing with every chosen span cost half the gazetteer's time)."""

    def __init__(self) -> None:
        self.cells = bytearray()

    def add_if_free(self, span: Span) -> bool:
        if span.end > len(self.cells):
            self.cells.extend(bytes(span.end - len(self.cells)))
        if self.cells.find(1, span.start, span.end) >= 0:
            return False
        self.cells[span.start : span.end] = b"\x01" * (span.end - span.start)
        return True


def longest_first(spans: Iterable[Span]) -> list[Span]:
    """Non-overlapping spans: longer first, then leftmost; never one inside another."""
    taken = _Taken()
    ordered = sorted(spans, key=lambda s: (s.start - s.end, s.start))
    return sorted(span for span in ordered if taken.add_if_free(span))


# ---------------------------------------------------------------- gazetteer


class Gazetteer:
    """Gold surfaces -> the type most annotations gave them (vote share as the score)."""

    def __init__(self, votes: Mapping[str, Counter[str]]) -> None:
        self.types: dict[str, tuple[str, float]] = {}
        for surface, counts in votes.items():
            if not surface.strip():
                continue
            # most votes; ties go to the alphabetically first type (deterministic)
            etype, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            self.types[surface] = (etype, n / sum(counts.values()))
        self.surfaces = sorted(self.types)
        self._matcher = (
            AhoCorasick(self.surfaces, matchkind=MatchKind.Standard) if self.surfaces else None
        )

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Gazetteer:
        """From entity rows (every annotator's, each counts once per surface and type)."""
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for r in rows:
            votes[r["surface"]][r["type"]] += 1
        return cls(votes)

    @classmethod
    def from_articles(cls, articles: Iterable[GoldArticle]) -> Gazetteer:
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for art in articles:
            for s in art.spans:
                votes[art.text[s.start : s.end]][s.type] += 1
        return cls(votes)

    def find(self, text: str) -> list[Span]:
        if self._matcher is None:
            return []
        candidates = []
        for index, start, end in self._matcher.find_matches_as_indexes(text, overlapping=True):
            if on_token_boundaries(text, start, end):
                etype, score = self.types[self.surfaces[index]]
                candidates.append(Span(start, end, etype, score, GAZETTEER))
        return longest_first(candidates)


# ---------------------------------------------------------------- propagation


def propagate(
    gold: Iterable[GoldArticle], target: GoldArticle, *, exclude: str | None = None
) -> list[Span]:
    """Gold spans of `target`'s near-duplicate group whose paragraph reappears verbatim in
    `target`'s text, at its offsets. `exclude`: an article id not to learn from."""
    if target.group is None:
        return []
    found = []
    for art in gold:
        if art.group != target.group or art.article_id in (target.article_id, exclude):
            continue
        for p_start, p_end in art.paragraphs or ((0, len(art.text)),):
            inside = [s for s in art.spans if p_start <= s.start and s.end <= p_end]
            paragraph = art.text[p_start:p_end]
            if not inside or not paragraph.strip():
                continue
            at = target.text.find(paragraph)
            while at >= 0:
                shift = at - p_start
                found += [
                    Span(s.start + shift, s.end + shift, s.type, 1.0, PROPAGATION) for s in inside
                ]
                at = target.text.find(paragraph, at + 1)
    return longest_first(found)


# ---------------------------------------------------------------- document stance


class StanceProposer:
    """Per target, the stance most gold rows give (share as the score), once a target
    has MIN_STANCE_GOLD gold rows."""

    def __init__(self, articles: Iterable[GoldArticle], minimum: int = MIN_STANCE_GOLD) -> None:
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for art in articles:
            for target, stance in art.stances.items():
                votes[target][stance] += 1
        self.proposals: dict[str, tuple[str, float]] = {}
        for target, counts in votes.items():
            total = sum(counts.values())
            if total >= minimum:
                stance, n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                self.proposals[target] = (stance, n / total)

    def propose(self) -> dict[str, tuple[str, float]]:
        return dict(self.proposals)


# ---------------------------------------------------------------- combination


def combine(by_source: Mapping[str, Sequence[Span]]) -> list[Span]:
    """One non-overlapping set: earlier sources of SOURCES win an overlap."""
    taken = _Taken()
    chosen = [
        span
        for source in SOURCES
        for span in sorted(by_source.get(source, ()))
        if taken.add_if_free(span)
    ]
    return sorted(chosen)
