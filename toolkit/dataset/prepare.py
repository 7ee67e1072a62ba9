"""A build's first pass: pages -> `articles` rows, spooled as Arrow files by the workers.

Everything that needs no other page happens here, in the worker processes when there are
any: extraction, the typed row, its split, its content digest and its near-duplicate band
hashes. Each chunk of pages is written by the worker itself to one Arrow IPC file of the
spool, so rows and texts never travel through the parent; the parent gets back one small
`Prepared` record per page (or its Rejection), in input order, to de-duplicate and index.
Profiling showed the parent was the bottleneck with 2 workers: it unpickled, spooled,
re-read and re-digested every row on one core while the workers waited.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pyarrow as pa

from toolkit.batches import batched
from toolkit.dataset.cache import PageCache, lines_digest, page_base, with_templates
from toolkit.dataset.near_duplicates import paragraph_bands
from toolkit.dataset.schema import config_schema
from toolkit.dataset.splits import split_for
from toolkit.dataset.template_cache import TemplateCache
from toolkit.dataset.templates import Templates, count_templates, find_templates
from toolkit.dataset.versioning import content_digests
from toolkit.pages.article import Article, Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import (
    KINDS,
    InputFile,
    Source,
    file_sources,
    iter_files,
    listed_name,
    read_entry,
)

Listed = InputFile | Source  # an entry of `iter_files`: a file not read yet, or a problem

CHUNK_PAGES = 256  # pages per worker task and per spool file: amortises the round trip
SPLIT, CONTENT, PROVENANCE = "_split", "_content_digest", "_provenance_digest"
# Uncompressed: the second pass memory-maps each spool file once per split without
# decoding it, and a rebuild's workers write 99% cached rows; lz4 halved the spool on disk
# (~175 -> ~435 MB at 100k pages) but cost ~1.2 s of writing and ~0.9 s of reading there.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions()


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the parent needs of one extracted page; the row itself is in the spool."""

    id: str
    raw_sha256: str
    source_file: str
    publisher: str
    bands: np.ndarray  # near_duplicates.paragraph_bands of the text


@dataclass
class Chunk:
    """One spool file: its rows are the chunk's `Prepared` items, in the same order."""

    path: Path | None  # None when no page of the chunk became an article
    items: list[Prepared | Rejection]


def read_chunk(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def prepared_chunks(
    sources: Iterable[Path],
    spool_dir: Path,
    *,
    workers: int,
    max_bytes: int,
    ratios: dict[str, float],
    skip: Iterable[Path] = (),
    cache: PageCache | None = None,
) -> Iterator[Chunk]:
    """Chunks of the inputs, in input order, each already spooled; `skip`: not inputs;
    with a `cache`, only the pages it does not hold are extracted."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    sources = list(sources)
    known: list[list[tuple[str, bytes]] | None] = []
    if cache is None:  # a site's repeated lines, from every input page
        templates = find_templates(sources)
    else:
        templates, known = _survey(sources, skip, cache)
    tasks = (
        (
            spool_dir / f"chunk-{n:07d}.arrow",
            pages,
            max_bytes,
            ratios,
            _share(templates, pages),
            known[n] if n < len(known) else None,
        )
        for n, pages in enumerate(input_chunks(sources, skip=skip))
    )
    if workers <= 1:
        _use_cache(cache)
        try:
            yield from map(_prepare_chunk, tasks)
        finally:
            _use_cache(None)
        return
    # fork: workers inherit the imported toolkit (and the cache index) instead of
    # re-importing it; initargs are not pickled under fork
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_use_cache, initargs=(cache,)) as pool:
        yield from pool.imap(_prepare_chunk, tasks)


_cache: PageCache | None = None  # the build's extraction cache, in this process


def _survey(
    sources: list[Path], skip: Iterable[Path], cache: PageCache
) -> tuple[Templates, list[list[tuple[str, bytes]] | None]]:
    """The template lines and every page's cache key, reading each page once (in the
    parent: the template lines need every page before any is extracted). The workers
    then read only the pages the cache does not hold: on a rebuild, reading and hashing
    every page a second time was most of their work. Per chunk of `input_chunks`, each
    entry's (name, key); None for a chunk whose entries are not one page each."""
    bases: list[list[tuple[str, bytes]] | None] = []

    def pages() -> Iterator[tuple[Source, bytes]]:
        for chunk in input_chunks(sources, skip=skip):
            read = _read_chunk_sources(chunk)
            row = []
            for source in read:
                digest = hashlib.sha256(source.raw).digest()
                row.append((source.source_file, page_base(cache.settings, source, digest)))
                yield source, digest
            bases.append(row if len(read) == len(chunk) else None)

    templates = count_templates(pages(), TemplateCache(cache.directory))
    digests: dict[frozenset[str], bytes] = {}
    known: list[list[tuple[str, bytes]] | None] = []
    for row in bases:
        keys = None
        if row is not None:
            keys = []
            for name, base in row:
                lines = templates.for_source(name)
                if lines not in digests:
                    digests[lines] = lines_digest(lines)
                keys.append((name, with_templates(base, digests[lines])))
        known.append(keys)
    return templates, known


