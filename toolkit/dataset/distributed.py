"""The build's first pass as datatrove stages (`toolkit build --executor local|ray|slurm`).

Users who outgrow one machine run web-text pipelines on datatrove; this runs the work
that grows with the corpus as datatrove pipelines, and everything else exactly as the
native build does (`release.build` with a `DatatroveEngine`):

1. **extract** (T tasks): `ListedPages` reads the task's share of the input files and
   `ExtractArticles` wraps the toolkit's extractor: per chunk of pages one spool file
   (typed `articles` rows and their digests, the explicit schema, Arrow IPC, the
   same file the native workers write) and one file of `Prepared` items (id, raw hash,
   publisher, near-duplicate band hashes = the MinHash signature stage) or Rejections.
   Nothing is lost: every page is an item. The extraction cache is used as natively.
2. In the driver, in input order: repeated pages dropped, band hashes numbered and
   written to bucket files (`NearDuplicateIndex`'s own spool): an ordered pass, cheap.
3. **buckets** (up to 64 tasks): `BucketPairs` turns each bucket file into paragraph
   pairs (our LSH banding), partitioned by article.
4. **cluster** (1 task): `ClusterPairs` counts the shared paragraphs of each article
   pair and joins the linked ones (union-find); the roots go back to the driver.
5. The driver writes the Parquet shards, diffs, versions, writes the card and Croissant,
   commits and tags: the release is finished once, in one process, as today.

datatrove's own MinHash stages are not used: they sign whole documents, while the
toolkit groups articles that share paragraphs (partial syndication); see SCALING.md for
the measured difference. Nor are its language and URL filters (they download models and
lists). The work folder lives in the release's staging folder; on a cluster it must be
on a filesystem all nodes share.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.executor import LocalPipelineExecutor, SlurmPipelineExecutor
from datatrove.executor import base as executor_base
from datatrove.executor import ray as ray_executor
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.logging import logger

from toolkit.dataset import prepare
from toolkit.dataset.cache import PageCache
from toolkit.dataset.near_duplicates import _PAIR, _RECORD, PAIR_BUCKETS, NearDuplicateIndex
from toolkit.dataset.prepare import CHUNK_PAGES, Chunk
from toolkit.dataset.template_cache import TemplateCache
from toolkit.dataset.templates import Templates, find_templates
from toolkit.errors import ReleaseError
from toolkit.pages.read import KINDS, Source, iter_files, listed_name, read_entry

EXECUTORS = ("local", "ray", "slurm")


def _task_log(logging_dir: Any, rank: int, local_rank: int = 0, node_rank: int = -1) -> Any:
    """datatrove's task logger without its stderr sink: the library never prints; each
    task's log stays in the work folder (logs/task_NNNNN.log)."""
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    logger.add(logfile, level="DEBUG")
    return logfile


def _close_task_log(logfile: Any) -> None:
    """datatrove's, without re-adding a stderr sink."""
    logger.complete()
    logger.remove()
    logfile.close()


# in every process that unpickles our stages (local workers, Ray workers, Slurm jobs)
for _module in (executor_base, ray_executor):
    _module.add_task_logger, _module.close_task_logger = _task_log, _close_task_log  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the pipeline steps


@dataclass
class Unit:
    """A chunk of input files (one spool file): about CHUNK_PAGES pages."""

    number: int
    files: list[tuple[str, str, bool] | Source]  # (path, source name, hidden), or a problem
    templates: Templates = field(default_factory=Templates)  # the lines its pages need


def plan_units(sources: Iterable[Path], *, skip: Iterable[Path] = ()) -> list[Unit]:
    """The input files in build order, cut into chunks; a JSONL file (many pages) is a
    chunk of its own. `skip`: files that are not inputs (the project file)."""
    units: list[Unit] = []
    pending: list[tuple[str, str, bool] | Source] = []

    def cut() -> None:
        if pending:
            units.append(Unit(len(units), list(pending)))
            pending.clear()

    for entry in iter_files(sources, skip=skip):
        if isinstance(entry, Source):  # an entry that is no page: reported as it is
            pending.append(entry)
            if len(pending) >= CHUNK_PAGES:
                cut()
            continue
        path, name, hidden = entry
        if not hidden and KINDS.get(path.suffix.lower()) == "jsonl":
            cut()
            pending.append((str(path), name, hidden))
            cut()
            continue
        pending.append((str(path), name, hidden))
        if len(pending) >= CHUNK_PAGES:
            cut()
    cut()
    return units


