"""Gold entities -> tokens and BIO tags, in NusaCrowd's seq_label shape (id, tokens, labels).

Tokens are words (letters/digits, with inner hyphens or apostrophes: "Korea-Utara") and
single punctuation marks. A span whose edges fall inside a token, or that overlaps an
earlier span, cannot be tagged without cutting it: it is counted and listed in the
report, and the article's other spans are still tagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")

MISALIGNED = "not-token-aligned"
OVERLAPPING = "overlaps-another-span"


@dataclass
class BioReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    tagged: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # span + reason


def tokenize(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def bio_rows(texts: Mapping[str, str], gold_entities: Iterable[Mapping[str, Any]]) -> BioReport:
    """One row per article in `texts` (all O where it has no gold entity)."""
    by_article: dict[str, list[Mapping[str, Any]]] = {}
    for ent in gold_entities:
        by_article.setdefault(ent["article_id"], []).append(ent)
    report = BioReport()
    for article_id in sorted(texts):
        text = texts[article_id]
        ents = sorted(by_article.get(article_id, []), key=lambda e: (e["start"], -e["end"]))
        tokens, starts, ends = _tokens(text, [(e["start"], e["end"]) for e in ents])
        tags = ["O"] * len(tokens)
        for ent in ents:
            first, last = starts.get(ent["start"]), ends.get(ent["end"])
            reason = None
            if first is None or last is None or last < first:
                reason = MISALIGNED
            elif any(t != "O" for t in tags[first : last + 1]):
                reason = OVERLAPPING
            if reason:
                report.skipped.append(
                    {k: ent[k] for k in ("article_id", "start", "end", "surface", "type")}
                    | {"reason": reason}
                )
                continue
            tags[first] = f"B-{ent['type']}"
            for i in range(first + 1, last + 1):
                tags[i] = f"I-{ent['type']}"
            report.tagged += 1
        report.rows.append({"id": article_id, "tokens": tokens, "labels": tags})
    return report


def _tokens(
    text: str, spans: list[tuple[Any, Any]]
) -> tuple[list[str], dict[int, int], dict[int, int]]:
    """The tokens of `text`, and token index by start and by end offset around `spans`.

    Offsets only where spans are: 10k articles are 5.7M tokens, and a match object per
    token took 3 s. No token contains whitespace, so tokenising restarts identically after
    any whitespace: the whitespace-free stretches around the spans are tokenised with
    offsets, the text between them by `findall`, in one pass over the text.
    """
    windows = []
    for start, end in spans:
        if isinstance(start, int) and isinstance(end, int) and 0 <= start <= len(text):
            a, b = start, min(max(start, end), len(text))
            while a > 0 and not text[a - 1].isspace():  # str.isspace is the regex's \s
                a -= 1
            while b < len(text) and not text[b].isspace():
                b += 1
            windows.append((a, b))
    tokens: list[str] = []
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    pos = 0
    for a, b in sorted(windows):
        if b <= pos:
            continue
        a = max(a, pos)  # overlapping windows: both edges are whitespace-aligned
        tokens += TOKEN.findall(text, pos, a)
        for m in TOKEN.finditer(text, a, b):
            starts[m.start()] = ends[m.end()] = len(tokens)
            tokens.append(m.group())
        pos = b
    tokens += TOKEN.findall(text, pos)
    return tokens, starts, ends
