"""Extraction: one `Source` -> one `Article` (or a `Rejection` saying why not).

The page is read into lines (plain text, HTML through trafilatura, or a JSONL record),
every line gets a fate (clutter with its reason, metadata, caption, or article text) from
the shared clutter rules and the publisher's profile, and the remaining lines become the
paragraphs of `text`, separated by exactly one blank line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from toolkit.errors import RejectedInput
from toolkit.pages.article import Article, DroppedLine, Paragraph, Rejection
from toolkit.pages.bylines import (
    Byline,
    bare_label,
    is_person,
    job_line,
    name_line,
    parse_byline,
    split_names,
)
from toolkit.pages.clutter import (
    QUOTE_OPENERS,
    STANDALONE_DATELINE,
    Line,
    clutter_reason,
    is_caption,
    is_credit,
    is_heading_like,
    split_dateline,
)
from toolkit.pages.dates import (
    DATE_ONLY_LINE,
    find_printed_time,
    normalise_iso,
    parse_zoneless_line,
)
from toolkit.pages.html_page import read_html
from toolkit.pages.language import detect_language
from toolkit.pages.publishers import (
    PROFILES,
    SHARED_END_BYLINES,
    Profile,
    detect_profile,
)
from toolkit.pages.read import (
    Source,
    clean_text,
    content_identity,
    decode_bytes,
    iter_sources,
    parse_jsonl_record,
)
from toolkit.pages.roles import (
    is_prose,
    label_shaped,
    normalise,
    slug_words,
    strip_site_suffix,
    teaser_shaped,
    title_case_ratio,
    words,
)

PARSER_VERSION = "2.0.0"  # the generic page model: line roles, byline and date grammars
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_LANGUAGES = frozenset({"id"})
MIN_BODY_WORDS = 15  # fewer words than this after cleaning is not an article
_LEAD_SEARCH = 8  # the lead's dateline is looked for among the first few candidate lines
_CAPTION_PAIR_PREFIX = 40
_RELATED_LIST_MAX = 3
_BREADCRUMB_MAX = 3
_BARE_RELATED = re.compile(r"^(?:Baca|Lihat|Simak) (?:juga|pula|lainnya)\s*:?$", re.IGNORECASE)
# A list header standing alone: the linked headlines follow on the next lines.
_LIST_HEADER = re.compile(
    r"^(?:(?:Baca|Lihat|Simak) (?:juga|pula|lainnya)|(?:Berita|Artikel|Topik|Video|Foto) "
    r"(?:Terkait|Lainnya|Terbaru|Terkini|Pilihan|Populer|Terpopuler|Rekomendasi|Menarik)"
    r"|Terpopuler|Terkini|Terbaru|Populer|Rekomendasi(?: untuk Anda)?|Pilihan Editor|Terkait"
    r"|Headlines?|Trending|Most Popular|Baca Berita Lainnya)\s*:?$",
    re.IGNORECASE,
)
_TEASER_LIST_MAX = 12
_DIGIT = re.compile(r"\d")
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[-•*·])\s")
# Longer lines skip the credit and date grammars (none of their forms is this long)
_LONG_LINE = 220
_CREDIT_SPLIT = re.compile(r"\s+[•·|]\s+|\s+[-–—]\s+")
_CLOSING_INITIALS = re.compile(r"^\([a-z]{2,5}(?:/[a-z]{2,5})+\)\s+(?P<rest>\S.*)$")
# A mark closing the story's last paragraph: "... bangunan. ***", "... (***)", "[END]".
# (desk initials too: "... (sam/fajar)" on the last paragraph is its closing credit)
_END_MARK = re.compile(
    r"\s+(?:\*{3,}|\(\*+\)|\[(?:END|SELESAI)\]|-{2,}\s*SELESAI\s*-{2,}"
    r"|\([a-z]{2,12}(?:/[a-z]{2,12})+\))$"
)
_SITE_WORDS = re.compile(r"\b(?:News Portal|Portal Berita|Media Online)\b|\.(?:com|co\.id)\b", re.I)
# lines that may sit between a headline and its credits
_SKIPPED = frozenset({"share", "banner", "ad-marker", "navigation", "photo-widget"})
_USERNAME = re.compile(r"^[a-z][a-z0-9._]{2,30}$")
_SUMMARY_MAX = 6
_AI_NOTE = re.compile(r"\b(?:AI|kecerdasan buatan|artificial intelligence)\b")
# Title Case, five words and nothing else before the story make 3: not enough on their
# own; one piece of evidence more (credits, dateline, repetition, URL, profile) is needed.
_HEADLINE_MIN_SCORE = 4


@dataclass
class _Page:
    """What a reader hands to the layout pass: lines plus metadata the input carried."""

    lines: list[Line]
    url: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    published_at: str | None = None
    captions: list[str] = field(default_factory=list)
    publisher: str | None = None
    subtitle: str | None = None  # a standfirst the markup names (HTML)
    sources: dict[str, str] = field(default_factory=dict)  # field -> where it was read


# --- readers (a registry by input kind) ---------------------------------------------------


def _read_txt(source: Source) -> _Page:
    text = clean_text(decode_bytes(source.raw))
    return _Page(
        lines=[Line(line) for line in text.split("\n")],
        url=source.url,
        title=clean_text(source.title).strip() or None if source.title else None,
        published_at=normalise_iso(source.published_at) if source.published_at else None,
    )


def _read_html(source: Source) -> _Page:
    html = read_html(clean_text(decode_bytes(source.raw)))
    lines = [Line(clean_text(line.text).replace("\n", " "), line.hint) for line in html.lines]
    return _Page(
        lines=lines,
        url=html.url or source.url,
        title=clean_text(html.title).replace("\n", " ").strip() or None if html.title else None,
        authors=html.authors,
        editor=html.editor,
        subtitle=clean_text(html.subtitle) if html.subtitle else None,
        published_at=html.published_at,
        captions=[clean_text(c) for c in html.captions],
        sources=dict(html.sources),
    )


def _read_jsonl(source: Source) -> _Page:
    record = parse_jsonl_record(source.raw)
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RejectedInput("missing-text", 'the JSON object has no non-empty string "text"')
    text = clean_text(text)

    def string(key: str) -> str | None:
        value = record.get(key)
        return clean_text(value).strip() or None if isinstance(value, str) else None

    authors = record.get("authors", record.get("author"))
    if isinstance(authors, str):
        authors = split_names(clean_text(authors))
    elif isinstance(authors, list):
        authors = [clean_text(a).strip() for a in authors if isinstance(a, str) and a.strip()]
    else:
        authors = []
    published = string("published_at")
    return _Page(
        lines=[Line(line) for line in text.split("\n")],
        url=string("url"),
        title=string("title"),
        authors=authors,
        editor=string("editor"),
        published_at=normalise_iso(published) if published else None,
        publisher=string("publisher"),
    )


def _unsupported(source: Source) -> _Page:
    suffix = Path(source.source_file.split(":")[0]).suffix or "(no extension)"
    raise RejectedInput(
        "unsupported-type", f"{suffix} files are not pages (use .txt, .html, .jsonl)"
    )


READERS: dict[str, Callable[[Source], _Page]] = {
    "txt": _read_txt,
    "html": _read_html,
    "jsonl": _read_jsonl,
    "unsupported": _unsupported,
}


# --- public API -------------------------------------------------------------------------


def extract_source(
    source: Source,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    languages: frozenset[str] = DEFAULT_LANGUAGES,
    templates: frozenset[str] = frozenset(),
) -> Article | Rejection:
    """Extract one article. Never raises: every failure is a `Rejection` with its reason.

    `templates`: normalised lines the build found on many pages of the same site
    (`toolkit.dataset.templates`); such a line is dropped with reason "template"."""
    if source.problem is not None:  # an entry that is no page (broken link, FIFO...)
        return Rejection(source.source_file, *source.problem)
    try:
        return _extract(source, max_bytes, languages, templates)
    except RejectedInput as exc:
        return Rejection(source.source_file, exc.reason, exc.detail)
    except Exception as exc:  # one bad page must never stop a build of thousands
        return Rejection(source.source_file, "internal-error", f"{type(exc).__name__}: {exc}")


def extract_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Extract the first article of a file (what `toolkit inspect` shows); raises
    RejectedInput when it is rejected."""
    path = Path(path)
    if not path.is_file():
        raise RejectedInput("missing-file", f"{path} is not a file")
    source = next(iter_sources([path]), None)
    if source is None:
        raise RejectedInput("empty", f"{path.name} holds no article")
    result = extract_source(source, max_bytes=max_bytes)
    if isinstance(result, Rejection):
        raise RejectedInput(result.reason, result.detail)
    return result


