"""The API key never leaks: not in stdout, stderr, DEBUG logs, exception text, or any file
the toolkit writes - except the owner-only config file (and the server's own data dir).

Every CLI flow runs as a subprocess with logging at DEBUG on stderr, with HOME, TMPDIR and
TOOLKIT_HOME inside this test's temp dir, so that every file it writes can be searched.
Library calls that fail are run in-process too, and their whole exception chains searched.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from helpers import clean_env, copy_seeds
from toolkit.dataset.release import build, wait_for_build
from toolkit.errors import ToolkitError
from toolkit.labels.pull import pull
from toolkit.studio import server as studio_server
from toolkit.studio.client import connect
from toolkit.studio.push import push_release

if TYPE_CHECKING:
    from conftest import StudioServer

pytestmark = pytest.mark.studio
DEBUG_CLI = (
    "import logging, sys; "
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True); "
    "from toolkit.cli import cli; cli(prog_name='toolkit')"
)
BAD_TOKEN = "badbadbadbad" + "7" * 28


class Echo(BaseHTTPRequestHandler):
    """A careless server: every answer (500) quotes the request's Authorization header."""

    def do_GET(self) -> None:
        body = json.dumps({"detail": f"cannot serve {self.headers.get('Authorization')}"})
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def walk(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and everything chained to it (cause and context), once each."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def files_text(root: Path, skip: list[Path]) -> Iterator[tuple[Path, str]]:
    """(path, searchable text) of every file under root; Parquet decoded, git objects
    decompressed (a key hidden by compression is still a key on disk)."""
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or any(path.is_relative_to(s) for s in skip):
            continue
        raw = path.read_bytes()
        yield path, raw.decode("latin-1")
        if path.suffix == ".parquet":
            yield path, json.dumps(pq.read_table(path).to_pylist(), default=str)
    for git in root.rglob(".git"):
        if any(git.is_relative_to(s) for s in skip):
            continue
        objects = subprocess.run(
            ["git", "-C", str(git.parent), "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout
        yield git, objects.decode("latin-1")


@pytest.fixture(scope="module")
def flows(studio: StudioServer, tmp_path_factory: pytest.TempPathFactory, echo_url: str) -> dict:
    root = tmp_path_factory.mktemp("secrets")
    release = root / "secrets-news"
    wait_for_build(build([copy_seeds(root / "src")], release, name="secrets-news"))
    home, user_home, tmp = root / "toolkit-home", root / "user-home", root / "tmp"
    for d in (home, user_home, tmp):
        d.mkdir()
    # A home whose recorded server is down: same key, a port nothing listens on.
    down_home = root / "down-home"
    config = json.loads(studio_server.config_path(studio.home).read_text())
    config.update(url=f"http://127.0.0.1:{studio_server.free_port()}", pid=None)
    studio_server._write_private(studio_server.config_path(down_home), json.dumps(config))

    base = clean_env(HOME=str(user_home), TMPDIR=str(tmp), PYTHONUNBUFFERED="1")
    for k in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "HF_HOME", "HF_DATASETS_CACHE"):
        base.pop(k, None)
    fresh = {**base, "TOOLKIT_HOME": str(home)}
    by_env = {**fresh, "LABEL_STUDIO_URL": studio.url, "LABEL_STUDIO_API_KEY": studio.api_key}
    from_config = {**base, "TOOLKIT_HOME": str(studio.home)}
    server_down = {**base, "TOOLKIT_HOME": str(down_home)}
    url, key, rel = studio.url, studio.api_key, str(release)
    dead = f"http://127.0.0.1:{studio_server.free_port()}"
    runs = [  # (name, args, env, expected exit code)
        ("status", ["studio", "status"], from_config, 0),
        ("status --json", ["studio", "status", "--json"], from_config, 0),
        ("push --api-key", ["push", rel, "--url", url, "--api-key", key], fresh, 0),
        ("push env", ["push", rel, "--json"], by_env, 0),
        ("push config", ["push", rel], from_config, 0),
        ("pull --api-key", ["pull", rel, "--url", url, "--api-key", key], fresh, 0),
        ("pull env", ["pull", rel, "--json"], by_env, 0),
        ("report", ["report", rel], fresh, 0),
        ("report --json", ["report", rel, "--json"], fresh, 0),
        ("push bad url", ["push", rel, "--url", dead, "--api-key", key], fresh, 1),
        ("pull bad url", ["pull", rel, "--url", "http://no-such-host.invalid:8080"],
         {**by_env, "LABEL_STUDIO_URL": ""}, 1),
        ("push bad token", ["push", rel, "--url", url, "--api-key", BAD_TOKEN], fresh, 1),
        ("pull bad token env", ["pull", rel], {**by_env, "LABEL_STUDIO_API_KEY": BAD_TOKEN}, 1),
        ("push server down", ["push", rel], server_down, 1),
        ("pull server down", ["pull", rel], server_down, 1),
        ("status server down", ["studio", "status"], server_down, 1),
        ("push echoing server", ["push", rel, "--url", echo_url, "--api-key", key], fresh, 1),
    ]  # fmt: skip
    outputs = {}
    for name, args, env, code in runs:
        done = subprocess.run(
            [sys.executable, "-c", DEBUG_CLI, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            cwd=root,
        )
        assert done.returncode == code, (name, done.stdout, done.stderr)
        outputs[name] = done.stdout + "\n" + done.stderr
    return {
        "root": root,
        "outputs": outputs,
        "skip": [studio_server.config_path(down_home), studio.home],
    }


def secrets(studio: StudioServer) -> list[str]:
    """The key, a middle piece of it (a truncated print is still a leak), the bad token
    the user typed, and the admin password."""
    return [studio.api_key, studio.api_key[8:24], BAD_TOKEN, studio.password]


def test_the_flows_did_what_they_say(flows: dict) -> None:
    out = flows["outputs"]
    assert "up at http://127.0.0.1:" in out["status"]
    assert "DEBUG" in out["push --api-key"]  # the logs really were captured at DEBUG
    assert "cannot reach Label Studio at" in out["push bad url"]
    assert "refused the API key (HTTP 401)" in out["push bad token"]
    assert "refused the API key (HTTP 401)" in out["pull bad token env"]
    assert "cannot reach Label Studio" in out["push server down"]
    assert "down (last at" in out["status server down"]
    assert "failed (HTTP 500)" in out["push echoing server"]
    assert "cannot serve Token ***" in out["push echoing server"]  # the echo was scrubbed


def test_no_secret_in_any_output_or_log(flows: dict, studio: StudioServer) -> None:
    for name, text in flows["outputs"].items():
        for secret in secrets(studio):
            assert secret not in text, f"{name!r} printed a secret"


def test_no_secret_in_any_file_written(flows: dict, studio: StudioServer) -> None:
    searched = 0
    for path, text in files_text(flows["root"], flows["skip"]):
        searched += 1
        for secret in secrets(studio):
            assert secret not in text, f"{path} holds a secret"
    assert searched >= 10
    written = {
        p.relative_to(flows["root"]).parts[0] for p in flows["root"].rglob("*") if p.is_file()
    }
    assert "toolkit-home" in written  # the push cache was written, and searched
    home = Path(flows["root"]) / "toolkit-home"
    assert list(home.rglob("*.json")), "push writes its listing cache under TOOLKIT_HOME"


def test_the_config_file_stays_owner_only(flows: dict, studio: StudioServer) -> None:
    config = studio_server.config_path(studio.home)
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert studio.api_key in config.read_text()  # the one place it may be


def test_library_exceptions_never_carry_the_key(
    studio: StudioServer, tmp_path: Path, echo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    release = tmp_path / "lib-news"
    wait_for_build(build([copy_seeds(tmp_path / "src")], release, name="lib-news"))
    dead = f"http://127.0.0.1:{studio_server.free_port()}"
    fast = {"retries": 1, "backoff": 0.01, "timeout": 5.0}
    failing = [
        lambda: connect(dead, studio.api_key, **fast),
        lambda: connect(studio.url, BAD_TOKEN, **fast),
        lambda: connect(echo_url, studio.api_key, **fast),
        lambda: list(push_release(connect(dead, studio.api_key, check=False, **fast), release)),
        lambda: pull(release, url=echo_url, api_key=studio.api_key, client_options=fast),
        lambda: pull(release, url=studio.url, api_key=BAD_TOKEN, client_options=fast),
        lambda: pull(release, url=studio.url, api_key=studio.api_key),  # no such project
    ]
    caplog.set_level("DEBUG")
    texts = []
    for call in failing:
        with pytest.raises(ToolkitError) as info:
            call()
        for exc in walk(info.value):
            texts += [str(exc), repr(exc), repr(exc.args)]
        texts.append("".join(traceback.format_exception(info.value, chain=True)))
        texts.append("".join(traceback.TracebackException.from_exception(info.value).format()))
    texts += [r.getMessage() + repr(r.args) for r in caplog.records]
    assert len(texts) > 30
    for text in texts:
        for secret in secrets(studio):
            assert secret not in text
