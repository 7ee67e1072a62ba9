"""Connecting an ML backend to a Label Studio project, and disconnecting it (network side;
the backend itself is toolkit.labels.suggest_backend).

Measured on Label Studio 1.23:
- `POST /api/ml` checks the URL (refused on a local address unless the server runs with
  `ML_BLOCK_LOCAL_IP=false`: the embedded server does, see toolkit.studio.server), calls
  the backend's /health and /setup, and registers a webhook `<url>/webhook` for every
  project event (refused on a local address by the SSRF guard: see `_register`).
  Deleting the backend leaves that webhook, so `disconnect` removes any.
- The server asks only the project's first backend (`project.ml_backend`), so a project
  keeps at most one of the toolkit's, and a backend someone else connected is an error
  rather than silently shadowing ours.
- A task without predictions is sent to the backend when it is opened (GET
  /api/tasks/ID: `show_collab_predictions` or `evaluate_predictions_automatically` on)
  and when the labeling stream hands it out (/api/projects/ID/next:
  `show_collab_predictions` on and the backend's title equal to the project's
  `model_version`). `evaluate_predictions_automatically` also sends every page of every
  task listing, the Data Manager's and the API's (push, suggest and the benchmarks list
  all tasks), which would make all predictions up front: it is kept off.
- The interface shows the predictions of the project's `model_version`; deleting a
  backend whose title is that version empties it, so the backend's title is the model
  version and `disconnect` sets it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import ProjectError, StudioError
from toolkit.studio.client import StudioClient

LOCAL_HINT = (
    "Label Studio refuses to call an ML backend on a local address unless it runs with "
    "LABEL_STUDIO_ML_BLOCK_LOCAL_IP=false; the embedded server (`toolkit studio up`) sets "
    "it: restart it with `toolkit studio down` then `toolkit studio up`"
)


@dataclass
class BackendConnection:
    project_id: int
    backend_id: int
    url: str
    model_version: str
    removed: list[int] = field(default_factory=list)  # earlier toolkit backends deleted
    reused: bool = False  # the backend was connected already (same URL)


def _json(client: StudioClient, what: str, method: str, path: str, body: Any = None) -> Any:
    content = None if body is None else json.dumps(body).encode()
    idempotent = method in ("GET", "DELETE", "PATCH")
    return client.request_json(what, method, path, content, idempotent=idempotent)


def backends(client: StudioClient, pid: int) -> list[dict[str, Any]]:
    """The project's ML backends as the server lists them (it health-checks each)."""
    answer = client.request_json(
        f"list the ML backends of project {pid}", "GET", "api/ml", params={"project": pid}
    )
    return [b for b in answer if isinstance(b, dict)] if isinstance(answer, list) else []


def _webhooks(client: StudioClient, pid: int, url: str) -> list[int]:
    answer = client.request_json(
        f"list the webhooks of project {pid}", "GET", "api/webhooks/", params={"project": pid}
    )
    hook = url.rstrip("/") + "/webhook"
    items = answer if isinstance(answer, list) else []
    return [int(w["id"]) for w in items if isinstance(w, dict) and w.get("url") == hook]


def _delete_backend(client: StudioClient, pid: int, backend: dict[str, Any]) -> None:
    _json(client, f"remove ML backend {backend['id']} from project {pid}", "DELETE",
          f"api/ml/{backend['id']}")  # fmt: skip
    for hook in _webhooks(client, pid, str(backend.get("url") or "")):
        _json(client, f"remove webhook {hook} of project {pid}", "DELETE", f"api/webhooks/{hook}/")


def _register(client: StudioClient, pid: int, url: str, title: str) -> int:
    """POST /api/ml. On a local URL, 1.23 saves the backend and then answers 403: the
    webhook it adds for it is refused by its SSRF guard (SSRF_PROTECTION_ENABLED, which
    stays on), and the exception escapes the request after the save. The backend works
    without that webhook (the toolkit's ignores webhooks), so a 403 after which the
    backend is listed is a success."""
    body = {"url": url, "project": pid, "title": title, "is_interactive": False}
    try:
        made = _json(client, f"connect the ML backend {url} to project {pid}", "POST",
                     "api/ml", body)  # fmt: skip
        return int(made["id"])
    except StudioError as exc:
        saved = [b for b in backends(client, pid) if b.get("url") == url]
        if saved:
            return int(saved[0]["id"])
        raise ProjectError(f"{exc}; {LOCAL_HINT}") from exc


def connect_backend(
    client: StudioClient, pid: int, url: str, model_version: str, *, ours: str
) -> BackendConnection:
    """Make `url` the project's ML backend, titled `model_version`, and have the project
    ask it for every task opened without a prediction and show its predictions.
    Idempotent: the toolkit's backends (titles starting with `ours`) at another URL are
    removed, one at this URL is kept. A backend not the toolkit's is an error."""
    out = BackendConnection(pid, 0, url, model_version)
    keep: dict[str, Any] | None = None
    for backend in backends(client, pid):
        title = str(backend.get("title") or "")
        if not title.startswith(ours):
            raise ProjectError(
                f"project {pid} already has an ML backend not made by the toolkit "
                f"({title!r} at {backend.get('url')}); Label Studio asks only one, so remove "
                f"it first (project settings, Model)"
            )
        if backend.get("url") == url and keep is None:
            keep = backend
        else:
            _delete_backend(client, pid, backend)
            out.removed.append(int(backend["id"]))
    if keep is not None:
        out.reused = True
        if keep.get("title") != model_version:
            _json(client, f"rename ML backend {keep['id']}", "PATCH", f"api/ml/{keep['id']}",
                  {"title": model_version})  # fmt: skip
        out.backend_id = int(keep["id"])
    else:
        out.backend_id = _register(client, pid, url, model_version)
    client.call(
        f"have project {pid} ask the ML backend for predictions",
        client.sdk.projects.update,
        pid,
        show_collab_predictions=True,
        evaluate_predictions_automatically=False,  # not on every listing: see above
        model_version=model_version,
    )
    return out


def disconnect_backend(client: StudioClient, connection: BackendConnection) -> None:
    """Remove the backend (and any webhook for it); the predictions it made stay and are
    still shown (the project's model version, which the deletion empties, is set back)."""
    pid = connection.project_id
    for backend in backends(client, pid):
        if int(backend["id"]) == connection.backend_id:
            _delete_backend(client, pid, backend)
    client.call(
        f"show the predictions {connection.model_version!r} in project {pid}",
        client.sdk.projects.update,
        pid,
        model_version=connection.model_version,
    )