def _share(count: int, rank: int, world_size: int) -> range:
    """Contiguous shares: consecutive chunks in one task read neighbouring cache segments."""
    return range(count * rank // world_size, count * (rank + 1) // world_size)


class ListedPages(PipelineStep):
    """Reader: the pages of this task's chunks, one Document per page (the raw bytes in
    its metadata, the text empty until extraction)."""

    name, type = "listed pages", "📖 - READER"

    def __init__(self, work: str) -> None:
        super().__init__()
        self.work = work

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with open(os.path.join(self.work, "units.pkl"), "rb") as fh:
            units: list[Unit] = pickle.load(fh)
        for number in _share(len(units), rank, world_size):
            unit = units[number]
            pages = chain.from_iterable(
                read_entry(e if isinstance(e, Source) else (Path(e[0]), e[1], e[2]))
                for e in unit.files
            )
            for source in pages:
                self.stat_update("pages")
                yield Document("", source.source_file, metadata={"unit": number, "source": source})


class ExtractArticles(PipelineStep):
    """The toolkit's extractor, a chunk of pages at a time: writes the chunk's spool file
    (the native workers' code, `prepare._prepare_chunk`) and its items; yields one
    Document per page with its outcome (an article id, or the rejection reason)."""

    name, type = "toolkit extract", "🔨 - EXTRACT"

    def __init__(
        self, work: str, max_bytes: int, ratios: dict[str, float], cache_dir: str | None
    ) -> None:
        super().__init__()
        self.work, self.max_bytes, self.ratios, self.cache_dir = work, max_bytes, ratios, cache_dir

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with open(os.path.join(self.work, "units.pkl"), "rb") as fh:
            self._units: list[Unit] = pickle.load(fh)
        cache = PageCache(Path(self.cache_dir), self.max_bytes) if self.cache_dir else None
        prepare._use_cache(cache)
        try:
            unit, pages = None, []
            for document in chain(data or (), [None]):
                if document is None or document.metadata["unit"] != unit:
                    if pages:
                        yield from self._chunk(unit, pages)
                    if document is None:
                        break
                    unit, pages = document.metadata["unit"], []
                pages.append(document)
        finally:
            prepare._use_cache(None)

    def _chunk(self, unit: int | None, documents: list[Document]) -> Iterator[Document]:
        spool = Path(self.work) / "spool" / f"chunk-{unit:07d}.arrow"
        spool.parent.mkdir(parents=True, exist_ok=True)
        sources = [d.metadata.pop("source") for d in documents]
        templates = self._units[unit].templates
        with self.track_time(unit="chunk"):
            task = (spool, sources, self.max_bytes, self.ratios, templates)
            chunk = prepare._prepare_chunk(task)
        _write_atomic(Path(self.work) / "items" / f"items-{unit:07d}.pkl", chunk)
        for document, item in zip(documents, chunk.items, strict=True):
            if isinstance(item, prepare.Prepared):
                self.stat_update("articles")
                document.metadata["article_id"] = item.id
            else:
                self.stat_update(f"rejected: {item.reason}")
                document.metadata["rejected"] = item.reason
            yield document


class BucketPairs(PipelineStep):
    """LSH buckets -> paragraph pairs: each bucket file of band hashes becomes the pairs
    of paragraphs of different articles that share one, spooled by article."""

    name, type = "near-duplicate buckets", "🫂 - DEDUP"

    def __init__(self, work: str) -> None:
        super().__init__()
        self.work = work

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        directory = Path(self.work) / "near-duplicates"
        index, starts = _load_index(directory)
        buckets = sorted(directory.glob("bucket-*.bin"))
        for number in _share(len(buckets), rank, world_size):
            records = np.fromfile(buckets[number], dtype=_RECORD)
            pairs = index._pairs(records, starts)
            self.stat_update("pairs", value=len(pairs))
            part = (pairs["a"] % PAIR_BUCKETS).astype(np.min_scalar_type(PAIR_BUCKETS - 1))
            prefix = directory / f"pairs-r{rank:05d}-b{number:03d}"
            _append_partitioned(pairs, part, prefix)
        yield from data or ()


class ClusterPairs(PipelineStep):
    """Pairs -> groups: articles sharing enough near-identical paragraphs are linked,
    groups are the connected components (one task: it holds one root per article)."""

    name, type = "near-duplicate cluster", "🫂 - DEDUP"

    def __init__(self, work: str) -> None:
        super().__init__()
        self.work = work

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        directory = Path(self.work) / "near-duplicates"
        index, _ = _load_index(directory)
        roots = index.roots()
        self.stat_update("linked articles", value=int((roots != np.arange(len(roots))).sum()))
        _write_atomic(directory / "roots.pkl", roots)
        yield from data or ()


# ---------------------------------------------------------------- the engine


class SpooledIndex(NearDuplicateIndex):
    """NearDuplicateIndex whose pair and cluster steps run as datatrove stages: the
    driver adds the articles and spools every band hash; `groups` runs the stages."""

    def __init__(self, engine: DatatroveEngine, spool_dir: Path) -> None:
        super().__init__(spool_dir=spool_dir)
        self.engine = engine

    def _pair_batches(self) -> Iterator[np.ndarray]:
        """The pairs the buckets stage wrote, one article partition at a time."""
        assert self._spool_dir is not None
        by_part: dict[str, list[Path]] = defaultdict(list)
        for path in self._spool_dir.glob("pairs-r*-b*-*.bin"):
            by_part[path.stem.rsplit("-", 1)[1]].append(path)
        for part in sorted(by_part):
            yield np.concatenate([np.fromfile(p, dtype=_PAIR) for p in sorted(by_part[part])])

    def roots(self) -> np.ndarray:
        """Union-find over the linked pairs: each article's root (in the cluster task)."""
        counts = np.diff(np.asarray(self._first_paragraph, dtype=np.int64))
        parent = np.arange(len(counts), dtype=np.int64)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = int(parent[i])
            return i

        for a, b in self._linked(counts):
            parent[find(a)] = find(b)
        return np.array([find(i) for i in range(len(parent))], dtype=np.int64)

    def groups(self) -> dict[str, str]:
        """Spool the buffered band hashes, run the buckets and cluster stages, and name
        each group by its smallest member id (as NearDuplicateIndex.groups does)."""
        assert self._spool_dir is not None
        self._spool()  # even a small index: the stages read the bucket files
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "first_paragraph": np.asarray(self._first_paragraph, dtype=np.int64),
            "min_shared": self.min_shared,
            "max_fanout": self.max_fanout,
        }
        _write_atomic(self._spool_dir / "state.pkl", state)
        buckets = len(list(self._spool_dir.glob("bucket-*.bin")))
        tasks = max(1, min(buckets, self.engine.tasks))
        self.engine.run_stage("buckets", [BucketPairs(self.engine.work_str)], tasks)
        self.engine.run_stage("cluster", [ClusterPairs(self.engine.work_str)], 1)
        with open(self._spool_dir / "roots.pkl", "rb") as fh:
            roots: np.ndarray = pickle.load(fh)
        members: dict[int, list[str]] = defaultdict(list)
        for i, root in enumerate(roots.tolist()):
            members[root].append(self._ids[i])
        result: dict[str, str] = {}
        for ids in members.values():
            if len(set(ids)) > 1:
                result.update(dict.fromkeys(ids, min(ids)))
        shutil.rmtree(self.engine.work_str)  # not part of the release; the spool moved out
        self._spooled = False
        return result


