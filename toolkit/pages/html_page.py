"""HTML pages -> lines + metadata, through trafilatura (main-text extraction) and lxml
(only to read the few things trafilatura leaves out: figure captions, printed times and
timestamped meta tags). The lines then go through the same clutter rules as plain text.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import trafilatura

from toolkit.errors import RejectedInput
from toolkit.pages.bylines import is_person, name_line, parse_byline, person_names
from toolkit.pages.clutter import Line
from toolkit.pages.dates import find_printed_time, normalise_iso, parse_zoneless_line
from toolkit.pages.roles import normalise, similarity, strip_site_suffix, words

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
    editor: str | None = None
    subtitle: str | None = None
    url: str | None = None
    published_at: str | None = None
    captions: list[str] = field(default_factory=list)
    # field -> where its value came from ("h1", "json-ld", "og:title", "meta author", ...)
    sources: dict[str, str] = field(default_factory=dict)


def read_html(html: str) -> HtmlPage:
    """Main text and metadata of an HTML page; RejectedInput("no-body") when it has none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xml = _trafilatura(html)
    if not xml:
        raise RejectedInput("no-body", "trafilatura found no main text in the HTML")
    # trafilatura can emit markup it copied from a broken page: read it leniently
    doc = lxml.etree.fromstring(xml.encode("utf-8"), lxml.etree.XMLParser(recover=True))
    if doc is None:
        raise RejectedInput("no-body", "trafilatura's main text could not be read back")
    main = doc.find("main")
    lines = [] if main is None else list(_lines(main))
    page = HtmlPage(lines=lines, url=doc.get("url") or None)
    try:
        tree = lxml.html.fromstring(html.encode("utf-8"))
    except (lxml.etree.LxmlError, ValueError):
        tree = None
    if tree is not None:
        for br in tree.iter("br"):  # "Editor: A<br>Selasa, ..." is two lines, not "ASelasa"
            br.tail = "\n" + (br.tail or "")
    meta = PageMeta.read(tree, doc) if tree is not None else PageMeta()
    _choose(page, meta, doc)
    if tree is not None:
        page.captions = [
            " ".join(c.text_content().split())
            for c in tree.iter("figcaption")
            if c.text_content().strip()
        ]
    return page


def _trafilatura(html: str) -> str | None:
    try:
        return trafilatura.extract(
            html,
            output_format="xml",
            with_metadata=True,
            include_comments=False,
            include_images=False,
            include_tables=False,
            favor_recall=True,
            deduplicate=False,
        )
    except lxml.etree.LxmlError as exc:  # trafilatura re-parses its own output and can fail
        raise RejectedInput("no-body", f"trafilatura could not read the page: {exc}") from None


