"""Suggest against push: `toolkit suggest` on N tasks, next to the push of the same N
articles, on a real Label Studio started for the run (its own data dir).

    python -m benchmarks.suggest_bench [--n 10000] [--gold 200] [--json FILE] [--workdir DIR]

Steps: write the synthetic corpus (benchmarks.corpus) and build it; start a server; push
the release into a new project (timed: the baseline); give GOLD tasks a gold annotation
through the API, as an annotator would (entity spans: what the gazetteer of the seed gold
fixture finds in the text, so labels are consistent as a person's are; a stance per
target); pull them into the release (not timed); then `suggest`, timed whole (release
read, task listing, sources, deleting and importing predictions) before any evaluation
(no model); `suggest --evaluate` (timed: the k-fold cross-validation that decides the
model's types, once per gold); and `suggest` again, replacing the first predictions and
using the model for the types where it won.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.corpus import DEFAULT_SEED, ROOT, write_corpus
from toolkit.dataset.release import build, wait_for_build
from toolkit.labels.pull import pull
from toolkit.labels.suggest import Gazetteer
from toolkit.labels.suggest_release import evaluate_release, suggest
from toolkit.studio.client import StudioClient
from toolkit.studio.label_config import target_controls
from toolkit.studio.push import PushEvent, push_release

Log = Callable[[str], None]
SEED_GOLD = ROOT / "tests" / "fixtures" / "seed_gold.json"
DEFAULT_N = 10_000
DEFAULT_GOLD = 200


def seed_gazetteer() -> Gazetteer:
    """The gazetteer of the seed gold fixture (no article text needed: surfaces only)."""
    rows = [
        {"surface": r["value"]["text"], "type": r["value"]["labels"][0]}
        for task in json.loads(SEED_GOLD.read_text(encoding="utf-8"))
        for r in task["annotations"][0]["result"]
        if r["from_name"] == "entity"
    ]
    return Gazetteer.from_rows(rows)


def gold_result(text: str, gazetteer: Gazetteer) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for i, s in enumerate(gazetteer.find(text)):
        value = {"start": s.start, "end": s.end, "text": text[s.start : s.end]}
        result.append(
            {"id": f"g{i}", "from_name": "entity", "to_name": "text", "type": "labels",
             "origin": "manual", "value": {**value, "labels": [s.type]}}
        )  # fmt: skip
    for control in target_controls():
        result.append(
            {"id": f"d-{control}", "from_name": control, "to_name": "text", "type": "choices",
             "origin": "manual", "value": {"choices": ["NONE"]}}
        )  # fmt: skip
    return result


def _tasks(client: StudioClient, pid: int) -> dict[int, tuple[str, str]]:
    from toolkit.studio.predictions import task_states

    return {t.task_id: (t.article_id or "", t.text_sha256 or "") for t in task_states(client, pid)}


class GoldProject:
    """The release pushed into a new project (timed: the baseline of every ratio), and
    gold annotations posted through the API as an annotator would, then pulled."""

    def __init__(self, client: StudioClient, release: Path, title: str, log: Log) -> None:
        from toolkit.dataset.release import read_articles

        self.client, self.release, self.title, self.log = client, release, title, log
        log("push (the baseline)")
        start = time.perf_counter()
        result = None
        for event in push_release(client, release, project_title=title):
            if isinstance(event, PushEvent) and event.result is not None:
                result = event.result
        self.push_seconds = time.perf_counter() - start
        assert result is not None and result.created > 0
        log(f"push took {self.push_seconds:.2f} s")
        self.created, self.pid = result.created, result.project_id
        self.texts = {r["id"]: r["text"] for r in read_articles(release)}
        self.gazetteer = seed_gazetteer()
        self.tasks = sorted(_tasks(client, self.pid).items())  # (task id, (article, sha))
        self.user = int(client.sdk.users.whoami().id)

    def annotate(self, chosen: Sequence[tuple[int, tuple[str, str]]]) -> Any:
        """Gold on these tasks, then a pull into the release; the pull's result."""
        self.log(f"{len(chosen)} gold annotations through the API, then pull")
        for task_id, (article_id, _) in chosen:
            body = {"result": gold_result(self.texts[article_id], self.gazetteer),
                    "completed_by": self.user, "ground_truth": True,
                    "lead_time": 60.0}  # fmt: skip
            self.client.post_json(f"annotate task {task_id}",
                                  f"api/tasks/{task_id}/annotations/",
                                  json.dumps(body).encode(), idempotent=False)  # fmt: skip
        return pull(self.release, project=self.title, url=self.client.url,
                    api_key=self.client._key)  # fmt: skip


