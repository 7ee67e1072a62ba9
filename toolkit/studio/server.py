"""The embedded Label Studio: its own virtual environment, one local server, one config file.

`label-studio` pins old dependencies that clash with ours, so it is installed once into
`$TOOLKIT_HOME/label-studio-venv` and run as a separate process. The admin login and the
API token are generated on the first `up` and kept in `$TOOLKIT_HOME/studio.json`, a file
only its owner can read; `push` and `pull` read the URL and token from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from toolkit.errors import StudioError

LABEL_STUDIO_VERSION = "1.23.2"
DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT = 300.0  # seconds; first start migrates the database (~60 s on 2 cores)
STOP_TIMEOUT = 30.0
_INSTALLED_MARKER = ".toolkit-installed"
# Servers this Python process started, so `down` can reap them (no zombies in tests).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def toolkit_home() -> Path:
    """Where the toolkit keeps its state: env TOOLKIT_HOME, else ~/.local/share/..."""
    env = os.environ.get("TOOLKIT_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "news-annotation-toolkit"


def venv_dir(home: Path | None = None) -> Path:
    return (home or toolkit_home()) / "label-studio-venv"


def config_path(home: Path | None = None) -> Path:
    return (home or toolkit_home()) / "studio.json"


@dataclass(frozen=True)
class StudioConfig:
    """What `studio up` records. Secrets are kept out of repr so they never reach a log."""

    url: str
    host: str
    port: int
    pid: int | None
    data_dir: str
    log_file: str
    username: str
    password: str = field(repr=False)
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class StudioEvent:
    """Progress of `up`/`down`: stage is installing, installed, starting, waiting, up,
    already-up, stopping, stopped or not-running."""

    stage: str
    message: str
    url: str | None = None


@dataclass(frozen=True)
class StudioStatus:
    running: bool
    url: str | None
    version: str | None
    pid: int | None
    config_file: Path
    username: str | None


# ---------------------------------------------------------------- owner-only config file


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, never wider even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_config(home: Path | None = None) -> StudioConfig | None:
    """The recorded server, or None when `studio up` never ran for this home."""
    path = config_path(home)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return StudioConfig(**raw)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise StudioError(
            f"cannot read {path}: {type(exc).__name__}; delete it and rerun `toolkit studio up`"
        ) from None


def _save_config(config: StudioConfig, home: Path | None) -> None:
    _write_private(config_path(home), json.dumps(asdict(config), indent=2) + "\n")


# ---------------------------------------------------------------- the virtual environment


def _label_studio_bin(venv: Path) -> Path:
    return venv / ("Scripts/label-studio.exe" if os.name == "nt" else "bin/label-studio")


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def is_installed(venv: Path) -> bool:
    marker = venv / _INSTALLED_MARKER
    return marker.is_file() and marker.read_text().strip() == LABEL_STUDIO_VERSION


def install(venv: Path) -> Iterator[StudioEvent]:
    """Create the Label Studio venv unless it is complete (the marker is written last,
    so a half-finished install is detected and redone)."""
    if is_installed(venv):
        return
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _install_lock(venv):
        if not is_installed(venv):  # another process may have finished it meanwhile
            yield from _install(venv)


@contextlib.contextmanager
def _install_lock(venv: Path) -> Iterator[None]:
    """Serialise installs into one venv across processes (two `up`s, parallel tests)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; installs are rare and manual there
        yield
        return
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _install(venv: Path) -> Iterator[StudioEvent]:
    yield StudioEvent("installing", f"installing label-studio=={LABEL_STUDIO_VERSION} into {venv}")
    if venv.exists():
        shutil.rmtree(venv)
    log = venv.parent / "label-studio-install.log"
    with log.open("wb") as out:
        for cmd in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(_venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check",
             f"label-studio=={LABEL_STUDIO_VERSION}"],
        ):  # fmt: skip
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
            if code != 0:
                raise StudioError(
                    f"installing Label Studio failed ({' '.join(cmd[-2:])} exited {code}); "
                    f"see {log}"
                )
    (venv / _INSTALLED_MARKER).write_text(LABEL_STUDIO_VERSION + "\n")
    yield StudioEvent("installed", f"label-studio {LABEL_STUDIO_VERSION} installed")