def _load_index(directory: Path) -> tuple[SpooledIndex, np.ndarray]:
    """The index as the cluster and bucket tasks need it: paragraph ranges, thresholds."""
    with open(directory / "state.pkl", "rb") as fh:
        state = pickle.load(fh)
    index = SpooledIndex.__new__(SpooledIndex)
    NearDuplicateIndex.__init__(
        index, min_shared=state["min_shared"], max_fanout=state["max_fanout"], spool_dir=directory
    )
    index._first_paragraph = state["first_paragraph"]
    index._spooled = True
    return index, state["first_paragraph"]


def _append_partitioned(records: np.ndarray, keys: np.ndarray, prefix: Path) -> None:
    """Write each record to `<prefix>-NNN.bin` of its key, atomically per file (a task
    run again after a failure rewrites its files rather than appending twice)."""
    order = np.argsort(keys, kind="stable")
    records, keys = records[order], keys[order]
    edges = np.searchsorted(keys, np.arange(PAIR_BUCKETS + 1))
    for part in range(PAIR_BUCKETS):
        if edges[part] < edges[part + 1]:
            path = Path(f"{prefix}-{part:03d}.bin")
            tmp = path.with_name(f".tmp-{path.name}")
            records[edges[part] : edges[part + 1]].tofile(tmp)
            os.replace(tmp, path)