def bench_suggest(
    client: StudioClient,
    release: Path,
    workdir: Path,
    log: Log,
    *,
    gold: int = DEFAULT_GOLD,
    model: bool = True,
    title: str = "bench-suggest",
) -> dict[str, Any]:
    project = GoldProject(client, release, title, log)
    pid, tasks = project.pid, project.tasks
    more = max(1, gold // 10)
    pulled = project.annotate(tasks[: gold - more])

    cache = workdir / "suggest-cache"
    shutil.rmtree(cache, ignore_errors=True)
    runs: list[dict[str, Any]] = []

    def run_suggest(what: str) -> None:
        log(f"suggest: {what}")
        start = time.perf_counter()
        done = suggest(release, project=title, client=client, model=model, cache_dir=cache)
        seconds = time.perf_counter() - start
        figures = done.as_dict()
        figures["breakdown"] = figures.pop("seconds")  # where suggest's own time went
        runs.append({"run": what, "seconds": seconds, **figures})
        log(f"suggest: {seconds:.2f} s, {figures['suggested']} tasks, {figures['breakdown']}")

    run_suggest("first (no cross-validation yet: gazetteer, propagation, stance)")
    run_suggest("again, nothing changed (keeps every prediction)")
    log(f"suggest: {more} more gold annotations, pulled (a new release, new gold)")
    pulled = project.annotate(tasks[gold - more : gold])
    run_suggest("after the pull (new gold: replacing every prediction)")
    evaluate_s = None
    if model:
        log("suggest: --evaluate (k-fold cross-validation, decides the model's types)")
        start = time.perf_counter()
        evaluate_release(release, cache_dir=cache)
        evaluate_s = time.perf_counter() - start
        log(f"suggest: --evaluate took {evaluate_s:.2f} s")
        run_suggest("second (after --evaluate: the model where it wins; replacing)")
    client.sdk.projects.delete(pid)
    last = runs[-1]
    return {
        "tasks": project.created,
        "gold_tasks": gold,
        "gold_entity_rows": pulled.tables.counts["entity_rows"],
        "model_enabled": model,
        "push_seconds": project.push_seconds,
        "suggest_runs": runs,
        "evaluate_seconds": evaluate_s,
        "model_types": last["model_types"],
        "suggested_tasks": last["suggested"],
        "ratio_suggest_first_vs_push_time": runs[0]["seconds"] / project.push_seconds,
        "ratio_suggest_unchanged_vs_push_time": runs[1]["seconds"] / project.push_seconds,
        "ratio_suggest_replacing_vs_push_time": runs[2]["seconds"] / project.push_seconds,
        "ratio_suggest_last_vs_push_time": last["seconds"] / project.push_seconds,
    }


def render(results: dict[str, Any]) -> str:
    s = results["suggest"]
    lines = [
        f"suggest vs push, {s['tasks']} tasks ({s['gold_tasks']} with gold, "
        f"{s['gold_entity_rows']} gold entity rows), model enabled: {s['model_enabled']}",
        f"  push: {s['push_seconds']:.2f} s",
    ]
    for run in s["suggest_runs"]:
        parts = ", ".join(f"{k} {v:.2f}" for k, v in run["breakdown"].items())
        lines.append(
            f"  suggest {run['run']}: {run['seconds']:.2f} s on {run['suggested']} task(s), "
            f"{run['spans']} span(s), model types {run['model_types'] or 'none'} ({parts})"
        )
    if s["evaluate_seconds"] is not None:
        lines.append(f"  suggest --evaluate (once per gold): {s['evaluate_seconds']:.2f} s")
    lines.append(
        f"  suggest / push time: first {s['ratio_suggest_first_vs_push_time']:.2f}, "
        f"unchanged re-run {s['ratio_suggest_unchanged_vs_push_time']:.2f}, "
        f"after a pull {s['ratio_suggest_replacing_vs_push_time']:.2f}, "
        f"last {s['ratio_suggest_last_vs_push_time']:.2f} (target: at most 1)"
    )
    return "\n".join(lines)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextmanager
def built_and_served(
    n: int, workdir: Path | None, prefix: str
) -> Iterator[tuple[Path, Path, StudioClient]]:
    """The synthetic corpus of N pages built into a release, and a fresh server: yields
    (workdir, release, client); a temporary workdir is removed afterwards."""
    from benchmarks.studio_bench import running_server

    work = workdir or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        corpus, release = work / "corpus", work / "release"
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(release, ignore_errors=True)
        log(f"corpus: writing {n} pages")
        write_corpus(corpus, n, DEFAULT_SEED)
        log("build")
        wait_for_build(build([corpus], release, name="bench", date="2024-01-01"))
        with running_server(work, log) as client:
            yield work, release, client
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.runner import machine

    parser = argparse.ArgumentParser(prog="python -m benchmarks.suggest_bench")
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="articles (tasks)")
    parser.add_argument("--gold", type=int, default=DEFAULT_GOLD, help="tasks given gold")
    parser.add_argument("--no-model", action="store_true", help="suggest without the model")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    args = parser.parse_args(argv)
    prefix = "toolkit-suggest-bench-"
    with built_and_served(args.n, args.workdir, prefix) as (work, release, client):
        figures = bench_suggest(client, release, work, log, gold=args.gold,
                                model=not args.no_model)  # fmt: skip
    results = {"machine": machine(), "suggest": figures}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
