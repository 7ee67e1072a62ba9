"""The build on datatrove (`--executor local|ray|slurm`) makes the native build's release:
the same rows, near-duplicate groups, splits and version, down to the bytes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dill
import pytest
from click.testing import CliRunner
from slurm_cluster import PARTITION, slurm_cluster

from benchmarks.corpus import write_corpus
from helpers import release_files
from toolkit.cli import cli
from toolkit.dataset.distributed import (
    DatatroveEngine,
    ExtractArticles,
    ListedPages,
    SlurmOptions,
    build_distributed,
    plan_units,
)
from toolkit.dataset.release import build, read_articles, read_manifest, wait_for_build
from toolkit.errors import ReleaseError

DATE = "2026-11-22"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthetic pages (some syndicated), an empty page and a copy of another page."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root, 300)
    (root / "0000" / "empty.txt").write_bytes(b"")
    shutil.copyfile(root / "0000" / "page_0000007.txt", root / "0000" / "zz-copy.txt")
    return root


@pytest.fixture(scope="module")
def native(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("native") / "news"
    wait_for_build(build([corpus], out, name="news", date=DATE, workers=2))
    return out


def check_same(native: Path, other: Path) -> None:
    manifest = read_manifest(other)
    assert manifest["build"]["built"] == 300
    assert manifest["build"]["rejected_by_reason"] == {"duplicate": 1, "empty": 1}
    assert manifest["build"]["near_duplicate_groups"] > 0  # the comparison has groups in it
    rows = {r["id"]: (r["split"], r["near_duplicate_group"]) for r in read_articles(other)}
    assert rows == {r["id"]: (r["split"], r["near_duplicate_group"]) for r in read_articles(native)}
    assert manifest["version"] == read_manifest(native)["version"]
    assert release_files(other) == release_files(native)


def test_local_executor_makes_the_native_release(
    native: Path, corpus: Path, tmp_path: Path
) -> None:
    out = tmp_path / "news"
    events = build_distributed(
        [corpus], out, executor="local", workers=2, tasks=3, name="news", date=DATE
    )
    result = wait_for_build(events)
    assert result.built == 300
    check_same(native, out)
    assert not list(tmp_path.glob(".news.staging-*"))  # the work folder went with staging


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """A real local Ray cluster on 127.0.0.1 (2 CPUs, a 100 MB object store), stopped at
    the end. Ray binds a node to its outward address even when told 127.0.0.1, unless
    clusters are off (its switch for laptops), which keeps every process on loopback."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported
    import ray

    ray.init(
        address="local",
        num_cpus=2,
        object_store_memory=100 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_executor_makes_the_native_release(
    native: Path, corpus: Path, ray_cluster: None, tmp_path: Path
) -> None:
    import ray

    assert [node["NodeManagerAddress"] for node in ray.nodes()] == ["127.0.0.1"]
    out = tmp_path / "news"
    events = build_distributed([corpus], out, executor="ray", workers=2, name="news", date=DATE)
    assert wait_for_build(events).built == 300
    check_same(native, out)
    assert ray.is_initialized()  # the build used the cluster it found and left it running


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real single-node Slurm (tests/slurm_cluster.py), its config in SLURM_CONF for
    the executor's sbatch/squeue calls while the module runs."""
    before = os.environ.get("SLURM_CONF")
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as env:
        os.environ.update(env)
        try:
            yield env
        finally:
            if before is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = before


def _slurm_jobs(env: dict[str, str]) -> list[str]:
    """Names of the jobs the controller still remembers (finished ones for 5 minutes)."""
    shown = subprocess.run(
        ["scontrol", "--oneliner", "show", "job"], env={**os.environ, **env},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return re.findall(r"JobName=(\S+)", shown.stdout)


def test_slurm_executor_makes_the_native_release(
    native: Path, corpus: Path, slurm: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "news"
    options = SlurmOptions(PARTITION, time="00:20:00", poll_seconds=1.0)
    events = build_distributed(
        [corpus], out, executor="slurm", workers=2, tasks=3, slurm=options, name="news",
        date=DATE,
    )  # fmt: skip
    assert wait_for_build(events).built == 300
    check_same(native, out)
    jobs = _slurm_jobs(slurm)
    assert {"toolkit-extract", "toolkit-buckets", "toolkit-cluster"} <= set(jobs), jobs
    assert not list(tmp_path.glob(".news.staging-*"))


def test_a_failed_slurm_job_fails_the_build_instead_of_waiting(
    corpus: Path, slurm: dict[str, str], tmp_path: Path
) -> None:
    """Every job exits 3 before running its task: no completion mark will ever come, and
    the driver must notice the queue is empty rather than poll forever."""
    options = SlurmOptions(PARTITION, time="00:05:00", env_command="exit 3", poll_seconds=0.5)
    events = build_distributed(
        [corpus], tmp_path / "news", executor="slurm", workers=2, slurm=options, name="news"
    )
    with pytest.raises(ReleaseError, match="did not complete"):
        wait_for_build(events)
    assert not (tmp_path / "news").exists()


def test_cli_local_executor_with_the_cache(native: Path, corpus: Path, tmp_path: Path) -> None:
    """The CLI path, twice: the second build takes every page from the cache."""
    out = tmp_path / "dist" / "news"
    runner = CliRunner()
    args = ["build", str(corpus), "--out", str(out), "--executor", "local", "--workers", "2"]
    result = runner.invoke(cli, [*args, "--name", "news", "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "dist" / ".toolkit-cache" / "news").is_dir()
    rows = {r["id"]: (r["split"], r["near_duplicate_group"]) for r in read_articles(out)}
    assert rows == {r["id"]: (r["split"], r["near_duplicate_group"]) for r in read_articles(native)}
    again = runner.invoke(cli, [*args, "--json"])
    assert again.exit_code == 0, again.output
    assert '"version": null' in again.output  # nothing changed, nothing released


def test_units_follow_the_input_order_and_keep_jsonl_files_whole(tmp_path: Path) -> None:
    for name in ("b.txt", "a.jsonl", "c.txt", ".hidden"):
        (tmp_path / name).write_text("x")
    units = plan_units([tmp_path])
    assert [[name for _, name, _ in u.files] for u in units] == [
        [".hidden"],
        ["a.jsonl"],
        ["b.txt", "c.txt"],
    ]


def test_slurm_job_scripts(tmp_path: Path) -> None:
    """The scripts the executor submits and the pickled pipeline its jobs load (on any
    cluster; the real single-node Slurm below runs them)."""
    with pytest.raises(ReleaseError, match="partition"):
        DatatroveEngine("slurm", workers=2)
    options = SlurmOptions("cpu", time="02:00:00", env_command="source /shared/venv/bin/activate")
    engine = DatatroveEngine("slurm", tasks=8, workers=4, slurm=options)
    engine.index(tmp_path / "staging" / ".spool")
    work = engine.work_str
    pipeline = [ListedPages(work), ExtractArticles(work, 5_000_000, {"train": 1.0}, None)]
    script = engine.slurm_script("extract", pipeline, 8)
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    for directive in (
        "--partition=cpu",
        "--time=02:00:00",
        "--job-name=toolkit-extract",
        "--array=0-7%4",
        "--cpus-per-task=1",
        "--mem-per-cpu=2G",
    ):
        assert f"#SBATCH {directive}" in lines
    assert "source /shared/venv/bin/activate" in script
    assert "launch_pickled_pipeline " + str(Path(work) / "logs" / "extract" / "executor.pik") in (
        script
    )
    # what the job loads: the executor, pickled with dill as launch_job does
    default = DatatroveEngine("slurm", workers=1, slurm=SlurmOptions("cpu"))
    default.index(tmp_path / "other" / ".spool")
    job = default.slurm_script("extract", pipeline, 1)
    assert f"export PATH={Path(sys.executable).parent}:$PATH" in job  # the driver's venv
    executor = dill.loads(dill.dumps(engine.executor_for("extract", pipeline, 8)))
    assert executor.world_size == 8
    assert [type(step) for step in executor.pipeline] == [ListedPages, ExtractArticles]
    assert executor.pipeline[1].work == work


def test_odd_entries_and_skipped_files_are_handled_alike_on_every_path(tmp_path: Path) -> None:
    """The branch's worker-side reading goes through the same walker as `iter_sources`:
    a broken link, a looping symlink, a FIFO, a folder linked twice and a hidden file
    are reported (never opened), a skipped file is no input, with or without the cache
    and on datatrove alike."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 5)
    (corpus / "broken.txt").symlink_to(corpus / "gone.txt")
    (corpus / "loop.txt").symlink_to(corpus / "loop.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "again").symlink_to(corpus / "0000")
    (corpus / ".DS_Store").write_bytes(b"\0")
    (corpus / "dataset.yaml").write_text("name: news\n")
    reasons = {
        "again": "duplicate-folder",
        "broken.txt": "broken-link",
        "loop.txt": "symlink-loop",
        "pipe.txt": "not-a-regular-file",
        ".DS_Store": "unsupported-type",
    }
    skip = [corpus / "dataset.yaml"]
    runs = {
        "native": {},
        "cached": {"cache_dir": tmp_path / "cache"},
        "cached again": {"cache_dir": tmp_path / "cache"},
    }
    outcomes = {}
    for run, options in runs.items():
        out = tmp_path / run.replace(" ", "-") / "news"
        events = build([corpus], out, name="news", date=DATE, skip=skip, **options)
        result = wait_for_build(events)
        outcomes[run] = (result.built, {r.source_file: r.reason for r in result.rejected})
    out = tmp_path / "local" / "news"
    events = build_distributed(
        [corpus], out, executor="local", workers=2, name="news", date=DATE, skip=skip
    )
    result = wait_for_build(events)
    outcomes["local"] = (result.built, {r.source_file: r.reason for r in result.rejected})
    assert outcomes["native"] == (5, reasons), outcomes["native"]
    assert all(outcome == outcomes["native"] for outcome in outcomes.values()), outcomes
