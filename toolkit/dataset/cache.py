"""The extraction cache of incremental builds: a page extracted once is not extracted again.

A page's entry is what the first pass makes of it in a worker: its spool row (the typed
`articles` row with its content and provenance digests) and its near-duplicate band
hashes, or its Rejection. The key is a hash of everything that decides that result: the
page's bytes and source fields (source_file is part of the row and of the id), the
template lines of its site (dataset/templates.py: decided by the whole corpus, counted
before extraction; when they change, that site's pages are extracted again), the
`max_bytes` setting, and a fingerprint of the code and schema that made it (the parser
version alone is not bumped on every change of the extractor). The split is not cached:
it is cheap and depends on the ratios. Corpus-level steps (exact duplicates, near-duplicate
groups) run on the cached per-page data, as on fresh data, so a rebuild gives the same
bytes as a full build.

Layout: a folder of Arrow IPC segment files, one per worker chunk that had new pages,
each written under a temporary name and renamed into place (atomic on POSIX), so a build
killed at any point leaves only whole segments (and perhaps a `.tmp-*` file, ignored and
swept later). The index (key -> segment, row) is rebuilt at the start of a build from
the segments' key columns: a sorted array of 16-byte keys, 24 bytes a page, inherited by
forked workers. Entries of pages that are gone are never read again; deleting the folder
is always safe.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from toolkit import __version__
from toolkit.dataset.near_duplicates import BANDS
from toolkit.dataset.templates import Templates
from toolkit.pages.article import Rejection
from toolkit.pages.extract import PARSER_VERSION
from toolkit.pages.read import Source

FORMAT = 1
KEY, REASON, DETAIL, BANDS_COLUMN = "_key", "_reason", "_detail", "_bands"
_OPEN_SEGMENTS = 8  # decoded segments a worker keeps (a rebuild reads them in order)
_STALE_TMP_SECONDS = 24 * 3600
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
# What a cached row derives from: extraction, the row and its digests, the band hashes.
_CODE = ("pages", "dataset/prepare.py", "dataset/near_duplicates.py", "dataset/schema.py",
         "dataset/versioning.py", "dataset/splits.py", "dataset/templates.py",
         "dataset/cache.py")  # fmt: skip


def default_dir(out: Path) -> Path:
    """Beside the release, not in it: `dist/news` -> `dist/.news.cache`."""
    out = Path(out).absolute()
    return out.parent / f".{out.name}.cache"


@functools.cache
def _code_fingerprint() -> str:
    from toolkit.dataset.schema import SCHEMA_DIR

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{FORMAT}|{__version__}|{PARSER_VERSION}".encode())
    for name in _CODE:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    digest.update((SCHEMA_DIR / "articles.yaml").read_bytes())
    return digest.hexdigest()


def settings_fingerprint(max_bytes: int) -> bytes:
    return hashlib.sha256(f"{_code_fingerprint()}|max_bytes={max_bytes}".encode()).digest()


def page_key(settings: bytes, source: Source, templates: bytes = b"") -> bytes:
    """16 bytes that change whenever the extraction result of `source` could: its bytes
    and fields, the settings, and the template lines of its site (`templates`: their
    digest), which the whole corpus decides."""
    digest = hashlib.sha256(settings)
    fields = (source.source_file, source.kind, source.size, source.url, source.title)
    digest.update(repr((*fields, source.published_at)).encode() + b"\0" + templates)
    digest.update(source.raw)
    return digest.digest()[:16]


def _lines_digest(lines: frozenset[str]) -> bytes:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).digest() if lines else b""


# An extraction function of prepare.py: pages -> (items, spool rows without the split)
Extract = Callable[[list[Source], int, Templates], tuple[list, pa.Table | None]]


class PageCache:
    """One build's view of the cache folder: the index of the segments present when it
    opened, and the segments it writes (visible to the next build)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.settings = settings_fingerprint(max_bytes)
        self._sweep()
        self.segments = sorted(p.name for p in self.directory.glob("seg-*.arrow"))
        keys, segment, row = [], [], []
        for number, name in enumerate(self.segments):
            column = _read(self.directory / name, [KEY]).column(KEY).combine_chunks()
            data = column.buffers()[1]  # fixed-size binary: 16 bytes a key, no offsets
            keys.append(np.frombuffer(data, "S16", len(column), column.offset * 16))
            segment.append(np.full(len(column), number, np.uint32))
            row.append(np.arange(len(column), dtype=np.uint32))
        order = np.argsort(np.concatenate(keys) if keys else np.empty(0, "S16"), kind="stable")
        self._keys = (np.concatenate(keys) if keys else np.empty(0, "S16"))[order]
        self._segment = (np.concatenate(segment) if keys else np.empty(0, np.uint32))[order]
        self._row = (np.concatenate(row) if keys else np.empty(0, np.uint32))[order]
        self._open: OrderedDict[int, pa.Table] = OrderedDict()
        self.hits = self.misses = 0  # of this process (a worker's counts stay in it)

    def __len__(self) -> int:
        return len(self._keys)

    def _sweep(self) -> None:
        """Remove temporary files of killed builds (old enough not to be a live write)."""
        now = time.time()
        for tmp in self.directory.glob(".tmp-*"):
            try:
                if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                    tmp.unlink()
            except FileNotFoundError:
                pass

    def _find(self, key: bytes) -> tuple[int, int] | None:
        # numpy drops trailing NUL bytes of an S16 item: compare keys the same way
        at = int(np.searchsorted(self._keys, np.array(key, "S16")))
        if at < len(self._keys) and bytes(self._keys[at]) == key.rstrip(b"\0"):
            return int(self._segment[at]), int(self._row[at])
        return None

    def _table(self, segment: int) -> pa.Table:
        table = self._open.get(segment)
        if table is None:
            table = _read(self.directory / self.segments[segment])
            self._open[segment] = table
            if len(self._open) > _OPEN_SEGMENTS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(segment)
        return table

    def extract_rows(
        self,
        pages: list[Source],
        max_bytes: int,
        templates: Templates,
        extract: Extract,
        schema: pa.Schema,
    ) -> tuple[list, pa.Table | None]:
        """`extract(pages, max_bytes, templates)` for the pages not in the cache, the
        cached result for the others, merged in input order; the new results are stored."""
        site_lines: dict[frozenset[str], bytes] = {}  # a chunk's pages share a few sites
        keys = []
        for page in pages:
            lines = templates.for_source(page.source_file)
            if lines not in site_lines:
                site_lines[lines] = _lines_digest(lines)
            keys.append(page_key(self.settings, page, site_lines[lines]))
        found = [self._find(key) for key in keys]
        new_pages = [p for p, f in zip(pages, found, strict=True) if f is None]
        self.hits += len(pages) - len(new_pages)
        self.misses += len(new_pages)
        new_items, new_table = extract(new_pages, max_bytes, templates) if new_pages else ([], None)
        if new_pages:
            new_keys = [k for k, f in zip(keys, found, strict=True) if f is None]
            self._store(new_keys, new_items, new_table, schema)
        # Input order: cached rows are taken from their segments, new ones from new_table.
        from toolkit.dataset.prepare import Prepared

        items: list = []
        parts: list[pa.Table] = []
        fresh = iter(new_items)
        fresh_row = 0
        for where in found:
            if where is None:
                item = next(fresh)
                if isinstance(item, Prepared):
                    assert new_table is not None
                    parts.append(new_table.slice(fresh_row, 1))
                    fresh_row += 1
                items.append(item)
                continue
            table = self._table(where[0])
            row = table.slice(where[1], 1)
            reason = row.column(REASON)[0].as_py()
            if reason is not None:
                source_file = row.column("source_file")[0].as_py()
                items.append(Rejection(source_file, reason, row.column(DETAIL)[0].as_py()))
                continue
            first = row.slice(0, 1).select(["id", "raw_sha256", "source_file", "publisher"])
            values = [first.column(i)[0].as_py() for i in range(4)]
            bands = np.frombuffer(row.column(BANDS_COLUMN)[0].as_py(), np.uint64)
            items.append(Prepared(*values, bands.reshape(-1, BANDS)))
            parts.append(row.select(schema.names).cast(schema))
        if not parts:
            return items, None
        return items, pa.concat_tables(parts).combine_chunks()

    def _store(self, keys: list[bytes], items: list, table: pa.Table | None, schema: pa.Schema):
        """One segment for the new results of a chunk: rows of its articles first, then
        one row per rejection (row columns null)."""
        from toolkit.dataset.prepare import Prepared

        loose = pa.schema([f.with_nullable(True) for f in schema])
        articles = [k for k, i in zip(keys, items, strict=True) if isinstance(i, Prepared)]
        rejections = [(k, i) for k, i in zip(keys, items, strict=True) if isinstance(i, Rejection)]
        parts = []
        if table is not None:
            bands = [i.bands.astype(np.uint64).tobytes() for i in items if isinstance(i, Prepared)]
            parts.append(
                table.cast(loose)
                .append_column(KEY, pa.array(articles, pa.binary(16)))
                .append_column(REASON, pa.nulls(len(articles), pa.string()))
                .append_column(DETAIL, pa.nulls(len(articles), pa.string()))
                .append_column(BANDS_COLUMN, pa.array(bands, pa.binary()))
            )
        if rejections:
            empty = {f.name: pa.nulls(len(rejections), f.type) for f in loose}
            empty["source_file"] = pa.array([r.source_file for _, r in rejections], pa.string())
            parts.append(
                pa.table(empty, schema=loose)
                .append_column(KEY, pa.array([k for k, _ in rejections], pa.binary(16)))
                .append_column(REASON, pa.array([r.reason for _, r in rejections], pa.string()))
                .append_column(DETAIL, pa.array([r.detail for _, r in rejections], pa.string()))
                .append_column(BANDS_COLUMN, pa.nulls(len(rejections), pa.binary()))
            )
        segment = pa.concat_tables(parts)
        tmp = self.directory / f".tmp-{uuid.uuid4().hex}"
        try:
            with (
                pa.OSFile(str(tmp), "wb") as sink,
                pa.ipc.new_file(sink, segment.schema, options=_IPC_OPTIONS) as writer,
            ):
                writer.write_table(segment)
            os.replace(tmp, self.directory / f"seg-{time.time_ns():020d}-{uuid.uuid4().hex}.arrow")
        finally:
            tmp.unlink(missing_ok=True)


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    return table.select(columns) if columns else table
