"""Input sources and text hygiene: files -> `Source` records -> clean, decoded text.

Everything here happens before any offset exists, so the text that `extract` builds
its paragraph offsets on is already NFC, LF-only, free of no-break spaces and mojibake.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import ftfy

from toolkit.errors import RejectedInput

# Input kinds by file extension (a registry, not an if/elif chain).
KINDS: dict[str, str] = {".txt": "txt", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}

# A file is read at most this far: anything bigger is rejected as too-large anyway, and a
# stray multi-gigabyte file must not be pulled into memory to find that out.
READ_CAP = 64 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One input article before extraction (a file, or one line of a JSONL file)."""

    source_file: str  # name relative to the given root; "name.jsonl:LINE" for JSONL lines
    raw: bytes  # the file's bytes, or the JSONL line's bytes
    kind: str  # txt | html | jsonl | unsupported
    size: int  # true size in bytes (raw may be cut at READ_CAP)
    url: str | None = None
    title: str | None = None
    published_at: str | None = None


def iter_sources(paths: Iterable[Path], *, read_cap: int = READ_CAP) -> Iterator[Source]:
    """Yield one `Source` per input: files as given, directories expanded (sorted,
    recursive; hidden directories such as .git are not inputs and are not entered), one
    Source per non-blank JSONL line.

    A file of an unknown type, or a hidden file (.DS_Store...), still yields a Source
    (kind "unsupported") so the build reports it: every input is accounted for.
    """
    for file, name, hidden in iter_files(paths):
        yield from _file_sources(file, name, read_cap, unsupported=hidden)


def iter_files(paths: Iterable[Path]) -> Iterator[tuple[Path, str, bool]]:
    """The input files of `iter_sources`, in its order, unread: (path, source name,
    hidden). A distributed build lists them once and reads them in its tasks."""
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            yield path, path.name, False
            continue
        files = []  # (name relative to the root, path): plain strings, pathlib is slow here
        for root, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            rel = os.path.relpath(root, path).replace(os.sep, "/")
            prefix = "" if rel == "." else rel + "/"
            for name in names:
                full = os.path.join(root, name)
                if os.path.isfile(full):
                    files.append((prefix + name, full))
        for rel, full in sorted(files):
            yield Path(full), rel, rel.rsplit("/", 1)[-1].startswith(".")


def file_sources(
    path: Path, name: str, *, hidden: bool = False, read_cap: int = READ_CAP
) -> Iterator[Source]:
    """The Sources of one file of `iter_files`."""
    return _file_sources(path, name, read_cap, unsupported=hidden)


def _file_sources(
    path: Path, name: str, read_cap: int, *, unsupported: bool = False
) -> Iterator[Source]:
    kind = "unsupported" if unsupported else KINDS.get(path.suffix.lower(), "unsupported")
    if kind == "jsonl":
        yield from _jsonl_sources(path, name)
        return
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(read_cap)
    yield Source(source_file=name, raw=raw, kind=kind, size=size)


def _jsonl_sources(path: Path, name: str) -> Iterator[Source]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            meta = _jsonl_metadata(line)
            yield Source(
                source_file=f"{name}:{number}",
                raw=line,
                kind="jsonl",
                size=len(line),
                url=meta.get("url"),
                title=meta.get("title"),
                published_at=meta.get("published_at"),
            )


def _jsonl_metadata(line: bytes) -> dict[str, str]:
    """The string url/title/published_at of a JSONL line, or {} when it is not valid JSON
    (extraction rejects that line later, with the parse error)."""
    try:
        record = parse_jsonl_record(line)
    except RejectedInput:
        return {}
    return {k: v for k in ("url", "title", "published_at") if isinstance(v := record.get(k), str)}


def parse_jsonl_record(line: bytes) -> dict[str, Any]:
    """Parse one JSONL line into a dict; a bad line raises RejectedInput("bad-json")."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise RejectedInput("bad-json", f"not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise RejectedInput("bad-json", f"expected a JSON object, got {type(record).__name__}")
    return record


# --- decoding ---------------------------------------------------------------------------

_MAGIC = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"\xff\xd8\xff": "JPEG",
    b"PK\x03\x04": "ZIP",
    b"\x1f\x8b": "gzip",
    b"\x7fELF": "ELF",
    b"BZh": "bzip2",
    b"\xfd7zXZ": "xz",
    b"Rar!": "RAR",
    b"OggS": "Ogg",
    b"RIFF": "RIFF",
    b"\x00asm": "wasm",
    b"SQLite format 3": "SQLite",
}
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_CONTROL_BYTES = frozenset(set(range(0x00, 0x09)) | set(range(0x0E, 0x20)) | {0x7F})


def decode_bytes(raw: bytes) -> str:
    """Decode page bytes: BOMs, UTF-8, then cp1252, then charset-normalizer's best guess.

    Raises RejectedInput with reason empty, binary or undecodable.
    """
    if not raw.strip():
        raise RejectedInput("empty", "no content" if not raw else "only whitespace")
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise RejectedInput("undecodable", f"invalid {encoding} after BOM: {exc}") from None
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            raise RejectedInput("binary", f"{kind} data, not a text page")
    head = raw[:8192]
    if b"\x00" in head or sum(b in _CONTROL_BYTES for b in head) > len(head) * 0.05:
        raise RejectedInput("binary", "control bytes: not a text page")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Cut inside its last character (a scrape stopped at a byte limit): still UTF-8.
        # Any other code page would turn every accented letter and quote into mojibake.
        if exc.reason == "unexpected end of data" and len(raw) - exc.start < 4:
            return raw[: exc.start].decode("utf-8")
    try:
        text = raw.decode("cp1252")
        if _plausible(text):
            return text
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(raw).best()
    if best is not None:
        text = str(best)
        if _plausible(text):
            return text
    raise RejectedInput(
        "undecodable", "not UTF-8, cp1252 or any encoding charset-normalizer trusts"
    )


def _plausible(text: str) -> bool:
    """Text (not bytes shown through a wrong code page) has almost no control characters."""
    bad = sum(
        1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\t\n\r\f"
    )
    return bad <= len(text) * 0.01


# --- hygiene ------------------------------------------------------------------------------

_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC", explain=False)
_SPACES = re.compile(r"[\t\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# "Â" left over from a no-break space whose second byte was lost: never Indonesian.
_STRAY_A_CIRCUMFLEX = re.compile(r"Â(?=[ \n]|$)")
_MULTI_SPACE = re.compile(r" {2,}")


def clean_text(text: str) -> str:
    """Repair and normalise decoded text: ftfy (mojibake), NFC, LF line ends, plain spaces,
    no invisible characters, single spaces, stripped lines."""
    text = ftfy.fix_text(text, config=_FTFY)
    text = (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
        .replace("\u2029", "\n")
    )
    text = _SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = _STRAY_A_CIRCUMFLEX.sub("", text)
    text = _MULTI_SPACE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return unicodedata.normalize("NFC", text)
