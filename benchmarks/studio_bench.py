"""Push and pull against a real Label Studio started for the run (its own data dir).

push: the toolkit's push of a 10k release, against ONE raw `import_tasks` call of the same
payload into a fresh project (medians of alternated pairs); then the push of the unchanged
release again.
pull: 10k tasks with annotations made through the API (imported inline with the tasks,
one `import_tasks` call per 1000), pulled to tables in a child process (for its peak RSS;
imports before the clock starts), against the bare export download.
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.runner import run_child
from toolkit.dataset.schema import label_names
from toolkit.studio import server as studio_server
from toolkit.studio.client import Connection, StudioClient
from toolkit.studio.label_config import build_label_config
from toolkit.studio.push import PushEvent, PushResult, push_release, release_tasks

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


PUSH_PAIRS = 3  # push / raw import pairs; one 10k import varies by +-15% on this server


def bench_push(client: StudioClient, release: Path, workdir: Path, log: Log) -> dict[str, Any]:
    """PUSH_PAIRS pairs of (toolkit push, one raw import) of the same 10k articles, each
    into a fresh project, after a warm-up import, the order alternating from pair to pair
    (the first import on a new server is slower, and the database grows as we go): the
    medians are compared. Then the unchanged release is pushed again onto the first push's
    project."""
    cache = workdir / "push-cache"
    shutil.rmtree(cache, ignore_errors=True)
    _, _, tasks = release_tasks(release)
    payload = list(tasks.values())
    log("push: warm-up import of 200 tasks")
    warm = _new_project(client, "bench-warm-up")
    client.sdk.projects.import_tasks(warm, request=payload[:200])
    projects = [warm]

    push_s: list[float] = []
    raw_s: list[float] = []
    first: PushResult | None = None
    for pair in range(PUSH_PAIRS):
        for what in ("push", "raw") if pair % 2 == 0 else ("raw", "push"):
            log(f"push: pair {pair + 1}/{PUSH_PAIRS}, {what}")
            if what == "push":
                start = time.perf_counter()
                result = _push(client, release, f"bench-push-{pair}", cache)
                push_s.append(time.perf_counter() - start)
                assert result.created == len(payload), result
                first = first or result
                projects.append(result.project_id)
            else:
                pid = _new_project(client, f"bench-raw-{pair}")
                start = time.perf_counter()
                client.sdk.projects.import_tasks(pid, request=payload, return_task_ids=False)
                raw_s.append(time.perf_counter() - start)
                projects.append(pid)
    assert first is not None

    log("push: unchanged release again")
    start = time.perf_counter()
    again = _push(client, release, first.project_title, cache)
    again_s = time.perf_counter() - start
    assert again.created == 0 and again.already_present == len(payload), again
    for pid in projects:  # keep the database as small for the pull as without the pairs
        client.sdk.projects.delete(pid)
    push_median, raw_median = statistics.median(push_s), statistics.median(raw_s)
    return {
        "tasks": len(payload),
        "pairs": PUSH_PAIRS,
        "push_seconds_each": push_s,
        "raw_import_seconds_each": raw_s,
        "push_seconds": push_median,
        "push_tasks_per_s": len(payload) / push_median,
        "raw_import_seconds": raw_median,
        "raw_import_tasks_per_s": len(payload) / raw_median,
        "repush_seconds": again_s,
        "repush_used_cache": again.used_cache,
        "ratio_push_vs_raw_rate": raw_median / push_median,
        "ratio_push_vs_raw_rate_each": [r / p for p, r in zip(push_s, raw_s, strict=True)],
        "ratio_repush_vs_push_time": again_s / push_median,
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

    log("pull: toolkit pull to tables (its own process, for its peak RSS)")
    copy = workdir / "release-pull"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(release, copy, symlinks=True)
    server = {"LABEL_STUDIO_URL": client.url, "LABEL_STUDIO_API_KEY": client._key}
    pulled = run_child("pull", copy, workdir / "pull-out", env={**server, "BENCH_PROJECT": title})
    shutil.rmtree(copy, ignore_errors=True)
    return {
        "tasks": len(payload),
        "annotation_method": (
            "import_tasks with `annotations` inline, 1000 tasks per call (one annotation per "
            "task: 1-3 entity spans, one entity stance, two document stances)"
        ),
        "annotation_import_seconds": setup_s,
        "export_mb": len(data) / 1e6,
        "bare_export_seconds": bare_s,
        "pull_seconds": pulled["seconds"],
        "pull_peak_rss_mb": pulled["peak_rss_mb"],
        "entity_rows": pulled["entity_rows"],
        "stance_rows": pulled["stance_rows"],
        "quarantined": pulled["quarantined"],
        "release_version": pulled["release_version"],
        "ratio_pull_vs_bare_export_time": pulled["seconds"] / bare_s,
        "dataset": name,
    }
