"""Lazy suggestions (`toolkit suggest --serve`) against push: the time to have a project
suggest for N tasks, and what the first opening of a task costs with and without it, on a
real Label Studio started for the run.

    python -m benchmarks.suggest_backend_bench [--n 2000] [--gold 100] [--open 100] [--json F]

Steps: write the synthetic corpus (benchmarks.corpus) and build it; start a server; push
the release into a new project (timed: the baseline); give GOLD tasks a gold annotation
through the API and pull them into the release (not timed; as benchmarks.suggest_bench
does). Then, on unannotated tasks listed before the backend is connected:
1. open OPEN tasks as the labeling page does (GET /api/tasks/ID) with no backend: the
   latency of a first opening today;
2. start the backend and connect it (`suggest_backend.serving`), timed whole: reading the
   release's gold, preparing the gazetteer, deleting nothing, registering the backend and
   switching the project over. This is "time to suggest" in lazy mode: from then on every
   task gets its prediction when it is first opened;
3. open OPEN other tasks: the latency of a first opening that makes the prediction;
4. open the same tasks again: the latency once the prediction is stored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.suggest_bench import GoldProject, Log, built_and_served, log
from toolkit.labels.suggest_backend import serving
from toolkit.studio.client import StudioClient

DEFAULT_N = 2000
DEFAULT_GOLD = 100
DEFAULT_OPEN = 100


def _latencies(http: httpx.Client, task_ids: list[int]) -> list[float]:
    out = []
    for task_id in task_ids:
        start = time.perf_counter()
        r = http.get(f"/api/tasks/{task_id}")
        out.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text
    return out


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "n": len(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))],
        "mean_ms": statistics.fmean(ms),
    }


def bench_backend(
    client: StudioClient,
    release: Path,
    log: Log,
    *,
    gold: int = DEFAULT_GOLD,
    n_open: int = DEFAULT_OPEN,
    title: str = "bench-suggest-backend",
) -> dict[str, Any]:
    project = GoldProject(client, release, title, log)
    pid, tasks, push_s = project.pid, project.tasks, project.push_seconds
    pulled = project.annotate(tasks[:gold])

    unannotated = [task_id for task_id, _ in tasks[gold:]]
    step = max(1, len(unannotated) // (2 * n_open))
    spread = unannotated[::step]  # across the whole project
    without, with_backend = spread[0::2][:n_open], spread[1::2][:n_open]
    http = httpx.Client(base_url=client.url, timeout=600,
                        headers={"Authorization": f"Token {client._key}"})  # fmt: skip
    log(f"open {len(without)} tasks with no backend")
    before = _latencies(http, without)

    log("start + connect the backend")
    start = time.perf_counter()
    with serving(release, project=title, client=client, model=False) as served:
        ready_s = time.perf_counter() - start
        log(f"backend ready after {ready_s:.2f} s ({served.seconds})")
        log(f"open {len(with_backend)} other tasks: each gets its prediction")
        first = _latencies(http, with_backend)
        again = _latencies(http, with_backend)
        counts = dict(served.predictor.counts)
        backend_ms = 1000 * served.predictor.busy_seconds / max(1, served.predictor.requests)
        breakdown = dict(served.seconds)
        version = served.predictor.model_version
    made = client.request_json(
        "count the predictions", "GET", f"api/projects/{pid}/model-versions/"
    )
    client.sdk.projects.delete(pid)
    return {
        "tasks": project.created,
        "gold_tasks": gold,
        "gold_entity_rows": pulled.tables.counts["entity_rows"],
        "push_seconds": push_s,
        "start_and_connect_seconds": ready_s,
        "start_and_connect_breakdown": breakdown,
        "ratio_start_and_connect_vs_push_time": ready_s / push_s,
        "model_version": version,
        "backend_counts": counts,
        "backend_ms_per_request": backend_ms,
        "predictions_stored": made,
        "open_without_backend": _summary(before),
        "open_first_with_backend": _summary(first),
        "open_again_with_backend": _summary(again),
    }


def render(results: dict[str, Any]) -> str:
    s = results["suggest_backend"]

    def line(what: str, key: str) -> str:
        f = s[key]
        return (f"  {what}: median {f['median_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms "
                f"(mean {f['mean_ms']:.1f} ms, {f['n']} tasks)")  # fmt: skip

    parts = ", ".join(f"{k} {v:.2f} s" for k, v in s["start_and_connect_breakdown"].items())
    return "\n".join(
        [
            f"suggest --serve vs push, {s['tasks']} tasks ({s['gold_tasks']} with gold, "
            f"{s['gold_entity_rows']} gold entity rows)",
            f"  push: {s['push_seconds']:.2f} s",
            f"  start + connect the backend: {s['start_and_connect_seconds']:.2f} s ({parts}); "
            f"ratio to push {s['ratio_start_and_connect_vs_push_time']:.2f} (target: at most 1)",
            line("first opening, no backend", "open_without_backend"),
            line("first opening, backend makes the prediction", "open_first_with_backend"),
            line("second opening, prediction stored", "open_again_with_backend"),
            f"  backend: {s['backend_counts']}, {s['backend_ms_per_request']:.1f} ms of its own "
            f"per request; stored: {s['predictions_stored']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    from benchmarks.runner import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.suggest_backend_bench")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="articles (tasks)")
    parser.add_argument("--gold", type=int, default=DEFAULT_GOLD, help="tasks given gold")
    parser.add_argument("--open", type=int, default=DEFAULT_OPEN, help="tasks opened per step")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    args = parser.parse_args(argv)
    with built_and_served(args.n, args.workdir, "toolkit-backend-bench-") as (_, release, client):
        figures = bench_backend(client, release, log, gold=args.gold, n_open=args.open)
    results = {"machine": machine(), "suggest_backend": figures}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
