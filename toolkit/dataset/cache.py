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
bytes as a full build; the template lines are counted from cached per-page rows too
(template_cache.py, in the same folder).

A page is read once per build: the parent reads every page for the template pass and
makes its key there (`page_base` from its fields and the sha256 of its bytes, then
`with_templates` once its site's lines are counted); a worker looks the key up and reads
only the pages the cache does not hold (`extract_entries`), keying those from its own
reading.

The digests of the releases it built are kept too (see `release_digests`).

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
import json
import os
import pickle
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from toolkit import __version__
from toolkit.dataset.near_duplicates import BANDS
from toolkit.dataset.templates import Templates
from toolkit.dataset.versioning import Digests
from toolkit.pages.article import Rejection
from toolkit.pages.extract import PARSER_VERSION
from toolkit.pages.read import InputFile, Source, listed_name, read_entry

FORMAT = 1
KEY, REASON, DETAIL, BANDS_COLUMN = "_key", "_reason", "_detail", "_bands"
_PREPARED = ("id", "raw_sha256", "source_file", "publisher")  # Prepared's fields, in order
_KEPT_DIGESTS = 4  # releases whose digests are kept (a build diffs against the last one)
_OPEN_SEGMENTS = 8  # decoded segments a worker keeps (a rebuild reads them in order)
_STALE_TMP_SECONDS = 24 * 3600
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")
# What a cached row derives from: extraction, the row and its digests, the band hashes.
_CODE = ("pages", "dataset/prepare.py", "dataset/near_duplicates.py", "dataset/schema.py",
         "dataset/versioning.py", "dataset/splits.py", "dataset/templates.py",
         "dataset/cache.py", "dataset/template_cache.py")  # fmt: skip


def default_dir(out: Path) -> Path:
    """Beside the release, not in it: `dist/news` -> `dist/.toolkit-cache/news` (not
    `.news.*`, the names of a build's staging folders, which are swept)."""
    out = Path(out).absolute()
    return out.parent / ".toolkit-cache" / out.name


@functools.cache
def _code_fingerprint() -> str:
    from toolkit.dataset.schema import schema_file

    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{FORMAT}|{__version__}|{PARSER_VERSION}".encode())
    for name in _CODE:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode() + b"\0")
            digest.update(file.read_bytes())
    digest.update(schema_file("articles.yaml").read_bytes())  # the wheel's package data too
    return digest.hexdigest()


def settings_fingerprint(max_bytes: int) -> bytes:
    return hashlib.sha256(f"{_code_fingerprint()}|max_bytes={max_bytes}".encode()).digest()


def page_key(
    settings: bytes, source: Source, templates: bytes = b"", raw_digest: bytes | None = None
) -> bytes:
    """16 bytes that change whenever the extraction result of `source` could: its bytes
    (`raw_digest`: their sha256, if known) and fields, the settings, and the template
    lines of its site (`templates`: their digest), which the whole corpus decides."""
    digest = raw_digest if raw_digest is not None else hashlib.sha256(source.raw).digest()
    return with_templates(page_base(settings, source, digest), templates)


def page_base(settings: bytes, source: Source, raw_digest: bytes) -> bytes:
    """The part of `page_key` known before the template lines are counted."""
    fields = (source.source_file, source.kind, source.size, source.url, source.title)
    # identity (what a URL-less page's id is made of) and problem (an entry that is no
    # page: its reason is the whole result) decide the result too
    extra = (source.published_at, source.identity, source.problem)
    key = repr((*fields, *extra)).encode() + b"\0" + raw_digest
    return hashlib.sha256(settings + key).digest()


def with_templates(base: bytes, templates: bytes) -> bytes:
    """`page_key` from its `page_base` and its site's template-lines digest."""
    return hashlib.sha256(base + templates).digest()[:16]


def lines_digest(lines: frozenset[str]) -> bytes:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).digest() if lines else b""


