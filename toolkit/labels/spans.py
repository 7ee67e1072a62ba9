"""Check exported span offsets against the article text; re-locate drifted ones.

Label Studio's offsets can drift from Python code-point offsets: some versions count
UTF-16 code units (an emoji counts twice), the browser turns CRLF into LF, and a
rendered text may collapse runs of spaces. The surface text the annotator selected is
exported beside the offsets, so it is the anchor: a span is only ever returned where
`text[start:end] == surface`. Anything else is reported with a reason, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_WINDOW = 200  # code points either side searched for the nearest exact occurrence

# Reasons a span cannot be kept (they end up in the quarantine table's `reason`).
EMPTY_SURFACE = "empty-surface"
BAD_OFFSETS = "bad-offsets"
NOT_FOUND = "span-not-found"
AMBIGUOUS = "span-ambiguous"
WHITESPACE_DIFFERS = "surface-whitespace-differs"


@dataclass(frozen=True)
class SpanCheck:
    """Outcome of checking one span: kept (maybe re-located) or refused with a reason."""

    start: int | None
    end: int | None
    relocated: bool = False
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _refuse(reason: str) -> SpanCheck:
    return SpanCheck(None, None, False, reason)


def _utf16_to_cp(text: str) -> Callable[[int], int]:
    """Map a UTF-16 code-unit offset to a code-point offset."""
    starts = []  # UTF-16 offset at which each code point begins
    units = 0
    for ch in text:
        starts.append(units)
        units += 2 if ord(ch) > 0xFFFF else 1
    starts.append(units)
    index = {u: i for i, u in enumerate(starts)}
    return lambda off: index.get(off, -1)


def _view_to_cp(text: str, view: Callable[[str], list[int]]) -> Callable[[int], int]:
    """Map an offset in a transformed view of `text` back to `text` (view gives, for each
    kept code point, its index in the original)."""
    kept = view(text)
    kept.append(len(text))
    return lambda off: kept[off] if 0 <= off < len(kept) else -1


def _crlf_as_lf(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not (ch == "\r" and text[i + 1 : i + 2] == "\n")]


def _collapsed_spaces(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not (ch.isspace() and text[i - 1 : i].isspace())]


def _candidate_starts(text: str, start: int) -> list[int]:
    """Where `start` would point if the exporter had counted in one of the known wrong ways."""
    mappings = (
        _utf16_to_cp(text),
        _view_to_cp(text, _crlf_as_lf),
        _view_to_cp(text, _collapsed_spaces),
    )
    return [m(start) for m in mappings]


def _nearest_occurrence(text: str, surface: str, start: int, window: int) -> int | str:
    """Start of the exact occurrence of `surface` nearest to `start`, or a reason."""
    lo = max(0, start - window)
    hi = min(len(text), start + len(surface) + window)
    found = []
    pos = text.find(surface, lo, hi)
    while pos != -1:
        found.append(pos)
        pos = text.find(surface, pos + 1, hi)
    if not found:
        return NOT_FOUND
    found.sort(key=lambda p: abs(p - start))
    if len(found) > 1 and abs(found[0] - start) == abs(found[1] - start):
        return AMBIGUOUS
    return found[0]


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def check_span(
    text: str, start: object, end: object, surface: str | None, window: int = DEFAULT_WINDOW
) -> SpanCheck:
    """Check `text[start:end] == surface`; re-locate a drifted span or refuse it.

    Exact spans are kept as they are. A drifted span is moved to where the offsets point
    under UTF-16, CRLF-as-LF or collapsed-space counting, else to the nearest exact
    occurrence of `surface` within `window` code points, and flagged `relocated`.
    """
    if not surface:
        return _refuse(EMPTY_SURFACE)
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return _refuse(BAD_OFFSETS)
    if start < 0 or end < start:
        return _refuse(BAD_OFFSETS)
    if text[start:end] == surface:
        return SpanCheck(start, end)
    n = len(surface)
    for cand in _candidate_starts(text, start):
        if cand >= 0 and text[cand : cand + n] == surface:
            return _kept(text, surface, cand)
    near = _nearest_occurrence(text, surface, min(start, len(text)), window)
    if isinstance(near, int):
        return _kept(text, surface, near)
    if near == NOT_FOUND and surface not in text and _squash(surface) in _squash(text):
        # The browser normalised whitespace inside the selection: recoverable by a human,
        # but any automatic span would not carry the exported surface text.
        return _refuse(WHITESPACE_DIFFERS)
    return _refuse(near)


def _kept(text: str, surface: str, start: int) -> SpanCheck:
    end = start + len(surface)
    if text[start:end] != surface:  # the invariant, checked at the one exit that keeps a span
        return _refuse(NOT_FOUND)
    return SpanCheck(start, end, relocated=True)
