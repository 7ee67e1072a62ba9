"""Push a release to Label Studio: one task per article, idempotent and resumable.

Each task carries the article id and the hash of its text in `meta`, so the project itself
records what was pushed. A push lists what the project holds, imports only the articles it
lacks (in batches, each atomic on the server), and reports articles whose text changed
since they were pushed without touching their tasks or annotations. A push killed midway
is simply run again: the rerun lists the project afresh and each article ends up once.

Listing a large project costs about as much as importing it (the server serialises every
task), so an unchanged re-push would be slow. After a successful push we therefore keep a
listing cache keyed by a cheap signature of the project's task set (task count, newest task
id and its article id); when the signature still matches, the cache stands in for the
listing. Any import or deletion through other means changes the signature. The cache's
first line also holds a digest of the (article id, text hash) pairs the project holds: when
it equals the release's, the re-push is done without loading the task map. An unchanged
10k re-push is then three requests (project lookup, two for the signature) plus reading two
columns.

Pushes at once. Two pushes of one release to one project, each listing the project before
the other's import lands, would both import every article. On one machine a lock (keyed
by server and project title, in the cache folder) makes the second wait. Across machines
no local lock helps, so every push that imported something checks afterwards: if the
project holds more tasks than it counted, it lists the project and deletes, per article,
every task a toolkit push made (`push_id` in meta) that has no annotation, prediction or
skip and is not the article's oldest task. Each push applies the same rule, so whichever
checks last sees every task and the project ends with each article once; a task anyone
worked on is never deleted (reported as duplicated instead).

A task's text edited inside Label Studio no longer matches the `text_sha256` it was
pushed with: the listing reads each task's text and reports such tasks (`edited`); pull
quarantines their labels. The cache signature holds the newest `updated_at`, which any
edit (and any annotation) moves, so an edit is never hidden behind the cache.

The project is remembered by id (toolkit.studio.projects): a project renamed in the UI
is found again, never replaced by a new empty one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from toolkit.batches import batched
from toolkit.dataset.project import release_project
from toolkit.dataset.shards import ROWS_PER_GROUP
from toolkit.errors import ReleaseError, StudioError
from toolkit.studio import projects
from toolkit.studio.client import StudioClient, TransientStudioError
from toolkit.studio.display import display_date
from toolkit.studio.label_config import build_label_config
from toolkit.studio.queue import QueueSettings, apply_settings

LIST_PAGE_SIZE = 5000  # tasks per listing request: large pages, only id and meta
# Tasks per import request. Each batch is atomic on the server; 2000 articles (~9 MB) take
# about 0.6 s to import on 2 cores, and 5 requests instead of 20 for 10k articles cut the
# per-request cost that kept the push at 0.59x one raw import call.
DEFAULT_BATCH_SIZE = 2000
PROJECT_PAGE_SIZE = 100  # projects per listing request (the title filter is a substring)
MAX_IMPORT_FAILURES = 3  # consecutive transient failures of one batch before giving up
MAX_DEDUPE_ROUNDS = 5  # listings after a concurrent import, while duplicates still appear

Existing = dict[str, list[tuple[int, str | None]]]  # article id -> [(task id, text_sha256)]


@dataclass(frozen=True)
class ChangedArticle:
    """An article whose text differs from the one its task was made from (left alone)."""

    article_id: str
    task_ids: tuple[int, ...]
    pushed_sha256: str | None
    release_sha256: str


@dataclass(frozen=True)
class EditedTask:
    """A task whose text was edited inside Label Studio after the push (pull quarantines
    its labels as `task-text-edited`)."""

    article_id: str
    task_id: int


@dataclass
class PushResult:
    url: str
    project_id: int
    project_title: str
    dataset_version: str
    project_created: bool = False
    config_updated: bool = False
    created: int = 0
    already_present: int = 0
    changed: list[ChangedArticle] = field(default_factory=list)
    # Article ids held by more than one task (made outside the toolkit): reported, kept.
    duplicated: dict[str, list[int]] = field(default_factory=dict)
    used_cache: bool = False
    settings_updated: list[str] = field(default_factory=list)  # queue/instruction fields set
    edited: list[EditedTask] = field(default_factory=list)
    # Tasks this push deleted: duplicates a concurrent push made (see the module doc).
    duplicates_removed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PushEvent:
    """stage: waiting, project, listing, listed, importing, imported, deduplicated or done
    (with the result)."""

    stage: str
    done: int = 0
    total: int = 0
    message: str = ""
    result: PushResult | None = None


# ---------------------------------------------------------------- reading the release


def _release_reader() -> Any:
    from toolkit.dataset import release

    return release


def task_for(row: dict[str, Any], version: str, push_id: str | None = None) -> dict[str, Any]:
    """The Label Studio task for one `articles` row. Every variable the config reads is
    present (empty string for a missing title or date): the server refuses tasks without."""
    published = row.get("published_at")
    if published is not None and not isinstance(published, str):
        published = published.isoformat()
    return {
        "data": {
            "text": row["text"],
            "title": row.get("title") or "",
            "publisher": row.get("publisher") or "",
            "published_at": published or "",
            "published_display": display_date(published),
            "url": row.get("url") or "",
            "article_id": row["id"],
        },
        "meta": {
            "article_id": row["id"],
            "text_sha256": row["text_sha256"],
            "dataset_version": version,
            **({"push_id": push_id} if push_id else {}),
        },
    }


def release_tasks(release_dir: Path) -> tuple[str, str, dict[str, dict[str, Any]]]:
    """(dataset name, version, article id -> task) for a release directory."""
    name, version, hashes = release_index(release_dir)
    return name, version, load_tasks(release_dir, set(hashes), version)


def release_index(release_dir: Path) -> tuple[str, str, dict[str, str]]:
    """(dataset name, version, article id -> text_sha256), reading only those two columns:
    an unchanged re-push needs nothing more, and article texts are most of the bytes."""
    release = _release_reader()
    name, version = release.dataset_name(release_dir), release.current_version(release_dir)
    ids: list[str] = []
    shas: list[str] = []
    for batch in _batches(release_dir, ["id", "text_sha256"]):
        ids += batch.column("id").to_pylist()
        shas += batch.column("text_sha256").to_pylist()
    hashes = dict(zip(ids, shas, strict=True))
    if len(hashes) < len(ids):
        twice = next(a for a, n in Counter(ids).items() if n > 1)
        raise ReleaseError(f"{release_dir}: article id {twice!r} occurs twice")
    return name, version, hashes


_TASK_COLUMNS = ["id", "text", "title", "publisher", "published_at", "url", "text_sha256"]


def load_tasks(release_dir: Path, ids: set[str], version: str) -> dict[str, dict[str, Any]]:
    """Tasks for the articles `ids` of the release, in release order."""
    batches = task_batches(release_dir, ids, version, ROWS_PER_GROUP)
    return {article_id: task for batch in batches for article_id, task in batch}


def task_batches(
    release_dir: Path, ids: set[str], version: str, size: int, push_id: str | None = None
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(article id, task) of the articles `ids`, in release order, `size` at a time: the
    texts of one batch are in memory, not all (100k articles: ~0.5 GB of Python text)."""
    if not ids:
        return
    wanted = pa.array(sorted(ids), type=pa.string())
    picked = (
        row
        for rows in _batches(release_dir, _TASK_COLUMNS)
        for row in rows.filter(pc.is_in(rows.column("id"), value_set=wanted)).to_pylist()
    )
    tasks = ((row["id"], task_for(row, version, push_id)) for row in picked)
    yield from batched(tasks, size)


