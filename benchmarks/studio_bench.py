"""Push and pull against a real Label Studio started for the run (its own data dir).

push: the toolkit's push of a 10k release, against ONE raw `import_tasks` call of the same
payload into a fresh project; then the push of the unchanged release again.
pull: 10k tasks with annotations made through the API (imported inline with the tasks,
one `import_tasks` call per 1000), pulled to tables, against the bare export download.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from toolkit import studio_server
from toolkit.label_config import build_label_config
from toolkit.pull import pull
from toolkit.push import PushEvent, PushResult, push_release, release_tasks
from toolkit.schema import label_names
from toolkit.studio_client import Connection, StudioClient

Log = Callable[[str], None]
IMPORT_TIMEOUT = 1800.0  # one call with 10k tasks: far longer than the toolkit's default
ANNOTATION_BATCH = 1000
_CAPITALISED = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?\b")


@contextmanager
def running_server(workdir: Path, log: Log) -> Iterator[StudioClient]:
    """A fresh server on a free port (shared installed venv, data dir under workdir)."""
    home = workdir / "studio-home"
    shutil.rmtree(home, ignore_errors=True)
    venv = studio_server.venv_dir(studio_server.toolkit_home())
    port = studio_server.free_port()
    for event in studio_server.up(home=home, port=port, venv=venv):
        log(f"studio: {event.message}")
    config = studio_server.read_config(home)
    assert config is not None
    try:
        yield StudioClient(Connection(config.url, config.api_key, "benchmark"), timeout=600.0)
    finally:
        for event in studio_server.down(home=home):
            log(f"studio: {event.message}")


def _push(client: StudioClient, release: Path, title: str, cache: Path) -> PushResult:
    result = None
    for event in push_release(client, release, project_title=title, cache_dir=cache):
        if isinstance(event, PushEvent) and event.result is not None:
            result = event.result
    assert result is not None
    return result


def _new_project(client: StudioClient, title: str) -> int:
    project = client.sdk.projects.create(title=title, label_config=build_label_config())
    return int(project.id)


def annotation_for(text: str, rng: random.Random, user_id: int) -> dict[str, Any]:
    """One annotation as an annotator would make it: 1-3 entity spans on capitalised words
    (one with an entity stance) and a stance for two document-level targets."""
    matches = list(_CAPITALISED.finditer(text))
    result: list[dict[str, Any]] = []
    for i, m in enumerate(rng.sample(matches, min(len(matches), rng.randint(1, 3)))):
        value = {"start": m.start(), "end": m.end(), "text": m.group()}
        region = f"e{i}"
        label = rng.choice(label_names("entity_types"))
        result.append(
            {"id": region, "from_name": "entity", "to_name": "text", "type": "labels",
             "value": {**value, "labels": [label]}}
        )  # fmt: skip
        if i == 0:
            result.append(
                {"id": region, "from_name": "entity_stance", "to_name": "text",
                 "type": "choices", "value": {**value, "choices": [rng.choice(STANCES)]}}
            )  # fmt: skip
    for target in rng.sample(TARGETS, 2):
        result.append(
            {"id": f"d-{target}", "from_name": f"stance_{target}", "to_name": "text",
             "type": "choices", "value": {"choices": [rng.choice(STANCES)]}}
        )  # fmt: skip
    return {"result": result, "completed_by": user_id, "lead_time": 30.0}


STANCES = ("FAVOR", "AGAINST", "NONE")
TARGETS = ("rusia", "tiongkok", "korea_utara", "icc", "barat")


def bench_push(client: StudioClient, release: Path, workdir: Path, log: Log) -> dict[str, Any]:
    cache = workdir / "push-cache"
    shutil.rmtree(cache, ignore_errors=True)
    _, _, tasks = release_tasks(release)
    payload = list(tasks.values())

    log(f"push: toolkit push of {len(payload)} articles")
    start = time.perf_counter()
    first = _push(client, release, "bench-push", cache)
    first_s = time.perf_counter() - start

    log("push: raw single import_tasks call")
    pid = _new_project(client, "bench-raw")
    start = time.perf_counter()
    client.sdk.projects.import_tasks(pid, request=payload, return_task_ids=False)
    raw_s = time.perf_counter() - start

    log("push: unchanged release again")
    start = time.perf_counter()
    again = _push(client, release, "bench-push", cache)
    again_s = time.perf_counter() - start
    assert again.created == 0 and again.already_present == len(payload), again
    return {
        "tasks": first.created,
        "push_seconds": first_s,
        "push_tasks_per_s": first.created / first_s,
        "raw_import_seconds": raw_s,
        "raw_import_tasks_per_s": len(payload) / raw_s,
        "repush_seconds": again_s,
        "repush_used_cache": again.used_cache,
        "ratio_push_vs_raw_rate": (first.created / first_s) / (len(payload) / raw_s),
        "ratio_repush_vs_push_time": again_s / first_s,
    }


def bench_pull(client: StudioClient, release: Path, workdir: Path, log: Log) -> dict[str, Any]:
    name, _, tasks = release_tasks(release)
    title = "bench-pull"
    pid = _new_project(client, title)
    user_id = int(client.sdk.users.whoami().id)
    rng = random.Random(7)
    payload = [
        {**task, "annotations": [annotation_for(task["data"]["text"], rng, user_id)]}
        for task in tasks.values()
    ]
    log(f"pull: importing {len(payload)} tasks with an annotation each")
    start = time.perf_counter()
    for i in range(0, len(payload), ANNOTATION_BATCH):
        client.sdk.projects.import_tasks(pid, request=payload[i : i + ANNOTATION_BATCH])
    setup_s = time.perf_counter() - start

    log("pull: bare export download")
    start = time.perf_counter()
    data = b"".join(
        client.sdk.projects.exports.download_sync(pid, export_type="JSON", download_all_tasks=True)
    )
    bare_s = time.perf_counter() - start

    log("pull: toolkit pull to tables")
    copy = workdir / "release-pull"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(release, copy, symlinks=True)
    start = time.perf_counter()
    pulled = pull(copy, project=title, url=client.url, api_key=client._key)
    pull_s = time.perf_counter() - start
    shutil.rmtree(copy, ignore_errors=True)
    entity_rows = pulled.tables.tables["entities"].num_rows
    return {
        "tasks": len(payload),
        "annotation_method": (
            "import_tasks with `annotations` inline, 1000 tasks per call (one annotation per "
            "task: 1-3 entity spans, one entity stance, two document stances)"
        ),
        "annotation_import_seconds": setup_s,
        "export_mb": len(data) / 1e6,
        "bare_export_seconds": bare_s,
        "pull_seconds": pull_s,
        "entity_rows": entity_rows,
        "stance_rows": pulled.tables.tables["stance"].num_rows,
        "quarantined": pulled.tables.tables["quarantine"].num_rows,
        "release_version": pulled.release.version,
        "ratio_pull_vs_bare_export_time": pull_s / bare_s,
        "dataset": name,
    }