Listed = InputFile | Source  # an entry of `iter_files` (prepare.Listed)
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

    def extract_entries(
        self,
        entries: list[Listed],
        known: list[tuple[str, bytes]] | None,
        max_bytes: int,
        templates: Templates,
        extract: Extract,
        schema: pa.Schema,
    ) -> tuple[list, pa.Table | None]:
        """`extract_rows` of a chunk of `iter_files` entries, reading only those it needs:
        `known` is each entry's (name, page key) as the build's first reading of the
        inputs found it; a page found under that key is not read again. Any other entry
        (no key, another name, not found) is read and keyed here."""
        pages: list[Source | tuple[int, int]] = []
        for i, entry in enumerate(entries):
            place = None
            if known is not None and i < len(known) and known[i][0] == listed_name(entry):
                place = self._find(known[i][1])
            if place is None:
                pages.extend(read_entry(entry))
            else:
                pages.append(place)
        return self.extract_rows(pages, max_bytes, templates, extract, schema)

    def extract_rows(
        self,
        pages: list[Source | tuple[int, int]],
        max_bytes: int,
        templates: Templates,
        extract: Extract,
        schema: pa.Schema,
    ) -> tuple[list, pa.Table | None]:
        """`extract(pages, max_bytes, templates)` for the pages not in the cache, the
        cached result for the others, merged in input order; the new results are stored.
        A page may also be given as its (segment, row) in the cache, found earlier."""
        site_lines: dict[frozenset[str], bytes] = {}  # a chunk's pages share a few sites
        keys: list[bytes | None] = []
        found: list[tuple[int, int] | None] = []
        for page in pages:
            if not isinstance(page, Source):
                keys.append(None)
                found.append(page)
                continue
            lines = templates.for_source(page.source_file)
            if lines not in site_lines:
                site_lines[lines] = lines_digest(lines)
            keys.append(key := page_key(self.settings, page, site_lines[lines]))
            found.append(self._find(key))
        new_pages = [p for p, f in zip(pages, found, strict=True) if f is None]
        assert all(isinstance(p, Source) for p in new_pages)
        self.hits += len(pages) - len(new_pages)
        self.misses += len(new_pages)
        new_items, new_table = extract(new_pages, max_bytes, templates) if new_pages else ([], None)
        if new_pages:
            new_keys = [k for k, f in zip(keys, found, strict=True) if f is None]
            self._store(new_keys, new_items, new_table, schema)
        # Input order: rows are taken a table at a time (new_table, then each segment's
        # hits), then put in input order with one `take`.
        from toolkit.dataset.prepare import Prepared

        items: list = [None] * len(pages)
        tables: list[pa.Table] = []
        where_row: dict[int, int] = {}  # page position -> row of the concatenated tables
        offset = 0
        fresh = iter(new_items)
        for i, place in enumerate(found):
            if place is None:
                items[i] = next(fresh)
                if isinstance(items[i], Prepared):
                    where_row[i] = offset
                    offset += 1
        if new_table is not None:
            tables.append(new_table)
        by_segment: dict[int, list[tuple[int, int]]] = {}
        for i, place in enumerate(found):
            if place is not None:
                by_segment.setdefault(place[0], []).append((i, place[1]))
        for segment, hits in by_segment.items():
            table = self._table(segment).take([row for _, row in hits])
            reasons = table.column(REASON).to_pylist()
            details = table.column(DETAIL).to_pylist()
            ids, raws, names, publishers = (table.column(c).to_pylist() for c in _PREPARED)
            words, ends = _band_words(table.column(BANDS_COLUMN))
            for k, (i, _) in enumerate(hits):
                if reasons[k] is not None:
                    items[i] = Rejection(names[k], reasons[k], details[k])
                    continue
                array = words[ends[k] : ends[k + 1]].reshape(-1, BANDS)
                items[i] = Prepared(ids[k], raws[k], names[k], publishers[k], array)
                where_row[i] = offset
                offset += 1
            articles = pa.array([r is None for r in reasons], pa.bool_())
            tables.append(table.filter(articles).select(schema.names).cast(schema))
        if not where_row:
            return items, None
        merged = pa.concat_tables(tables)
        return items, merged.take([where_row[i] for i in sorted(where_row)]).combine_chunks()

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

    # ---------------------------------------------------------------- release digests
    # A rebuild diffs against the previous release, which means digesting every row of
    # it again (json per row: ~30% of a 1% rebuild). The digests of the shards a build
    # wrote are kept here under the hash of those shards' bytes, so the next build reads
    # them back instead; any other shards (edited, or from elsewhere) are digested anew.

    def _digests_path(self, manifest: dict[str, Any], config: str) -> Path:
        splits = manifest.get("configs", {}).get(config, {}).get("splits", {})
        files = sorted((f, h) for info in splits.values() for f, h in info["files"].items())
        key = json.dumps([config, _code_fingerprint(), files]).encode()
        return self.directory / f"digests-{hashlib.sha256(key).hexdigest()[:32]}.pkl"

    def release_digests(self, manifest: dict[str, Any], config: str) -> Digests | None:
        """The digests of the release `manifest` describes, if this cache kept them."""
        path = self._digests_path(manifest, config)
        try:
            with path.open("rb") as fh:
                digests = pickle.load(fh)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None
        return digests if isinstance(digests, Digests) else None

    def keep_release_digests(self, manifest: dict[str, Any], config: str, digests: Digests) -> None:
        """Keep the digests of the shards `manifest` lists (the newest few only)."""
        path = self._digests_path(manifest, config)
        tmp = self.directory / f".tmp-{uuid.uuid4().hex}"
        try:
            with tmp.open("wb") as fh:
                pickle.dump(digests, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        kept = sorted(self.directory.glob("digests-*.pkl"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-_KEPT_DIGESTS]:
            old.unlink(missing_ok=True)


def _band_words(column: pa.ChunkedArray) -> tuple[np.ndarray, list[int]]:
    """The cached band hashes of a column of rows as one uint64 array and each row's
    bounds in it (row k: words[ends[k]:ends[k + 1]]): views of the column's data, not a
    bytes object and an array per row."""
    array = column.combine_chunks()
    assert array.type == pa.binary()  # 32-bit offsets (as _store writes the column)
    offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
    data = array.buffers()[2]
    if data is None:  # only rejections: no hashes
        return np.empty(0, np.uint64), [0] * (len(array) + 1)
    words = np.frombuffer(data, np.uint64, len(data) // 8)
    assert not (offsets % 8).any()  # whole hashes: each row is BANDS x 8 bytes a paragraph
    return words, (offsets // 8).tolist()


def _read(path: Path, columns: list[str] | None = None) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    return table.select(columns) if columns else table
