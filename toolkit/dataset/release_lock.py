"""One writer at a time on a release folder.

A build and a pull both stage a copy of the release, commit it and swap it in; two at
once would each swap in a copy made from the same previous release, and the second swap
would erase the first one's version, tag and rows. The lock is a file *beside* the
release folder (`.NAME.lock`), never inside it: the folder is a git repository that is
swapped whole. It is an OS file lock (`filelock`), so a writer killed with SIGKILL
releases it with its process.

A second writer waits for the first (telling its caller it waits) and then reads the
previous release afresh, so its version is computed against the release the first one
made; `timeout` bounds the wait.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from toolkit.errors import ReleaseError

WAIT_FOREVER = -1.0


def lock_path(release_dir: Path) -> Path:
    release_dir = Path(release_dir)
    return release_dir.parent / f".{release_dir.name}.lock"


def release_target(out: Path) -> Path:
    """The folder a release is written to. A symlinked --out is followed: the release is
    published at its target and the link stays a link (a swap on the link itself would
    replace it by a folder and leave the target at the old version)."""
    out = Path(out)
    if out.is_symlink():
        target = out.resolve()
        if not target.parent.is_dir():
            raise ReleaseError(f"--out {out} is a symlink to {target}, whose folder is missing")
        if target.exists() and not target.is_dir():
            raise ReleaseError(f"--out {out} is a symlink to {target}, which is not a folder")
        return target
    return out


class ReleaseLock:
    """The lock of one release folder; `try_acquire` first, then `acquire` to wait."""

    def __init__(self, release_dir: Path, timeout: float = WAIT_FOREVER) -> None:
        self.release_dir, self.timeout = Path(release_dir), timeout
        self.path = lock_path(self.release_dir)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReleaseError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        # is_singleton: one lock object per path in a process, so a caller already
        # holding the lock (e.g. a pull around its whole export) can call release_tables
        # without deadlocking on itself; other threads and processes still wait
        self._lock = FileLock(self.path, mode=0o644, is_singleton=True)

    @property
    def waiting_message(self) -> str:
        return (
            f"{self.release_dir} is being written by another build or pull; "
            f"waiting for it to finish (lock {self.path.name})"
        )

    def try_acquire(self) -> bool:
        try:
            self._acquire(0)
        except Timeout:
            return False
        return True

    def acquire(self) -> None:
        """Wait for the lock (up to the timeout)."""
        try:
            self._acquire(self.timeout)
        except Timeout:
            raise ReleaseError(
                f"{self.release_dir} is still being written by another build or pull after "
                f"{self.timeout:g} s; try again later"
            ) from None

    def _acquire(self, timeout: float) -> None:
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            raise
        except OSError as exc:
            raise ReleaseError(f"cannot lock {self.release_dir}: {exc.strerror or exc}") from None

    def release(self) -> None:
        self._lock.release()


@contextlib.contextmanager
def release_lock(
    release_dir: Path,
    *,
    timeout: float = WAIT_FOREVER,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the release folder's lock; if another writer holds it, call `on_wait` with a
    message, then wait (up to `timeout` seconds; negative: as long as it takes)."""
    lock = ReleaseLock(release_dir, timeout)
    if not lock.try_acquire():
        if on_wait is not None:
            on_wait(lock.waiting_message)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
