"""How much the suggestions were used, from the `origin` of each entity row (pure).

Label Studio marks each result `manual` (drawn by hand), `prediction` (a suggestion
accepted unchanged) or `prediction-changed` (a suggestion edited); `pull` keeps it in the
`origin` column, and this turns it into the card's section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

SECTION = "Suggestions used"
ORIGINS = ("prediction", "prediction-changed", "manual")


def origin_counts(entities: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Entity rows per origin (None: the export did not say)."""
    counts = Counter(r.get("origin") for r in entities)
    return {str(k) if k is not None else "unrecorded": n for k, n in counts.items()}


def usage_section(entities: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    counts = origin_counts(entities)
    total = sum(counts.values())
    if not total:
        return {SECTION: "No entity rows yet."}

    def part(name: str) -> str:
        n = counts.get(name, 0)
        return f"{n} ({100 * n / total:.1f}%)"

    return {
        SECTION: (
            f"Of {total} entity rows: {part('prediction')} accepted a suggestion unchanged, "
            f"{part('prediction-changed')} changed one, {part('manual')} were drawn by hand"
            + (f", {part('unrecorded')} do not say" if counts.get("unrecorded") else "")
            + ". Suggestions (`toolkit suggest`) are proposals from the gold of an earlier "
            "release; predictions themselves never become label rows. Per row: the "
            "`origin` column."
        )
    }