def article_id(identity: str, url: str | None, page: int | None = None) -> str:
    """Stable id from the page's identity: its normalised URL when known (with its page
    number when the page says it is page N > 1 of a story), else `Source.identity` (a
    JSONL line's own id, else the page's bytes). Never the path: the same page reached
    through another folder or symlink keeps its id (see the README's "Article ids")."""
    if url:
        identity = f"url:{normalise_url(url)}"
        if page and page > 1 and "page=" not in identity:
            identity += f"#page={page}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


# "Halaman 2 dari 3" / "Halaman 2/3": the page of a paginated story, when its URL does
# not say it
_PAGE_OF = re.compile(r"\bHalaman (\d{1,3}) ?(?:dari|/) ?\d{1,3}\b", re.IGNORECASE)


def _page_number(dropped: list[DroppedLine]) -> int | None:
    for line in dropped:
        if line.reason == "pagination" and (found := _PAGE_OF.search(line.line)):
            return int(found.group(1))
    return None


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing slash.
    `page` is kept: page 2 of a story is another article than page 1."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in ("fbclid", "gclid")
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(((parts.scheme or "https").lower(), host, path, urlencode(query), ""))


# --- extraction -------------------------------------------------------------------------


def _extract(
    source: Source, max_bytes: int, languages: frozenset[str], templates: frozenset[str]
) -> Article:
    if source.size > max_bytes or len(source.raw) > max_bytes:
        raise RejectedInput("too-large", f"{source.size} bytes is over the {max_bytes}-byte limit")
    if len(source.raw) < source.size:
        raise RejectedInput("too-large", f"{source.size} bytes is over the reader's cap")
    if not source.raw.strip():
        raise RejectedInput("empty", "no content" if not source.raw else "only whitespace")
    page = READERS.get(source.kind, _unsupported)(source)
    profile = PROFILES.get(page.publisher or "") or detect_profile(
        "\n".join(line.text for line in page.lines), page.url
    )
    layout = _Layout(page, profile, templates)
    body = layout.body
    words = sum(len(text.split()) for text, _ in body)
    if words < MIN_BODY_WORDS:
        raise RejectedInput("no-body", f"only {words} words of article text after removing clutter")
    text, paragraphs = _assemble(body)
    language = detect_language(text)
    if language not in languages:
        raise RejectedInput(
            "wrong-language",
            f"text reads as {language!r}, accepted: {', '.join(sorted(languages))}",
        )
    sources = _field_sources(page, layout)
    return Article(
        id=article_id(
            source.identity or content_identity(source.raw), page.url, _page_number(layout.dropped)
        ),
        source_file=source.source_file,
        url=page.url,
        publisher=profile.name,
        title=layout.title,
        subtitle=layout.subtitle or page.subtitle,
        authors=layout.authors or page.authors,
        editor=layout.editor or page.editor,
        published_at=page.published_at or layout.published_at,
        language=language,
        text=text,
        paragraphs=paragraphs,
        captions=layout.captions,
        raw_sha256=hashlib.sha256(source.raw).hexdigest(),
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        parser_version=PARSER_VERSION,
        dropped=layout.dropped,
        sources=sources,
    )


