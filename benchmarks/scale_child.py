"""One scale job per child process: `python -m benchmarks.scale_child JSON_SPEC`.

Jobs: `native` (release.build), `datatrove` (build_distributed with the local or Ray
executor), each with or without the extraction cache. While the job runs, a thread
samples the RSS of this process and of its descendants (pool workers, datatrove task
processes, Ray workers) every 50 ms and records, per stage, the largest single process
and the largest total of the tree. Stages are marked by wrappers around the engine's
hooks (here, not in the library): `extract` (pages -> spool, the driver de-duplicating
as chunks arrive), `near-duplicates` (grouping), `finish` (Parquet shards, digests,
diff, card, commit). The work's wall time is printed as JSON with the stage figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil


class StageMemory:
    """Peak RSS per stage: of one process (the largest) and of the whole process tree."""

    def __init__(self, interval: float = 0.05) -> None:
        self.stage = "start"
        self.peaks: dict[str, dict[str, float]] = {}
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()
        self._stop = threading.Event()
        self._me = psutil.Process()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def enter(self, stage: str) -> None:
        self._sample()
        now = time.perf_counter()
        self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self._since
        self.stage, self._since = stage, now

    def _sample(self) -> None:
        sizes = []
        for proc in [self._me, *self._me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                sizes.append(proc.memory_info().rss / 2**20)
        peak = self.peaks.setdefault(self.stage, {"process_mb": 0.0, "tree_mb": 0.0})
        peak["process_mb"] = max(peak["process_mb"], max(sizes, default=0.0))
        peak["tree_mb"] = max(peak["tree_mb"], sum(sizes))

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._sample()

    def stop(self) -> dict[str, Any]:
        self.enter("end")
        self._stop.set()
        self._thread.join()
        self.peaks.pop("end", None)
        self.seconds.pop("start", None)
        return {
            stage: {**peak, "seconds": self.seconds.get(stage, 0.0)}
            for stage, peak in self.peaks.items()
            if stage != "start"
        }


def _staged(engine: Any, memory: StageMemory) -> Any:
    """Wrap an engine's hooks so the sampler knows the stage."""
    chunks, index = engine.chunks, engine.index

    def staged_chunks(*args: Any, **kwargs: Any) -> Any:
        memory.enter("extract")
        yield from chunks(*args, **kwargs)

    def staged_index(*args: Any, **kwargs: Any) -> Any:
        made = index(*args, **kwargs)
        groups = made.groups

        def staged_groups() -> dict[str, str]:
            memory.enter("near-duplicates")
            try:
                return groups()
            finally:
                memory.enter("finish")

        made.groups = staged_groups
        return made

    engine.chunks, engine.index = staged_chunks, staged_index
    return engine


def run(spec: dict[str, Any]) -> dict[str, Any]:
    from toolkit.dataset.distributed import DatatroveEngine
    from toolkit.dataset.release import Engine, build, wait_for_build

    sources = [Path(s) for s in spec["sources"]]
    out, workers, executor = Path(spec["out"]), spec["workers"], spec["executor"]
    cache = Path(spec["cache"]) if spec.get("cache") else None
    ray_started = False
    if executor == "ray":
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # the cluster on 127.0.0.1
        import ray

        ray.init(
            address="local",
            num_cpus=workers,
            object_store_memory=100 * 2**20,
            include_dashboard=False,
            log_to_driver=False,
        )
        ray_started = True
    if executor == "native":
        engine: Any = Engine()
    else:
        engine = DatatroveEngine(executor, workers=workers, tasks=spec.get("tasks"))
    memory = StageMemory()
    start = time.perf_counter()
    try:
        result = wait_for_build(
            build(
                sources,
                out,
                name="bench",
                workers=workers,
                date="2024-01-01",
                cache_dir=cache,
                engine=_staged(engine, memory),
            )
        )
        seconds = time.perf_counter() - start
    finally:
        stages = memory.stop()
        if executor != "native":
            engine.close()
        if ray_started:
            ray.shutdown()
    return {
        "seconds": seconds,
        "articles": result.built,
        "inputs": result.built + len(result.rejected),
        "near_duplicate_groups": result.near_duplicate_groups,
        "version": result.version,
        "stages": stages,
    }


if __name__ == "__main__":
    json.dump(run(json.loads(sys.argv[1])), sys.stdout)