def _batches(release_dir: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The `articles` rows of the release (all splits), only `columns`, a row group's
    worth at a time."""
    release = _release_reader()
    for files in release.config_files(release_dir, "articles").values():
        for path in files:
            try:
                parquet = pq.ParquetFile(path)
                yield from parquet.iter_batches(
                    batch_size=ROWS_PER_GROUP, columns=columns, use_threads=False
                )
            except (OSError, pa.ArrowInvalid) as exc:
                raise ReleaseError(f"cannot read {path}: {exc}") from None


# ---------------------------------------------------------------- the project


def _projects_titled(
    client: StudioClient, title: str, include: str = "id,title,label_config"
) -> list[Any]:
    """Projects whose title is exactly `title` (the `include` fields only), oldest first."""

    def listing() -> list[Any]:  # the title filter is a substring search: keep exact matches
        pager = client.sdk.projects.list(title=title, page_size=PROJECT_PAGE_SIZE, include=include)
        found = list(pager.items or [])
        # Iterating the SDK's pager asks for one page past the last (a 404 that costs the
        # server as much as a page: 60 ms of a 0.3 s re-push); `next` says whether one exists.
        while pager is not None and pager.response is not None and pager.response.next:
            pager = pager.next_page()
            if pager is not None:
                found.extend(pager.items or [])
        return [p for p in found if p.title == title]

    return sorted(client.call("list projects", listing), key=lambda p: p.id)


def find_projects(client: StudioClient, title: str) -> list[int]:
    """Ids of the projects whose title is exactly `title`, oldest first."""
    return [int(p.id) for p in _projects_titled(client, title)]


def ensure_project(
    client: StudioClient, title: str, label_config: str, project: Any = None
) -> tuple[int, bool, bool]:
    """Find the project by title (or take `project`, found by id) or create it; bring its
    label config up to date.

    Returns (project id, created, config updated). The server validates the config on
    create and update; its refusal (an invalid config, or annotations that use a label the
    new config drops) surfaces as a StudioError with the server's own explanation.
    """
    projects_found = [project] if project is not None else _projects_titled(client, title)
    ids = [int(p.id) for p in projects_found]
    if len(ids) > 1:
        raise StudioError(
            f"{len(ids)} projects at {client.url} are titled {title!r} (ids "
            f"{', '.join(map(str, ids))}): rename or delete all but one, or pass --project"
        )
    if not ids:
        return _create_project(client, title, label_config), True, False
    pid = ids[0]
    if (projects_found[0].label_config or "").strip() == label_config.strip():
        return pid, False, False
    # PATCH alone accepts a config that orphans existing labels; /validate/ checks them.
    try:
        client.call(
            f"check the new labeling config against project {pid}",
            client.sdk.projects.validate_label_config,
            pid,
            label_config=label_config,
        )
    except TransientStudioError:
        raise
    except StudioError as exc:
        raise StudioError(
            f"the labeling config generated from the dataset's label scheme differs from "
            f"project {pid}'s and the server refuses it (existing annotations probably use a "
            f"label or choice it drops: keep it in dataset.yaml's labels, or remove those "
            f"annotations first). Server said: {exc}"
        ) from None
    client.call(
        f"update the labeling config of project {pid}",
        client.sdk.projects.update,
        pid,
        label_config=label_config,
    )
    return pid, False, True


def _create_project(client: StudioClient, title: str, label_config: str) -> int:
    """Create the project. Pushes creating it at once (or a create that was answered 500,
    or sent twice, yet made its project) leave several projects with the title: everyone
    uses the oldest, and the newer ones without a task are deleted by whoever sees them."""
    failed, pid = None, None
    try:
        project = client.call(
            f"create project {title!r}",
            client.sdk.projects.create,
            title=title,
            label_config=label_config,
            description="Entity and stance annotation of news articles (news-annotation-toolkit).",
            idempotent=False,
        )
        pid = int(project.id)
    except TransientStudioError as exc:  # it may have been made all the same: look
        failed = exc
    titled = _projects_titled(client, title, _COUNTED)
    for attempt in range(MAX_DEDUPE_ROUNDS):  # a listing without our own project is stale
        if pid is None or pid in {int(p.id) for p in titled}:
            break
        time.sleep(client.backoff * 2**attempt)
        titled = _projects_titled(client, title, _COUNTED)
    if not titled:
        if failed is not None:
            raise failed
        return int(pid or 0)
    for extra in titled[1:]:
        if not getattr(extra, "task_number", None):
            _delete_project(client, int(extra.id))
    return int(titled[0].id)


_COUNTED = "id,title,task_number"


def _delete_project(client: StudioClient, pid: int) -> None:
    """Delete a project made twice (a concurrent push may have deleted it already)."""
    try:
        client.call(f"delete project {pid}, made twice", client.sdk.projects.delete, pid)
    except StudioError as exc:
        if getattr(exc, "status_code", None) != 404:
            raise


# ---------------------------------------------------------------- what the project holds


def list_query(ordering: str = "tasks:id", filters: Sequence[dict[str, Any]] = ()) -> str:
    """A task listing's `query`: an ordering (stable pages while we read) and Data
    Manager filters, if any."""
    query: dict[str, Any] = {"ordering": [ordering]}
    if filters:
        query["filters"] = {"conjunction": "and", "items": list(filters)}
    return json.dumps(query)


def task_page(
    client: StudioClient, pid: int, page: int, size: int, query: str | None,
    include: str = "id,meta", fields: str = "task_only", what: str | None = None,
) -> Any:  # fmt: skip
    """One page of the project's tasks (the SDK's pager: `.items`, `.response.total`);
    `what` names the call in errors."""
    return client.call(
        what or f"list the tasks of project {pid}",
        client.sdk.tasks.list,
        project=pid,
        fields=fields,
        include=include,
        page=page,
        page_size=size,
        query=query,
        resolve_uri=False,
    )


def task_pages(
    client: StudioClient, pid: int, include: str, page_size: int = LIST_PAGE_SIZE, *,
    fields: str = "task_only", filters: Sequence[dict[str, Any]] = (),
) -> Iterator[tuple[int, list[Any]]]:  # fmt: skip
    """(task count, one page of tasks with the `include` fields), oldest task first; only
    the tasks passing `filters`."""
    listed, page, total = 0, 1, None
    query = list_query(filters=filters)
    while total is None or listed < total:
        try:
            pager = task_page(client, pid, page, page_size, query, include, fields)
        except StudioError as exc:
            if getattr(exc, "status_code", None) == 404 and page > 1:
                break  # the server answers 404 past the last page
            raise
        items = pager.items or []
        total = int(pager.response.total or 0) if pager.response is not None else 0
        listed += len(items)
        yield total, items
        if len(items) < page_size:
            break
        page += 1


def _meta(task: Any) -> dict[str, Any]:
    return task.meta if isinstance(task.meta, dict) else {}


def text_edited(task: Any) -> bool:
    """The task's text no longer hashes to the `text_sha256` it was pushed with."""
    pushed = _meta(task).get("text_sha256")
    data = task.data if isinstance(getattr(task, "data", None), dict) else {}
    text = data.get("text")
    if not isinstance(pushed, str):
        return False  # not made by a push: nothing to compare with
    return not isinstance(text, str) or hashlib.sha256(text.encode()).hexdigest() != pushed


