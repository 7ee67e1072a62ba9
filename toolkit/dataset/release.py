"""Releases: article records -> an immutable, numbered Hugging Face dataset repository.

`build` streams pages through extraction into Parquet shards (two passes over a spool,
so near-duplicate groups can be assigned without holding the corpus in memory), diffs the
result against the previous release to compute the version, and publishes it atomically
as one git commit tagged vX.Y.Z. `release_tables` does the same for label configs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from toolkit import __version__
from toolkit.dataset import card
from toolkit.dataset.cache import PageCache
from toolkit.dataset.near_duplicates import NearDuplicateIndex
from toolkit.dataset.prepare import (
    CONTENT,
    PROVENANCE,
    SPLIT,
    Prepared,
    prepared_chunks,
    read_chunk,
)
from toolkit.dataset.project import RELEASE_COPY, Project, default_project, release_project
from toolkit.dataset.provenance import provenance
from toolkit.dataset.relabel import UNASSIGNED, follow_articles, quarantine_rows, split_spanned
from toolkit.dataset.release_checks import (
    check_name,
    check_out_outside_sources,
    check_requested_version,
    os_error_message,
)
from toolkit.dataset.release_lock import WAIT_FOREVER, ReleaseLock, release_lock, release_target
from toolkit.dataset.release_repo import commit_and_tag, discard, publish, stage, tags
from toolkit.dataset.schema import ConfigSchema, config_schema, use_scheme
from toolkit.dataset.scheme_change import check_scheme_change
from toolkit.dataset.shards import ShardWriter, iter_rows, sha256_file
from toolkit.dataset.splits import DEFAULT_RATIOS, check_ratios
from toolkit.dataset.versioning import (
    BUMPS,
    ConfigDiff,
    Digests,
    RowDigest,
    Version,
    choose_version,
    derived_digest,
    diff_digests,
    overall_bump,
    row_digest,
)
from toolkit.errors import ReleaseError
from toolkit.pages.article import Rejection

MANIFEST = "release.json"
REPORT = "build-report.json"
DEFAULT_MAX_BYTES = 5_000_000


@dataclass
class Progress:
    stage: str  # waiting | extract | write
    done: int
    message: str = ""  # what a waiting build waits for


@dataclass
class ReleaseResult:
    out: Path
    name: str
    version: str | None  # None: nothing changed, no release made
    previous_version: str | None
    bump: str  # initial | none | patch | minor | major
    diffs: dict[str, ConfigDiff] = field(default_factory=dict)
    built: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    near_duplicate_groups: int = 0

    @property
    def unchanged(self) -> bool:
        return self.version is None


# ---------------------------------------------------------------- reading a release


def read_manifest(release_dir: Path) -> dict[str, Any] | None:
    path = Path(release_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{path} is unreadable: {exc}") from exc


def _manifest(release_dir: Path) -> dict[str, Any]:
    manifest = read_manifest(release_dir)
    if manifest is None:
        raise ReleaseError(f"{release_dir} is not a dataset release (no {MANIFEST}); run build")
    return manifest


def current_version(release_dir: Path) -> str:
    return _manifest(release_dir)["version"]


def dataset_name(release_dir: Path) -> str:
    return _manifest(release_dir)["name"]


def config_files(release_dir: Path, config: str) -> dict[str, list[Path]]:
    """split -> Parquet files of one config in a release ({} if it has none)."""
    splits = _manifest(release_dir)["configs"].get(config, {}).get("splits", {})
    return {s: [Path(release_dir) / f for f in info["files"]] for s, info in splits.items()}


def read_rows(release_dir: Path, config: str = "articles") -> Iterator[dict[str, Any]]:
    """Rows of one config, all splits, streamed; each row gains its `split`."""
    for split, files in config_files(release_dir, config).items():
        for row in iter_rows(files):
            row["split"] = split
            yield row


def read_articles(release_dir: Path) -> Iterator[dict[str, Any]]:
    """Rows of the `articles` config (all splits), with `published_at` as ISO text."""
    for row in read_rows(release_dir, "articles"):
        if row["published_at"] is not None:
            row["published_at"] = row["published_at"].isoformat()
        yield row


def _digests(release_dir: Path, config: str) -> Digests | None:
    schema = config_schema(config)
    files = config_files(release_dir, config)
    if not files:
        return None
    digests = Digests()
    for split, paths in files.items():
        for row in iter_rows(paths):
            digests.add(*row_digest(schema, row, split))
    return digests


# ---------------------------------------------------------------- writing a release


def _release_date(date: str | None) -> str:
    if date:
        return date
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible-builds convention
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.date().isoformat()


class _ConfigWriter:
    """The shards and row digests of one config, written split by split."""

    def __init__(self, staging: Path, config: str) -> None:
        self.staging, self.config, self.schema = staging, config, config_schema(config)
        self.directory = staging / "data" / config
        for old in self.directory.glob("*.parquet") if self.directory.exists() else ():
            old.unlink()  # unlinks the staging hard link only; the live release keeps its file
        self.writers: dict[str, ShardWriter] = {}
        self.splits: dict[str, dict[str, Any]] = {}  # manifest entries of finished splits
        self.digests = Digests()

    def _writer(self, split: str) -> ShardWriter:
        if split in self.splits:
            raise ReleaseError(f"config '{self.config}': split {split} was already written")
        if split not in self.writers:
            self.writers[split] = ShardWriter(self.directory, split, self.schema.arrow_schema)
        return self.writers[split]

    def write_table(
        self,
        split: str,
        table: pa.Table,
        digests: Iterable[tuple[tuple, RowDigest]],
        *,
        unique: bool = False,
    ) -> None:
        """Rows in Arrow form, with their (key, digest) pairs in the same order. `unique`:
        the keys are known to be unique (not checked)."""
        self._writer(split).write_table(table)
        for key, digest in digests:
            if not self.digests.add(key, digest, unique=unique):
                raise ReleaseError(f"config '{self.config}': two rows share the key {key}")

    def finish_split(self, split: str) -> None:
        """Close a split's shards (frees its writer); it takes no more rows."""
        writer = self.writers.pop(split)
        paths = writer.close()
        self.splits[split] = {
            "num_examples": writer.num_rows,
            "num_bytes": sum(p.stat().st_size for p in paths),
            "files": {p.relative_to(self.staging).as_posix(): sha256_file(p) for p in paths},
        }

    def close(self) -> tuple[dict[str, Any], Digests]:
        """Its manifest entry and its digests. An empty config still gets one empty
        shard, so it loads."""
        if not self.writers and not self.splits:
            self._writer("train")
        for split in list(self.writers):
            self.finish_split(split)
        splits = {split: self.splits[split] for split in sorted(self.splits)}
        return {"columns": self.schema.column_names, "splits": splits}, self.digests


