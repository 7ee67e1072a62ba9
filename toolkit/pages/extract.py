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
from toolkit.pages.dates import normalise_iso, parse_printed_time
from toolkit.pages.html_page import read_html
from toolkit.pages.language import detect_language
from toolkit.pages.publishers import (
    PROFILES,
    SHARED_AUTHOR_LINES,
    SHARED_END_BYLINES,
    Profile,
    detect_profile,
    split_names,
)
from toolkit.pages.read import Source, clean_text, decode_bytes, iter_sources, parse_jsonl_record

PARSER_VERSION = "1.0.0"
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_LANGUAGES = frozenset({"id"})
MIN_BODY_WORDS = 15  # fewer words than this after cleaning is not an article
_LEAD_SEARCH = 8  # the lead's dateline is looked for among the first few candidate lines
_CAPTION_PAIR_PREFIX = 40
_RELATED_LIST_MAX = 3
_BREADCRUMB_MAX = 3
_BARE_RELATED = re.compile(r"^(?:Baca|Lihat|Simak) (?:juga|pula|lainnya)\s*:?$", re.IGNORECASE)


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
        published_at=html.published_at,
        captions=[clean_text(c) for c in html.captions],
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
) -> Article | Rejection:
    """Extract one article. Never raises: every failure is a `Rejection` with its reason."""
    try:
        return _extract(source, max_bytes, languages)
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


def article_id(source_file: str, url: str | None) -> str:
    """Stable id from the source identity: the normalised URL when known, else the file."""
    identity = f"url:{normalise_url(url)}" if url else f"file:{source_file}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in ("fbclid", "gclid", "page")
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(((parts.scheme or "https").lower(), host, path, urlencode(query), ""))


# --- extraction -------------------------------------------------------------------------