def _field_sources(page: _Page, layout: _Layout) -> dict[str, str]:
    """Where each metadata field came from: the page's markup or metadata (HTML, JSONL
    fields), or the printed page's lines ("text")."""
    sources: dict[str, str] = {}
    given = {"title": page.title, "authors": page.authors, "editor": page.editor}
    for name, value in given.items():
        # the layout's own finding wins for credits; a given title wins over the text's
        used = value if name == "title" or not getattr(layout, name) else None
        if used:
            sources[name] = page.sources.get(name, "input field")
        elif getattr(layout, name):
            sources[name] = "text"
    if page.published_at:
        sources["published_at"] = page.sources.get("published_at", "input field")
    elif layout.published_at:
        sources["published_at"] = "text"
    return sources


def _assemble(body: list[tuple[str, str | None]]) -> tuple[str, list[Paragraph]]:
    """Join paragraphs with one blank line; give each its span and kind."""
    kinds = _paragraph_kinds(body)
    pieces: list[str] = []
    paragraphs: list[Paragraph] = []
    offset = 0
    for (text, _), kind in zip(body, kinds, strict=True):
        if pieces:
            offset += 2
        pieces.append(text)
        paragraphs.append(Paragraph(offset, offset + len(text), kind))
        offset += len(text)
    return "\n\n".join(pieces), paragraphs


