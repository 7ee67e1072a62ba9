"""Suggestions served lazily: a Label Studio ML backend answering from a release's gold.

`toolkit suggest` posts a prediction to every unannotated task at once, and Label Studio
1.23 takes ~2-4 ms of server time per prediction to import them. Label Studio's own
answer for large projects is an ML backend: once one is connected and the project shows
predictions (`show_collab_predictions`) or evaluates them automatically, opening a task
that has no prediction (GET /api/tasks/ID, the Data Manager's page of tasks) makes the
server ask the backend for it and store what comes back. So a task costs only when an
annotator reaches it, and "suggest" is just the time to start this server.

What Label Studio 1.23 sends (label_studio/ml/api_connector.py, ml/models.py):
- `GET /health`, then `POST /setup` ({project, schema, hostname, access_token,
  extra_params}; answered with {"model_version"}) before every prediction request. The
  access token in /setup is the project owner's: it is read by nobody here and never
  logged;
- `POST /predict` {tasks: [task with data, meta, annotations...], project, label_config,
  params}: answered with {"results": [one item per task, in order]}, an item being one
  prediction {result, score, model_version} or a list of them (an empty list: none for
  that task, which the server accepts without storing anything);
- `POST /webhook`: the project's events (the server registers `<url>/webhook` when the
  backend is connected); acknowledged and ignored.

The predictions are made by exactly the bulk path's code (`read_gold`, `Suggester`,
`prediction_result` of toolkit.labels.suggest_release) with its model version, so a task
gets the same prediction either way. The gold, the gazetteer and the model are prepared
once at start (a `Suggester`); a request costs the gazetteer and propagation over its
tasks' texts.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from toolkit.dataset.project import release_project
from toolkit.dataset.schema import LabelScheme, use_scheme
from toolkit.errors import ToolkitError
from toolkit.labels.suggest_release import (
    MODEL_VERSION_PREFIX,
    NOT_EVALUATED,
    ReleaseGold,
    Suggester,
    current_version,
    model_choice,
    prediction_result,
    read_gold,
)
from toolkit.studio import ml_backend, predictions
from toolkit.studio.client import StudioClient, connect
from toolkit.studio.fetch import find_project
from toolkit.studio.ml_backend import BackendConnection

MAX_BODY = 256 * 1024 * 1024  # a /predict of a Data Manager page of long articles fits

# why a task got no prediction (counted in Predictor.counts)
SUGGESTED, ANNOTATED, NOT_IN_RELEASE, NOTHING_FOUND, ERROR = (
    "suggested",
    "annotated",
    "not in release",
    "nothing found",
    "error",
)


def _answered(task: Mapping[str, Any]) -> bool:
    """Whether anyone answered the task (finished or cancelled): the task's annotations
    as sent, and its counters, either one."""
    counters = int(task.get("total_annotations") or 0) + int(task.get("cancelled_annotations") or 0)
    return bool(task.get("annotations")) or counters > 0


@dataclass
class Predictor:
    """The release's gold, prepared once; `predict` answers a /predict request's tasks."""

    suggester: Suggester  # the gazetteer, stance proposals, the model trained once
    scheme: LabelScheme | None = None  # the release's: its stance targets, label names
    model_choice: str = NOT_EVALUATED
    # the suggester's, or an equal-digest one the project already shows (see `serving`)
    model_version: str = ""
    counts: Counter[str] = field(default_factory=Counter)  # tasks seen, by outcome
    last_error: str | None = None  # of a failed /predict (the client sees its type only)
    requests: int = 0  # /predict requests answered
    busy_seconds: float = 0.0  # spent making their predictions
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.model_version = self.model_version or self.suggester.model_version

    @property
    def data(self) -> ReleaseGold:
        return self.suggester.data

    def article_of(self, task: Mapping[str, Any]) -> str | None:
        """The release article a task holds, if its text is the release's: the hash it was
        pushed with and the text it shows now (edited inside Label Studio: none)."""
        meta = task.get("meta") if isinstance(task.get("meta"), dict) else {}
        article_id = meta.get("article_id")
        article = self.data.articles.get(article_id or "")
        if article is None or meta.get("text_sha256") != self.data.shas.get(article.article_id):
            return None
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        return article.article_id if data.get("text") == article.text else None

    def predict(self, tasks: Sequence[Mapping[str, Any]]) -> list[Any]:
        """One item per task: its prediction, or [] (annotated, not the release's text,
        nothing to propose)."""
        outcome: list[str] = []
        todo: dict[int, str] = {}
        for i, task in enumerate(tasks):
            article_id = None if _answered(task) else self.article_of(task)
            if article_id is not None:
                todo[i] = article_id
            outcome.append(ANNOTATED if _answered(task) else NOT_IN_RELEASE)
        # one at a time: spaCy's tokenizer (the gazetteer's boundaries) is not thread-safe.
        # The scheme is set here: a request runs in a thread of its own, which does not
        # inherit the context of the code that started the server.
        with self._lock, use_scheme(self.scheme):
            clock = time.perf_counter()
            spans = self.suggester.spans(sorted(set(todo.values())))
            results: list[Any] = []
            for i in range(len(tasks)):
                if i not in todo:
                    results.append([])
                    continue
                article = self.data.articles[todo[i]]
                stances = self.suggester.stances
                items = prediction_result(article.text, spans[todo[i]], stances)
                if not items:
                    outcome[i] = NOTHING_FOUND
                    results.append([])
                    continue
                outcome[i] = SUGGESTED
                scores = [item["score"] for item in items]
                results.append(
                    {
                        "result": items,
                        "score": round(sum(scores) / len(scores), 4),
                        "model_version": self.model_version,
                    }
                )
            self.counts.update(outcome)
            self.requests += 1
            self.busy_seconds += time.perf_counter() - clock
        return results


def prepare(
    release_dir: Path,
    *,
    model: bool = True,
    stance: bool = True,
    cache_dir: Path | None = None,
) -> Predictor:
    """Read the release's gold and train the model once (only for the types an earlier
    cross-validation in `cache_dir` chose, as `toolkit suggest` does)."""
    scheme = release_project(Path(release_dir)).labels  # as pull reads the labels
    with use_scheme(scheme):
        data = read_gold(Path(release_dir))
        if not data.gold:
            raise ToolkitError(f"{release_dir} has no gold labels to suggest from")
        choice, how = model_choice(data, cache_dir) if model else (None, "off")
        suggester = Suggester(data, choice=choice, stance=stance)
        suggester.spans([data.gold[0].article_id])  # warm-up: spaCy loads on first use (~1 s)
    return Predictor(suggester, scheme, how)


class _Handler(BaseHTTPRequestHandler):
    server: BackendServer
    protocol_version = "HTTP/1.1"  # keep-alive: the server's requests session reuses it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the library never prints; the CLI reports the counts

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError(f"request body of {n} bytes is over {MAX_BODY}")
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self) -> None:
        predictor = self.server.predictor
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/health":
            self._send(HTTPStatus.OK, {"status": "UP", "model_version": predictor.model_version})
        elif path == "/versions":
            self._send(HTTPStatus.OK, {"versions": [predictor.model_version]})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}"})

    def do_POST(self) -> None:
        predictor = self.server.predictor
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = self._body()
        except (ValueError, UnicodeDecodeError) as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": f"not a JSON body: {exc}"})
            return
        if path == "/setup":
            self._send(HTTPStatus.OK, {"model_version": predictor.model_version})
        elif path == "/predict":
            tasks = body.get("tasks") if isinstance(body, dict) else None
            if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
                self._send(HTTPStatus.BAD_REQUEST, {"error": "expected {'tasks': [task, ...]}"})
                return
            try:
                results = predictor.predict(tasks)
            except Exception as exc:  # Label Studio logs it and stores no prediction
                with predictor._lock:
                    predictor.counts[ERROR] += len(tasks)
                    predictor.last_error = f"{type(exc).__name__}: {exc}"
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": type(exc).__name__})
                return
            version = predictor.model_version
            self._send(HTTPStatus.OK, {"results": results, "model_version": version})
        elif path == "/webhook":
            self._send(HTTPStatus.OK, {})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint: {path}"})


class BackendServer(ThreadingHTTPServer):
    """The HTTP server around a Predictor. `serve_forever` in the caller's thread, or
    `start` in a background one (tests, benchmarks); `shutdown` + `server_close` stop it."""

    daemon_threads = True

    def __init__(self, predictor: Predictor, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            super().__init__((host, port), _Handler)
        except OSError as exc:
            raise ToolkitError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.predictor = predictor
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where Label Studio reaches it (a wildcard bind is reached on the loopback)."""
        host, port = self.server_address[:2]
        host = str(host)
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{port}"

    def start(self) -> BackendServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __enter__(self) -> BackendServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Serving:
    server: BackendServer
    predictor: Predictor
    connection: BackendConnection
    replaced: dict[str, int]  # the toolkit's earlier predictions deleted: version -> count
    seconds: dict[str, float]

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def serving(
    release_dir: Path,
    *,
    project: str | None = None,
    client: StudioClient | None = None,
    url: str | None = None,
    api_key: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    model: bool = True,
    stance: bool = True,
    cache_dir: Path | None = None,
) -> Iterator[Serving]:
    """Start the backend for the release's project, connect it, and disconnect and stop it
    on the way out (whatever ends the block). The toolkit's predictions of other versions
    are deleted first: a task holding any prediction is never sent to the backend."""
    clock = time.perf_counter()
    predictor = prepare(release_dir, model=model, stance=stance, cache_dir=cache_dir)
    prepared = time.perf_counter() - clock
    client = client or connect(url, api_key)
    pid = find_project(client, project or predictor.data.name)
    with BackendServer(predictor, host, port) as server:
        server.start()
        clock = time.perf_counter()
        # As `suggest` does: an equal digest's predictions and version are kept; the
        # toolkit's other versions are deleted (a task holding any prediction is never
        # sent to the backend).
        predictor.model_version = current_version(client, pid, predictor.suggester)
        replaced = predictions.delete_versions(
            client, pid, MODEL_VERSION_PREFIX, keep=predictor.model_version
        )
        connection = ml_backend.connect_backend(
            client, pid, server.url, predictor.model_version, ours=MODEL_VERSION_PREFIX
        )
        seconds = {"prepare": prepared, "connect": time.perf_counter() - clock}
        try:
            yield Serving(server, predictor, connection, replaced, seconds)
        finally:
            ml_backend.disconnect_backend(client, connection)