def _extract(source: Source, max_bytes: int, languages: frozenset[str]) -> Article:
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
    layout = _Layout(page, profile)
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
    return Article(
        id=article_id(source.source_file, page.url),
        source_file=source.source_file,
        url=page.url,
        publisher=profile.name,
        title=layout.title,
        subtitle=layout.subtitle,
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
    )


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
    """Decides the fate of every line of one page: text, metadata, caption or clutter."""

    def __init__(self, page: _Page, profile: Profile) -> None:
        self.page = page
        self.profile = profile
        self.lines = [line for line in page.lines if line.text]
        self.fate: list[str | None] = [None] * len(self.lines)  # reason, or None = text
        self.authors: list[str] = []
        self.end_authors: list[str] = []
        self.editor: str | None = None
        self.published_at: str | None = None
        self.title: str | None = None
        self.subtitle: str | None = None
        self.dateline: tuple[int, str] | None = None  # (line index, the prefix cut off)
        self.lead_text: str | None = None
        self._classify_lines()
        self._pair_captions()
        self._related_link_lists()
        self._cut_after_end()
        title_index = self._find_title()
        self._find_lead(title_index)
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
                continue
            if line.hint in ("heading", "quote"):
                self.fate[i] = clutter_reason(text)
                continue
            if reason := clutter_reason(text):
                self.fate[i] = reason
                if reason == "byline":
                    self.end_indices.append(i)
                continue
            if self._byline(text):
                self.fate[i] = "byline"
                continue
            if any(m := p.match(text) for p in end_patterns):
                self.fate[i] = "byline"
                self.end_indices.append(i)
                names = m.groupdict().get("authors") if m else None
                if names and not self.end_authors:
                    self.end_authors = split_names(names)
                continue
            printed = parse_printed_time(text)
            if printed:
                self.fate[i] = "date"
                if printed[1] and self.published_at is None:
                    self.published_at = printed[0]
                continue
            if STANDALONE_DATELINE.match(text):
                self.fate[i] = "dateline"
            elif is_credit(text):
                self.fate[i] = "photo-credit"
            elif is_caption(text):
                self.fate[i] = "caption"

    def _byline(self, text: str) -> bool:
        for pattern in self.profile.author_lines + SHARED_AUTHOR_LINES:
            match = pattern.match(text)
            if not match:
                continue
            groups = match.groupdict()
            if groups.get("authors"):
                names = split_names(groups["authors"])
                self.authors.extend(n for n in names if n not in self.authors)
            if groups.get("editor") and self.editor is None:
                self.editor = groups["editor"].strip()
            return True
        return False

    def _pair_captions(self) -> None:
        """A caption printed twice, the second time with its credit (Tribun's layout)."""
        n = _CAPTION_PAIR_PREFIX
        for i in range(len(self.lines) - 1):
            a, b = self.lines[i].text, self.lines[i + 1].text
            if len(a) >= n and len(b) >= n and a[:n] == b[:n] and a != b:
                for j in (i, i + 1):
                    if self.fate[j] is None:
                        self.fate[j] = "caption"

    def _related_link_lists(self) -> None:
        """A bare "Baca Juga" line heads a list of linked headlines on the following lines."""
        for i, line in enumerate(self.lines):
            if self.fate[i] != "related-link" or not _BARE_RELATED.match(line.text):
                continue
            for j in range(i + 1, min(i + 1 + _RELATED_LIST_MAX, len(self.lines))):
                if self.fate[j] is not None or not _headline_shaped(self.lines[j].text):
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

    def _find_title(self) -> int | None:
        candidates = [i for i, f in enumerate(self.fate) if f is None]
        title_index = None
        if self.page.title:
            self.title = self.page.title
        elif candidates:
            # Breadcrumbs ("Berita", "Megapolitan") may sit above the headline.
            crumbs = []
            for i in candidates[:_BREADCRUMB_MAX]:
                if len(self.lines[i].text.split()) > 2:
                    break
                crumbs.append(i)
            first = next((c for c in candidates if c not in crumbs), candidates[0])
            text = self.lines[first].text
            if (
                _headline_shaped(text)
                and split_dateline(text) is None
                and (self.profile.headline_first or self._confirmed_headline(first))
            ):
                self.title = text
                self.fate[first] = "title"
                title_index = first
                for i in crumbs:
                    self.fate[i] = "navigation"
        if self.title:
            key = self.title.casefold()
            for i, line in enumerate(self.lines):
                if line.text.casefold() == key:
                    if self.fate[i] is None:
                        self.fate[i] = "title"
                    title_index = i if title_index is None else min(title_index, i)
        return title_index

    def _confirmed_headline(self, first: int) -> bool:
        """Generic pages: a headline is followed closely by a byline, date or dateline."""
        window = range(first + 1, min(first + 5, len(self.lines)))
        if any(self.fate[j] in ("byline", "date", "dateline") for j in window):
            return True
        text = self.lines[first].text
        return any(line.text == text for line in self.lines[first + 1 :])

    def _find_lead(self, title_index: int | None) -> None:
        start = 0 if title_index is None else title_index + 1
        candidates = [i for i in range(start, len(self.lines)) if self.fate[i] is None]
        lead = None
        standalone = next(
            (i for i in range(start, len(self.lines)) if self.fate[i] == "dateline"), None
        )
        for i in candidates[:_LEAD_SEARCH]:
            if standalone is not None and i > standalone:
                lead = i
                break
            if split := split_dateline(self.lines[i].text):
                self.dateline = (i, split[0])
                self.lead_text = split[1]
                lead = i
                break
        if lead is not None:
            header = [i for i in candidates if i < lead]
            if header and self.profile.standfirst and _is_sentence(self.lines[header[0]].text):
                self._set_subtitle(header.pop(0))
            for i in header:
                self.fate[i] = "caption"
        elif self.profile.standfirst and len(candidates) > 1 and title_index is not None:
            first = candidates[0]
            following = self.fate[first + 1 : first + 4]
            if _is_sentence(self.lines[first].text) and any(
                f in ("byline", "date") for f in following
            ):
                self._set_subtitle(first)

    def _set_subtitle(self, index: int) -> None:
        self.subtitle = self.lines[index].text
        self.fate[index] = "subtitle"

    @property
    def body(self) -> list[tuple[str, str | None]]:
        body = []
        for i, line in enumerate(self.lines):
            if self.fate[i] is None:
                text = self.lead_text if self.dateline and self.dateline[0] == i else line.text
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
        return dropped


def _is_sentence(text: str) -> bool:
    return len(text.split()) >= 5 and text.rstrip("\"”’'").endswith((".", "!", "?"))
