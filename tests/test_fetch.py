"""Fetch over real HTTP: paging, and bounded retries on 5xx and timeouts.

A small local HTTP server plays Label Studio's export endpoints from a recorded export,
so faults (503s, hangs) can be injected exactly; the real server is in test_pull.py.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from toolkit.errors import StudioError
from toolkit.studio import fetch
from toolkit.studio.client import connect
from toolkit.studio.fetch import ExportStream, fetch_export

RECORDED = json.loads(
    (Path(__file__).parent / "recorded" / "export_two_annotators.json").read_text("utf-8")
)
KEY = "f00dfacef00dfacef00dfacef00dfacef00dface"
FAST = {"retries": 2, "backoff": 0.01, "timeout": 5.0}  # 3 attempts in all


class FakeStudio(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.server.hits.append(self.path)
        if self.server.hang:
            time.sleep(self.server.hang)
        if self.server.failures > 0:
            self.server.failures -= 1
            return self._send(503, {"detail": "restarting"})
        url = urlparse(self.path)
        query = parse_qs(url.query)
        tasks = sorted(self.server.tasks, key=lambda t: t["id"])
        if url.path == "/api/tasks/":
            page, size = int(query["page"][0]), int(query["page_size"][0])
            if "-tasks:id" in query.get("query", [""])[0]:
                tasks.reverse()
            chunk = tasks[(page - 1) * size : page * size]
            if not chunk:
                return self._send(404, {"detail": "Invalid page."})
            listed = [{"id": t["id"]} for t in chunk]
            return self._send(200, {"tasks": listed, "total": len(tasks)})
        if url.path.endswith("/export"):
            ids = set() if self.server.ignore_ids else {int(i) for i in query.get("ids[]", [])}
            if self.server.max_ids and len(ids) > self.server.max_ids:
                return self._send(414, {"detail": "Request-URI Too Long"})
            tasks = [
                t for t in tasks if (not ids or t["id"] in ids) and t["id"] != self.server.drop
            ]
            return self._send(200, tasks)
        return self._send(404, {"detail": "not found"})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture()
def fake():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeStudio)
    server.hits, server.failures, server.hang, server.ignore_ids = [], 0, 0.0, False
    server.max_ids = 0  # > 0: export requests with more ids are refused (HTTP 414)
    server.drop = None  # a task id the export leaves out
    server.tasks = RECORDED  # what the project holds (ids 5003-5005)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(server, options=FAST):
    url = f"http://127.0.0.1:{server.server_address[1]}"
    return connect(url, KEY, check=False, **options)


def test_fetch_pages_through_the_export(fake):
    tasks = fetch_export(client(fake), 7, page_size=2)
    assert tasks == RECORDED
    exports = [h for h in fake.hits if "/export" in h]
    assert len(exports) == 2  # 3 tasks, 2 per request
    assert all("ids%5B%5D=" in h or "ids[]=" in h for h in exports)
    # Dense ids: the lowest and highest task (one each) are all the listing needed.
    listings = [h for h in fake.hits if h.startswith("/api/tasks/")]
    assert len(listings) == 2 and all("page_size=1&" in h for h in listings)


def test_a_refused_long_export_request_is_split(fake):
    fake.max_ids = 1  # a proxy with a short request-line limit
    assert fetch_export(client(fake), 7, page_size=2) == RECORDED
    exports = [h for h in fake.hits if "/export" in h]
    assert len(exports) == 1 + 3  # refused with 2 ids, then one task per request


def test_transient_503s_are_retried(fake):
    fake.failures = 2
    assert fetch_export(client(fake), 7, page_size=2) == RECORDED
    assert sum(1 for h in fake.hits if h.startswith("/api/tasks/")) == 2 + 2  # 2 failed, 2 ok


def test_persistent_503_gives_up_after_the_bound_with_a_clean_error(fake):
    fake.failures = 10**6
    with pytest.raises(StudioError) as err:
        fetch_export(client(fake), 7)
    assert len(fake.hits) == 3  # one try and two retries
    assert "HTTP 503" in str(err.value) and "count the tasks of project 7" in str(err.value)
    assert KEY not in str(err.value) and err.value.__cause__ is None


def test_timeouts_are_retried_then_reported(fake):
    fake.hang = 1.0
    with pytest.raises(StudioError, match="timed out"):
        fetch_export(client(fake, {"retries": 1, "backoff": 0.01, "timeout": 0.2}), 7)
    assert len(fake.hits) == 2


def test_unreachable_server_is_a_clean_error():
    # the discard port: nothing listens
    lone = connect("http://127.0.0.1:9", KEY, check=False, retries=1, backoff=0.01, timeout=1.0)
    with pytest.raises(StudioError, match="cannot reach") as err:
        fetch_export(lone, 1)
    assert KEY not in str(err.value)


def test_an_export_that_disagrees_with_the_request_is_refused(fake):
    fake.ignore_ids = True  # a server that ignored the filter would send everything twice
    with pytest.raises(StudioError, match=r"returned tasks it was not asked for.*\[5005\]"):
        fetch_export(client(fake), 7, page_size=2)
    assert sum(1 for h in fake.hits if "/export" in h) <= 2  # stopped at the first page


def test_a_task_deleted_during_the_pull_is_refused(fake):
    fake.drop = RECORDED[1]["id"]  # counted, then gone when its page is exported
    with pytest.raises(StudioError, match="returned 2 tasks for the 3 counted"):
        fetch_export(client(fake), 7, page_size=2)


def test_gaps_in_the_ids_are_asked_for_and_skipped(fake):
    fake.tasks = [{**t, "id": i} for t, i in zip(RECORDED, (5003, 5004, 5006), strict=True)]
    assert [t["id"] for t in fetch_export(client(fake), 7, page_size=2)] == [5003, 5004, 5006]
    assert sum(1 for h in fake.hits if "/export" in h) == 2  # 5003-5004, 5005-5006


def test_sparse_ids_are_listed_not_asked_for_in_windows(fake, monkeypatch):
    # Spread over 6000 ids for 3 tasks: windows would be thousands of empty requests.
    monkeypatch.setattr(fetch, "LIST_PAGE_SIZE", 2)
    fake.tasks = [{**t, "id": i} for t, i in zip(RECORDED, (5003, 9000, 11003), strict=True)]
    assert [t["id"] for t in fetch_export(client(fake), 7, page_size=3)] == [5003, 9000, 11003]
    listings = [h for h in fake.hits if h.startswith("/api/tasks/")]
    assert len(listings) == 2 + 2  # lowest and highest, then 2 pages of 2 ids
    assert sum(1 for h in fake.hits if "/export" in h) == 1


def test_the_next_page_downloads_while_the_caller_works_on_one(fake):
    exports = lambda: sum(1 for h in fake.hits if "/export" in h)  # noqa: E731
    with ExportStream(client(fake), 7, page_size=1) as stream:
        tasks = iter(stream)
        first = next(tasks)  # the caller holds task 1 and does not ask for more
        deadline = time.monotonic() + 10
        while exports() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exports() >= 2 and first == RECORDED[0]
    assert not stream._thread.is_alive()  # closed early: the download thread is gone
