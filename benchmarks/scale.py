"""Scale benchmarks: incremental rebuilds and the build on datatrove (issue 17).

    python -m benchmarks.scale --sizes 10000,100000 --json benchmarks/scale_results.json

For each N, on the synthetic corpus of `benchmarks.corpus` (N pages) and 1% more pages:

- native 2w: `release.build`, 2 workers, no cache (the baseline of every ratio);
- datatrove local 2w / 1w, Ray 2w (a local Ray cluster on 127.0.0.1 with 2 CPUs,
  started by the job before its clock starts): `build_distributed`, no cache;
- incremental (`--skip baselines` runs only these): a cached build of the N pages
  (cold: the cache is empty), then the next release of the N + 1% pages with the warm
  cache, against the same next release built without a cache (native 2w, from a copy of
  the same previous release).

Each job runs in its own process (`benchmarks.scale_child`), which also gives the peak
RSS of every stage. The figures are ratios against a baseline of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.corpus import DEFAULT_SEED, make_page, page_name, write_corpus
from benchmarks.runner import machine

ROOT = Path(__file__).resolve().parent.parent


def _log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def write_extra(directory: Path, first: int, count: int, seed: int = DEFAULT_SEED) -> None:
    """Pages first..first+count-1 of the same corpus: the next day's scrape."""
    for index in range(first, first + count):
        path = directory / page_name(index)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make_page(seed, index)[1], encoding="utf-8")


def job(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job in a fresh interpreter; its figures plus its peak RSS (wait4)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARROW_DEFAULT_MEMORY_POOL": "system"}
    cmd = [sys.executable, "-m", "benchmarks.scale_child", json.dumps(spec)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"scale job {spec} failed:\n{stderr.decode(errors='replace')}")
    return json.loads(stdout)


def bench(n: int, work: Path, skip: set[str]) -> dict[str, Any]:
    corpus, extra = work / f"corpus-{n}", work / f"extra-{n}"
    if not corpus.exists():
        _log(f"writing {n} pages")
        write_corpus(corpus, n)
    if not extra.exists():
        write_extra(extra, n, max(1, n // 100))
    row: dict[str, Any] = {"n": n, "extra": max(1, n // 100), "jobs": {}}

    def run(name: str, **spec: Any) -> dict[str, Any]:
        out = work / f"out-{n}-{name}"
        if spec.pop("fresh", True):
            shutil.rmtree(out, ignore_errors=True)
        spec.setdefault("sources", [str(corpus)])
        spec.setdefault("cache", None)
        _log(f"N={n} {name}")
        figures = job({"out": str(out), **spec})
        figures["articles_per_s"] = figures["articles"] / figures["seconds"]
        row["jobs"][name] = figures
        _log(f"  {figures['seconds']:.1f} s, {figures['articles_per_s']:.0f} art/s")
        return figures

    if "baselines" in skip:  # the incremental jobs only
        skip = skip | {"native", "local2", "local1", "ray"}
    if "native" not in skip:
        run("native 2w", executor="native", workers=2)
    if "local2" not in skip:
        run("datatrove local 2w", executor="local", workers=2)
    if "local1" not in skip:
        run("datatrove local 1w", executor="local", workers=1)
    if "ray" not in skip:
        run("ray 2w", executor="ray", workers=2)
    cache = work / f"cache-{n}"
    shutil.rmtree(cache, ignore_errors=True)
    both = [str(corpus), str(extra)]
    run("cached cold 2w", executor="native", workers=2, cache=str(cache))
    # Both make the next release of the same previous one (so both diff against it).
    for name in ("rebuild +1% 2w", "full +1% 2w"):
        shutil.rmtree(work / f"out-{n}-{name}", ignore_errors=True)
        shutil.copytree(work / f"out-{n}-cached cold 2w", work / f"out-{n}-{name}", symlinks=True)
    run("rebuild +1% 2w", executor="native", workers=2, cache=str(cache), sources=both, fresh=False)
    run("full +1% 2w", executor="native", workers=2, sources=both, fresh=False)
    shutil.rmtree(cache, ignore_errors=True)
    rebuilt, full = (row["jobs"][j] for j in ("rebuild +1% 2w", "full +1% 2w"))
    row["rebuild_equals_full"] = (rebuilt["version"], rebuilt["near_duplicate_groups"]) == (
        full["version"],
        full["near_duplicate_groups"],
    )
    return row


def ratios(row: dict[str, Any]) -> dict[str, float]:
    jobs = row["jobs"]
    rate = {name: figures["articles_per_s"] for name, figures in jobs.items()}
    found = {
        "rebuild / full build (time)": jobs["rebuild +1% 2w"]["seconds"]
        / jobs["full +1% 2w"]["seconds"],
    }
    if "native 2w" in jobs:
        found["cached cold / native (time)"] = (
            jobs["cached cold 2w"]["seconds"] / jobs["native 2w"]["seconds"]
        )
    if "datatrove local 2w" in rate and "native 2w" in rate:
        found["datatrove local 2w / native 2w (throughput)"] = (
            rate["datatrove local 2w"] / rate["native 2w"]
        )
    if "datatrove local 1w" in rate and "datatrove local 2w" in rate:
        found["datatrove local 1w -> 2w speed-up"] = (
            rate["datatrove local 2w"] / rate["datatrove local 1w"]
        )
    if "ray 2w" in rate and "native 2w" in rate:
        found["ray 2w / native 2w (throughput)"] = rate["ray 2w"] / rate["native 2w"]
    return found


def render(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        lines.append(f"N = {row['n']} (+{row['extra']} pages for the rebuild)")
        lines.append(f"  {'job':<22}{'seconds':>9}{'art/s':>9}  groups  version")
        for name, f in row["jobs"].items():
            lines.append(
                f"  {name:<22}{f['seconds']:>9.1f}{f['articles_per_s']:>9.0f}"
                f"  {f['near_duplicate_groups']:>6}  {f['version']}"
            )
        lines.append("  peak RSS by stage, MB (largest process / whole tree), seconds:")
        for name, f in row["jobs"].items():
            cells = ", ".join(
                f"{stage} {s['process_mb']:.0f}/{s['tree_mb']:.0f} ({s['seconds']:.1f} s)"
                for stage, s in f["stages"].items()
            )
            lines.append(f"    {name:<22}{cells}")
        same = row["rebuild_equals_full"]
        lines.append(f"  rebuild made the same release as the full build: {same}")
        for name, value in row["ratios"].items():
            lines.append(f"  {name:<48}{value:.3f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("--sizes", default="10000", help="comma-separated corpus sizes")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: temp)")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated: native, local2, local1, ray, or baselines (all four: only "
        "the incremental jobs, cached cold / rebuild +1% / full +1%)",
    )
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="toolkit-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "rows": []}
    for n in (int(s) for s in args.sizes.split(",")):
        row = bench(n, work, set(filter(None, args.skip.split(","))))
        row["ratios"] = ratios(row)
        results["rows"].append(row)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results["rows"]))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