def _data_fingerprint(manifest: dict[str, Any] | None, config: str) -> dict[str, str]:
    splits = (manifest or {}).get("configs", {}).get(config, {}).get("splits", {})
    return {f: h for info in splits.values() for f, h in info["files"].items()}


def _finish(
    staging: Path,
    out: Path,
    manifest: dict[str, Any],
    previous: dict[str, Any] | None,
    diffs: dict[str, ConfigDiff],
    requested: str | None,
    extra_changed: bool,
    project: Project,
    scheme_bump: str = "none",
) -> ReleaseResult:
    """Version, card, citation, changelog, commit, tag and atomic publish (or discard)."""
    bytes_changed = extra_changed or any(
        _data_fingerprint(previous, c) != _data_fingerprint(manifest, c) for c in diffs
    )
    bump = overall_bump(diffs.values(), bytes_changed) if previous else "initial"
    if previous and BUMPS.index(scheme_bump) > BUMPS.index(bump):
        bump = scheme_bump  # a label scheme change is versioned like the rows it labels
    prev_version = Version.parse(previous["version"]) if previous else None
    result = ReleaseResult(
        out, manifest["name"], None, str(prev_version) if prev_version else None, bump, diffs
    )
    if previous is not None and bump == "none" and requested is None:
        discard(staging)
        return result
    version = choose_version(prev_version, bump, requested)
    if f"v{version}" in tags(staging):
        raise ReleaseError(f"version {version} is already released; a release is never rewritten")
    manifest["version"] = str(version)
    # No sort_keys: the order of the split ratios is part of the split rule.
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (staging / RELEASE_COPY).write_text(project.dump(), encoding="utf-8")
    card.write_all(
        staging, manifest, diffs, project, previous_version=result.previous_version, bump=bump
    )
    message = card.commit_message(manifest, diffs, bump)
    commit_and_tag(staging, str(version), message, date=f"{manifest['date']}T00:00:00+00:00")
    publish(staging, out)
    result.version = str(version)
    return result


