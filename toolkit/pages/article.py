"""The typed records that flow from `extract` into `release`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Paragraph:
    start: int  # code-point offset into Article.text
    end: int  # exclusive
    kind: str  # heading | lead | body | quote


@dataclass(frozen=True)
class DroppedLine:
    line: str
    reason: str  # banner | related-link | caption | photo-credit | ad-marker | pagination | ...


@dataclass
class Article:
    """One cleaned article: the `articles` config row, plus what was dropped and why."""

    id: str
    source_file: str
    url: str | None
    publisher: str
    title: str | None
    subtitle: str | None
    authors: list[str]
    editor: str | None
    published_at: str | None  # ISO 8601 with offset, e.g. 2023-09-20T20:02:00+07:00
    language: str
    text: str
    paragraphs: list[Paragraph]
    captions: list[str]
    raw_sha256: str
    text_sha256: str
    parser_version: str
    near_duplicate_group: str | None = None
    dropped: list[DroppedLine] = field(default_factory=list)
    # field -> where its value was read ("h1", "json-ld author", "text"...); not a column
    sources: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The `articles` row (schemas/articles.yaml): `dropped` becomes its count.

        Built field by field: `asdict` deep-copies every paragraph through generic
        recursion, 4x slower, and the build makes one row per article."""
        row = {f.name: getattr(self, f.name) for f in _ROW_FIELDS}
        row["authors"], row["captions"] = list(self.authors), list(self.captions)
        row["paragraphs"] = [
            {"start": p.start, "end": p.end, "kind": p.kind} for p in self.paragraphs
        ]
        row["dropped_line_count"] = len(self.dropped)
        return row

    def to_json(self) -> dict[str, Any]:
        """The `toolkit inspect --json` shape: the row plus every dropped line and its reason."""
        row = self.record()
        row["dropped"] = [asdict(d) for d in self.dropped]
        row["sources"] = dict(self.sources)
        return row


@dataclass(frozen=True)
class Rejection:
    """An input that did not become an article, and why (for the build report)."""

    source_file: str
    reason: str  # empty | binary | too-large | undecodable | no-body | duplicate | ...
    detail: str = ""


_ROW_FIELDS = tuple(f for f in fields(Article) if f.name not in ("dropped", "sources"))
