"""Corpus-level template lines: what a site prints on many of its pages (menus, footers,
promos, the same "Baca juga" block) is boilerplate even when no clutter rule names it.

A build reads its inputs once more before extracting: every short line of every page is
counted once per page, per site (the URL's host when the page carries one, else the
publisher profile its text matches). A line found on at least `MIN_PAGES` distinct pages
and on at least `MIN_SHARE` of its site's pages is a template line of that site; the
extractor drops it with reason "template" (listed in the page's dropped lines like every
other). The counts depend only on the set of inputs, never on the order in which workers
finish, so 1 and 2 workers give the same result.
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
from urllib.parse import urlsplit

from toolkit.pages.publishers import detect_profile
from toolkit.pages.read import Source, iter_sources
from toolkit.pages.roles import is_prose, normalise

MIN_PAGES = 5  # a line on fewer pages than this is never a template line
MIN_SHARE = 0.1  # ... nor one on less than this share of its site's pages
PROSE_SHARE = 0.5  # a sentence of prose must be on half the site's pages: copies of one
# story (syndication, near-duplicates) share sentences, menus and footers are everywhere
MAX_LINE = 160  # menus, promos and footers are short; story paragraphs are long
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


def find_templates(paths: Iterable[Path]) -> Templates:
    """Count the short lines of every input page by site; keep those on many pages."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    prose: set[str] = set()
    pages: Counter[str] = Counter()
    seen: set[bytes] = set()
    templates = Templates()
    for source in iter_sources(paths):
        if source.kind == "unsupported":
            continue
        text, url = _text_and_url(source)
        site = site_key(text, url or source.url)
        templates.site_of[source.source_file] = site
        digest = hashlib.sha256(source.raw).digest()
        if digest in seen:  # the same page twice must not make its own lines templates
            continue
        seen.add(digest)
        pages[site] += 1
        keys = page_line_keys(text)
        counts[site].update(keys.keys())  # a dict would add its values
        prose.update(key for key, line in keys.items() if is_prose(line))
    for site, counter in sorted(counts.items()):
        need = max(MIN_PAGES, math.ceil(MIN_SHARE * pages[site]))
        need_prose = max(need, math.ceil(PROSE_SHARE * pages[site]))
        found = frozenset(
            key for key, n in counter.items() if n >= (need_prose if key in prose else need)
        )
        if found:
            templates.lines[site] = found
    return templates


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
