"""Deterministic split assignment: a pure function of the article id.

Hashing the id (never the position in the corpus) means an article keeps its split when
the corpus grows, so a test example can never leak into train in a later release.
"""

from __future__ import annotations

import hashlib
import math

from toolkit.errors import ReleaseError

DEFAULT_RATIOS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}


def parse_ratios(spec: str) -> dict[str, float]:
    """'train=0.8,validation=0.1,test=0.1' -> ordered dict of ratios summing to 1."""
    ratios: dict[str, float] = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        try:
            ratios[name.strip()] = float(value)
        except ValueError:
            raise ReleaseError(f"bad split ratio '{part}' (expected name=fraction)") from None
    check_ratios(ratios)
    return ratios


def check_ratios(ratios: dict[str, float]) -> None:
    values = list(ratios.values())
    # NaN compares false with everything: without isfinite it passed both tests below
    finite = all(math.isfinite(r) and r >= 0 for r in values)
    if not ratios or not finite or abs(sum(values) - 1) > 1e-9:
        raise ReleaseError(f"split ratios must be non-negative and sum to 1, got {ratios}")
    if any(not name.isidentifier() for name in ratios):
        raise ReleaseError(f"split names must be simple words, got {list(ratios)}")


def split_for(article_id: str, ratios: dict[str, float] = DEFAULT_RATIOS) -> str:
    digest = hashlib.sha256(b"split:" + article_id.encode("utf-8")).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    cumulative = 0.0
    for name, ratio in ratios.items():
        cumulative += ratio
        if point < cumulative:
            return name
    return next(reversed(ratios))  # float rounding: the last split takes the remainder
