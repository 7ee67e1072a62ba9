"""Site-independent evidence about one line of a news page: is it shaped like a sentence of
the story, a headline, a label, a list item? The layout pass (`extract._Layout`) weighs
these with where the line sits (before the title, between title and lead, after the last
body sentence) and with its neighbours, so a page from a site we have never seen is read
from what its lines look like, not from rules written for its layout.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TERMINAL = re.compile(r"[.!?…][\"”’')\]]*$")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Lowercase words that a title-cased headline leaves in lower case.
_SMALL_WORDS = frozenset(
    [
        "di",
        "ke",
        "dari",
        "dan",
        "yang",
        "untuk",
        "dengan",
        "pada",
        "dalam",
        "atau",
        "ini",
        "itu",
        "jadi",
        "soal",
        "oleh",
        "hingga",
        "usai",
        "jelang",
        "saat",
        "bagi",
        "akan",
        "tak",
        "tidak",
        "vs",
        "of",
        "the",
        "and",
        "in",
        "on",
        "to",
        "for",
        "a",
        "an",
        "at",
        "by",
        "ala",
    ]
)
_RELATIVE_TIME = re.compile(
    r"(?:\b\d+\s+(?:detik|menit|jam|hari|minggu|bulan)\s+(?:yang\s+)?lalu"
    r"|\b\d+\s+(?:seconds?|minutes?|hours?|days?)\s+ago)\s*$",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """jusText's Indonesian stoplist (shipped with trafilatura), with a few words of ours."""
    try:
        import justext

        words = set(justext.get_stoplist("Indonesian"))
    except (ImportError, ValueError, OSError):  # never fatal: the words below still work
        words = set()
    words |= set(
        [
            "yang",
            "di",
            "dan",
            "itu",
            "dengan",
            "untuk",
            "tidak",
            "ini",
            "dari",
            "dalam",
            "akan",
            "pada",
            "juga",
            "ke",
        ]
    )
    return frozenset(w.casefold() for w in words)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stopword_density(text: str) -> float:
    """Share of a line's words that are function words: high in prose, low in labels,
    menus and lists of names."""
    found = words(text)
    if not found:
        return 0.0
    stop = stopwords()
    return sum(1 for w in found if w.casefold() in stop) / len(found)


def ends_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(text))


_PROSE_SAMPLE = 200
_PUNCT = "\"'“”‘’()[]{}.,;:!?…-–—/*"


@lru_cache(maxsize=4096)
def is_prose(text: str) -> bool:
    """A sentence of running text: long enough, punctuated, with the function words prose
    has, and in sentence case (a Title Case line ending in "?" is a headline)."""
    if len(text) < 30 or not ends_sentence(text):
        return False
    # the opening words say enough (and are cheap to read)
    head = text[:_PROSE_SAMPLE]
    tokens = [t for t in (w.strip(_PUNCT) for w in head.split()) if t and not t[0].isdigit()]
    if len(tokens) < 8:
        return False
    folded = [t.lower() for t in tokens]
    stop = stopwords()
    density = sum(map(stop.__contains__, folded)) / len(tokens)
    content = [t for t, f in zip(tokens, folded, strict=True) if f not in _SMALL_WORDS]
    capitals = sum(1 for t in content if t[0].isupper()) / len(content) if content else 0.0
    return density >= 0.15 and capitals < 0.7


def title_case_ratio(text: str) -> float:
    """Share of the content words that start with a capital (Indonesian headlines are
    Title Case; sentences are not)."""
    found = [w for w in words(text) if w.casefold() not in _SMALL_WORDS]
    if not found:
        return 0.0
    return sum(1 for w in found if w[0].isupper()) / len(found)


def headline_shaped(text: str) -> bool:
    """Could be a headline: 3-25 words, no closing full stop, not a list of labels."""
    if len(text) > 200:
        return False
    found = words(text)
    return 3 <= len(found) <= 25 and not re.search(r"[.,;:]$", text) and text[:1] not in "([-•*"


def teaser_shaped(text: str) -> bool:
    """A linked headline in a list: headline-shaped and Title Case, or any short line
    closed by a relative time ("2 jam lalu")."""
    if ("lalu" in text or "ago" in text) and _RELATIVE_TIME.search(text):
        return True
    return headline_shaped(text) and title_case_ratio(text) >= 0.6


def label_shaped(text: str) -> bool:
    """A menu item, section label or button: one to three words, no sentence punctuation."""
    found = words(text)
    return 0 < len(found) <= 3 and len(text) <= 40 and not ends_sentence(text)


def normalise(text: str) -> str:
    """The key a line is compared by (repetition, metadata agreement, templates)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def similarity(a: str, b: str) -> float:
    """Word-set overlap of two strings (Jaccard), 0..1."""
    wa, wb = set(normalise(a).split()), set(normalise(b).split())
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def slug_words(url: str | None) -> set[str]:
    """The words of a URL's last path segment: "/read/2024/01/24/banjir-rob-semarang"."""
    if not url:
        return set()
    path = re.sub(r"[?#].*$", "", url).rstrip("/")
    segment = path.rsplit("/", 1)[-1]
    segment = re.sub(r"\.(?:html?|php|aspx?)$", "", segment)
    parts = [p for p in re.split(r"[-_+]", segment.casefold()) if p and not p.isdigit()]
    return set(parts) if len(parts) >= 3 else set()


_SITE_SUFFIX = re.compile(r"\s+(?:[-|–—:»]|\|\|)\s+")
_SITE_NAME = re.compile(
    r"\.(?:com|id|co\.id|net|org|tv)\b|\b(?:News|Online|TV|Times|Post|Daily|Network)\b", re.I
)


def strip_site_suffix(title: str, site_words: set[str] | None = None) -> str:
    """ "Banjir Rob Rendam Semarang - Kompas.com Regional" -> "Banjir Rob Rendam Semarang".

    A part is the site's when it shares a word with the site's name (og:site_name, host)
    or looks like a site name; with no such part, a short last part is taken for one."""
    title = " ".join(title.split())
    cuts = [
        (0, 0),
        *((m.start(), m.end()) for m in _SITE_SUFFIX.finditer(title)),
        (len(title),) * 2,
    ]
    parts = [(cuts[k][1], cuts[k + 1][0]) for k in range(len(cuts) - 1)]
    if len(parts) <= 1:
        return title
    site = site_words or set()

    def site_like(span: tuple[int, int]) -> bool:
        text = title[span[0] : span[1]]
        found = set(normalise(text).split())
        return (bool(found & site) and len(found) <= 4) or bool(_SITE_NAME.search(text))

    kept = [span for span in parts if not site_like(span)]
    if len(kept) == len(parts) and len(words(title[parts[-1][0] : parts[-1][1]])) <= 3:
        kept = parts[:-1]
    if not kept:
        return title
    return title[kept[0][0] : kept[-1][1]].strip()
