"""Faults against a real Label Studio: the server killed in the middle of a push, restarted
in the middle of a pull, and (through a real HTTP proxy on 127.0.0.1) answering 5xx or
stalling. Nothing is lost: the rerun leaves every article exactly once, and gives the
same tables.

This module starts its own server (same code as `toolkit studio up`, its own home and data
dir) so it can kill and restart it without disturbing the session's shared one. The
SIGKILL-mid-build fault is in test_release_atomic.py; killing the push *client* is in
test_push.py; 5xx/timeouts against a recorded export are in test_fetch.py.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from helpers import clean_env
from toolkit.dataset.release import build, current_version, read_articles, wait_for_build
from toolkit.dataset.validate import validate
from toolkit.errors import StudioError
from toolkit.labels.pull import pull
from toolkit.studio import server as studio_server
from toolkit.studio.client import connect
from toolkit.studio.label_config import ENTITY_CONTROL
from toolkit.studio.push import find_projects, list_existing

pytestmark = pytest.mark.studio
ARTICLES = 120
TITLE = "faults"
WORDS = [
    "yang",
    "dan",
    "di",
    "ke",
    "dari",
    "ini",
    "itu",
    "untuk",
    "pada",
    "akan",
    "Rusia",
    "Moskow",
    "menteri",
    "presiden",
    "kerja",
]


# ---------------------------------------------------------------- a server we may kill


@dataclass
class OwnServer:
    home: Path
    port: int
    url: str
    api_key: str = field(repr=False)
    restarts: int = 0

    @property
    def pid(self) -> int:
        config = studio_server.read_config(self.home)
        assert config is not None and config.pid is not None
        return config.pid

    def kill(self) -> None:
        """SIGKILL the whole server (its process group): a crash, not a shutdown."""
        pid = self.pid
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while studio_server._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not studio_server._alive(pid)
        # The rest of its process group (runserver's worker holds the socket) may outlive
        # the leader by a moment; `up` would rightly call the port busy until it is gone.
        while not studio_server._port_free("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert studio_server._port_free("127.0.0.1", self.port)
        assert not studio_server.status(home=self.home).running

    def start(self) -> None:
        """Start it again on the same port with the same data dir (what `studio up` does)."""
        venv = studio_server.venv_dir(studio_server.toolkit_home())
        events = list(studio_server.up(home=self.home, port=self.port, venv=venv))
        assert events[-1].stage == "up", events
        self.restarts += 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    home = tmp_path_factory.mktemp("faults-home")
    port = studio_server.free_port()
    venv = studio_server.venv_dir(studio_server.toolkit_home())
    events = list(studio_server.up(home=home, port=port, venv=venv))
    assert events[-1].stage == "up", events
    config = studio_server.read_config(home)
    assert config is not None
    own = OwnServer(home, port, config.url, config.api_key)
    yield own
    list(studio_server.down(home=home))


def write_release(root: Path) -> Path:
    src = root / "src"
    src.mkdir()
    lines = []
    for i in range(ARTICLES):
        rnd = random.Random(i)
        body = " ".join(rnd.choice(WORDS) for _ in range(60))
        text = f"Presiden Rusia bertemu menteri nomor {i} di Moskow. {body}."
        lines.append(
            json.dumps({"url": f"https://contoh.id/{i}", "title": f"Berita {i}", "text": text})
        )
    (src / "pages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = root / TITLE
    wait_for_build(build([src], out, name=TITLE))
    return out


def toolkit_cli(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cli_env(server: OwnServer) -> dict[str, str]:
    return clean_env(
        server.home / "cli-home",
        LABEL_STUDIO_URL=server.url,
        LABEL_STUDIO_API_KEY=server.api_key,
        PYTHONUNBUFFERED="1",
    )


def article_counts(server: OwnServer, pid: int) -> Counter[str]:
    existing: dict = {}
    for _, _, listing in list_existing(connect(server.url, server.api_key), pid):
        existing = listing
    return Counter({article: len(tasks) for article, tasks in existing.items()})


# ---------------------------------------------------------------- a proxy that misbehaves


class FaultProxy(BaseHTTPRequestHandler):
    """Forwards to the real server; the first `fail` requests get a 503, the first `stall`
    requests hang for `stall_for` seconds first; `on_request(n)` may act (kill the server)
    before request n is forwarded. An unreachable upstream drops the connection."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _handle(self) -> None:
        proxy = self.server
        with proxy.lock:
            proxy.count += 1
            n = proxy.count
            fail = proxy.fail > 0
            proxy.fail -= fail
            stall = proxy.stall > 0
            proxy.stall -= stall
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if proxy.on_request is not None:
            proxy.on_request(n)
        if stall:
            proxy.log.append("stalled")
            time.sleep(proxy.stall_for)
        if fail:
            proxy.log.append("503")
            return self._reply(
                503, {"Content-Type": "application/json"}, b'{"detail": "restarting"}'
            )
        upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        try:
            upstream.request(self.command, self.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
        except OSError:
            proxy.log.append("dropped")
            self.close_connection = True  # like a dead server: no response at all
            return
        finally:
            upstream.close()
        proxy.log.append(str(answer.status))
        hop = ("transfer-encoding", "connection", "content-length")
        keep = {k: v for k, v in answer.getheaders() if k.lower() not in hop}
        self._reply(answer.status, keep, data)

    def _reply(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


@pytest.fixture()
def proxy(server: OwnServer) -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultProxy)
    httpd.daemon_threads = True
    httpd.upstream_port = server.port
    httpd.lock = threading.Lock()
    httpd.count, httpd.fail, httpd.stall, httpd.stall_for = 0, 0, 0, 0.0
    httpd.log, httpd.on_request = [], None
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


# ---------------------------------------------------------------- the scenario


@pytest.fixture(scope="module")
def pushed(server: OwnServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Push with the server SIGKILLed midway, restart it, push again (kept for later tests)."""
    out = write_release(tmp_path_factory.mktemp("faults"))
    ids = sorted(row["id"] for row in read_articles(out))
    env = cli_env(server)
    client = connect(server.url, server.api_key)

    push = toolkit_cli("push", str(out), "--batch-size", "4", env=env)
    pid, landed = None, 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and push.poll() is None and landed < 12:
        found = find_projects(client, TITLE)
        if found:
            pid = found[0]
            landed = client.sdk.projects.get(pid).task_number or 0
        time.sleep(0.05)
    assert push.poll() is None, "the push ended before the server could be killed"
    server.kill()
    stdout, stderr = push.communicate(timeout=300)

    server.start()
    assert pid is not None
    partial = article_counts(server, pid)
    rerun = toolkit_cli("push", str(out), "--batch-size", "50", "--json", env=env)
    rerun_out, rerun_err = rerun.communicate(timeout=600)
    return {
        "out": out,
        "ids": ids,
        "project_id": pid,
        "killed_push": (push.returncode, stdout, stderr),
        "partial": partial,
        "rerun": (rerun.returncode, rerun_out, rerun_err),
    }


def test_push_fails_clearly_when_the_server_dies(server: OwnServer, pushed: dict) -> None:
    code, stdout, stderr = pushed["killed_push"]
    assert code == 1, stderr
    assert stderr.splitlines()[-1].startswith(f"Error: cannot reach Label Studio at {server.url}")
    assert "Traceback" not in stderr and server.api_key not in stdout + stderr


def test_rerun_after_restart_leaves_every_article_exactly_once(pushed: dict) -> None:
    partial = pushed["partial"]
    assert 12 <= sum(partial.values()) < ARTICLES  # the kill landed mid-push
    assert set(partial.values()) == {1}  # a batch cut by the crash did not half-land twice
    code, stdout, stderr = pushed["rerun"]
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["project_id"] == pushed["project_id"]
    assert summary["already_present"] == sum(partial.values())
    assert summary["created"] + summary["already_present"] == ARTICLES
    assert summary["duplicated"] == {}


def test_after_everything_each_article_is_in_the_project_once(
    server: OwnServer, pushed: dict
) -> None:
    counts = article_counts(server, pushed["project_id"])
    assert sorted(counts) == pushed["ids"] and set(counts.values()) == {1}


@pytest.fixture(scope="module")
def labelled(server: OwnServer, pushed: dict) -> dict:
    """A few annotations, then a clean pull: the tables every faulty pull must reproduce."""
    out, pid = pushed["out"], pushed["project_id"]
    texts = {row["id"]: row["text"] for row in read_articles(out)}
    http = httpx.Client(base_url=server.url, headers={"Authorization": f"Token {server.api_key}"})
    tasks = http.get("/api/tasks/", params={"project": pid, "page_size": 1000}).json()["tasks"]
    for task in sorted(tasks, key=lambda t: t["id"])[:6]:
        text = texts[task["meta"]["article_id"]]
        start = text.index("Rusia")
        result = [
            {"id": "r1", "from_name": ENTITY_CONTROL, "to_name": "text", "type": "labels",
             "value": {"start": start, "end": start + 5, "text": "Rusia", "labels": ["GPE"]}},
            {"id": "d1", "from_name": "stance_rusia", "to_name": "text", "type": "choices",
             "value": {"choices": ["NONE"]}},
        ]  # fmt: skip
        made = http.post(f"/api/tasks/{task['id']}/annotations/", json={"result": result})
        assert made.status_code == 201, made.text
    first = pull(out, project=TITLE, url=server.url, api_key=server.api_key)
    assert first.release.version is not None and len(first.tables.rows.entities) == 6
    return {"out": out, "tables": first.tables.tables, "version": first.release.version,
            "key": server.api_key}  # fmt: skip


def same_tables(result, labelled: dict) -> None:
    assert result.release.unchanged and current_version(labelled["out"]) == labelled["version"]
    assert result.tables.tables.keys() == labelled["tables"].keys()
    for name, table in result.tables.tables.items():
        assert table.equals(labelled["tables"][name]), name


def via(proxy: ThreadingHTTPServer, labelled: dict, **options: float):
    """Pull through the proxy, two tasks per export request (many requests)."""
    return pull(
        labelled["out"],
        project=TITLE,
        url=proxy.url,
        api_key=labelled["key"],
        page_size=2,
        client_options=options,
    )


def test_5xx_then_recovery_is_retried_and_gives_the_same_tables(
    server: OwnServer, labelled: dict, proxy: ThreadingHTTPServer
) -> None:
    proxy.fail = 3
    result = via(proxy, labelled, retries=4, backoff=0.05, timeout=30.0)
    same_tables(result, labelled)
    assert proxy.log[:4] == ["503", "503", "503", "200"]


def test_persistent_5xx_gives_up_after_the_bound_with_a_clear_error(
    server: OwnServer, labelled: dict, proxy: ThreadingHTTPServer
) -> None:
    proxy.fail = 10**6
    with pytest.raises(StudioError) as err:
        via(proxy, labelled, retries=2, backoff=0.05, timeout=30.0)
    message = str(err.value)
    assert message.startswith(f"Label Studio at {proxy.url} failed (HTTP 503) while trying to")
    assert "restarting" in message and server.api_key not in message
    assert proxy.log == ["503"] * 3  # one try and two retries, then stop
    assert current_version(labelled["out"]) == labelled["version"]
    assert validate(labelled["out"]) == []
    same_tables(pull(labelled["out"], project=TITLE, url=server.url, api_key=server.api_key),
                labelled)  # fmt: skip


def test_stalls_time_out_are_retried_then_reported(
    server: OwnServer, labelled: dict, proxy: ThreadingHTTPServer
) -> None:
    proxy.stall, proxy.stall_for = 2, 2.0
    same_tables(via(proxy, labelled, retries=3, backoff=0.05, timeout=1.0), labelled)
    assert proxy.log[:2] == ["stalled", "stalled"]

    proxy.log.clear()
    proxy.stall = 10**6
    with pytest.raises(StudioError, match=r"timed out while trying to check the API key") as err:
        via(proxy, labelled, retries=1, backoff=0.05, timeout=0.5)
    assert server.api_key not in str(err.value)
    time.sleep(2.5)  # let the stalled handlers finish before the proxy shuts down
    assert proxy.count >= 2 and current_version(labelled["out"]) == labelled["version"]


def test_server_restarted_in_the_middle_of_a_pull(
    server: OwnServer, labelled: dict, proxy: ThreadingHTTPServer
) -> None:
    """The server is SIGKILLed just before the 6th request (the pull is paging through
    the tasks) and started again; the pull rides it out on its retries."""
    restarted: list[object] = []

    def restart() -> None:
        try:
            server.start()
            restarted.append("up")
        except Exception as exc:  # reported by the assertion below, not lost in a thread
            restarted.append(exc)

    def crash_then_restart(n: int) -> None:
        if n == 6:
            server.kill()
            threading.Thread(target=restart, daemon=True).start()

    proxy.on_request = crash_then_restart
    # Retries wait 1, 2, 4 ... 128 s: up to ~4 minutes for the server to come back.
    result = via(proxy, labelled, retries=8, backoff=1.0, timeout=60.0)
    assert restarted == ["up"] and "dropped" in proxy.log
    same_tables(result, labelled)
