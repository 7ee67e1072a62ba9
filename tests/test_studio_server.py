"""The embedded Label Studio: owner-only config, idempotent up, exact down, status, exposure."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psutil
import pytest

from helpers import clean_env, run_toolkit
from toolkit.errors import StudioError
from toolkit.studio import server as studio_server
from toolkit.studio.client import Connection, StudioClient, TransientStudioError, connect

if TYPE_CHECKING:
    from conftest import StudioServer


def toolkit(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_toolkit(*args, env=clean_env(home), timeout=300)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- no server needed


def test_config_file_is_owner_only_even_with_a_permissive_umask(tmp_path: Path) -> None:
    path = tmp_path / "studio.json"
    path.write_text("{}")
    path.chmod(0o644)  # an older, too-open file is replaced, not rewritten in place
    old = os.umask(0)
    try:
        studio_server._write_private(path, '{"api_key": "x"}')
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert json.loads(path.read_text()) == {"api_key": "x"}
    assert [p.name for p in tmp_path.iterdir()] == ["studio.json"]  # no temp file left


def test_status_and_down_when_never_started(tmp_path: Path) -> None:
    state = studio_server.status(home=tmp_path)
    assert not state.running and state.url is None
    shown = toolkit("studio", "status", home=tmp_path)
    assert shown.returncode == 1
    assert shown.stdout == "down: start it with `toolkit studio up`\n"
    stopped = toolkit("studio", "down", home=tmp_path)
    assert stopped.returncode == 0
    assert stopped.stdout == "Label Studio is not running (nothing to stop)\n"


def test_down_never_kills_a_process_it_did_not_start(tmp_path: Path) -> None:
    """The recorded pid now belongs to something else (pids are reused): left alone."""
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        config = studio_server.StudioConfig(
            url="http://127.0.0.1:9",
            host="127.0.0.1",
            port=9,
            pid=stranger.pid,
            data_dir=str(tmp_path / "studio"),
            log_file=str(tmp_path / "studio" / "label-studio.log"),
            username="admin@toolkit.local",
            password="pw",
            api_key="k" * 40,
        )
        studio_server._save_config(config, tmp_path)
        events = [e.stage for e in studio_server.down(home=tmp_path)]
        assert events == ["not-running"]
        assert stranger.poll() is None  # still running
        assert studio_server.read_config(tmp_path) == replace(config, pid=None)
    finally:
        stranger.kill()
        stranger.wait()


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StudioError, match=f"port {port} on 127.0.0.1 is already in use"):
            list(studio_server.up(home=tmp_path, port=port))
    assert not (tmp_path / "label-studio-venv").exists()  # failed before installing anything


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with `status` and a body that quotes the Authorization header
    (as a careless proxy might), counting hits."""

    status = 503
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = json.dumps({"detail": f"bad header {self.headers.get('Authorization')}"})
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[tuple[str, type[_Echo]]]:
    handler = type("Echo", (_Echo,), {"hits": 0, "status": 503})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_non_idempotent_calls_are_not_resent_on_5xx(echo: tuple[str, type[_Echo]]) -> None:
    url, handler = echo
    client = StudioClient(Connection(url, "s3cr3t-key-value", "test"), retries=3, backoff=0.01)
    with pytest.raises(TransientStudioError, match="HTTP 503"):
        client.call("import", client.sdk.users.whoami, idempotent=False)
    assert handler.hits == 1
    with pytest.raises(TransientStudioError, match="HTTP 503"):
        client.call("read", client.sdk.users.whoami)
    assert handler.hits == 1 + 4  # one try and three retries


def test_error_messages_never_contain_the_key(echo: tuple[str, type[_Echo]]) -> None:
    url, handler = echo
    handler.status = 400
    key = "s3cr3t-key-value-0123456789"
    with pytest.raises(StudioError) as info:
        connect(url, key, retries=0)
    assert "bad header Token ***" in str(info.value)
    assert key not in str(info.value) and info.value.__cause__ is None


# ---------------------------------------------------------------- the session's real server


@pytest.mark.studio
def test_status_reports_the_running_server_and_its_version(studio: StudioServer) -> None:
    state = studio_server.status(home=studio.home)
    assert (state.running, state.url, state.version, state.pid) == (
        True,
        studio.url,
        studio_server.LABEL_STUDIO_VERSION,
        studio.pid,
    )
    shown = toolkit("studio", "status", home=studio.home)
    assert shown.returncode == 0
    assert shown.stdout.startswith(f"up at {studio.url} (Label Studio 1.23.2, pid {studio.pid})")
    as_json = json.loads(toolkit("studio", "status", "--json", home=studio.home).stdout)
    assert as_json["running"] and as_json["version"] == "1.23.2"
    for out in (shown.stdout, shown.stderr):
        assert studio.api_key not in out and studio.password not in out


@pytest.mark.studio
def test_up_again_is_idempotent(studio: StudioServer) -> None:
    events = list(studio_server.up(home=studio.home))
    assert [e.stage for e in events] == ["already-up"]
    again = toolkit("studio", "up", home=studio.home)
    assert again.returncode == 0, again.stderr
    assert f"Label Studio is already up at {studio.url}" in again.stdout
    assert studio.api_key not in again.stdout + again.stderr
    assert studio.password not in again.stdout + again.stderr
    assert studio_server.read_config(studio.home).pid == studio.pid  # type: ignore[union-attr]


@pytest.mark.studio
def test_secrets_stay_in_owner_only_places(studio: StudioServer) -> None:
    config = studio_server.config_path(studio.home)
    assert mode(config) == 0o600
    assert json.loads(config.read_text())["api_key"] == studio.api_key
    assert mode(studio.data_dir) == 0o700  # the server's database holds the token too
    log = Path(studio_server.read_config(studio.home).log_file)  # type: ignore[union-attr]
    assert log.stat().st_size > 0
    assert studio.api_key not in log.read_text() and studio.password not in log.read_text()


@pytest.mark.studio
def test_listens_on_loopback_only(studio: StudioServer) -> None:
    port = int(studio.url.rsplit(":", 1)[1])
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    assert listening == {"127.0.0.1"}


@pytest.mark.studio
def test_sign_up_without_an_invitation_is_refused(studio: StudioServer) -> None:
    before = [u.email for u in studio.client().sdk.users.list()]
    with httpx.Client(base_url=studio.url) as web:
        web.get("/user/signup/")
        token = web.cookies["csrftoken"]
        answer = web.post(
            "/user/signup/",
            data={"email": "intruder@example.com", "password": "Sup3rSecret!!"},
            headers={"X-CSRFToken": token, "Referer": f"{studio.url}/user/signup/"},
        )
    assert answer.status_code == 403 and "CSRF" not in answer.text
    assert [u.email for u in studio.client().sdk.users.list()] == before


@pytest.mark.studio
def test_legacy_token_and_login_from_the_config_work(studio: StudioServer) -> None:
    me = studio.client().sdk.users.whoami()
    assert me.email == studio.username
    with httpx.Client(base_url=studio.url) as web:
        web.get("/user/login/")
        answer = web.post(
            "/user/login/",
            data={"email": studio.username, "password": studio.password},
            headers={"X-CSRFToken": web.cookies["csrftoken"], "Referer": f"{studio.url}/"},
        )
        assert answer.status_code == 302  # redirect into the app: logged in
        assert web.get("/api/current-user/whoami").json()["email"] == studio.username