def build(
    sources: Iterable[Path],
    out: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    ratios: dict[str, float] | None = None,
    workers: int = 1,
    max_bytes: int = DEFAULT_MAX_BYTES,
    date: str | None = None,
    lock_timeout: float = WAIT_FOREVER,
    project: Project | None = None,
    skip: Iterable[Path] = (),
    cache_dir: Path | None = None,
    engine: Engine | None = None,
) -> Iterator[Progress | ReleaseResult]:
    """Build the next release of the `articles` config; yields progress, then the result.
    `project`: the dataset's project file (default: placeholders and the active scheme);
    `name` and `ratios` given here win over its own; `skip`: files among the sources
    that are not pages (the project file). With `cache_dir`, pages extracted by an earlier
    build are taken from that cache; an `engine` (distributed.DatatroveEngine) runs the
    per-page and near-duplicate stages.

    One writer at a time: if another build or pull is writing `out`, yields a `waiting`
    Progress and waits (up to `lock_timeout` s), then builds on the release it made."""
    out, sources = release_target(Path(out)), list(sources)
    for given in (ratios, project.splits if project is not None else None):
        if given is not None:
            check_ratios(given)
    for given_name in (name, project.name if project is not None else None):
        if given_name is not None:
            check_name(given_name)
    check_requested_version(version)
    check_out_outside_sources(out, sources)
    lock = ReleaseLock(out, lock_timeout)
    if not lock.try_acquire():
        yield Progress("waiting", 0, lock.waiting_message)
        lock.acquire()
    try:
        result = yield from _build(
            sources,
            out,
            name,
            version,
            ratios,
            workers,
            max_bytes,
            date,
            project,
            skip,
            cache_dir,
            engine,
        )
    finally:
        lock.release()
    yield result


