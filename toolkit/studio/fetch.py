"""Fetch a Label Studio project's JSON export, a page of tasks per request.

Only the network side of `pull` (the transforms are in `label_tables`, tested on
recorded JSON). Every request goes through `StudioClient.call`: bounded retries with
backoff on connection errors, timeouts and 5xx, then a `StudioError` without the key.

How, and why (measured on a 10k-task project, 2 cores, Label Studio 1.23):
- The export endpoint's only filter is `ids[]`, a GET query field per id (it takes no
  POST body), and Django refuses more than 1000 fields: pages of 900 ids. A 500-id page
  costs the server the same in a 1k- or a 10k-task project (~0.8 s: ~1.7 ms per task plus
  ~70 ms per request), so paging is linear in the project size and 20 pages cost about
  one whole-project export, which would also hold every task in the server's memory
  and in ours at once.
- Which ids: the server ignores ids that are not the project's, so pages are windows of
  consecutive ids between the project's lowest and highest task id (two one-task list
  requests, which also give the count). Listing the ids instead costs the server ~0.4 ms
  per task (it loads every task's annotations): 4 s for 10k, a quarter of the export.
  Ids interleaved with other projects' (spread over more than MAX_SPREAD times the
  count) are listed, 5000 per request, rather than asked for in mostly empty windows.
- Pages are pipelined: a thread downloads page n+1 (the server serialises it on its own
  core) while the caller parses and converts page n; at most PREFETCH pages wait.
  Tasks are handed over page by page, so a 100k-task pull holds label rows, never the
  export (article texts included) of the whole project.
- Checked: a page may only hold ids it asked for, each once, and the pages together must
  hold as many tasks as the project had when the pull started (ids are never reused, so
  a task added meanwhile falls outside the windows and a deleted one leaves the count
  short). A mismatch is an error raised before the caller has anything to write.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from toolkit.errors import StudioError
from toolkit.studio.client import StudioClient
from toolkit.studio.push import (
    LIST_PAGE_SIZE,
    find_projects,
    list_query,
    task_page,
    task_pages,
)

# Ids per export request. Each id is one query field and Django refuses more than 1000
# fields (DATA_UPLOAD_MAX_NUMBER_FIELDS: HTTP 400), so 900 ids, a 15 KB request line (12
# requests for 10k tasks instead of 20 at 500: ~1 s less). A server or proxy refusing the
# request as too long or with too many fields (HTTP 400/414/431) gets halved pages; a
# real 400 still surfaces at 1.
DEFAULT_PAGE_SIZE = 900
# Export windows of consecutive ids while the project's ids span at most this many times
# its task count; beyond, the ids are listed (sparse ids would make many empty requests).
MAX_SPREAD = 2
PREFETCH = 2  # downloaded pages waiting to be parsed, at most
_TOO_LONG = (400, 414, 431)


def find_project(client: StudioClient, title: str) -> int:
    """The id of the one project titled `title`."""
    exact = find_projects(client, title)
    if not exact:
        raise StudioError(f"no project titled {title!r} at {client.url}; run push first")
    if len(exact) > 1:
        raise StudioError(f"{len(exact)} projects are titled {title!r} at {client.url}")
    return exact[0]


def fetch_users(client: StudioClient) -> dict[int, str]:
    """User id -> email, to name the annotator of each annotation."""
    users = client.call("list the users", lambda: list(client.sdk.users.list()))
    return {int(u.id): str(u.email or u.username or u.id) for u in users}


def task_ids(client: StudioClient, project_id: int, page_size: int | None = None) -> list[int]:
    """The ids of every task of the project, sorted."""
    pages = task_pages(client, project_id, "id", page_size or LIST_PAGE_SIZE)
    return sorted({int(t.id) for _, items in pages for t in items})


def _id_bound(client: StudioClient, project_id: int, ordering: str) -> tuple[int, int | None]:
    """(task count, id of the first task in `ordering`): one task listed, cheap."""
    what = f"count the tasks of project {project_id}"
    pager = task_page(client, project_id, 1, 1, list_query(ordering), "id", what=what)
    items = pager.items or []
    total = int(getattr(pager.response, "total", 0) or 0)
    return total, (int(items[0].id) if items else None)


def export_plan(client: StudioClient, project_id: int) -> tuple[int, list[int] | range]:
    """(task count, the ids to ask the export for, in order)."""
    total, lowest = _id_bound(client, project_id, "tasks:id")
    _, highest = _id_bound(client, project_id, "-tasks:id")
    if not total or lowest is None or highest is None:
        return 0, []
    ids: list[int] | range = range(lowest, highest + 1)
    if len(ids) > MAX_SPREAD * total:  # ids interleaved with other projects': list them
        ids = task_ids(client, project_id)
        total = len(ids)
    return total, ids


def _download(client: StudioClient, project_id: int, chunk: Sequence[int]) -> bytes:
    def export() -> bytes:
        # The SDK's own `ids=` is not understood by the server; `ids[]` is.
        options: Any = {"additional_query_parameters": {"ids[]": [str(t) for t in chunk]}}
        stream = client.sdk.projects.exports.download_sync(
            project_id, export_type="JSON", download_all_tasks=True, request_options=options
        )
        return b"".join(stream)

    return client.call(f"export tasks {chunk[0]}..{chunk[-1]}", export)


def _pages(
    client: StudioClient, project_id: int, page_size: int, stop: threading.Event
) -> Iterator[int | tuple[Sequence[int], bytes]]:
    """The task count, then (requested ids, raw JSON) per export request, halving the
    page when the request is refused as too long."""
    total, ids = export_plan(client, project_id)
    yield total
    i = 0
    while i < len(ids) and not stop.is_set():
        chunk = ids[i : i + page_size]
        try:
            raw = _download(client, project_id, chunk)
        except StudioError as exc:
            if getattr(exc, "status_code", None) not in _TOO_LONG or page_size == 1:
                raise
            page_size = max(1, page_size // 2)
            continue
        i += len(chunk)
        yield chunk, raw


class ExportStream:
    """Every task of a project as exported (annotated or not), page by page.

    Listing and downloading start at once in a background thread; iterating parses and
    checks each page as it arrives, and raises the thread's errors (after its retries).
    Use it as a context manager, so that the thread stops however the caller ends.
    """

    _DONE = object()

    def __init__(
        self, client: StudioClient, project_id: int, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> None:
        self.project_id = project_id
        self.expected: int | None = None  # the task count, once the first page is planned
        self._pages: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(client, page_size), name="export", daemon=True
        )
        self._thread.start()

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():  # never blocks a stopped stream
            try:
                self._pages.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _produce(self, client: StudioClient, page_size: int) -> None:
        try:
            for page in _pages(client, self.project_id, page_size, self._stop):
                self._put(page)
            self._put(self._DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            expected, exported = None, 0
            while (item := self._pages.get()) is not self._DONE:
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, int):
                    expected = self.expected = item
                    continue
                chunk, raw = item
                del item
                tasks = json.loads(raw)
                del raw
                got = [int(t["id"]) for t in tasks]
                wanted = set(chunk)
                if len(set(got)) != len(got) or not wanted.issuperset(got):
                    extra = sorted(set(got) - wanted)[:5] or sorted(got)[:5]
                    raise StudioError(
                        f"the export of project {self.project_id} returned tasks it was not "
                        f"asked for, or twice (e.g. {extra}): is the server ignoring the ids "
                        "filter? Nothing was written"
                    )
                exported += len(got)
                yield from tasks
            if exported != expected:
                raise StudioError(
                    f"the export of project {self.project_id} returned {exported} tasks for "
                    f"the {expected} counted (tasks added or removed meanwhile?); rerun pull"
                )
        finally:
            self.close()

    def close(self) -> None:
        """Stop the download (a request under way finishes first)."""
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> ExportStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch_export(
    client: StudioClient, project_id: int, *, page_size: int = DEFAULT_PAGE_SIZE
) -> list[dict[str, Any]]:
    """The project's whole JSON export as one list (see `ExportStream`)."""
    with ExportStream(client, project_id, page_size=page_size) as stream:
        return list(stream)
