"""Corpus-level template lines: what a site prints on many of its pages (menus, footers,
promos, the same "Baca juga" block) is boilerplate even when no clutter rule names it.

A build reads its inputs once more before extracting: every short line of every page is
counted once per page, per site (the URL's host when the page carries one, else the
publisher profile its text matches). A line found on at least `MIN_PAGES` distinct pages
and on at least `MIN_SHARE` of its site's pages is a template line of that site; the
extractor drops it with reason "template" (listed in the page's dropped lines like every
other). The counts depend only on the set of inputs, never on the order in which workers
finish, so 1 and 2 workers give the same result. What a page contributes (its site, its
line keys, which are prose) is a table row; an incremental build keeps those rows in its
cache (template_cache.py) and parses only the pages it has not seen, then counts again
over all rows: the count is the same, whichever rows came from the cache.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.batches import batched
from toolkit.pages.publishers import detect_profile
from toolkit.pages.read import Source, iter_sources
from toolkit.pages.roles import is_prose, normalise

if TYPE_CHECKING:  # template_cache imports the extraction cache, which imports this
    from toolkit.dataset.template_cache import TemplateCache

MIN_PAGES = 5  # a line on fewer pages than this is never a template line
MIN_SHARE = 0.1  # ... nor one on less than this share of its site's pages
PROSE_SHARE = 0.5  # a sentence of prose must be on half the site's pages: copies of one
# story (syndication, near-duplicates) share sentences, menus and footers are everywhere
MAX_LINE = 160  # menus, promos and footers are short; story paragraphs are long
_BATCH = 4096  # pages read, looked up in the cache and parsed together
_MERGE = 16  # partial counts (one per batch and table) merged into one at a time
_COUNT = [([], "count_all")]  # grouped on one thread: 8x faster than threaded on 2 busy cores
KEY = "_key"  # the row's cache key (template_cache.py); zeros when there is no cache
# What the count needs of one page: its site, its distinct short-line keys, and for each
# whether the line it came from reads as prose.
SCHEMA = pa.schema(
    [
        pa.field(KEY, pa.binary(16)),
        pa.field("site", pa.string()),
        pa.field("lines", pa.list_(pa.string())),
        pa.field("prose", pa.list_(pa.bool_())),
    ]
)
_HIDDEN = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_BLOCK = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|br|tr|td|th|table|section|article|header|footer|nav|aside"
    r"|figure|figcaption|blockquote|main|form|title|dd|dt|dl)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]+>")
_CANONICAL = re.compile(
    r"""<(?:link|meta)\b[^>]*(?:rel=["']canonical["']|property=["']og:url["'])[^>]*>""", re.I
)
_HREF = re.compile(r"""(?:href|content)=["']([^"']+)["']""", re.I)
_URL_FIELD = re.compile(rb'"url"\s*:\s*"([^"]+)"')
_TEXT_FIELD = re.compile(rb'"text"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass
class Templates:
    """Template lines by site, and the site of every input page."""

    lines: dict[str, frozenset[str]] = field(default_factory=dict)  # site -> line keys
    site_of: dict[str, str] = field(default_factory=dict)  # source_file -> site

    def for_source(self, source_file: str) -> frozenset[str]:
        return self.lines.get(self.site_of.get(source_file, ""), frozenset())

    def subset(self, sources: Iterable[Source]) -> Templates:
        """Only what these pages need (a worker's chunk travels with its own share)."""
        site_of = {
            s.source_file: self.site_of[s.source_file]
            for s in sources
            if s.source_file in self.site_of
        }
        sites = set(site_of.values())
        return Templates({k: v for k, v in self.lines.items() if k in sites}, site_of)


def find_templates(paths: Iterable[Path], cache: TemplateCache | None = None) -> Templates:
    """Count the short lines of every input page by site; keep those on many pages.
    With a `cache` (template_cache.py), a page it has seen is not parsed again: its
    site and line keys are read from it, and the new pages' are stored in it."""
    pages = ((s, hashlib.sha256(s.raw).digest()) for s in iter_sources(paths))
    return count_templates(pages, cache)


def count_templates(
    pages: Iterable[tuple[Source, bytes]], cache: TemplateCache | None = None
) -> Templates:
    """`find_templates` of pages already read: each Source with the sha256 of its raw."""
    templates, counts = Templates(), _Counts()
    seen: set[bytes] = set()
    supported = ((s, d) for s, d in pages if s.kind != "unsupported")
    for pairs in batched(supported, _BATCH):
        batch, digests = [s for s, _ in pairs], [d for _, d in pairs]
        if cache is not None:
            keys = [cache.key(s, d) for s, d in pairs]
            found = cache.find(keys)
        else:
            keys, found = [bytes(16)] * len(batch), [None] * len(batch)
        tables: dict[str, pa.Table] = {}  # this batch's rows: cached segments, new rows
        fresh = [i for i, place in enumerate(found) if place is None]
        if fresh:
            table = _page_rows([batch[i] for i in fresh], [keys[i] for i in fresh])
            name = cache.store(table) if cache is not None else ""
            tables[name] = table
            for row, i in enumerate(fresh):
                found[i] = (name, row)
        by_table: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(found):
            assert place is not None
            by_table[place[0]].append(i)
        site_at: list[str] = [""] * len(batch)
        firsts = []  # the same page twice must not make its own lines templates
        for digest in digests:
            firsts.append(digest not in seen)
            seen.add(digest)
        for name, positions in by_table.items():
            table = tables[name] if name in tables else cache.table(name)  # type: ignore[union-attr]
            rows = table.take([found[i][1] for i in positions])  # type: ignore[index]
            for i, site in zip(positions, rows.column("site").to_pylist(), strict=True):
                site_at[i] = site
            counts.add(rows.filter(pa.array([firsts[i] for i in positions], pa.bool_())))
        templates.site_of.update(zip((s.source_file for s in batch), site_at, strict=True))
    templates.lines = counts.template_lines()
    return templates


def _page_rows(sources: list[Source], keys: list[bytes]) -> pa.Table:
    """What the count needs of each page: its site, its line keys and their prose flags."""
    sites, lines, prose = [], [], []
    for source in sources:
        text, url = _text_and_url(source)
        sites.append(site_key(text, url or source.url))
        page = page_line_keys(text)
        lines.append(list(page))
        prose.append([is_prose(line) for line in page.values()])
    columns = [pa.array(keys, pa.binary(16)), sites, lines, prose]
    return pa.table(columns, schema=SCHEMA)


class _Counts:
    """Pages per site and pages per (site, line key), counted with Arrow a batch of rows
    at a time; the partial counts are merged as they pile up, so what is held is about
    the distinct (site, line) pairs, not every page's lines."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []  # site, line, count_all
        self.prose: list[pa.Array] = []  # line keys some page has as a line of prose
        self.sites: list[pa.Array] = []  # the site of each counted page

    def add(self, rows: pa.Table) -> None:
        """Count the rows of distinct pages."""
        if not rows.num_rows:
            return
        self.sites.append(pc.value_counts(rows.column("site")))
        lines = rows.column("lines").combine_chunks()
        line = lines.flatten()
        site = rows.column("site").combine_chunks().take(pc.list_parent_indices(lines))
        pairs = pa.table({"site": site, "line": line})
        self.parts.append(pairs.group_by(["site", "line"], use_threads=False).aggregate(_COUNT))
        self.prose.append(pc.unique(line.filter(rows.column("prose").combine_chunks().flatten())))
        if len(self.parts) >= _MERGE:
            self._merge()

    def _merge(self) -> None:
        counts = pa.concat_tables(self.parts).group_by(["site", "line"], use_threads=False)
        summed = counts.aggregate([("count_all", "sum")])
        self.parts = [summed.rename_columns(["site", "line", "count_all"])]
        self.prose = [pc.unique(pa.concat_arrays(self.prose))]

    def template_lines(self) -> dict[str, frozenset[str]]:
        """A site's line keys on enough of its pages (MIN_PAGES, MIN_SHARE, PROSE_SHARE)."""
        if not self.parts:
            return {}
        self._merge()
        (counts,) = self.parts
        pages: Counter[str] = Counter()
        for part in self.sites:
            for entry in part.to_pylist():
                pages[entry["values"]] += entry["counts"]
        names = sorted(pages)
        need = [max(MIN_PAGES, math.ceil(MIN_SHARE * pages[name])) for name in names]
        need_prose = [
            max(n, math.ceil(PROSE_SHARE * pages[name]))
            for n, name in zip(need, names, strict=True)
        ]
        at = pc.index_in(counts.column("site"), value_set=pa.array(names, pa.string())).to_numpy()
        is_prose_line = pc.is_in(counts.column("line"), value_set=self.prose[0])
        threshold = np.where(
            is_prose_line.to_numpy(zero_copy_only=False),
            np.array(need_prose)[at],
            np.array(need)[at],
        )
        found = counts.filter(pa.array(counts.column("count_all").to_numpy() >= threshold))
        lines_by_site: dict[str, set[str]] = defaultdict(set)
        for site, line in zip(
            *(found.column(c).to_pylist() for c in ("site", "line")), strict=True
        ):
            lines_by_site[site].add(line)
        return {site: frozenset(lines_by_site[site]) for site in sorted(lines_by_site)}


def page_line_keys(text: str) -> dict[str, str]:
    """The normalised short lines of one page (each once): key -> the line."""
    keys: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip()
        if line and len(line) <= MAX_LINE and (key := normalise(line)):
            keys.setdefault(key, line)
    return keys


def site_key(text: str, url: str | None) -> str:
    """The URL's host (without "www."), else "profile:NAME" from the page's text."""
    if url and (host := (urlsplit(url.strip()).hostname or "").lower()):
        return host.removeprefix("www.")
    return f"profile:{detect_profile(text).name}"


def _text_and_url(source: Source) -> tuple[str, str | None]:
    """A cheap reading of a page, enough to count its lines: no charset detection, no
    main-text extraction (HTML tags become line breaks)."""
    raw = source.raw
    if source.kind == "jsonl":
        url = _URL_FIELD.search(raw)
        body = _TEXT_FIELD.search(raw)
        text = body.group(1).decode("utf-8", "replace") if body else ""
        text = text.replace("\\n", "\n").replace('\\"', '"')
        return text, url.group(1).decode("utf-8", "replace") if url else None
    text = raw.decode("utf-8", "replace")
    if source.kind != "html":
        return text.replace("\r\n", "\n").replace("\r", "\n"), None
    url = None
    if (link := _CANONICAL.search(text)) and (href := _HREF.search(link.group(0))):
        url = href.group(1)
    text = _TAG.sub("", _BLOCK.sub("\n", _HIDDEN.sub("\n", text)))
    return html.unescape(text), url
