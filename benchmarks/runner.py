"""The benchmark runs: build (with its two baselines), push and pull, in one process tree.

Every build-side figure comes from a child process (`benchmarks.child`) so that its
peak RSS is its own; push and pull run here against a Label Studio started for the run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.corpus import DEFAULT_SEED, write_corpus

FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
STUDIO_N = 10_000
BUILD_JOBS = (("io_floor", 1), ("naive", 1), ("build", 1), ("build", 2))

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def run_child(
    job: str, corpus: Path, out: Path, workers: int = 1, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one job in a fresh interpreter (`env`: extra variables); its figures plus its
    peak RSS in MB."""
    cmd = [sys.executable, "-m", "benchmarks.child", job, str(corpus), str(out), str(workers)]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(root), "HF_DATASETS_OFFLINE": "1"}
    env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # every job, as `toolkit` sets it
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=root)
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    # wait4 gives this child's own rusage (its maxrss covers its reaped pool workers too).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark job {job} failed:\n{stderr.decode(errors='replace')}")
    figures = json.loads(stdout)
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return figures


def _rates(figures: dict[str, Any], corpus_bytes: int) -> dict[str, Any]:
    seconds = figures["seconds"]
    figures["articles_per_s"] = figures["articles"] / seconds
    figures["mb_per_s"] = corpus_bytes / 1e6 / seconds
    return figures


def bench_build(
    sizes: tuple[int, ...], workdir: Path, *, seed: int = DEFAULT_SEED, log: Log = _quiet,
    keep: int | None = None,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """For each N: write the corpus, run the I/O floor, the naive path and the build with
    1 and 2 workers, each in its own process. Yields one row per N. The release built
    with 1 worker for N == keep is left in workdir/release-N (for push and pull)."""
    for n in sizes:
        corpus = workdir / f"corpus-{n}"
        if corpus.exists():
            shutil.rmtree(corpus)
        log(f"corpus: writing {n} pages")
        info = write_corpus(corpus, n, seed)
        row: dict[str, Any] = {"n": n, "corpus_mb": info["bytes"] / 1e6}
        for job, workers in BUILD_JOBS:
            label = f"{job}_{workers}w" if job == "build" else job
            out = workdir / f"out-{label}-{n}"
            shutil.rmtree(out, ignore_errors=True)
            log(f"N={n}: {label}")
            row[label] = _rates(run_child(job, corpus, out, workers), info["bytes"])
            if job == "build" and workers == 1 and n == keep:
                target = workdir / f"release-{n}"
                shutil.rmtree(target, ignore_errors=True)
                (out / "release").rename(target)
            shutil.rmtree(out, ignore_errors=True)
        b1, b2 = row["build_1w"]["articles_per_s"], row["build_2w"]["articles_per_s"]
        row["ratios"] = {
            "build_1w_vs_naive": b1 / row["naive"]["articles_per_s"],
            "build_2w_vs_naive": b2 / row["naive"]["articles_per_s"],
            "build_1w_vs_io_floor": b1 / row["io_floor"]["articles_per_s"],
            "build_2w_vs_io_floor": b2 / row["io_floor"]["articles_per_s"],
            "speedup_1_to_2_workers": b2 / b1,
        }
        shutil.rmtree(corpus)
        yield row


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
