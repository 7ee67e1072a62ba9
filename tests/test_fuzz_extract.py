"""The extractor never raises on any bytes: random and mutated pages give an Article whose
offsets and hashes are right, or a Rejection with a real reason - nothing else.

`extract_source` turns an unexpected exception into an "internal-error" rejection so one
page cannot stop a build; these tests treat that rejection as a failure, because it is
a crash in disguise.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.pages.article import Article, Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import Source, decode_bytes

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    *(p for p in sorted((ROOT / "seeds").iterdir())),
    *(p for p in sorted((ROOT / "tests" / "pages").iterdir()) if p.suffix in (".txt", ".html")),
]
ORIGINALS = [(p.read_bytes(), "html" if p.suffix == ".html" else "txt") for p in PAGES]
KIND_OF_ID = re.compile(r"^[0-9a-f]{16}$")
ENCODINGS = [
    *("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252"),
    *("latin-1", "iso-8859-15", "cp437", "mac-roman", "koi8-r", "shift_jis", "gb18030"),
    *("big5", "euc-kr", "cp1251", "iso-8859-7"),
]
NASTY = [
    *("\x00", "\ufeff", "\r\n", "\r", "\u00a0", "\u200b", "\u2028", "\u0301", "\ud7ff"),
    *("🙂", "🇮🇩", "Â", "Ã©", "\x1b[31m", "<", "</p>", "<script>", "&amp;", "{", '"'),
    *("\n\n", "Baca juga: ", "ADVERTISEMENT", "Penulis: ", "TRIBUNNEWS.COM - "),
]


def check(result: Article | Rejection, raw: bytes) -> None:
    """What every extraction must satisfy."""
    assert isinstance(result, Article | Rejection), type(result)
    if isinstance(result, Rejection):
        assert result.reason and result.reason != "internal-error", result
        return
    text = result.text
    assert result.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert result.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert KIND_OF_ID.match(result.id)
    assert result.paragraphs, "an article has at least one paragraph"
    pieces = []
    for p in result.paragraphs:
        assert 0 <= p.start < p.end <= len(text), p
        piece = text[p.start : p.end]
        assert piece == piece.strip() and "\n" not in piece, (p, piece)
        pieces.append(piece)
    assert "\n\n".join(pieces) == text
    assert "\r" not in text and "\x00" not in text
    json.dumps(result.record(), ensure_ascii=False)  # the row serialises (no lone surrogates)


def extract(raw: bytes, kind: str) -> Article | Rejection:
    name = {"txt": "page.txt", "html": "page.html", "jsonl": "pages.jsonl:1"}[kind]
    return extract_source(Source(name, raw, kind, len(raw)))


# ------------------------------------------------------------------ mutations of real pages


@st.composite
def mutated_page(draw: st.DrawFn) -> tuple[bytes, str]:
    raw, kind = draw(st.sampled_from(ORIGINALS))
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "reencode", "dup"]))
        if not data:
            break
        at = draw(st.integers(0, len(data)))
        if op == "flip":
            for _ in range(draw(st.integers(1, 20))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            data = data[:at] if draw(st.booleans()) else data[at:]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=30)))
            encoded = piece.encode("utf-8", "surrogatepass")
            data[at:at] = encoded * draw(st.integers(1, 5))
        elif op == "delete":
            data[at : at + draw(st.integers(1, 200))] = b""
        elif op == "dup":
            data[at:at] = data[max(0, at - 500) : at]
        else:  # the page's text re-encoded: what a wrongly-labelled scrape looks like
            codec = draw(st.sampled_from(ENCODINGS))
            data = bytearray(bytes(data).decode("utf-8", "replace").encode(codec, "replace"))
    return bytes(data), kind


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=mutated_page())
def test_mutated_pages_give_an_article_or_a_reasoned_rejection(page: tuple[bytes, str]) -> None:
    raw, kind = page
    check(extract(raw, kind), raw)


@settings(max_examples=60, deadline=None)
@given(
    codec=st.sampled_from(ENCODINGS),
    which=st.integers(0, len(ORIGINALS) - 1),
    crlf=st.booleans(),
)
def test_a_real_page_in_any_encoding_still_extracts_or_is_refused(codec, which, crlf) -> None:
    raw, kind = ORIGINALS[which]
    text = decode_bytes(raw)  # one of the hand-written pages is cp1252 already
    if crlf:
        text = text.replace("\n", "\r\n")
    encoded = text.encode(codec, "replace")
    check(extract(encoded, kind), encoded)


# ------------------------------------------------------------------ random input


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=4000), kind=st.sampled_from(["txt", "html", "jsonl"]))
def test_random_bytes(raw: bytes, kind: str) -> None:
    check(extract(raw, kind), raw)


WORDS = st.sampled_from(
    ["yang", "dan", "di", "Presiden", "Jakarta", "kata", "pada", "Rusia", "akan", "itu"]
)
SENTENCE = st.lists(st.one_of(WORDS, st.text(max_size=8), st.sampled_from(NASTY)), max_size=40)
RANDOM_PAGE = st.lists(SENTENCE.map(" ".join), max_size=12).map("\n".join)


@settings(max_examples=150, deadline=None)
@given(text=RANDOM_PAGE, kind=st.sampled_from(["txt", "html"]))
def test_random_unicode_pages(text: str, kind: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    check(extract(raw, kind), raw)


JSONL_KEYS = ["url", "title", "authors", "author", "editor", "published_at", "publisher", "id"]
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(RANDOM_PAGE, JSON_VALUE),
    extra=st.dictionaries(
        st.sampled_from(JSONL_KEYS),
        st.one_of(JSON_VALUE, st.sampled_from(["../../etc/passwd", "2023-13-45T99:00", ""])),
    ),
)
def test_random_jsonl_records(text: object, extra: dict) -> None:
    raw = json.dumps({"text": text, **extra}).encode("utf-8")
    check(extract(raw, "jsonl"), raw)
