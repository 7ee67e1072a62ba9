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

import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from toolkit.batches import batched
from toolkit.dataset.near_duplicates import paragraph_bands
from toolkit.dataset.schema import config_schema
from toolkit.dataset.splits import split_for
from toolkit.dataset.templates import Templates, find_templates
from toolkit.dataset.versioning import content_digests
from toolkit.pages.article import Article, Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import Source, iter_sources

CHUNK_PAGES = 256  # pages per worker task and per spool file: amortises the round trip
SPLIT, CONTENT, PROVENANCE = "_split", "_content_digest", "_provenance_digest"
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")  # cheap; halves the spool on disk


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
) -> Iterator[Chunk]:
    """Chunks of the inputs, in input order, each already spooled; `skip`: not inputs."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    sources = list(sources)
    templates = find_templates(sources)  # a site's repeated lines, from every input page
    tasks = (
        (spool_dir / f"chunk-{number:07d}.arrow", pages, max_bytes, ratios, templates.subset(pages))
        for number, pages in enumerate(batched(iter_sources(sources, skip=skip), CHUNK_PAGES))
    )
    if workers <= 1:
        yield from map(_prepare_chunk, tasks)
        return
    # fork: workers inherit the imported toolkit instead of re-importing it
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_prepare_chunk, tasks)


def _prepare_chunk(task: tuple[Path, list[Source], int, dict[str, float], Templates]) -> Chunk:
    path, pages, max_bytes, ratios, templates = task
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
        return Chunk(None, items)
    schema = config_schema("articles")
    table = pa.Table.from_pylist(rows, schema=schema.arrow_schema)
    # Digests of the rows as they read back from Parquet, as the next build will see them.
    digests = [content_digests(schema, row) for row in table.to_pylist()]
    table = (
        table.append_column(SPLIT, pa.array([split_for(r["id"], ratios) for r in rows]))
        .append_column(CONTENT, pa.array([d[0] for d in digests], pa.binary()))
        .append_column(PROVENANCE, pa.array([d[1] for d in digests], pa.binary()))
    )
    with (
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_file(sink, table.schema, options=_IPC_OPTIONS) as writer,
    ):
        writer.write_table(table)
    return Chunk(path, items)


def _article_row(article: Article) -> dict[str, Any]:
    row = article.record()
    if row["published_at"]:
        row["published_at"] = datetime.fromisoformat(row["published_at"])
    return row
