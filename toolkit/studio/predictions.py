"""Predictions in a Label Studio project: which tasks are still unannotated, replacing the
toolkit's own earlier predictions, and showing them to annotators (network side only;
the predictions themselves are made in toolkit.labels.suggest_release).

Measured on Label Studio 1.23: predictions import in bulk through
`POST /api/projects/ID/import/predictions` (one request per batch); a model version's
predictions are deleted in one request through `DELETE /api/projects/ID/model-versions/`
(annotations made from them keep their results; the server only unlinks
`parent_prediction`). The labeling interface pre-fills a task with the prediction of
the project's `model_version` when `show_collab_predictions` is on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from toolkit.batches import batched
from toolkit.studio.client import StudioClient
from toolkit.studio.push import (
    LIST_PAGE_SIZE,
    list_query,
    task_page,
    task_pages,
    text_edited,
)

IMPORT_BATCH = 2000  # predictions per import request


@dataclass(frozen=True)
class TaskState:
    task_id: int
    article_id: str | None
    text_sha256: str | None
    annotations: int  # finished plus cancelled: a task anyone has answered is left alone
    model_versions: frozenset[str] = field(default_factory=frozenset)  # of its predictions
    edited: bool = False  # its text no longer hashes to the text_sha256 it was pushed with


def _request(client: StudioClient, what: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON request (the SDK has no call for a project's model versions)."""
    content = None if body is None else json.dumps(body).encode()
    idempotent = method in ("GET", "DELETE", "PATCH")
    return client.request_json(what, method, path, content, idempotent=idempotent)


def _filter(column: str, operator: str, value: Any) -> dict[str, Any]:
    """One Data Manager filter. `annotations_ids` "empty" is a join on the annotations
    themselves (any, cancelled included); the model versions' filters are joins on the
    predictions: neither computes anything per task."""
    return {"filter": f"filter:tasks:{column}", "operator": operator, "value": value,
            "type": "List"}  # fmt: skip


def answered(yes: bool = True) -> dict[str, Any]:
    return _filter("annotations_ids", "empty", not yes)


def holding(version: str, yes: bool = True) -> dict[str, Any]:
    return _filter("predictions_model_versions", "contains" if yes else "not_contains", [version])


def task_states(
    client: StudioClient,
    pid: int,
    page_size: int = LIST_PAGE_SIZE,
    *,
    filters: Sequence[dict[str, Any]] = (),
) -> list[TaskState]:
    """The project's tasks (those passing `filters`): id, the article it holds, how many
    annotations, its predictions' model versions, and whether its text was edited in
    Label Studio (the texts are read for that: an edited task must not get spans at the
    pushed offsets). Label Studio loads every listed task's predictions (~1.2 ms a task
    once each holds a 65-region one, against ~0.4 ms without): filter where you can."""
    out: list[TaskState] = []
    include = (
        "id,meta,data,total_annotations,cancelled_annotations,annotations_ids,"
        "predictions_model_versions"
    )
    # fields="all" computes annotations_ids (task_only would leave it out)
    for _, items in task_pages(client, pid, include, page_size, fields="all", filters=filters):
        for task in items:
            meta = task.meta if isinstance(task.meta, dict) else {}
            answers = max(
                int(task.total_annotations or 0) + int(task.cancelled_annotations or 0),
                _count_ids(getattr(task, "annotations_ids", None)),
            )
            versions = _split_versions(getattr(task, "predictions_model_versions", None))
            out.append(
                TaskState(
                    int(task.id), meta.get("article_id"), meta.get("text_sha256"), answers,
                    versions, text_edited(task),
                )
            )  # fmt: skip
    return out


def count_tasks(client: StudioClient, pid: int, filters: Sequence[dict[str, Any]] = ()) -> int:
    """How many tasks pass `filters` (the listing's total, one task loaded)."""
    what = f"count the tasks of project {pid}"
    pager = task_page(client, pid, 1, 1, list_query(filters=filters), "id", what=what)
    return int(getattr(pager.response, "total", 0) or 0)


def _count_ids(ids: Any) -> int:
    """The task's annotation ids as the server lists them (a list, or "1,2" on SQLite).
    They come from the annotations themselves: the task's counters were seen at 0 on tasks
    with annotations (fixed only by the server's next recount), so they are not enough."""
    if isinstance(ids, str):
        return len([i for i in ids.split(",") if i.strip()])
    return len(ids) if isinstance(ids, list | tuple) else 0


def _split_versions(listed: Any) -> frozenset[str]:
    """The model versions of a task's predictions as the Data Manager lists them: one
    string, comma-joined and unquoted ("a,b" on SQLite, "a, b" on PostgreSQL)."""
    if isinstance(listed, list | tuple):
        return frozenset(str(v) for v in listed if v)
    if not isinstance(listed, str):
        return frozenset()
    return frozenset(v.strip() for v in listed.split(",") if v.strip())


def model_versions(client: StudioClient, pid: int) -> dict[str, int]:
    """Model version -> number of predictions in the project."""
    answer = _request(
        client,
        f"list the model versions of project {pid}",
        "GET",
        f"api/projects/{pid}/model-versions/",
    )
    if isinstance(answer, dict):
        return {str(k): int(v) for k, v in answer.items()}
    return {}


def delete_versions(
    client: StudioClient, pid: int, prefix: str, *, keep: str | None = None
) -> dict[str, int]:
    """Delete every prediction whose model version starts with `prefix` (the toolkit's own)
    but `keep`; returns version -> predictions deleted. Annotations are never touched."""
    deleted = {}
    for version, n in sorted(model_versions(client, pid).items()):
        if version.startswith(prefix) and version != keep:
            _request(
                client,
                f"delete the predictions of {version!r} in project {pid}",
                "DELETE",
                f"api/projects/{pid}/model-versions/",
                {"model_version": version},
            )
            deleted[version] = n
    return deleted


def import_predictions(
    client: StudioClient, pid: int, predictions: Iterable[dict[str, Any]]
) -> Iterator[int]:
    """Import predictions ({task, result, score, model_version}) in batches; yields the
    number imported so far. `predictions` may be a lazy iterable: the next batch is made
    and encoded here while the server stores the previous one (one request in flight, so
    the caller's work and the server's overlap on two cores)."""
    done = 0
    pending: tuple[Future[Any], int] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="predictions") as pool:
        for batch in batched(predictions, IMPORT_BATCH):
            body = json.dumps(batch).encode()
            if pending is not None:
                pending[0].result()
                done += pending[1]
                yield done
            future = pool.submit(
                client.post_json,
                f"import {len(batch)} predictions into project {pid}",
                f"api/projects/{pid}/import/predictions",
                body,
                idempotent=False,
            )
            pending = (future, len(batch))
        if pending is not None:
            pending[0].result()
            done += pending[1]
            yield done


def show_predictions(client: StudioClient, pid: int, model_version: str) -> None:
    """Annotators see the predictions of `model_version` pre-filled in the interface."""
    client.call(
        f"show predictions {model_version!r} in project {pid}",
        client.sdk.projects.update,
        pid,
        show_collab_predictions=True,
        model_version=model_version,
    )
