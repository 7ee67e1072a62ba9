"""Refusals made before a build reads a single page: a bad option must cost nothing and
write nothing, not fail after the whole extraction or leave a broken card behind."""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from pathlib import Path

from toolkit.dataset.versioning import Version
from toolkit.errors import ReleaseError

# A dataset name goes into the card's YAML header, file names and a Label Studio title:
# one line of printable text.
_NAME = re.compile(r"[^\x00-\x1f\x7f\u0085\u2028\u2029]{1,200}")


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or not name.strip():
        raise ReleaseError(
            f"--name {name!r} must be one line of printable text (1 to 200 characters)"
        )


def check_requested_version(version: str | None) -> None:
    if version is not None:
        Version.parse(version)  # raises ReleaseError on "abc"


def check_out_outside_sources(out: Path, sources: Iterable[Path]) -> None:
    """A release folder inside a source folder would be read back as pages by the next
    build (and by this one, through its staging copy beside it)."""
    resolved_out = Path(out).resolve()
    for source in sources:
        source = Path(source).resolve()
        if source.is_dir() and (resolved_out == source or resolved_out.is_relative_to(source)):
            raise ReleaseError(
                f"--out {out} is inside the source folder {source}; "
                "put the release outside the pages it is built from"
            )


def os_error_message(exc: OSError, out: Path) -> str:
    """A disk-full or read-only failure while writing a release, in one sentence."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EFBIG: "a file grew past the size limit",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }
    reason = reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return (
        f"cannot write the release at {out}: {reason}"
        + (f" ({exc.filename})" if exc.filename else "")
        + "; the previous release is unchanged"
    )
