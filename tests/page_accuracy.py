"""Per-field accuracy of the extractor on the hand-written test pages in tests/pages/.

Each page `X.ext` has `X.expected.json`: {source_file: expected record}. Run as a script
to print the table: `python tests/page_accuracy.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toolkit.pages.article import Article, Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import iter_sources

PAGES = Path(__file__).parent / "pages"
FIELDS = (
    "rejected", "title", "subtitle", "authors", "editor", "published_at", "publisher", "url",
    "paragraphs", "headings", "must_contain", "must_not_contain", "captions",
)  # fmt: skip


def expected_pages() -> dict[str, tuple[Path, dict[str, Any]]]:
    """source_file -> (page path, expected record) for every page with expectations."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for spec in sorted(PAGES.glob("*.expected.json")):
        stem = spec.name.removesuffix(".expected.json")
        (page,) = [p for p in PAGES.glob(f"{stem}.*") if not p.name.endswith(".expected.json")]
        for source_file, expected in json.loads(spec.read_text("utf-8")).items():
            out[source_file] = (page, expected)
    return out


def actual_value(result: Article | Rejection, name: str) -> Any:
    if isinstance(result, Rejection):
        return result.reason if name == "rejected" else None
    if name == "rejected":
        return None
    if name == "paragraphs":
        return len(result.paragraphs)
    if name in ("must_contain", "must_not_contain"):
        return None if isinstance(result, Rejection) else "(see text)"
    if name == "headings":
        return [result.text[p.start : p.end] for p in result.paragraphs if p.kind == "heading"]
    return getattr(result, name)


def field_check(result: Article | Rejection, name: str, want: Any) -> bool:
    if name == "must_contain":
        return not isinstance(result, Rejection) and all(s in result.text for s in want)
    if name == "must_not_contain":
        return not isinstance(result, Rejection) and not any(s in result.text for s in want)
    return actual_value(result, name) == want


def check_pages() -> list[tuple[str, str, bool, Any, Any]]:
    """(source_file, field, ok, expected, actual) for every expected field of every page."""
    results = {}
    for page in {page for page, _ in expected_pages().values()}:
        for source in iter_sources([page]):
            results[source.source_file] = extract_source(source)
    rows = []
    for source_file, (_, expected) in sorted(expected_pages().items()):
        result = results[source_file]
        for name in FIELDS:
            if name in expected or name == "rejected":
                want = expected.get(name)
                ok = field_check(result, name, want)
                rows.append((source_file, name, ok, want, actual_value(result, name)))
    return rows


def accuracy(rows: list[tuple[str, str, bool, Any, Any]]) -> dict[str, tuple[int, int]]:
    table: dict[str, tuple[int, int]] = {}
    for _, name, ok, _, _ in rows:
        right, total = table.get(name, (0, 0))
        table[name] = (right + ok, total + 1)
    return table


if __name__ == "__main__":
    rows = check_pages()
    for name, (right, total) in accuracy(rows).items():
        print(f"{name:18} {right}/{total}  {100 * right / total:.0f}%")
    for source_file, name, ok, want, got in rows:
        if not ok:
            print(f"WRONG {source_file} {name}: expected {want!r}, got {got!r}")