def _build(
    sources: list[Path],
    out: Path,
    name: str | None,
    version: str | None,
    ratios: dict[str, float] | None,
    workers: int,
    max_bytes: int,
    date: str | None,
    project: Project | None,
    skip: Iterable[Path],
    cache_dir: Path | None = None,
    engine: Engine | None = None,
) -> Generator[Progress, None, ReleaseResult]:
    previous = read_manifest(out)
    if project is None:
        name = name or (previous["name"] if previous else out.name)
        project = default_project(name)
    name = name or project.name
    check_name(name)
    ratios = ratios or project.splits
    check_ratios(ratios)
    scheme_bump = "none"
    if previous is not None:
        scheme_bump = check_scheme_change(release_project(out).labels, project.labels, previous)
    staging = _stage(out)
    try:
        cache = PageCache(cache_dir, max_bytes) if cache_dir is not None else None
        first = yield from _first_pass(
            sources, staging, ratios, workers, max_bytes, skip, cache, engine
        )
        inputs, rejected, groups = first.inputs, first.rejected, first.groups
        labelled = previous is not None and any(c != "articles" for c in previous["configs"])
        entry, digests, placed = _write_articles(
            staging, first.spooled, groups, ratios, keep_placement=labelled
        )
        shutil.rmtree(staging / ".spool")
        built = first.built
        report = {"inputs": inputs, "built": built, "rejected": [asdict(r) for r in rejected]}
        manifest = _next_manifest(previous, name, date)
        manifest["configs"]["articles"] = entry
        manifest["split_ratios"] = ratios
        manifest["build"] = {
            "inputs": inputs,
            "built": built,
            "rejected": len(rejected),
            "rejected_by_reason": dict(sorted(Counter(r.reason for r in rejected).items())),
            "publishers": dict(sorted(first.publishers.items())),
            "near_duplicate_groups": len(set(groups.values())),
            **provenance(staging, entry),
        }
        (staging / REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        prev_digests = None
        if previous:
            kept = cache.release_digests(previous, "articles") if cache else None
            prev_digests = kept or _digests(out, "articles")
        if cache is not None:
            cache.keep_release_digests(manifest, "articles", digests)
        prev_cols = previous["configs"]["articles"]["columns"] if previous else []
        diffs = {
            "articles": diff_digests("articles", prev_digests, digests, prev_cols, entry["columns"])
        }
        if labelled:
            assert previous is not None
            for config, (table, row_split) in follow_articles(out, previous, placed).items():
                diffs[config] = _write_label_config(
                    staging, out, manifest, previous, config, table, row_split
                )
        report_changed = previous is not None and previous.get("build") != manifest["build"]
        yield Progress("write", inputs)
        project_changed = (
            previous is not None and release_project(out).to_dict() != project.to_dict()
        )
        result = _finish(
            staging,
            out,
            manifest,
            previous,
            diffs,
            version,
            report_changed or project_changed,
            project,
            scheme_bump,
        )
    except OSError as exc:
        discard(staging)
        raise ReleaseError(os_error_message(exc, out)) from None
    except BaseException:
        discard(staging)
        raise
    result.built, result.rejected = built, rejected
    result.near_duplicate_groups = manifest["build"]["near_duplicate_groups"]
    return result


def _stage(out: Path) -> Path:
    try:
        return stage(out)
    except OSError as exc:
        discard(out.parent / f".{out.name}.staging-{os.getpid()}")
        raise ReleaseError(os_error_message(exc, out)) from None


class Engine:
    """Where the first pass runs: this machine's process pool (the default) or, in
    distributed.py, datatrove stages that produce the same chunks and groups."""

    chunks = staticmethod(prepared_chunks)
    index = NearDuplicateIndex


@dataclass
class _FirstPass:
    inputs: int
    built: int
    rejected: list[Rejection]
    publishers: Counter[str]
    spooled: list[tuple[Path, list[bool]]]  # spool file, which of its rows to keep
    groups: dict[str, str]  # near-duplicate group of each grouped article


def _first_pass(
    sources: Iterable[Path],
    staging: Path,
    ratios: dict[str, float],
    workers: int,
    max_bytes: int,
    skip: Iterable[Path] = (),
    cache: PageCache | None = None,
    engine: Engine | None = None,
) -> Generator[Progress, None, _FirstPass]:
    """Extract and spool every page, drop repeated pages, group near-duplicates. Its
    per-article sets and index are gone once it returns, before the second pass fills
    the memory with shards and digests (about 20 MB at 100k articles)."""
    engine = engine or Engine()
    index = engine.index(spool_dir=staging / ".near-duplicates")
    first = _FirstPass(0, 0, [], Counter(), [], {})
    seen_raw: dict[int, str] = {}  # raw sha256 as an int: half the memory of its hex
    seen_ids: set[str] = set()
    options = {"workers": workers, "max_bytes": max_bytes, "ratios": ratios, "cache": cache}
    chunks = engine.chunks(sources, staging / ".spool", skip=skip, **options)
    for chunk in chunks:
        keep = []
        kept: list[Prepared] = []  # indexed a chunk at a time (one array, not one each)
        for item in chunk.items:
            first.inputs += 1
            if isinstance(item, Prepared):
                duplicate = _dedupe(item, seen_raw, seen_ids)
                keep.append(duplicate is None)
                if duplicate is None:
                    kept.append(item)
                    first.publishers[item.publisher] += 1
                    continue
                item = duplicate
            first.rejected.append(item)
        index.add_many([i.id for i in kept], [i.bands for i in kept])
        if chunk.path is not None:
            first.spooled.append((chunk.path, keep))
        yield Progress("extract", first.inputs)
    first.built, first.groups = len(seen_ids), index.groups()
    return first


def _dedupe(item: Prepared, seen_raw: dict[int, str], seen_ids: set[str]) -> Rejection | None:
    """The same page twice (same bytes or same id) is built once; the copy is reported."""
    raw = int(item.raw_sha256, 16)
    first = seen_raw.get(raw)
    if first is not None:
        return Rejection(item.source_file, "duplicate", f"same bytes as {first}")
    if item.id in seen_ids:
        return Rejection(item.source_file, "duplicate-id", f"id {item.id} already built")
    seen_raw[raw] = item.source_file
    seen_ids.add(item.id)
    return None


def _write_articles(
    staging: Path,
    spooled: list[tuple[Path, list[bool]]],
    groups: dict[str, str],
    splits: Iterable[str],
    *,
    keep_placement: bool = False,
) -> tuple[dict[str, Any], Digests, dict[str, tuple[str, str]]]:
    """Second pass over the spool: each kept row gets its near-duplicate group and goes to
    its split's shards, in input order, as Arrow tables (no row dicts). One pass per
    split, so one writer and one pending row group are in memory at a time (100k
    articles: the spool is memory-mapped, uncompressed, three times; three open writers
    ~20 MB)."""
    writer = _ConfigWriter(staging, "articles")
    schema, columns = writer.schema, writer.schema.column_names
    group_field = schema.arrow_schema.field("near_duplicate_group")
    derived: dict[str | None, bytes] = {}  # digest of the derived fields, by group
    placed: dict[str, tuple[str, str]] = {}  # id -> (split, text_sha256), for label configs
    for split in splits:
        for path, keep in spooled:
            table = read_chunk(path)
            in_split = table.column(SPLIT).to_pylist()
            mine = [k and s == split for k, s in zip(keep, in_split, strict=True)]
            if not any(mine):
                continue
            table = table.filter(pa.array(mine, pa.bool_()))
            ids = table.column("id").to_pylist()
            group = [groups.get(i) for i in ids]
            table = table.set_column(
                table.schema.get_field_index(group_field.name),
                group_field,
                pa.array(group, pa.string()),
            )
            if keep_placement:
                texts = table.column("text_sha256").to_pylist()
                placed.update((i, (split, t)) for i, t in zip(ids, texts, strict=True))
            content = table.column(CONTENT).to_pylist()
            provenance = table.column(PROVENANCE).to_pylist()
            digests = []
            for i, article_id in enumerate(ids):
                if group[i] not in derived:
                    derived[group[i]] = derived_digest(schema, {group_field.name: group[i]})
                digest = RowDigest(split, content[i], derived[group[i]], provenance[i])
                digests.append(((article_id,), digest))
            # ids are unique: _first_pass built each id once
            writer.write_table(split, table.select(columns), digests, unique=True)
        if split in writer.writers:
            writer.finish_split(split)
    entry, digests = writer.close()
    return entry, digests, placed


def _next_manifest(previous: dict[str, Any] | None, name: str, date: str | None) -> dict:
    manifest = json.loads(json.dumps(previous)) if previous else {"configs": {}}
    manifest.update(name=name, date=_release_date(date), toolkit_version=__version__)
    manifest.setdefault("split_ratios", DEFAULT_RATIOS)
    manifest.setdefault("card_sections", {})
    return manifest


def article_placement(release_dir: Path) -> dict[str, tuple[str, str]]:
    """article id -> (split, text_sha256), read from the release."""
    return {
        row["id"]: (split, row["text_sha256"])
        for split, files in config_files(release_dir, "articles").items()
        for row in iter_rows(files, columns=["id", "text_sha256"])
    }


def _against_release(
    tables: dict[str, pa.Table], placed: dict[str, tuple[str, str]]
) -> dict[str, pa.Table]:
    """Entity and stance rows made on a text this release no longer holds (a build
    replaced it while the labels were being exported) go to quarantine, as on a rebuild."""
    quarantined: list[dict[str, Any]] = []
    checked = dict(tables)
    for config in ("entities", "stance"):
        schema = config_schema(config)
        if config in tables and tables[config].schema.names == schema.column_names:
            table = tables[config].cast(schema.arrow_schema)
            checked[config] = split_spanned(config, table, placed, quarantined)[0]
    old = checked.get("quarantine")
    names = config_schema("quarantine").column_names
    if quarantined and (old is None or old.schema.names == names):
        extra = quarantine_rows(quarantined)
        checked["quarantine"] = (
            extra if old is None else pa.concat_tables([old.cast(extra.schema), extra])
        )
    return checked


def article_splits(release_dir: Path) -> dict[str, str]:
    """article id -> split, read from the release (for label configs)."""
    return {
        row["id"]: split
        for split, files in config_files(release_dir, "articles").items()
        for row in iter_rows(files, columns=["id"])
    }


def release_tables(
    release_dir: Path,
    tables: dict[str, pa.Table],
    *,
    card_sections: dict[str, str] | None = None,
    machine_tools: dict[str, str] | None = None,
    version: str | None = None,
    date: str | None = None,
    split_column: dict[str, str] | None = None,
    lock_timeout: float = WAIT_FOREVER,
    on_wait: Callable[[str], None] | None = None,
) -> ReleaseResult:
    """Publish label configs (entities, stance, quarantine, ner...) as the next release.

    `card_sections`: titled sections for the card; `machine_tools`: named one-paragraph
    descriptions of the machine annotation tools used (with their measured quality) for
    croissant.json's `rai:machineAnnotationTools`. Both are kept in later releases.

    Rows go to the split of their article (`split_column[config]` names the article-id
    column, default `article_id`), so a label never sits in another split than its text.
    Rows with no known article go to a split named `unassigned`. Holds the release's
    lock like `build` (`on_wait` is told when it has to wait for another writer).
    """
    release_dir = release_target(Path(release_dir))
    # read under the lock: a build that finished meanwhile made the previous release
    with (
        release_lock(release_dir, timeout=lock_timeout, on_wait=on_wait),
        use_scheme(release_project(release_dir).labels),
    ):
        return _release_tables(
            release_dir, tables, card_sections, machine_tools, version, date, split_column
        )


def _release_tables(
    release_dir: Path,
    tables: dict[str, pa.Table],
    card_sections: dict[str, str] | None,
    machine_tools: dict[str, str] | None,
    version: str | None,
    date: str | None,
    split_column: dict[str, str] | None,
) -> ReleaseResult:
    previous = _manifest(release_dir)
    placed = article_placement(release_dir)
    splits = {a: split for a, (split, _) in placed.items()}
    staging = _stage(release_dir)
    try:
        manifest = _next_manifest(previous, previous["name"], date)
        manifest["card_sections"].update(card_sections or {})
        if machine_tools:
            manifest.setdefault("machine_annotation_tools", {}).update(machine_tools)
        diffs = {}
        for config, table in _against_release(tables, placed).items():
            column = (split_column or {}).get(config, "article_id")
            schema = config_schema(config)
            if table.schema.names != schema.column_names:
                raise ReleaseError(
                    f"table for '{config}' has columns {table.schema.names}, "
                    f"the schema declares {schema.column_names}"
                )
            table = table.cast(schema.arrow_schema)
            row_split = [splits.get(a, UNASSIGNED) for a in table.column(column).to_pylist()]
            diffs[config] = _write_label_config(
                staging, release_dir, manifest, previous, config, table, row_split
            )
        sections_changed = previous.get("card_sections") != manifest["card_sections"] or (
            previous.get("machine_annotation_tools") != manifest.get("machine_annotation_tools")
        )
        return _finish(
            staging,
            release_dir,
            manifest,
            previous,
            diffs,
            version,
            sections_changed,
            release_project(release_dir),
        )
    except OSError as exc:
        discard(staging)
        raise ReleaseError(os_error_message(exc, release_dir)) from None
    except BaseException:
        discard(staging)
        raise


def _write_label_config(
    staging: Path,
    release_dir: Path,
    manifest: dict[str, Any],
    previous: dict[str, Any],
    config: str,
    table: pa.Table,
    row_split: list[str],
) -> ConfigDiff:
    """Write one label config split by split into the staging release; its diff."""
    schema = config_schema(config)
    writer = _ConfigWriter(staging, config)
    for split in sorted(set(row_split)):
        part = table.take([i for i, s in enumerate(row_split) if s == split])
        writer.write_table(split, part, _row_digests(schema, part, split))
    entry, digests = writer.close()
    manifest["configs"][config] = entry
    prev_entry = previous["configs"].get(config)
    return diff_digests(
        config,
        _digests(release_dir, config) if prev_entry else None,
        digests,
        prev_entry["columns"] if prev_entry else [],
        entry["columns"],
    )


_DIGEST_ROWS = 1024  # rows made Python objects at a time, for their digests


def _row_digests(
    schema: ConfigSchema, table: pa.Table, split: str
) -> Iterator[tuple[tuple, RowDigest]]:
    """Each row's key and digest, a slice at a time: a whole `ner` table as Python objects
    takes ~60 bytes a token (10k articles, 5.7M tokens: ~0.4 GB)."""
    for start in range(0, table.num_rows, _DIGEST_ROWS):
        for row in table.slice(start, _DIGEST_ROWS).to_pylist():
            yield row_digest(schema, row, split)


def wait_for_build(events: Iterable[Progress | ReleaseResult]) -> ReleaseResult:
    """Run a build generator to its end (for callers that need no progress)."""
    result = None
    for event in events:
        if isinstance(event, ReleaseResult):
            result = event
    if result is None:
        raise ReleaseError("the build ended without a result")
    return result