def list_existing(
    client: StudioClient,
    pid: int,
    page_size: int = LIST_PAGE_SIZE,
    edited: list[EditedTask] | None = None,
) -> Iterator[tuple[int, int, Existing]]:
    """Page through the project's tasks (id and meta only), yielding (listed, total, map).
    With `edited`, the texts are read too and tasks whose text was edited are added to it."""
    existing: Existing = {}
    listed, total = 0, None
    include = "id,meta" if edited is None else "id,meta,data"
    for total, items in task_pages(client, pid, include, page_size):
        for task in items:
            meta = _meta(task)
            # Tasks made outside the toolkit (no article id) are kept under "": counted, kept.
            article_id = str(meta.get("article_id") or "")
            existing.setdefault(article_id, []).append((int(task.id), meta.get("text_sha256")))
            if edited is not None and text_edited(task):
                edited.append(EditedTask(article_id, int(task.id)))
        listed += len(items)
        yield listed, total, existing
    if total is None:
        yield 0, 0, existing


def _last(listing: Iterator[tuple[int, int, Existing]]) -> Existing:
    existing: Existing = {}
    for _, _, existing in listing:  # noqa: B007 - the last yield holds the full map
        pass
    return existing


def _signature(client: StudioClient, pid: int) -> list[Any]:
    """Cheap fingerprint of the task set: count, newest task id and its article id, and
    the newest `updated_at` (moved by an edit of a task's text, or an annotation)."""
    newest_first = list_query("-tasks:id")
    pager = task_page(client, pid, 1, 1, newest_first)
    items = pager.items or []
    total = int(pager.response.total or 0) if pager.response is not None else 0
    if not items:
        return [total, None, None, None]
    meta = _meta(items[0])
    touched = list_query("-tasks:updated_at")
    latest = (task_page(client, pid, 1, 1, touched, "id,updated_at").items or [None])[0]
    updated = getattr(latest, "updated_at", None)
    return [total, int(items[0].id), meta.get("article_id"), str(updated) if updated else None]


