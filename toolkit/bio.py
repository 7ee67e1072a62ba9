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
        tokens = tokenize(texts[article_id])
        starts = {s: i for i, (_, s, _) in enumerate(tokens)}
        ends = {e: i for i, (_, _, e) in enumerate(tokens)}
        tags = ["O"] * len(tokens)
        for ent in sorted(by_article.get(article_id, []), key=lambda e: (e["start"], -e["end"])):
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
        report.rows.append({"id": article_id, "tokens": [t for t, _, _ in tokens], "labels": tags})
    return report
