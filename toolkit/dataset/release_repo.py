"""The release directory as a git repository, updated atomically.

A new release is assembled in a staging directory beside DIR: a copy of DIR whose
immutable files (git objects, Parquet shards, never modified in place) are hard links
and whose small mutable files are real copies. It is committed and tagged there, then
swapped with DIR in one renameat2(RENAME_EXCHANGE) call. Killed at any moment, DIR is
either the whole previous release or the whole new one; leftovers are cleaned next time.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

from toolkit.errors import ReleaseError

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "news-annotation-toolkit",
    "GIT_AUTHOR_EMAIL": "toolkit@localhost",
    "GIT_COMMITTER_NAME": "news-annotation-toolkit",
    "GIT_COMMITTER_EMAIL": "toolkit@localhost",
    "GIT_CONFIG_NOSYSTEM": "1",
}
_GIT_OPTS = [
    *("-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.hooksPath="),
    *("-c", "core.compression=0"),  # the shards are zstd Parquet: zlib on them only costs time
]
_SHARED_PREFIXES = (".git/objects/", "data/")  # files never modified in place: hard links


def git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {**os.environ, **_GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    try:
        done = subprocess.run(
            ["git", *_GIT_OPTS, "-C", str(repo), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    except FileNotFoundError:
        raise ReleaseError("git is not installed; releases are git repositories") from None
    except subprocess.CalledProcessError as exc:
        raise ReleaseError(f"git {args[0]} failed in {repo}: {exc.stderr.strip()}") from None
    return done.stdout


def is_release_repo(path: Path) -> bool:
    return (path / ".git").is_dir() and (path / "release.json").is_file()


def tags(repo: Path) -> list[str]:
    if not (repo / ".git").is_dir():
        return []
    return git(repo, "tag", "--list", "v*").split()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.staging-*")) + sorted(
        target.parent.glob(f".{target.name}.previous-*")
    )


def clean_leftovers(target: Path) -> None:
    """Remove staging/previous directories of builds that died (their pid is gone)."""
    for path in _leftovers(target):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            if "previous" in path.name and not target.exists():
                path.rename(target)  # the fallback swap died between its two renames
            else:
                shutil.rmtree(path, ignore_errors=True)


def stage(target: Path) -> Path:
    """A staging copy of `target` (or an empty git repository for a first release)."""
    clean_leftovers(target)
    staging = target.parent / f".{target.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    if target.exists():
        if not is_release_repo(target):
            if any(target.iterdir()):
                raise ReleaseError(
                    f"{target} exists and is not a dataset release made by this toolkit; "
                    "choose another --out or empty it"
                )
        else:
            _link_copy(target, staging)
            return staging
    staging.mkdir(parents=True)
    git(staging, "init", "-q", "-b", "main")
    return staging


def _link_copy(source: Path, dest: Path) -> None:
    for root, dirs, files in os.walk(source):
        rel = Path(root).relative_to(source)
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            src, dst = Path(root) / name, dest / rel / name
            relname = (rel / name).as_posix()
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
            elif relname.startswith(_SHARED_PREFIXES):
                os.link(src, dst)
            else:
                shutil.copy2(src, dst)
        dirs.sort()


def commit_and_tag(staging: Path, version: str, message: str, date: str) -> None:
    git(staging, "add", "-A")
    git(staging, "commit", "-q", "--allow-empty", "-m", message, date=date)
    git(staging, "tag", "-a", f"v{version}", "-m", f"Release {version}", date=date)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def publish(staging: Path, target: Path) -> None:
    """Make the staged release the one at `target`, in one atomic step where possible."""
    if not target.exists():
        staging.rename(target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the previous release
        return
    # Fallback (no renameat2): two renames; clean_leftovers() repairs a death between them.
    previous = target.parent / f".{target.name}.previous-{os.getpid()}"
    target.rename(previous)
    staging.rename(target)
    shutil.rmtree(previous, ignore_errors=True)


def discard(staging: Path) -> None:
    # ignore_errors: discarding runs on failure paths (disk full...), where it must not
    # replace the real error; clean_leftovers retries next time
    shutil.rmtree(staging, ignore_errors=True)