def _cache_file(cache_dir: Path, url: str, pid: int) -> Path:
    key = hashlib.sha256(f"{url}\n{pid}".encode()).hexdigest()[:24]
    return cache_dir / f"{key}.json"


_CACHE_FORMAT = 3  # line 1: {"format", "signature", "holds", "edited"}; line 2: Existing


def _holdings(pairs: Iterable[tuple[str, str | None]]) -> str:
    """Digest of a multiset of (article id, text hash): what a project holds, or a release."""
    joined = "\x1e".join(sorted(f"{article_id}\x1f{sha}" for article_id, sha in pairs))
    return hashlib.sha256(joined.encode()).hexdigest()


def _cache_header(path: Path) -> dict[str, Any] | None:
    try:
        with path.open(encoding="utf-8") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    ok = isinstance(header, dict) and header.get("format") == _CACHE_FORMAT
    return header if ok else None


def _cache_tasks(path: Path) -> Existing | None:
    try:
        with path.open(encoding="utf-8") as f:
            f.readline()
            raw = json.loads(f.readline())
        return {k: [(int(t), s) for t, s in v] for k, v in raw.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _save_cache(
    path: Path, signature: list[Any], existing: Existing, edited: list[EditedTask]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    holds = _holdings((a, sha) for a, held in existing.items() for _, sha in held)
    header = {
        "format": _CACHE_FORMAT,
        "signature": signature,
        "holds": holds,
        "edited": [[e.article_id, e.task_id] for e in edited],
    }
    tmp.write_text(f"{json.dumps(header)}\n{json.dumps(existing)}\n", encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- the push


def push_release(
    client: StudioClient,
    release_dir: Path,
    *,
    project_title: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    cache_dir: Path | None = None,
    annotators_per_task: int | None = None,
    instructions: str | None = None,
) -> Iterator[PushEvent]:
    """Push every article of the release as a task; yields progress, last a `done` event
    whose `result` is the PushResult. `cache_dir` enables the listing cache, the lock
    against a second push from this machine and the record of the project used (see
    above). The labeling interface comes from the label scheme the release was built
    with (its dataset.yaml); `annotators_per_task` and `instructions` (None: the project
    file's `annotation:` settings) set how the project's queue hands out tasks
    (`queue.QueueSettings`)."""
    if batch_size < 1:
        raise StudioError(f"batch size must be at least 1, not {batch_size}")
    project = release_project(Path(release_dir))
    queue = QueueSettings(  # checked before any request
        annotators_per_task or project.annotation.annotators_per_task,
        project.annotation.instructions if instructions is None else instructions,
    )
    labels = project.labels.as_dict()
    name, version, hashes = release_index(Path(release_dir))
    title = project_title or name
    lock = None
    if cache_dir is not None:
        key = hashlib.sha256(f"{client.url}\n{title}".encode()).hexdigest()[:24]
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(Path(cache_dir) / f"{key}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield PushEvent("waiting", message=f"another push to {title!r} is running: waiting")
            lock.acquire()
    try:
        yield from _push(client, Path(release_dir), name, version, hashes, project_title,
                         batch_size, cache_dir, queue, labels)  # fmt: skip
    finally:
        if lock is not None:
            lock.release()


def _push(
    client: StudioClient,
    release_dir: Path,
    name: str,
    version: str,
    hashes: dict[str, str],
    project_title: str | None,
    batch_size: int,
    cache_dir: Path | None,
    queue: QueueSettings,
    labels: dict[str, Any],
) -> Iterator[PushEvent]:
    title = project_title or name
    recorded = None
    if project_title is None:  # the project this release went to before, even renamed
        manifest = _release_reader().read_manifest(release_dir)
        recorded = projects.recorded_project(client, manifest, name, cache_dir)
    if recorded is not None:
        title = str(recorded.title or "")
    pid, created, updated = ensure_project(client, title, build_label_config(labels), recorded)
    result = PushResult(client.url, pid, title, version, created, updated)
    result.settings_updated = sorted(apply_settings(client, pid, queue, labels))
    verb = "created" if created else "found"
    renamed = f" (renamed from {name!r}; found by id)" if recorded and title != name else ""
    yield PushEvent("project", message=f"{verb} project {pid} {title!r}{renamed}")

    cache = _cache_file(cache_dir, client.url, pid) if cache_dir else None
    existing = None
    header = _cache_header(cache) if cache is not None and not created else None
    if cache is not None and header is not None and header["signature"] == _signature(client, pid):
        result.used_cache = True
        result.edited = [EditedTask(a, int(t)) for a, t in header.get("edited") or []]
        if header.get("holds") == _holdings(hashes.items()):
            # The project holds exactly this release, once each: the usual re-push, answered
            # without building the task map (10k-entry dicts cost more than the requests).
            result.already_present = len(hashes)
            n = len(hashes)
            yield PushEvent("listed", n, n, f"{n} task(s) in the project")
            yield PushEvent("importing", 0, 0, "importing 0 new article(s)")
            _remember(cache_dir, client.url, name, pid, title)
            yield PushEvent("done", message="push complete", result=result)
            return
        existing = _cache_tasks(cache)
        result.used_cache = existing is not None
    if existing is None:
        existing, result.edited = {}, []
        for listed, total, listing in list_existing(client, pid, edited=result.edited):
            existing = listing
            yield PushEvent("listing", listed, total, "listing tasks already in the project")
    listed_count = sum(len(v) for v in existing.values())
    yield PushEvent("listed", listed_count, listed_count, f"{listed_count} task(s) in the project")

    missing = [article_id for article_id in hashes if article_id not in existing]
    result.already_present = len(hashes) - len(missing)

    total = len(missing)
    push_id = uuid.uuid4().hex
    yield PushEvent("importing", 0, total, f"importing {total} new article(s)")
    done, failures = 0, 0
    for batch in task_batches(release_dir, set(missing), version, batch_size, push_id):
        size = len(batch)
        while batch:
            try:
                response = client.post_json(
                    f"import {len(batch)} tasks into project {pid}",
                    f"api/projects/{pid}/import",
                    json.dumps([task for _, task in batch]).encode(),
                    params={"return_task_ids": "true"},
                    idempotent=False,
                )
            except TransientStudioError:
                # The batch may or may not have landed: ask the project, never re-send blindly.
                failures += 1
                if failures >= MAX_IMPORT_FAILURES:
                    raise
                existing = _last(list_existing(client, pid))
                batch = [(a, task) for a, task in batch if a not in existing]
                continue
            failures = 0
            task_ids = list(response.get("task_ids") or []) if isinstance(response, dict) else []
            task_ids = task_ids or [0] * len(batch)
            for (article_id, _), task_id in zip(batch, task_ids, strict=False):
                existing[article_id] = [(int(task_id), hashes[article_id])]
            batch = []
        done += size
        yield PushEvent("imported", done, total, f"imported {done} task(s)")

    signature = None
    if total:
        # Another push may have imported the same articles meanwhile (from this machine
        # too, without a cache folder, or from another one): find and remove its twins.
        signature = _signature(client, pid)
        if signature[0] != sum(len(v) for v in existing.values()):
            signature = None
            existing, removed = remove_duplicates(client, pid, set(hashes))
            result.duplicates_removed = removed
            if removed:
                yield PushEvent(
                    "deduplicated", len(removed), len(removed),
                    f"removed {len(removed)} task(s) a concurrent push had made twice",
                )  # fmt: skip
    for article_id, held in sorted(existing.items()):
        if article_id not in hashes:
            continue
        if len(held) > 1:
            result.duplicated[article_id] = [task_id for task_id, _ in held]
        old = {sha for _, sha in held}
        if old != {hashes[article_id]}:
            result.changed.append(
                ChangedArticle(
                    article_id, tuple(t for t, _ in held), next(iter(old)), hashes[article_id]
                )
            )
    # Counted from what the project holds, so a batch that landed despite an error counts.
    result.created = sum(1 for a in hashes if a in existing) - result.already_present
    if cache is not None and not (result.used_cache and result.created == 0):
        # (A cache that stood in and saw nothing imported is still exact: no request.)
        signature = signature or _signature(client, pid)
        # Only cache a listing we know is complete: nobody else added tasks meanwhile.
        if signature[0] == sum(len(v) for v in existing.values()):
            _save_cache(cache, signature, existing, result.edited)
    _remember(cache_dir, client.url, name, pid, title)
    yield PushEvent("done", message="push complete", result=result)


def _remember(cache_dir: Path | None, url: str, name: str, pid: int, title: str) -> None:
    if cache_dir is not None:
        projects.write_state(cache_dir, url, name, pid, title)


_BUSY = "id,meta,total_annotations,cancelled_annotations,total_predictions"


def remove_duplicates(
    client: StudioClient, pid: int, article_ids: set[str]
) -> tuple[Existing, list[int]]:
    """Delete the extra tasks concurrent pushes made for one article: per article, every
    task a push made (`push_id` in meta) that nobody worked on and that is not the
    article's oldest task. Returns what the project then holds and the deleted ids.

    Every push applies this same rule after importing, so the one that looks last sees
    every task and leaves each article once, whichever order the imports landed in."""
    removed: list[int] = []
    for _ in range(MAX_DEDUPE_ROUNDS):
        existing: Existing = {}
        extra: list[int] = []
        by_article: dict[str, list[Any]] = {}
        for _, items in task_pages(client, pid, _BUSY):
            for task in items:
                meta = _meta(task)
                article_id = str(meta.get("article_id") or "")
                existing.setdefault(article_id, []).append((int(task.id), meta.get("text_sha256")))
                by_article.setdefault(article_id, []).append(task)
        for article_id, tasks in by_article.items():
            if article_id not in article_ids or len(tasks) < 2:
                continue
            oldest = min(int(t.id) for t in tasks)
            extra += [
                int(t.id)
                for t in tasks
                if int(t.id) != oldest and _meta(t).get("push_id") and not _worked_on(t)
            ]
        if not extra:
            return existing, removed
        client.call(
            f"delete {len(extra)} duplicate task(s) of project {pid}",
            client.sdk.actions.create,
            id="delete_tasks",
            project=pid,
            selected_items={"all": False, "included": extra},
        )
        removed += extra
    return _last(list_existing(client, pid)), removed


def _worked_on(task: Any) -> bool:
    fields = ("total_annotations", "cancelled_annotations", "total_predictions")
    return any(getattr(task, f, 0) for f in fields)
