"""Splitting a stream into lists (`itertools.batched` needs Python 3.12)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last one may be shorter), read lazily."""
    stream = iter(items)
    while batch := list(islice(stream, size)):
        yield batch