# ---------------------------------------------------------------- process handling


def _cmdline(pid: int) -> str | None:
    """The command line of a live process, or None if it is gone (zombies count as gone)."""
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            raw = proc.read_bytes()
        except OSError:
            return None
        return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip() or None
    out = subprocess.run(
        ["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, check=False
    )
    return out.stdout.strip() or None


def _is_our_server(pid: int | None, config: StudioConfig) -> bool:
    """True if `pid` is still the Label Studio we started (pids get reused)."""
    if not pid:
        return False
    _reap(pid)
    cmd = _cmdline(pid)
    return bool(cmd and "label-studio" in cmd and config.data_dir in cmd)


def _reap(pid: int) -> None:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)


def _health(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def server_version(url: str, timeout: float = 5.0) -> str | None:
    """The server's release from GET /api/version (no auth needed), or None."""
    try:
        with urllib.request.urlopen(f"{url}/api/version", timeout=timeout) as resp:
            return str(json.loads(resp.read()).get("release") or "") or None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":
            # As the server binds: connections of a crashed server lingering in TIME_WAIT
            # must not make its own port look taken (a listener still does).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port nothing listens on right now (for tests and `--port 0`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _server_env(config: StudioConfig) -> dict[str, str]:
    inherited = ("LABEL_STUDIO_", "VIRTUAL_ENV")  # never leak the caller's LS settings in
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update(
        LABEL_STUDIO_USERNAME=config.username,
        LABEL_STUDIO_PASSWORD=config.password,
        LABEL_STUDIO_USER_TOKEN=config.api_key,
        # 1.23 turns legacy tokens off by default; the SDK and our config use one.
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        LABEL_STUDIO_BASE_DATA_DIR=config.data_dir,
        LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="true",
        # `toolkit suggest --serve` runs its ML backend on this machine; 1.23 refuses to
        # call one on a local address by default (an SSRF guard for shared servers).
        LABEL_STUDIO_ML_BLOCK_LOCAL_IP="false",
        COLLECT_ANALYTICS="false",
        # Label Studio's own memory-efficient prediction import (off by default in 1.23):
        # it skips re-validating every region, ~1.7x faster for `toolkit suggest`
        # (3.5 s against 5.9 s for 2000 predictions of 65 regions, measured).
        fflag_fix_back_4620_memory_efficient_predictions_import_08012025_short="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def _new_config(home: Path, host: str, port: int, data_dir: Path) -> StudioConfig:
    previous = read_config(home)
    return StudioConfig(
        url=f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}",
        host=host,
        port=port,
        pid=None,
        data_dir=str(data_dir),
        log_file=str(data_dir / "label-studio.log"),
        # Keep the login across restarts: the server's database already holds this user.
        username=previous.username if previous else "admin@toolkit.local",
        password=previous.password if previous else secrets.token_urlsafe(18),
        api_key=previous.api_key if previous else secrets.token_hex(20),
    )


def up(
    *,
    home: Path | None = None,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    data_dir: Path | None = None,
    venv: Path | None = None,
    timeout: float = START_TIMEOUT,
) -> Iterator[StudioEvent]:
    """Install (once), start and wait for the embedded server; idempotent.

    Yields progress events; the last one is `up` or `already-up` and carries the URL.
    `venv` defaults to `$TOOLKIT_HOME/label-studio-venv` (tests share the user's one).
    """
    home = home or toolkit_home()
    venv = venv or venv_dir(home)
    current = read_config(home)
    if current and _is_our_server(current.pid, current):
        if not _health(current.url):  # another `up` is still starting it
            yield StudioEvent("waiting", "waiting for the server to answer /health", current.url)
            _wait_healthy(current, timeout)
        yield StudioEvent("already-up", f"Label Studio is already up at {current.url}", current.url)
        return
    if port == 0:
        port = free_port(host)
    if not _port_free(host, port):
        raise StudioError(
            f"port {port} on {host} is already in use by another program; "
            f"choose another one with --port"
        )
    yield from install(venv)

    data_dir = (data_dir or home / "studio").expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # the server's database stores the API token
    config = _new_config(home, host, port, data_dir)
    cmd = [
        str(_label_studio_bin(venv)),
        "start",
        # --internal-host is the bind address; --host only prefixes generated URLs (left
        # empty so they stay relative). Without it the server listens on 0.0.0.0.
        "--internal-host", host,
        "--port", str(port),
        "--no-browser",
        "--data-dir", str(data_dir),
    ]  # fmt: skip
    yield StudioEvent("starting", f"starting Label Studio on {config.url}", config.url)
    with open(config.log_file, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            env=_server_env(config),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: `down` stops it and its children
            cwd=data_dir,
        )
    _CHILDREN[proc.pid] = proc
    config = replace(config, pid=proc.pid)
    _save_config(config, home)

    yield StudioEvent("waiting", "waiting for the server to answer /health", config.url)
    _wait_healthy(config, timeout)
    yield StudioEvent("up", f"Label Studio is up at {config.url}", config.url)


def _wait_healthy(config: StudioConfig, timeout: float) -> None:
    assert config.pid is not None
    deadline = time.monotonic() + timeout
    while not _health(config.url):
        if not _alive(config.pid):
            child = _CHILDREN.pop(config.pid, None)
            code = child.returncode if child is not None else "?"
            raise StudioError(
                f"Label Studio exited (code {code}) while starting; "
                f"last lines of {config.log_file}:\n{_log_tail(Path(config.log_file))}"
            )
        if time.monotonic() > deadline:
            _stop_group(config.pid)
            raise StudioError(
                f"Label Studio did not answer {config.url}/health within {timeout:.0f} s; "
                f"see {config.log_file}"
            )
        time.sleep(1.0)


def _alive(pid: int) -> bool:
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """An exited process nobody reaped yet still answers kill(0); its state is Z."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return True  # gone between kill(0) and here
    except (OSError, IndexError):
        pass
    out = subprocess.run(["ps", "-p", str(pid), "-o", "stat="], capture_output=True, text=True)
    return out.stdout.strip().startswith("Z") or not out.stdout.strip()


def _stop_group(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            child = _CHILDREN.get(pid)
            if child is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=0.2)
            else:
                time.sleep(0.2)
        if not _alive(pid):
            break
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # children left in the group after the leader went
    _CHILDREN.pop(pid, None)


def down(*, home: Path | None = None) -> Iterator[StudioEvent]:
    """Stop the server `up` started - exactly that process and its group, nothing else."""
    home = home or toolkit_home()
    config = read_config(home)
    if config is None or not _is_our_server(config.pid, config):
        if config is not None and config.pid is not None:
            _save_config(replace(config, pid=None), home)
        yield StudioEvent("not-running", "Label Studio is not running (nothing to stop)")
        return
    assert config.pid is not None
    yield StudioEvent("stopping", f"stopping Label Studio (pid {config.pid})", config.url)
    _stop_group(config.pid)
    _save_config(replace(config, pid=None), home)
    yield StudioEvent("stopped", "Label Studio stopped", config.url)


def status(*, home: Path | None = None) -> StudioStatus:
    """Whether the recorded server is up, and its version."""
    home = home or toolkit_home()
    config = read_config(home)
    if config is None:
        return StudioStatus(False, None, None, None, config_path(home), None)
    running = _is_our_server(config.pid, config) and _health(config.url)
    version = server_version(config.url) if running else None
    return StudioStatus(
        running, config.url, version, config.pid if running else None, config_path(home),
        config.username,
    )  # fmt: skip