def _paragraph_kinds(body: list[tuple[str, str | None]]) -> list[str]:
    kinds: list[str] = []
    lead_seen = False
    last = len(body) - 1
    for k, (text, hint) in enumerate(body):
        heading = hint == "heading" or (
            hint is None
            and 0 < k < last
            and is_heading_like(text)
            and not is_heading_like(body[k + 1][0])
        )
        if heading and lead_seen:
            kinds.append("heading")
        elif not lead_seen:
            kinds.append("lead")
            lead_seen = True
        elif hint == "quote" or text.startswith(QUOTE_OPENERS):
            kinds.append("quote")
        else:
            kinds.append("body")
    return kinds


_HEADLINE_END = re.compile(r"[.,;:]$")


def _headline_shaped(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 25 and len(text) <= 200 and not _HEADLINE_END.search(text)


class _Layout:
    """Decides the role of every line of one page: text, metadata, caption or clutter.

    Lines are first judged on their own (clutter rules, byline and date grammars), then
    by position and neighbourhood: the headline is the best-supported headline-shaped
    line above the first sentence of prose, everything above it is page furniture, the
    lines between it and the lead are standfirst, credits or captions, and runs of linked
    headlines below the lead are teaser lists. The publisher profile only adds hints.
    """

    def __init__(
        self, page: _Page, profile: Profile, templates: frozenset[str] = frozenset()
    ) -> None:
        self.page = page
        self.profile = profile
        self.lines = [line for line in page.lines if line.text]
        self.fate: list[str | None] = [None] * len(self.lines)  # reason, or None = text
        self.authors: list[str] = []
        self.end_authors: list[str] = []
        self.editor: str | None = None
        self.published_at: str | None = None
        self.updated_at: str | None = None
        self.title: str | None = None
        self.subtitle: str | None = None
        self.dateline: tuple[int, str] | None = None  # (line index, the prefix cut off)
        self.lead_text: str | None = None
        self.cut_end: tuple[int, str, str] | None = None  # (line, text kept, mark cut off)
        self._classify_lines()
        self._two_line_credits()
        self._pair_captions()
        self._related_link_lists()
        self._cut_after_end()
        self._templates(templates)  # before the headline search: a promo is never the title
        self.first_prose = next(
            (
                i
                for i, line in enumerate(self.lines)
                if self.fate[i] is None and is_prose(line.text)
            ),
            len(self.lines),
        )
        title_index = self._find_title()
        if title_index is not None:
            self._header_furniture(title_index)
        lead = self._find_lead(title_index)
        self._teaser_runs(lead)
        self._trailer()
        self._end_mark()
        if not self.authors:
            self.authors = self.end_authors

    # each line on its own
    def _classify_lines(self) -> None:
        end_patterns = self.profile.end_bylines + SHARED_END_BYLINES
        self.end_indices: list[int] = []
        for i, line in enumerate(self.lines):
            text = line.text
            if line.hint == "headline":
                self.fate[i] = "title"
                if self.page.title is None:
                    self.page.title = text
                    self.page.sources.setdefault("title", "h1")
                continue
            if line.hint in ("heading", "quote"):
                self.fate[i] = clutter_reason(text)
                continue
            if reason := clutter_reason(text):
                self.fate[i] = reason
                if reason == "byline":
                    self.end_indices.append(i)
                continue
            if len(text) > _LONG_LINE and not any(p.match(text) for p in end_patterns):
                # a paragraph this long is no credit, date or dateline: only a caption
                if any(p.match(text) for p in self.profile.author_lines):
                    self._byline(text)
                    self.fate[i] = "byline"
                elif (closing := _CLOSING_INITIALS.match(text)) and not is_prose(closing["rest"]):
                    self.fate[i] = "byline"
                    self.end_indices.append(i)
                elif is_caption(text):
                    self.fate[i] = "caption"
                continue
            if self._byline(text) or self._credit_and_date(text):
                self.fate[i] = "byline"
                continue
            if any(m := p.match(text) for p in end_patterns):
                self.fate[i] = "byline"
                self.end_indices.append(i)
                names = m.groupdict().get("authors") if m else None
                if names and not self.end_authors:
                    self.end_authors = split_names(names)
                continue
            if printed := find_printed_time(text):
                self.fate[i] = "date"
                self._take_time(printed.iso, printed.is_publication)
                for other in printed.others:
                    self._byline(other)
                continue
            if zoneless := parse_zoneless_line(text):
                self.fate[i] = "date"
                self._take_time(*zoneless)
                continue
            if (closing := _CLOSING_INITIALS.match(text)) and not is_prose(closing["rest"]):
                # "(ray/ray) Next Article ...": the desk initials close the story
                self.fate[i] = "byline"
                self.end_indices.append(i)
                continue
            if DATE_ONLY_LINE.match(text):
                self.fate[i] = "date"
            elif STANDALONE_DATELINE.match(text):
                self.fate[i] = "dateline"
            elif is_credit(text):
                self.fate[i] = "photo-credit"
            elif is_caption(text):
                self.fate[i] = "caption"

    def _credit_and_date(self, text: str) -> bool:
        """ "Citra Anindita • 19 Februari 2024 08:29", "Oleh: A - 12 Maret 2024 10:15 WIB":
        a name (or credit) and a date on one line, split by a bullet, bar or dash."""
        if len(text) > 160 or not _DIGIT.search(text):
            return False
        parts = [p.strip() for p in _CREDIT_SPLIT.split(text) if p.strip()]
        if len(parts) < 2:
            return False
        when = None
        names: list[str] = []
        for k, part in enumerate(parts):
            rest = " ".join(parts[k:])
            stamp = find_printed_time(rest) or parse_zoneless_line(rest)
            if stamp is not None and k > 0:
                when = (stamp.iso, stamp.is_publication) if hasattr(stamp, "iso") else stamp
                break
            found = (parse_byline(part) or Byline()).authors or name_line(part)
            if not found or any(len(n.split()) < 2 for n in found):
                return False  # "Nasional | 19 Januari ...": a section label, not a name
            names += found
        if when is None or not names:
            return False
        self._add_authors(names)
        self._take_time(*when)
        return True

    def _take_time(self, iso: str, is_publication: bool) -> None:
        if is_publication and self.published_at is None:
            self.published_at = iso
        elif not is_publication and self.updated_at is None:
            self.updated_at = iso

    def _byline(self, text: str) -> bool:
        # the profile's own forms first (hints), then the shared grammar (bylines.py)
        for pattern in self.profile.author_lines:
            match = pattern.match(text)
            if not match:
                continue
            groups = match.groupdict()
            if groups.get("authors"):
                self._add_authors(split_names(groups["authors"]))
            if groups.get("editor") and self.editor is None:
                self.editor = groups["editor"].strip()
            return True
        byline = parse_byline(text)
        if byline is None:
            return False
        self._add_authors(byline.authors)
        if byline.editor and self.editor is None:
            self.editor = byline.editor
        if byline.rest and (printed := find_printed_time(byline.rest)):
            self._take_time(printed.iso, printed.is_publication)
        return True

    def _add_authors(self, names: list[str]) -> None:
        self.authors.extend(n for n in names if n not in self.authors and is_person(n))

    def _two_line_credits(self) -> None:
        """ "Penulis" on one line, the name on the next (a two-line author block); or the
        name, then "Jurnalis" under it."""
        for i in range(len(self.lines) - 1):
            names = job_line(self.lines[i + 1].text) and name_line(self.lines[i].text)
            if self.fate[i] is None and names:
                self.fate[i], self.fate[i + 1] = "byline", "byline"
                self._add_authors(names)
        for i in range(len(self.lines) - 1):
            role = bare_label(self.lines[i].text)
            if role is None or self.fate[i + 1] not in (None, "byline"):
                continue
            following = self.lines[i + 1].text
            names = name_line(following)
            if not names and role == "editor" and _USERNAME.match(following):
                names = [following]  # an editor credited by user name ("dwisetyo")
            if not names:
                continue
            self.fate[i] = self.fate[i + 1] = "byline"
            if role == "editor":
                self.editor = self.editor or names[0]
            else:
                self._add_authors(names)

    def _pair_captions(self) -> None:
        """A caption printed twice, the second time with its credit (Tribun's layout); a
        line printed twice in a row (a caption and its alt text) is kept once."""
        for i in range(1, len(self.lines)):
            if self.fate[i] is None and self.lines[i].text == self.lines[i - 1].text:
                self.fate[i] = "repeated"
        n = _CAPTION_PAIR_PREFIX
        for i in range(len(self.lines) - 1):
            a, b = self.lines[i].text, self.lines[i + 1].text
            if len(a) >= n and len(b) >= n and a[:n] == b[:n] and a != b:
                for j in (i, i + 1):
                    if self.fate[j] is None:
                        self.fate[j] = "caption"

    def _related_link_lists(self) -> None:
        """A bare list header ("Baca Juga", "Berita Terkait", "Terpopuler") heads a list of
        linked headlines, maybe with their timestamps, on the following lines."""
        for i, line in enumerate(self.lines):
            if self.fate[i] != "related-link" or not _LIST_HEADER.match(line.text):
                continue
            limit = _RELATED_LIST_MAX if _BARE_RELATED.match(line.text) else _TEASER_LIST_MAX
            for j in range(i + 1, min(i + 1 + limit, len(self.lines))):
                text = self.lines[j].text
                if self.fate[j] in ("date", "related-link", "navigation", "ad-marker"):
                    continue
                if self.fate[j] is not None or is_prose(text) or not _headline_shaped(text):
                    break
                self.fate[j] = "related-link"

    def _cut_after_end(self) -> None:
        """After the closing byline ("(maa/maa)", "(Tribunnews.com/...)") comes page furniture."""
        for end in self.end_indices:
            if any(f is None for f in self.fate[:end]):
                for j in range(end + 1, len(self.lines)):
                    if self.fate[j] in (None, "caption", "photo-credit"):
                        self.fate[j] = "footer"
                return

    # the headline: evidence, not position alone
    def _find_title(self) -> int | None:
        title_index = None
        if self.page.title:
            self.title = self.page.title
        else:
            title_index = self._best_headline()
            if title_index is not None:
                self.title = self.lines[title_index].text
                self.fate[title_index] = "title"
        if self.page.subtitle:  # the standfirst the markup named is not body text either
            key = self.page.subtitle.casefold()
            for i, line in enumerate(self.lines):
                if self.fate[i] is None and line.text.casefold() == key:
                    self.fate[i] = "subtitle"
        if self.title:
            key = self.title.casefold()
            for i, line in enumerate(self.lines):
                if line.text.casefold() == key:
                    if self.fate[i] is None:
                        self.fate[i] = "title"
                    title_index = i if title_index is None else min(title_index, i)
        return title_index

    def _best_headline(self) -> int | None:
        """The headline-shaped line above the first sentence with the most support: a
        byline or date close below it, printed twice, Title Case, matching the URL slug;
        the profile's "headline first" is one more hint."""
        candidates = [
            i
            for i in range(self.first_prose)
            if self.fate[i] is None
            and _headline_shaped(self.lines[i].text)
            and split_dateline(self.lines[i].text) is None
            and len(words(self.lines[i].text)) >= 3
        ]
        if not candidates:
            return None
        slug = slug_words(self.page.url)
        texts = [line.text.casefold() for line in self.lines]
        best, best_score = None, 0
        for rank, i in enumerate(candidates):
            text = self.lines[i].text
            score = 0
            window = self.fate[i + 1 : i + 6]
            following = next((f for f in self.fate[i + 1 :] if f not in _SKIPPED), None)
            if following in ("byline", "date"):
                score += 1  # the credits come right under it
            if any(f in ("byline", "date", "dateline") for f in window) or (
                self.first_prose < min(i + 6, len(self.lines))
                and split_dateline(self.lines[self.first_prose].text)
            ):
                score += 2  # the credits, or the lead's dateline, follow closely
            if texts.count(texts[i]) > 1:
                score += 2
            if title_case_ratio(text) >= 0.6:
                score += 1
            if len(words(text)) >= 5:
                score += 1
            if slug and len(slug & set(normalise(text).split())) >= 0.6 * len(slug):
                score += 3
            if rank == 0 and self.profile.headline_first:
                score += 2
            if i == candidates[-1] and not any(
                self.fate[j] is None for j in range(i + 1, self.first_prose)
            ):
                score += 1  # nothing but credits and captions between it and the story
            if text.isupper() and len(words(text)) <= 4:
                score -= 2
            if strip_site_suffix(text) != text or _SITE_WORDS.search(text):
                score -= 2  # "Papua No. 1 News Portal | Jubi": the site's tagline
            if len(words(text)) <= 3 and name_line(text):
                score -= 2  # a writer's name printed alone above the date
            if score > best_score:
                best, best_score = i, score
        return best if best_score >= _HEADLINE_MIN_SCORE else None

    def _header_furniture(self, title_index: int) -> None:
        """Above the headline: breadcrumbs, menus, topic labels, date banners."""
        for i in range(title_index):
            if self.fate[i] is None and i < self.first_prose:
                self.fate[i] = "navigation"

    def _find_lead(self, title_index: int | None) -> int | None:
        start = 0 if title_index is None else title_index + 1
        candidates = [i for i in range(start, len(self.lines)) if self.fate[i] is None]
        lead = None
        standalone = next(
            (i for i in range(start, len(self.lines)) if self.fate[i] == "dateline"), None
        )
        for i in candidates[:_LEAD_SEARCH]:
            if standalone is not None and i > standalone:
                lead = i
                text = self.lines[i].text
                if text[:1] in "-–—" and (rest := text.lstrip("-–— ")):
                    self.dateline, self.lead_text = (i, text[: len(text) - len(rest)].strip()), rest
                break
            if split := split_dateline(self.lines[i].text, colon=True):
                self.dateline = (i, split[0])
                self.lead_text = split[1]
                lead = i
                break
        self._summary_box(start, lead)
        self._header_names(start, lead if lead is not None else self.first_prose)
        if lead is not None:
            header = [i for i in candidates if i < lead and self.fate[i] is None]
            if header and self._standfirst_at(header[0], lead, title_index):
                self._set_subtitle(header.pop(0))
            for i in header:
                text = self.lines[i].text
                self.fate[i] = "navigation" if label_shaped(text) and "/" not in text else "caption"
            return lead
        if title_index is None:
            return candidates[0] if candidates else None
        first = next((i for i in candidates if self.fate[i] is None), None)
        if first is None:
            return None
        if self._standfirst_at(first, None, title_index):
            self._set_subtitle(first)
        # short labels between the headline and the first sentence are furniture
        for i in range(title_index + 1, min(self.first_prose, len(self.lines))):
            if self.fate[i] is None and label_shaped(self.lines[i].text):
                self.fate[i] = "navigation"
        return next((i for i in range(start, len(self.lines)) if self.fate[i] is None), None)

    def _header_names(self, start: int, end: int) -> None:
        """A bare name between the headline and the lead, next to the date or a credit
        line: the writer (sindonews, kompas.id print the name alone)."""
        if start == 0:
            return
        for i in range(start, min(end, len(self.lines))):
            if self.fate[i] is not None:
                continue
            near = [self.fate[j] for j in (i - 1, i + 1) if 0 <= j < len(self.lines)]
            if not any(f in ("date", "byline") for f in near):
                continue
            names = name_line(self.lines[i].text)
            if names and 1 <= len(names) <= 3 and all(2 <= len(n.split()) <= 5 for n in names):
                self.fate[i] = "byline"
                self._add_authors(names)

    def _standfirst_at(self, index: int, lead: int | None, title_index: int | None) -> bool:
        """A standfirst: a sentence right under the headline, followed by the credits."""
        if title_index is None or not _is_sentence(self.lines[index].text):
            return False
        between = self.fate[title_index + 1 : index]
        if any(f in (None, "caption", "photo-credit", "photo-widget") for f in between):
            return False  # a sentence under the photo is its caption
        if lead is not None:
            followed = any(
                f in ("byline", "date", "photo-credit", "caption")
                for f in self.fate[index + 1 : lead]
            )
            return self.profile.standfirst or followed
        # no dateline: the credits must come next, before any line of the story
        for f in self.fate[index + 1 :]:
            if f in ("byline", "date"):
                return True
            if f is None or f in ("caption", "photo-credit", "subtitle", "title"):
                return False
        return False

    def _summary_box(self, start: int, lead: int | None) -> None:
        """An AI summary box ("Intinya sih...") above the lead: its points are not the story."""
        n = len(self.lines)
        for i in range(start, n):
            if self.fate[i] != "summary":
                continue
            # the points are list items when the markup says so, else short lines
            items = any(self.lines[j].hint == "item" for j in range(i + 1, min(i + 4, n)))
            taken = 0
            for j in range(i + 1, n):
                if (lead is not None and j >= lead) or self.fate[j] in ("byline", "date"):
                    break
                text = self.lines[j].text
                if self.fate[j] is not None:
                    continue
                if _AI_NOTE.search(text):  # "Ringkasan ini dibuat dengan bantuan AI"
                    self.fate[j] = "summary"
                    continue
                point = self.lines[j].hint == "item" if items else len(words(text)) <= 15
                if not point or taken >= _SUMMARY_MAX:
                    break
                self.fate[j] = "summary"
                taken += 1
            return

    def _teaser_runs(self, lead: int | None) -> None:
        """Below the lead, two or more linked headlines in a row are a teaser list; after
        the last sentence of prose, short labels and headlines are page furniture."""
        if lead is None:
            return
        body = [i for i in range(lead + 1, len(self.lines)) if self.fate[i] is None]
        run: list[int] = []
        for i in [*body, -1]:
            if i >= 0 and teaser_shaped(self.lines[i].text) and not is_prose(self.lines[i].text):
                run.append(i)
                continue
            long_enough = len(run) >= 3 or (
                len(run) == 2 and all(len(words(self.lines[j].text)) >= 4 for j in run)
            )
            if long_enough and not self._announced_list(run):
                for j in run:
                    self.fate[j] = "teaser"
            run = []
        last = self._last_prose()
        if last is None:
            return
        trailing = [i for i in body if i > last and self.fate[i] is None]
        teasers = [i for i in trailing if teaser_shaped(self.lines[i].text)]
        for i in trailing:
            text = self.lines[i].text
            if (label_shaped(text) and len(words(text)) <= 2) or (
                text.endswith(":") and len(text) <= 80
            ):
                self.fate[i] = "navigation"  # "Tag", "Kabar Daerah", "Video Terbaru:"
            elif i in teasers and len(teasers) >= 2:
                # several headlines after the story: a list; one alone may be its last line
                self.fate[i] = "teaser"

    def _announced_list(self, run: list[int]) -> bool:
        """A list the story announces ("Berikut daftarnya:") or numbers is the story's own."""
        before = next((j for j in range(run[0] - 1, -1, -1) if self.fate[j] is None), None)
        if before is not None and self.lines[before].text.rstrip().endswith(":"):
            return True
        return all(_LIST_ITEM.match(self.lines[j].text) for j in run)

    def _last_prose(self) -> int | None:
        for i in range(len(self.lines) - 1, -1, -1):
            if self.fate[i] is None and is_prose(self.lines[i].text):
                return i
        return None

    def _trailer(self) -> None:
        """A credit or source line after the last sentence of prose ends the article:
        what follows is the site's footer (newsroom address, phone, links)."""
        last = self._last_prose()
        if last is None:
            return
        end = next(
            (
                i
                for i in range(last + 1, len(self.lines))
                if self.fate[i] in ("byline", "source-line")
            ),
            None,
        )
        if end is not None:
            for j in range(end + 1, len(self.lines)):
                if self.fate[j] is None:
                    self.fate[j] = "footer"

    def _end_mark(self) -> None:
        """ "... bangunan. ***": the closing mark is cut off the last paragraph."""
        last = next((i for i in range(len(self.lines) - 1, -1, -1) if self.fate[i] is None), None)
        if last is None:
            return
        text = (
            self.lead_text if self.dateline and self.dateline[0] == last else self.lines[last].text
        )
        if (match := _END_MARK.search(text)) and match.start() > 0:
            self.cut_end = (last, text[: match.start()], match.group(0).strip())

    def _templates(self, templates: frozenset[str]) -> None:
        """Lines the build found on many pages of the same site (menus, promos, footers)."""
        if not templates:
            return
        for i, line in enumerate(self.lines):
            if self.fate[i] is None and normalise(line.text) in templates:
                self.fate[i] = "template"

    def _set_subtitle(self, index: int) -> None:
        self.subtitle = self.lines[index].text
        self.fate[index] = "subtitle"

    @property
    def body(self) -> list[tuple[str, str | None]]:
        body = []
        for i, line in enumerate(self.lines):
            if self.fate[i] is None:
                text = self.lead_text if self.dateline and self.dateline[0] == i else line.text
                if self.cut_end and self.cut_end[0] == i:
                    text = self.cut_end[1]
                body.append((text, line.hint))
        return body

    @property
    def captions(self) -> list[str]:
        seen = list(self.page.captions)
        for i, line in enumerate(self.lines):
            if self.fate[i] in ("caption", "photo-credit") and line.text not in seen:
                seen.append(line.text)
        return seen

    @property
    def dropped(self) -> list[DroppedLine]:
        dropped = []
        for i, line in enumerate(self.lines):
            if self.dateline and self.dateline[0] == i:
                dropped.append(DroppedLine(self.dateline[1], "dateline"))
            if self.fate[i] is not None:
                dropped.append(DroppedLine(line.text, self.fate[i]))
            if self.cut_end and self.cut_end[0] == i:
                dropped.append(DroppedLine(self.cut_end[2], "end-mark"))
        return dropped


def _is_sentence(text: str) -> bool:
    return len(text.split()) >= 5 and text.rstrip("\"”’'").endswith((".", "!", "?"))