def _use_cache(cache: PageCache | None) -> None:
    global _cache
    _cache = cache


def input_chunks(
    sources: Iterable[Path], *, skip: Iterable[Path] = ()
) -> Iterator[list[Source] | list[Listed]]:
    """The inputs in order, CHUNK_PAGES at a time: entries still unread (the worker reads
    them: the parent reading and pickling every page was the bottleneck of a rebuild
    from the cache), or the lines of a JSONL file as Sources (split where they fall).
    `skip`: files that are not inputs."""
    files: list[Listed] = []
    for entry in iter_files(sources, skip=skip):
        if not isinstance(entry, Source):
            path, name, hidden = entry
            if not hidden and KINDS.get(path.suffix.lower()) == "jsonl":
                if files:
                    yield files
                    files = []
                yield from batched(file_sources(path, name), CHUNK_PAGES)
                continue
        files.append(entry)
        if len(files) == CHUNK_PAGES:
            yield files
            files = []
    if files:
        yield files


def _read_chunk_sources(pages: list[Source] | list[Listed]) -> list[Source]:
    """A chunk's Sources: its unread files read (problem Sources pass as they are)."""
    return [s for entry in pages for s in read_entry(entry)]


def _share(templates: Templates, chunk: list[Source] | list[Listed]) -> Templates:
    """The template lines a chunk's pages need (it travels with its own share)."""
    names = [SimpleNamespace(source_file=listed_name(e)) for e in chunk]
    return templates.subset(cast(list[Source], names))


def _prepare_chunk(
    task: tuple[Path, list[Source] | list[Listed], int, dict[str, float], Templates]
    | tuple[
        Path,
        list[Source] | list[Listed],
        int,
        dict[str, float],
        Templates,
        list[tuple[str, bytes]] | None,
    ],
) -> Chunk:
    path, unread, max_bytes, ratios, templates = task[:5]
    known = task[5] if len(task) > 5 else None  # the entries' cache keys, if surveyed
    if _cache is None:
        items, table = extract_rows(_read_chunk_sources(unread), max_bytes, templates)
    else:  # incremental build: only pages the cache has not seen are read and extracted
        schema = spool_schema()
        items, table = _cache.extract_entries(
            list(unread), known, max_bytes, templates, extract_rows, schema
        )
    if table is None:
        return Chunk(None, items)
    ids = table.column("id").to_pylist()
    table = table.append_column(SPLIT, pa.array([split_for(i, ratios) for i in ids]))
    with (
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_file(sink, table.schema, options=_IPC_OPTIONS) as writer,
    ):
        writer.write_table(table)
    return Chunk(path, items)


def spool_schema() -> pa.Schema:
    """The spool rows' schema before the split: the `articles` row and its digests."""
    schema = config_schema("articles").arrow_schema
    return schema.append(pa.field(CONTENT, pa.binary())).append(pa.field(PROVENANCE, pa.binary()))


def extract_rows(
    pages: list[Source], max_bytes: int, templates: Templates
) -> tuple[list, pa.Table | None]:
    """Each page's `Prepared` or Rejection, and the spool rows of the Prepared ones (in
    the same order; None when there are none)."""
    items: list[Prepared | Rejection] = []
    rows: list[dict[str, Any]] = []
    for page in pages:
        article = extract_source(
            page, max_bytes=max_bytes, templates=templates.for_source(page.source_file)
        )
        if isinstance(article, Rejection):
            items.append(article)
            continue
        rows.append(_article_row(article))
        bands = paragraph_bands(article.text)
        items.append(
            Prepared(article.id, article.raw_sha256, article.source_file, article.publisher, bands)
        )
    if not rows:
        return items, None
    schema = config_schema("articles")
    table = pa.Table.from_pylist(rows, schema=schema.arrow_schema)
    # Digests of the rows as they read back from Parquet, as the next build will see them.
    digests = [content_digests(schema, row) for row in table.to_pylist()]
    table = table.append_column(CONTENT, pa.array([d[0] for d in digests], pa.binary()))
    return items, table.append_column(PROVENANCE, pa.array([d[1] for d in digests], pa.binary()))


def _article_row(article: Article) -> dict[str, Any]:
    row = article.record()
    if row["published_at"]:
        row["published_at"] = datetime.fromisoformat(row["published_at"])
    return row