def _write_atomic(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}")
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


@dataclass
class SlurmOptions:
    partition: str
    time: str = "24:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: int = 2
    # e.g. "source /shared/venv/bin/activate"; default: the driver's interpreter folder
    # first on PATH (its venv, on the filesystem the nodes share, as a cluster's is)
    env_command: str | None = None
    sbatch_args: dict[str, Any] = field(default_factory=dict)
    poll_seconds: float = 30.0  # how often the driver looks whether a stage's jobs ended


class _SlurmExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor without its stats-merging job: that job is queued to
    run after the stage, when the release may be finished and the staging folder holding
    the stage's logs renamed; each task's stats stay in its own log folder."""

    def launch_merge_stats(self) -> None:
        return None


class DatatroveEngine:
    """`release.Engine` on datatrove: the same chunks and groups, made by stages run by
    the local, Ray or Slurm executor. `tasks` per stage (default: `workers`), at most
    `workers` at a time."""

    def __init__(
        self,
        executor: str,
        *,
        tasks: int | None = None,
        workers: int = 1,
        slurm: SlurmOptions | None = None,
        ray_memory_gb: float = 1.0,
    ) -> None:
        if executor not in EXECUTORS:
            raise ReleaseError(f"unknown executor {executor!r}: one of {', '.join(EXECUTORS)}")
        if executor == "slurm" and slurm is None:
            raise ReleaseError("the slurm executor needs a partition (--slurm-partition)")
        self.executor, self.workers = executor, max(1, workers)
        self.tasks = max(1, tasks or self.workers)
        self.slurm, self.ray_memory_gb = slurm, ray_memory_gb
        self.work: Path | None = None
        self._ray_started = False

    @property
    def work_str(self) -> str:
        assert self.work is not None
        return str(self.work)

    # release.Engine
    def index(self, spool_dir: Path) -> SpooledIndex:
        self.work = spool_dir.parent / ".datatrove"
        return SpooledIndex(self, self.work / "near-duplicates")

    def chunks(
        self,
        sources: Iterable[Path],
        spool_dir: Path,
        *,
        workers: int,
        max_bytes: int,
        ratios: dict[str, float],
        skip: Iterable[Path] = (),
        cache: PageCache | None = None,
    ) -> Iterator[Chunk]:
        """Run the extract stage, then hand its chunks over in input order."""
        assert self.work is not None, "index() first: it sets the work folder"
        sources = list(sources)
        units = plan_units(sources, skip=skip)
        # corpus-level, before extraction, as natively (and from the same cache)
        templates = find_templates(
            sources, TemplateCache(cache.directory) if cache is not None else None
        )
        jsonl_lines: dict[str, list[str]] = defaultdict(list)  # "a.jsonl" -> "a.jsonl:3"...
        for line in templates.site_of:
            if ":" in line:
                jsonl_lines[line.rsplit(":", 1)[0]].append(line)
        for unit in units:
            listed = [listed_name(e) for e in unit.files]
            names = [n for name in listed for n in [name, *jsonl_lines.get(name, [])]]
            pages = [SimpleNamespace(source_file=name) for name in names]
            unit.templates = templates.subset(pages)  # type: ignore[arg-type]
        _write_atomic(self.work / "units.pkl", units)
        cache_dir = str(cache.directory) if cache is not None else None
        pipeline = [
            ListedPages(self.work_str),
            ExtractArticles(self.work_str, max_bytes, ratios, cache_dir),
        ]
        self.run_stage("extract", pipeline, min(self.tasks, max(1, len(units))))
        spool_dir.mkdir(parents=True, exist_ok=True)
        for unit in units:
            with open(self.work / "items" / f"items-{unit.number:07d}.pkl", "rb") as fh:
                chunk: Chunk = pickle.load(fh)
            if chunk.path is not None:  # the release's spool folder, as natively
                chunk.path = chunk.path.rename(spool_dir / chunk.path.name)
            yield chunk

    # the executors
    def executor_for(self, stage: str, pipeline: list[PipelineStep], tasks: int) -> Any:
        """The datatrove executor of one stage (not started)."""
        logs = str(self.work / "logs" / stage) if self.work else None
        workers = min(self.workers, tasks)
        if self.executor == "local":
            return LocalPipelineExecutor(
                pipeline, tasks=tasks, workers=workers, logging_dir=logs, start_method="fork"
            )
        if self.executor == "ray":
            return ray_executor.RayPipelineExecutor(
                pipeline,
                tasks=tasks,
                workers=workers,
                logging_dir=logs,
                mem_per_cpu_gb=self.ray_memory_gb,
            )
        assert self.slurm is not None
        env_command = self.slurm.env_command or f"export PATH={Path(sys.executable).parent}:$PATH"
        return _SlurmExecutor(
            pipeline,
            tasks=tasks,
            workers=workers,
            time=self.slurm.time,
            partition=self.slurm.partition,
            cpus_per_task=self.slurm.cpus_per_task,
            mem_per_cpu_gb=self.slurm.mem_per_cpu_gb,
            job_name=f"toolkit-{stage}",
            env_command=env_command,
            sbatch_args=dict(self.slurm.sbatch_args),
            logging_dir=logs,
            requeue=False,
        )

    def run_stage(self, stage: str, pipeline: list[PipelineStep], tasks: int) -> None:
        """Run one stage to its end (Slurm: submit it and wait for every task)."""
        executor = self.executor_for(stage, pipeline, tasks)
        logger.remove()  # datatrove's progress lines stay in the stage's log folder
        if self.executor == "ray" and not self._ray_started:
            self._ray_started = _ray_connect()
        try:
            executor.run()
        except subprocess.CalledProcessError as exc:  # sbatch refused the job
            raise ReleaseError(
                f"datatrove stage {stage}: {exc.cmd[0]} failed with exit status "
                f"{exc.returncode} (its message is above)"
            ) from None
        if self.executor == "slurm":
            assert self.slurm is not None
            while executor.get_incomplete_ranks() and _slurm_job_queued(executor.job_id):
                time.sleep(self.slurm.poll_seconds)
        missing = executor.get_incomplete_ranks(skip_completed=True)
        if missing:
            raise ReleaseError(
                f"datatrove stage {stage}: tasks {missing} did not complete; "
                f"see {self.work / 'logs' / stage / 'logs'}"
            )

    def close(self) -> None:
        """Leave the Ray cluster if this build joined it."""
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False

    def slurm_script(self, stage: str, pipeline: list[PipelineStep], tasks: int) -> str:
        """The sbatch script the Slurm executor submits for a stage (what `launch_job`
        writes), without submitting it."""
        executor = self.executor_for(stage, pipeline, tasks)
        pickled = executor.logging_dir.resolve_paths("executor.pik")
        run = f"srun  -l -n 1 launch_pickled_pipeline {pickled}"  # as launch_job words it
        return executor.get_launch_file_contents(executor.get_sbatch_args(tasks), run)


def _slurm_job_queued(job_id: str | None) -> bool:
    """Any task of the job still pending or running. A task that failed never writes its
    completion mark, so waiting on the marks alone would wait forever."""
    if not job_id:
        return False
    try:
        listed = subprocess.run(
            ["squeue", "--noheader", "--jobs", str(job_id), "--format", "%i"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return True  # the controller did not answer: look again later
    return listed.returncode == 0 and bool(listed.stdout.strip())


def _ray_connect() -> bool:
    """Connect to the Ray cluster of RAY_ADDRESS (or the one this process already joined);
    with neither, start a local one. True when this call connected (so it disconnects)."""
    try:
        import ray
    except ImportError:
        raise ReleaseError(
            "the ray executor needs Ray: pip install 'news-annotation-toolkit[ray]'"
        ) from None
    if ray.is_initialized():
        return False
    ray.init(
        address=os.environ.get("RAY_ADDRESS"),
        log_to_driver=False,
        include_dashboard=False,
        configure_logging=False,
    )
    return True


def build_distributed(
    sources: Iterable[Path],
    out: Path,
    *,
    executor: str,
    tasks: int | None = None,
    workers: int = 1,
    slurm: SlurmOptions | None = None,
    **options: Any,
) -> Iterator[Any]:
    """`release.build` with its first pass on datatrove; the same events and result."""
    from toolkit.dataset.release import build

    engine = DatatroveEngine(executor, tasks=tasks, workers=workers, slurm=slurm)
    try:
        yield from build(sources, out, workers=workers, engine=engine, **options)
    finally:
        engine.close()
