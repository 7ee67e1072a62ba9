"""The packed row digests that a build diffs against the previous release."""

from __future__ import annotations

import os

from toolkit.dataset.versioning import Digests, RowDigest, diff_digests


def _digest(split: str) -> RowDigest:
    return RowDigest(split, os.urandom(20), os.urandom(20), os.urandom(20))


def test_digests_give_back_what_was_added_and_refuse_a_second_key() -> None:
    digests, added = Digests(), {}
    for i in range(300):
        key = (f"id{i}",) if i % 2 else (f"id{i}", i)  # one- and two-column keys
        added[key] = _digest(("train", "validation", "test")[i % 3])
        assert digests.add(key, added[key])
    assert not digests.add(("id1",), _digest("test"))
    assert len(digests) == 300 and ("id1",) in digests and ("nope",) not in digests
    assert dict(digests.items()) == added
    assert all(digests.get(k) == d for k, d in added.items())
    assert digests.get(("nope",)) is None and list(digests) == list(added)


def test_keys_added_as_unique_are_found_later() -> None:
    digests, first = Digests(), _digest("train")
    assert digests.add(("a",), first, unique=True)
    assert digests.add(("b",), _digest("test"), unique=True)
    assert digests.get(("a",)) == first and ("b",) in digests
    assert digests.add(("c",), _digest("train"), unique=True)  # after the index exists
    assert ("c",) in digests and not digests.add(("c",), _digest("train"))


def test_diff_of_packed_digests() -> None:
    before, after = Digests(), Digests()
    same, edited, moved = _digest("train"), _digest("train"), _digest("train")
    before.add(("same",), same)
    before.add(("edited",), edited)
    before.add(("moved",), moved)
    before.add(("gone",), _digest("test"))
    after.add(("same",), same)
    after.add(("edited",), RowDigest("train", os.urandom(20), edited.derived, edited.provenance))
    after.add(("moved",), RowDigest("test", moved.content, moved.derived, moved.provenance))
    after.add(("new",), _digest("train"))
    diff = diff_digests("articles", before, after)
    assert (diff.added, diff.changed, diff.moved, diff.removed) == (
        [("new",)],
        [("edited",)],
        [("moved",)],
        [("gone",)],
    )
    assert diff.bump == "major"