@dataclass
class PageMeta:
    """What an HTML page says about itself, each value with the place it was read from."""

    h1: str | None = None
    titles: list[tuple[str, str]] = field(default_factory=list)  # (title, source)
    persons: list[tuple[list[str], str]] = field(default_factory=list)  # (names, source)
    editor: tuple[str, str] | None = None
    published: list[tuple[str, str]] = field(default_factory=list)  # (ISO time, source)
    site_words: set[str] = field(default_factory=set)
    standfirst: str | None = None

    @classmethod
    def read(cls, tree: lxml.html.HtmlElement, doc: lxml.etree._Element) -> PageMeta:
        meta = cls()
        for script in tree.iter("script"):
            if "ld+json" in (script.get("type") or ""):
                meta._json_ld(script.text or "")
        metas: dict[str, str] = {}
        for element in tree.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop") or ""
            value = (element.get("content") or "").strip()
            if key and value:
                metas.setdefault(key, value)
        for key in ("og:title", "twitter:title"):
            if key in metas:
                meta.titles.append((metas[key], key))
        title = tree.find(".//title")
        if title is not None and title.text_content().strip():
            meta.titles.append((" ".join(title.text_content().split()), "<title>"))
        for key in ("og:site_name", "application-name", "publisher"):
            if key in metas:
                meta.site_words |= set(normalise(metas[key]).split())
        for key in ("author", "article:author", "dc.creator", "content_author"):
            names = (
                person_names(metas.get(key, ""))
                if not metas.get(key, "http").startswith("http")
                else []
            )
            if names:
                meta.persons.append((names, f"meta {key}"))
        for key in _PUBLISHED_META:
            if key in metas and (value := normalise_iso(metas[key])):
                meta.published.append((value, f"meta {key}"))
        h1s = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
        h1s = [h for h in h1s if len(words(h)) >= 3]
        if h1s:
            reference = [t for t, _ in meta.titles]
            meta.h1 = max(h1s, key=lambda h: max([similarity(h, r) for r in reference] + [0]))
        meta._printed(tree)
        return meta

    def _json_ld(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return
        for item in _ld_items(data):
            kind = item.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(k in _ARTICLE_TYPES for k in kinds if isinstance(k, str)):
                continue
            if isinstance(headline := item.get("headline"), str) and headline.strip():
                self.titles.insert(0, (" ".join(headline.split()), "json-ld headline"))
            names = [n for n in _ld_names(item.get("author")) if is_person(n)]
            if names:
                self.persons.insert(0, (names, "json-ld author"))
            editors = [n for n in _ld_names(item.get("editor")) if is_person(n)]
            if editors and self.editor is None:
                self.editor = (editors[0], "json-ld editor")
            published = item.get("datePublished")
            if isinstance(published, str) and (value := normalise_iso(published)):
                self.published.insert(0, (value, "json-ld datePublished"))

    def _printed(self, tree: lxml.html.HtmlElement) -> None:
        """<time datetime>, printed times and credit lines in short elements, in page
        order from the headline on (a sidebar above the article is not its date)."""
        elements = list(tree.iter("h1", "time", "div", "span", "p", "li", "small", "a"))
        start = next((k for k, e in enumerate(elements) if e.tag == "h1"), 0)
        printed: list[tuple[str, str]] = []
        authors: list[list[str]] = []
        editors: list[str] = []
        # credits below the headline first, then any printed above it
        for element in elements[start:] + elements[:start]:
            if element.tag == "time" and (value := normalise_iso(element.get("datetime") or "")):
                printed.append((value, "<time datetime>"))
                continue
            content = element.text_content()
            if len(content) > 400:
                continue
            marked = _CREDIT_CLASS.search(element.get("class") or "")
            # a marked credit's parts may be names alone: <span class="name">A</span>
            parts = [c.text_content() for c in element] if marked else []
            for text in content.split("\n") + parts:
                text = " ".join(text.split())
                if not text or len(text) > 160:
                    continue
                if (found := find_printed_time(text)) and found.is_publication:
                    printed.append((found.iso, "printed"))
                elif marked and (zoneless := parse_zoneless_line(text)) and zoneless[1]:
                    printed.append((zoneless[0], "printed"))
                if byline := parse_byline(text):
                    authors += [byline.authors] if byline.authors else []
                    editors += [byline.editor] if byline.editor else []
                elif marked and (names := name_line(text)):
                    authors.append(names)  # <span class="author">NAME</span>
        if authors:
            at = 1 if self.persons and self.persons[0][1] == "json-ld author" else 0
            self.persons.insert(at, (authors[0], "printed byline"))
        if editors and self.editor is None:
            self.editor = (editors[0], "printed byline")
        self.published += printed[:1]
        # a standfirst: the first element under the headline whose class names one
        for element in elements[start + 1 : start + 12]:
            if _STANDFIRST_CLASS.search(element.get("class") or ""):
                text = " ".join(element.text_content().split())
                if 5 <= len(words(text)) <= 60 and text.endswith((".", "!", "?")):
                    self.standfirst = text
                break


_STANDFIRST_CLASS = re.compile(r"subtitle|sub-title|standfirst|excerpt|deck|lead|summary", re.I)
# class names of the elements that hold a page's credits and dates
_CREDIT_CLASS = re.compile(r"author|byline|penulis|reporter|writer|credit|date|time|publish", re.I)

_ARTICLE_TYPES = frozenset(
    {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting",
     "OpinionNewsArticle", "WebPage", "LiveBlogPosting"}
)  # fmt: skip


def _ld_items(data: object) -> list[dict]:
    """Every object of a JSON-LD document, @graph and lists flattened."""
    if isinstance(data, list):
        return [item for part in data for item in _ld_items(part)]
    if not isinstance(data, dict):
        return []
    return [data, *_ld_items(data.get("@graph", []))]


def _ld_names(value: object) -> list[str]:
    """Person names of a JSON-LD author/editor value; organisations are skipped."""
    if isinstance(value, str):
        return person_names(value)
    if isinstance(value, list):
        return [n for part in value for n in _ld_names(part)]
    if isinstance(value, dict):
        if value.get("@type") == "Organization":
            return []
        name = value.get("name")
        return person_names(name) if isinstance(name, str) else []
    return []


def _choose(page: HtmlPage, meta: PageMeta, doc: lxml.etree._Element) -> None:
    """Weigh what the page shows against what it says about itself."""
    host = urlsplit(page.url).hostname or "" if page.url else ""
    site = meta.site_words | {w for w in host.split(".") if w not in ("www", "com", "co", "id")}
    stripped = [(strip_site_suffix(t, site), src) for t, src in meta.titles]
    if meta.h1 and (not stripped or any(similarity(meta.h1, t) >= 0.5 for t, _ in stripped)):
        page.title, page.sources["title"] = meta.h1, "h1"
    elif stripped:
        page.title, page.sources["title"] = stripped[0][0], stripped[0][1]
    elif doc.get("title"):
        page.title, page.sources["title"] = strip_site_suffix(doc.get("title"), site), "trafilatura"
    if meta.persons:
        page.authors, page.sources["authors"] = meta.persons[0]
    elif (author := doc.get("author")) and (
        # trafilatura's guess, only when every part is a full name ("Views" is not)
        names := [n for a in author.split(";") for n in person_names(a) if len(n.split()) >= 2]
    ):
        page.authors, page.sources["authors"] = names, "trafilatura"
    if meta.editor:
        page.editor, page.sources["editor"] = meta.editor
    if meta.standfirst:
        page.subtitle, page.sources["subtitle"] = meta.standfirst, "standfirst element"
    if meta.published:
        page.published_at, page.sources["published_at"] = meta.published[0]


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
        if tag == "list":  # one line per item: a list is not one run-on paragraph
            for item in element.iter("item"):
                text = " ".join("".join(item.itertext()).split())
                if text:
                    yield Line(text, "item")
            continue
        for text in "".join(element.itertext()).split("\n"):
            if text.strip():
                yield Line(text.strip(), hint)
