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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.batches import batched
from toolkit.studio.client import StudioClient
from toolkit.studio.push import LIST_PAGE_SIZE

IMPORT_BATCH = 2000  # predictions per import request


@dataclass(frozen=True)
class TaskState:
    task_id: int
    article_id: str | None
    text_sha256: str | None
    annotations: int  # finished plus cancelled: a task anyone has answered is left alone


def _request(client: StudioClient, what: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON request (the SDK has no call for a project's model versions)."""
    content = None if body is None else json.dumps(body).encode()
    idempotent = method in ("GET", "DELETE", "PATCH")
    return client.request_json(what, method, path, content, idempotent=idempotent)


def task_states(client: StudioClient, pid: int, page_size: int = LIST_PAGE_SIZE) -> list[TaskState]:
    """Every task of the project: id, the article it holds, and how many annotations."""
    out: list[TaskState] = []
    page = 1
    order = json.dumps({"ordering": ["tasks:id"]})
    while True:
        pager = client.call(
            f"list the tasks of project {pid}",
            client.sdk.tasks.list,
            project=pid,
            fields="all",  # computes annotations_ids (task_only would leave it out)
            include="id,meta,total_annotations,cancelled_annotations,annotations_ids",
            page=page,
            page_size=page_size,
            query=order,
            resolve_uri=False,
        )
        items = pager.items or []
        for task in items:
            meta = task.meta if isinstance(task.meta, dict) else {}
            answered = max(
                int(task.total_annotations or 0) + int(task.cancelled_annotations or 0),
                _count_ids(getattr(task, "annotations_ids", None)),
            )
            out.append(
                TaskState(int(task.id), meta.get("article_id"), meta.get("text_sha256"), answered)
            )
        total = int(getattr(pager.response, "total", 0) or 0)
        if len(items) < page_size or len(out) >= total:
            return out
        page += 1


def _count_ids(ids: Any) -> int:
    """The task's annotation ids as the server lists them (a list, or "1,2" on SQLite).
    They come from the annotations themselves: the task's counters were seen at 0 on tasks
    with annotations (fixed only by the server's next recount), so they are not enough."""
    if isinstance(ids, str):
        return len([i for i in ids.split(",") if i.strip()])
    return len(ids) if isinstance(ids, list | tuple) else 0


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


def delete_versions(client: StudioClient, pid: int, prefix: str) -> dict[str, int]:
    """Delete every prediction whose model version starts with `prefix` (the toolkit's own);
    returns version -> predictions deleted. Annotations are never touched."""
    deleted = {}
    for version, n in sorted(model_versions(client, pid).items()):
        if version.startswith(prefix):
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
    client: StudioClient, pid: int, predictions: Sequence[dict[str, Any]]
) -> Iterator[int]:
    """Import predictions ({task, result, score, model_version}) in batches; yields the
    number imported so far."""
    done = 0
    for batch in batched(predictions, IMPORT_BATCH):
        client.post_json(
            f"import {len(batch)} predictions into project {pid}",
            f"api/projects/{pid}/import/predictions",
            json.dumps(batch).encode(),
            idempotent=False,
        )
        done += len(batch)
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
