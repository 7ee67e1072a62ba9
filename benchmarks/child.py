"""One measured job per child process: `python -m benchmarks.child JOB INPUT OUT [WORKERS]`.

Each job runs in a fresh interpreter so its peak RSS (read by the parent from `wait4`)
belongs to it alone. Imports happen before the clock starts; the job's wall time of the
work itself is printed as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*.txt") if p.is_file())


def io_floor(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    """Baseline (a): read every file, write its raw text to one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = time.perf_counter()
    files = _files(corpus)
    names = [p.relative_to(corpus).as_posix() for p in files]
    texts = [p.read_bytes().decode("utf-8") for p in files]
    table = pa.table({"source_file": names, "text": texts})
    pq.write_table(table, out / "raw.parquet")
    return {"seconds": time.perf_counter() - start, "articles": len(files)}


def naive(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    """Baseline (b): the same extraction, then datasets.Dataset.from_list(...).to_parquet."""
    import datasets

    from toolkit.pages.article import Article
    from toolkit.pages.extract import extract_source
    from toolkit.pages.read import iter_sources

    datasets.disable_progress_bars()
    start = time.perf_counter()
    extracted = (extract_source(s) for s in iter_sources([corpus]))
    rows = [a.record() for a in extracted if isinstance(a, Article)]
    datasets.Dataset.from_list(rows).to_parquet(str(out / "naive.parquet"))
    return {"seconds": time.perf_counter() - start, "articles": len(rows)}


def build(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    """The toolkit's release build (extraction, near-duplicates, shards, card, git tag)."""
    from toolkit.dataset.release import build as build_release
    from toolkit.dataset.release import wait_for_build

    start = time.perf_counter()
    result = wait_for_build(
        build_release([corpus], out / "release", name="bench", workers=workers, date="2024-01-01")
    )
    return {
        "seconds": time.perf_counter() - start,
        "articles": result.built,
        "rejected": len(result.rejected),
        "near_duplicate_groups": result.near_duplicate_groups,
    }


def pull(release: Path, out: Path, workers: int) -> dict[str, Any]:
    """The toolkit's pull of the project titled $BENCH_PROJECT (the server's URL and key
    come from LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY) into `release` itself; `out` and
    `workers` are unused."""
    from toolkit.labels.pull import pull as pull_labels

    start = time.perf_counter()
    pulled = pull_labels(release, project=os.environ["BENCH_PROJECT"])
    tables = pulled.tables.tables
    return {
        "seconds": time.perf_counter() - start,
        "entity_rows": tables["entities"].num_rows,
        "stance_rows": tables["stance"].num_rows,
        "quarantined": tables["quarantine"].num_rows,
        "release_version": pulled.release.version,
    }


JOBS: dict[str, Callable[[Path, Path, int], dict[str, Any]]] = {
    "io_floor": io_floor,
    "naive": naive,
    "build": build,
    "pull": pull,
}


def main(argv: list[str]) -> None:
    job, corpus, out = argv[0], Path(argv[1]), Path(argv[2])
    workers = int(argv[3]) if len(argv) > 3 else 1
    out.mkdir(parents=True, exist_ok=True)
    json.dump(JOBS[job](corpus, out, workers), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
