"""HTML pages -> lines + metadata, through trafilatura (main-text extraction) and lxml
(only to read the few things trafilatura leaves out: figure captions, printed times and
timestamped meta tags). The lines then go through the same clutter rules as plain text.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import lxml.etree
import lxml.html
import trafilatura

from toolkit.errors import RejectedInput
from toolkit.pages.clutter import Line
from toolkit.pages.dates import normalise_iso, parse_printed_time

_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datePublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "content_PublishedDate",
    "dc.date.issued",
)


@dataclass
class HtmlPage:
    lines: list[Line]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    published_at: str | None = None
    captions: list[str] = field(default_factory=list)


def read_html(html: str) -> HtmlPage:
    """Main text and metadata of an HTML page; RejectedInput("no-body") when it has none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xml = trafilatura.extract(
            html,
            output_format="xml",
            with_metadata=True,
            include_comments=False,
            include_images=False,
            include_tables=False,
            favor_recall=True,
            deduplicate=False,
        )
    if not xml:
        raise RejectedInput("no-body", "trafilatura found no main text in the HTML")
    doc = lxml.etree.fromstring(xml.encode("utf-8"))
    main = doc.find("main")
    lines = [] if main is None else list(_lines(main))
    page = HtmlPage(lines=lines, title=doc.get("title") or None, url=doc.get("url") or None)
    if author := doc.get("author"):
        page.authors = [a.strip() for a in author.split(";") if a.strip()]
    _add_page_details(html, page)
    return page


def _lines(main: lxml.etree._Element):
    for element in main:
        tag = element.tag
        if tag == "head":
            hint = "headline" if element.get("rend") == "h1" else "heading"
        elif tag == "quote":
            hint = "quote"
        else:
            hint = None
        for lb in element.iter("lb"):
            lb.tail = "\n" + (lb.tail or "")
        for text in "".join(element.itertext()).split("\n"):
            if text.strip():
                yield Line(text.strip(), hint)


def _add_page_details(html: str, page: HtmlPage) -> None:
    """Captions, a printed publication time or a timestamped meta tag, from the raw page."""
    try:
        tree = lxml.html.fromstring(html.encode("utf-8"))
    except (lxml.etree.ParserError, ValueError):
        return
    page.captions = [
        " ".join(c.text_content().split())
        for c in tree.iter("figcaption")
        if c.text_content().strip()
    ]
    # A printed "Kamis, 18 Jan 2024 15:40 WIB" in any short element (trafilatura drops it).
    for element in tree.iter("time", "div", "span", "p", "li"):
        text = " ".join(element.text_content().split())
        if len(text) <= 80 and (printed := parse_printed_time(text)) and printed[1]:
            page.published_at = printed[0]
            return
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if key in _PUBLISHED_META and (value := normalise_iso(meta.get("content") or "")):
            page.published_at = value
            return
