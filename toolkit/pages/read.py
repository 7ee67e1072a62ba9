"""Input sources and text hygiene: files -> `Source` records -> clean, decoded text.

Everything here happens before any offset exists, so the text that `extract` builds
its paragraph offsets on is already NFC, LF-only, free of no-break spaces and mojibake.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import ftfy

from toolkit.errors import RejectedInput

# Input kinds by file extension (a registry, not an if/elif chain).
KINDS: dict[str, str] = {
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
}

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
    identity: str = ""  # what the article id is made of when the page has no URL
    problem: tuple[str, str] | None = None  # (reason, detail): an entry that is no page


def content_identity(raw: bytes) -> str:
    """The identity of a page without a URL or an id of its own: its bytes. The same page
    reached through any path, symlink or folder is the same page; two different pages
    never share it (equal bytes are one page, built once)."""
    return f"content:{hashlib.sha256(raw).hexdigest()}"


def _problem(name: str, reason: str, detail: str) -> Source:
    return Source(name, b"", "unsupported", 0, problem=(reason, detail))


def iter_sources(
    paths: Iterable[Path], *, read_cap: int = READ_CAP, skip: Iterable[Path] = ()
) -> Iterator[Source]:
    """Yield one `Source` per input: files as given, directories expanded (sorted,
    recursive; hidden directories such as .git are not inputs and are not entered), one
    Source per non-blank JSONL line.

    Every entry is accounted for: a file of an unknown type or a hidden file (.DS_Store)
    yields kind "unsupported"; a broken or looping symlink, a FIFO, socket or device, an
    unreadable file yields a Source with its `problem` (`broken-link`, `symlink-loop`,
    `not-a-regular-file`, `unreadable`), which extraction turns into a Rejection. Nothing
    is opened before it is known to be a regular file, so a FIFO never blocks. Symlinked
    sub-folders are followed (each real folder once, so a link to a parent ends).
    `skip`: files that are not inputs (the dataset's project file beside its pages).
    """
    for entry in iter_files(paths, skip=skip):
        yield from read_entry(entry, read_cap=read_cap)


InputFile = tuple[Path, str, bool]  # a listed file not read yet: path, source name, hidden


def iter_files(paths: Iterable[Path], *, skip: Iterable[Path] = ()) -> Iterator[InputFile | Source]:
    """The entries of `iter_sources`, in its order, unread: each file's (path, source
    name, hidden), or the Source of an entry the listing already knows is no page (a
    symlink loop, a folder already read). A distributed build lists them once and reads
    them in its tasks (`read_entry`)."""
    skipped = {os.path.realpath(p) for p in skip}  # realpath: never raises on a loop
    for path in paths:
        path = Path(path)
        if skipped and os.path.realpath(path) in skipped:
            continue
        if not path.is_dir():
            yield path, path.name, False
            continue
        yield from _folder_entries(path, skipped)


def read_entry(entry: InputFile | Source, *, read_cap: int = READ_CAP) -> Iterator[Source]:
    """The Sources of one entry of `iter_files`."""
    if isinstance(entry, Source):
        yield entry
        return
    path, name, hidden = entry
    yield from _entry_sources(path, name, read_cap, unsupported=hidden)


def listed_name(entry: InputFile | Source) -> str:
    """The source name of an entry of `iter_files`."""
    return entry.source_file if isinstance(entry, Source) else entry[1]


def file_sources(
    path: Path, name: str, *, hidden: bool = False, read_cap: int = READ_CAP
) -> Iterator[Source]:
    """The Sources of one file of `iter_files` (a problem Source if it is no page)."""
    return _entry_sources(path, name, read_cap, unsupported=hidden)


def _folder_entries(path: Path, skipped: set[str]) -> Iterator[InputFile | Source]:
    entries: list[tuple[str, str]] = []  # (name relative to the root, path): plain strings,
    problems: list[Source] = []  # pathlib is slow at 100k files
    visited = {os.path.realpath(path)}
    for root, dirs, names in os.walk(path, followlinks=True):
        rel_root = os.path.relpath(root, path).replace(os.sep, "/")
        prefix = "" if rel_root == "." else rel_root + "/"
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            real = os.path.realpath(os.path.join(root, d))
            if real in visited:  # a symlink back up the tree, or to a folder already read
                loop = os.path.realpath(root) == real or Path(root).resolve().is_relative_to(real)
                reason = "symlink-loop" if loop else "duplicate-folder"
                detail = f"symlink to {real}, " + (
                    "a folder it is inside" if loop else "a folder already read"
                )
                problems.append(_problem(prefix + d, reason, detail))
                continue
            visited.add(real)
            kept.append(d)
        dirs[:] = kept
        for name in names:
            full = os.path.join(root, name)
            if not skipped or os.path.realpath(full) not in skipped:
                entries.append((prefix + name, full))
    yield from problems
    for rel, full in sorted(entries):
        yield Path(full), rel, rel.rsplit("/", 1)[-1].startswith(".")


def _entry_sources(
    path: Path, name: str, read_cap: int, *, unsupported: bool = False
) -> Iterator[Source]:
    """One directory entry: a regular file (through symlinks) is read, anything else is
    a Source carrying its problem."""
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            yield _problem(name, "symlink-loop", "the symlink points back at itself")
        elif exc.errno == errno.ENOENT and path.is_symlink():
            yield _problem(name, "broken-link", f"symlink to {os.readlink(path)}, which is gone")
        else:
            yield _problem(name, "unreadable", exc.strerror or type(exc).__name__)
        return
    if not stat.S_ISREG(info.st_mode):
        what = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket or device"
        if stat.S_ISSOCK(info.st_mode):
            what = "a socket"
        yield _problem(name, "not-a-regular-file", f"{what}, not a page")
        return
    try:
        yield from _file_sources(path, name, read_cap, unsupported=unsupported)
    except OSError as exc:
        yield _problem(name, "unreadable", exc.strerror or type(exc).__name__)


def _file_sources(
    path: Path, name: str, read_cap: int, *, unsupported: bool = False
) -> Iterator[Source]:
    kind = "unsupported" if unsupported else KINDS.get(path.suffix.lower(), "unsupported")
    if kind == "jsonl":
        yield from _jsonl_sources(path, name)
        return
    # O_NONBLOCK: if the entry became a FIFO since it was checked, open must not wait
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fd).st_size
        # sized to the file: read(read_cap) allocates the whole cap (64 MB) for every page,
        # which was two thirds of reading a page; a file grown since fstat reads on to the cap
        raw = fh.read(min(read_cap, size + 1))
        if size < len(raw) < read_cap:
            raw += fh.read(read_cap - len(raw))
    yield Source(source_file=name, raw=raw, kind=kind, size=size, identity=content_identity(raw))


def _jsonl_sources(path: Path, name: str) -> Iterator[Source]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            meta = _jsonl_metadata(line)
            # a line's own id, else its bytes: never its line number, which prepending a
            # line to the file would shift
            record_id = meta.get("id")
            identity = f"record:{record_id}" if record_id else content_identity(line)
            yield Source(
                source_file=f"{name}:{number}",
                raw=line,
                kind="jsonl",
                size=len(line),
                url=meta.get("url"),
                title=meta.get("title"),
                published_at=meta.get("published_at"),
                identity=identity,
            )


def _jsonl_metadata(line: bytes) -> dict[str, str]:
    """The string url/title/published_at (and the id, string or integer) of a JSONL line,
    or {} when it is not valid JSON (extraction rejects that line later, with the error)."""
    try:
        record = parse_jsonl_record(line)
    except RejectedInput:
        return {}
    meta = {k: v for k in ("url", "title", "published_at") if isinstance(v := record.get(k), str)}
    record_id = record.get("id")
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    if isinstance(record_id, str) and record_id.strip():
        meta["id"] = record_id.strip()
    return meta


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
