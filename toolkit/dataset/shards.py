"""Streaming Parquet writers: bounded row groups, bounded shards, deterministic bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_GROUP = 1_000
ROWS_PER_SHARD = 50_000
# Fixed writer options: the same rows always give the same bytes (no timestamps inside).
_WRITER_OPTIONS: dict[str, Any] = {"compression": "zstd", "use_dictionary": True}


class ShardWriter:
    """Writes rows of one split into <split>-NNNNN-of-NNNNN.parquet files.

    Rows are buffered up to one row group, so memory is bounded by the row-group size
    whatever the corpus size; shard names get their final count when the writer closes.
    """

    def __init__(
        self,
        directory: Path,
        split: str,
        schema: pa.Schema,
        rows_per_group: int | None = None,
        rows_per_shard: int | None = None,
    ) -> None:
        self.directory, self.split, self.schema = directory, split, schema
        self.rows_per_group = rows_per_group or ROWS_PER_GROUP
        self.rows_per_shard = rows_per_shard or ROWS_PER_SHARD
        self._tables: list[pa.Table] = []  # pending rows, fewer than one row group
        self._pending = 0
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_shard = 0
        self._parts: list[Path] = []
        self.num_rows = 0

    def write_table(self, table: pa.Table) -> None:
        """Append rows (columns in the schema's order)."""
        if table.num_rows:
            self._tables.append(table)
            self._pending += table.num_rows
        while self._pending >= self.rows_per_group:
            self._write_group(self.rows_per_group)

    def _write_group(self, size: int) -> None:
        """Write the next `size` pending rows as one row group. The group is made one
        contiguous chunk first, so the bytes do not depend on how rows arrived."""
        pending = pa.concat_tables(self._tables)
        group, rest = pending.slice(0, size).combine_chunks(), pending.slice(size)
        self._tables, self._pending = ([rest] if rest.num_rows else []), rest.num_rows
        if self._writer is None or self._rows_in_shard >= self.rows_per_shard:
            self._close_shard()
            part = self.directory / f".{self.split}.part{len(self._parts):05d}"
            self.directory.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(part, self.schema, **_WRITER_OPTIONS)
            self._parts.append(part)
            self._rows_in_shard = 0
        self._writer.write_table(group, row_group_size=self.rows_per_group)
        self._rows_in_shard += size
        self.num_rows += size

    def _flush(self) -> None:
        if self._pending:
            self._write_group(self._pending)

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> list[Path]:
        """Flush and give the shards their final names; returns them in order.

        A split with no rows still gets one (empty) shard, so every declared config loads.
        """
        self._flush()
        if not self._parts:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._parts.append(self.directory / f".{self.split}.part00000")
            pq.write_table(self.schema.empty_table(), self._parts[0], **_WRITER_OPTIONS)
        self._close_shard()
        total = len(self._parts)
        final = []
        for index, part in enumerate(self._parts):
            path = self.directory / f"{self.split}-{index:05d}-of-{total:05d}.parquet"
            part.rename(path)
            final.append(path)
        return final


def iter_rows(files: list[Path], columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Rows of Parquet files, one bounded batch in memory at a time.

    No pre-buffering and no reader threads: the rows are consumed one batch at a time
    anyway, and both left Arrow's allocator holding memory that grew with the rows read
    (20k articles: peak RSS of a read 291 MB with them, 217 MB without)."""
    for path in files:
        reader = pq.ParquetFile(path, pre_buffer=False)
        for batch in reader.iter_batches(
            batch_size=ROWS_PER_GROUP, columns=columns, use_threads=False
        ):
            yield from batch.to_pylist()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
