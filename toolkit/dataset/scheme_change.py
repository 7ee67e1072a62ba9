"""How a change of the label scheme between two releases is versioned.

A new entity type, stance label or target is additive (MINOR); a removed or renamed one
is MAJOR. The label rows a release already holds store ClassLabel indices, so a build may
only change the scheme in ways that keep those indices meaning the same names: labels
appended at the end. Anything else while label rows exist is refused here, and push
refuses a config that would orphan labels Label Studio already holds.
"""

from __future__ import annotations

from typing import Any

from toolkit.dataset.schema import LABEL_KEYS, LabelScheme
from toolkit.errors import ReleaseError

LABEL_CONFIGS = ("entities", "stance", "ner")


def scheme_bump(old: LabelScheme, new: LabelScheme) -> str:
    """none | patch (guides or hotkeys only) | minor (names added) | major (names gone)."""
    if old == new:
        return "none"
    bump = "patch"
    for key in LABEL_KEYS:
        before, after = set(old.names(key)), set(new.names(key))
        if before - after:
            return "major"
        if after - before:
            bump = "minor"
    return bump


def check_scheme_change(old: LabelScheme, new: LabelScheme, manifest: dict[str, Any]) -> str:
    """The bump the scheme change needs; ReleaseError when rows already labelled would
    change meaning (a removed, renamed or reordered name while label configs exist)."""
    bump = scheme_bump(old, new)
    if bump in ("none", "patch") or not any(c in manifest["configs"] for c in LABEL_CONFIGS):
        return bump
    for key in LABEL_KEYS:
        before, after = old.names(key), new.names(key)
        if after[: len(before)] != before:
            gone = [n for n in before if n not in after]
            what = f"drops {', '.join(gone)}" if gone else "reorders its names"
            raise ReleaseError(
                f"the label scheme's {key} {what}, but this release already holds labels "
                f"stored under the old names: add new names at the end of the list, or "
                f"start a new release folder"
            )
    return bump
