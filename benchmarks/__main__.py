"""`python -m benchmarks [--quick] [--json FILE] [--workdir DIR] [--no-studio]`.

Prints progress to stderr, the table to stdout, and writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import report, runner


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="build at N = 1k and 10k only")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--workdir", type=Path, help="scratch directory (default: a temp dir)")
    parser.add_argument("--sizes", help="comma-separated build sizes (overrides --quick)")
    parser.add_argument("--no-studio", action="store_true", help="skip push and pull")
    args = parser.parse_args(argv)

    sizes = runner.QUICK_SIZES if args.quick else runner.FULL_SIZES
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="toolkit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    studio_n = runner.STUDIO_N if runner.STUDIO_N in sizes else max(sizes)
    results: dict[str, Any] = {"machine": runner.machine(), "sizes": list(sizes), "build": []}

    def save() -> None:
        results["targets"] = report.targets(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")

    try:
        keep = None if args.no_studio else studio_n
        for row in runner.bench_build(sizes, workdir, log=_log, keep=keep):
            results["build"].append(row)
            save()
        if not args.no_studio:
            from benchmarks import studio_bench

            release = workdir / f"release-{studio_n}"
            with studio_bench.running_server(workdir, _log) as client:
                results["push"] = studio_bench.bench_push(client, release, workdir, _log)
                save()
                results["pull"] = studio_bench.bench_pull(client, release, workdir, _log)
                save()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    save()
    print(report.render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
