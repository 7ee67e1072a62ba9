"""The template pass's per-page input, cached: a rebuild reads only new pages' lines.

The template-lines pass (dataset/templates.py) counts every page's short lines by site;
at 100k pages parsing them again took ~37 s of a 66 s rebuild. What it needs of a page
(its site, its normalised short lines and which of them read as prose) depends only on
the page's bytes, its kind and the URL its source gives it, and on the code that reads
it; so it is kept under a key of exactly those, and a rebuild parses only the pages it
has not seen. The counting itself (which lines are templates) always runs again, over
every page, from these rows: it depends on the whole corpus.

Layout: in the extraction cache's folder (dataset/cache.py), `lines-*.arrow` segments
of rows (key, site, lines, prose), Arrow IPC uncompressed (memory-mapped: a rebuild reads
them without copying), each written under a temporary name and renamed into place, so a
killed build leaves only whole segments (stray `.tmp-*` files are swept by the
extraction cache). The index is rebuilt from the key columns when
a build opens the cache.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

from toolkit.dataset.cache import _code_fingerprint
from toolkit.dataset.templates import KEY, SCHEMA
from toolkit.pages.read import Source


class TemplateCache:
    """The segments of template-pass rows present when a build opened the folder, and
    the ones it writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._settings = hashlib.sha256(f"templates|{_code_fingerprint()}".encode()).digest()
        self.segments = sorted(p.name for p in self.directory.glob("lines-*.arrow"))
        keys, numbers, rows = [], [], []
        for number, name in enumerate(self.segments):
            column = self.table(name).column(KEY).combine_chunks()
            data = column.buffers()[1]  # fixed-size binary: 16 bytes a key, no offsets
            keys.append(np.frombuffer(data, "S16", len(column), column.offset * 16))
            numbers.append(np.full(len(column), number, np.int64))
            rows.append(np.arange(len(column), dtype=np.int64))
        # "S16" ignores trailing NUL bytes, which is exact for keys of 16 bytes each
        every = np.concatenate(keys) if keys else np.empty(0, "S16")
        order = np.argsort(every, kind="stable")
        self._keys = every[order]
        self._segment = np.concatenate(numbers)[order] if keys else np.empty(0, np.int64)
        self._row = np.concatenate(rows)[order] if keys else np.empty(0, np.int64)
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._keys)

    def key(self, source: Source, raw_digest: bytes) -> bytes:
        """16 bytes that change whenever the page's template-pass row could: its bytes
        (their sha256), its kind, the URL its source gives it, and the code."""
        fields = repr((source.kind, source.url)).encode()
        return hashlib.sha256(self._settings + fields + b"\0" + raw_digest).digest()[:16]

    def find(self, keys: list[bytes]) -> list[tuple[str, int] | None]:
        """(segment name, row) of each cached page, None for the others."""
        if not keys or not len(self._keys):
            self.misses += len(keys)
            return [None] * len(keys)
        wanted = np.array(keys, "S16")
        at = np.minimum(np.searchsorted(self._keys, wanted), len(self._keys) - 1)
        found = self._keys[at] == wanted
        self.hits += int(found.sum())
        self.misses += len(keys) - int(found.sum())
        segments, rows = self._segment[at].tolist(), self._row[at].tolist()
        return [
            (self.segments[s], r) if ok else None
            for s, r, ok in zip(segments, rows, found.tolist(), strict=True)
        ]

    def table(self, name: str) -> pa.Table:
        """A segment's rows (memory-mapped: opening one again is cheap, and the pages
        stay in the page cache rather than in the build's memory)."""
        with pa.memory_map(str(self.directory / name)) as source:
            return pa.ipc.open_file(source).read_all()

    def store(self, table: pa.Table) -> str:
        """Write new rows as one segment (atomic rename); its name."""
        name = f"lines-{time.time_ns():020d}-{uuid.uuid4().hex}.arrow"
        tmp = self.directory / f".tmp-{uuid.uuid4().hex}"
        try:
            with (
                pa.OSFile(str(tmp), "wb") as sink,
                pa.ipc.new_file(sink, SCHEMA) as writer,
            ):
                writer.write_table(table)
            os.replace(tmp, self.directory / name)
        finally:
            tmp.unlink(missing_ok=True)
        return name
