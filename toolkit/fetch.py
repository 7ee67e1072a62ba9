"""Fetch a Label Studio project's JSON export, a page of tasks per request.

Only the network side of `pull` (the transforms are in `label_tables`, tested on
recorded JSON). Every request goes through `StudioClient.call`: bounded retries with
backoff on connection errors, timeouts and 5xx, then a `StudioError` without the key.
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.errors import StudioError
from toolkit.studio_client import StudioClient

# Tasks per export request. The server pays a fixed setup per export request (100 per
# page made a 10k-task pull 2.8x the one-request export). Each id is one query field and
# Django refuses more than 1000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS: HTTP 400), so 500
# ids, an 8 KB request line. A server or proxy refusing the request as too long or with
# too many fields (HTTP 400/414/431) gets halved pages; a real 400 still surfaces at 1.
DEFAULT_PAGE_SIZE = 500
_TOO_LONG = (400, 414, 431)


def find_project(client: StudioClient, title: str) -> int:
    """The id of the one project titled `title`."""
    found = client.call(
        f"find the project {title!r}", lambda: list(client.sdk.projects.list(title=title))
    )
    exact = [p.id for p in found if p.title == title]
    if not exact:
        raise StudioError(f"no project titled {title!r} at {client.url}; run push first")
    if len(exact) > 1:
        raise StudioError(f"{len(exact)} projects are titled {title!r} at {client.url}")
    return int(exact[0])


def fetch_users(client: StudioClient) -> dict[int, str]:
    """User id -> email, to name the annotator of each annotation."""
    users = client.call("list the users", lambda: list(client.sdk.users.list()))
    return {int(u.id): str(u.email or u.username or u.id) for u in users}


def task_ids(client: StudioClient, project_id: int, page_size: int) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        pager = client.call(
            f"list page {page} of the tasks of project {project_id}",
            client.sdk.tasks.list,
            project=project_id,
            page=page,
            page_size=page_size,
            fields="task_only",
            include="id",
        )
        items = pager.items or []
        ids.extend(int(t.id) for t in items)
        total = getattr(pager.response, "total", None)
        if not items or (total is not None and len(ids) >= total):
            return sorted(set(ids))
        page += 1


def fetch_export(
    client: StudioClient, project_id: int, *, page_size: int = DEFAULT_PAGE_SIZE
) -> list[dict[str, Any]]:
    """The project's JSON export (every task, annotated or not), `page_size` tasks per
    request instead of one giant response."""
    ids = task_ids(client, project_id, page_size)
    tasks: list[dict[str, Any]] = []
    i = 0
    while i < len(ids):
        chunk = [str(t) for t in ids[i : i + page_size]]

        def export(chunk: list[str] = chunk) -> list[dict[str, Any]]:
            # The SDK's own `ids=` is not understood by the server; `ids[]` is.
            options: Any = {"additional_query_parameters": {"ids[]": chunk}}
            stream = client.sdk.projects.exports.download_sync(
                project_id, export_type="JSON", download_all_tasks=True, request_options=options
            )
            return json.loads(b"".join(stream))

        try:
            tasks.extend(client.call(f"export tasks {chunk[0]}..{chunk[-1]}", export))
        except StudioError as exc:
            if getattr(exc, "status_code", None) not in _TOO_LONG or page_size == 1:
                raise
            page_size = max(1, page_size // 2)
            continue
        i += len(chunk)
    got = sorted(int(t["id"]) for t in tasks)
    if got != ids:
        raise StudioError(
            f"the export of project {project_id} returned {len(got)} tasks for the {len(ids)} "
            "listed (tasks added or removed meanwhile?); rerun pull"
        )
    return tasks
