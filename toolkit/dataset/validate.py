"""`validate`: check a release against its own contract; problems come back as data.

Checks: the manifest and its checksums, each shard's schema against schemas/, split
sizes against the card, article invariants (unique ids, text hashes, paragraph offsets,
deterministic splits), entity spans against their article text, and the git tag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml

from toolkit.dataset.project import RELEASE_COPY, release_project
from toolkit.dataset.provenance import empty_configs
from toolkit.dataset.release import MANIFEST, read_manifest
from toolkit.dataset.release_repo import git, tags
from toolkit.dataset.schema import CONFIGS, config_schema, use_scheme
from toolkit.dataset.shards import iter_rows, sha256_file
from toolkit.dataset.splits import split_for
from toolkit.errors import ProjectError, ReleaseError


def _problem(check: str, where: str, detail: str) -> dict[str, str]:
    return {"check": check, "where": where, "detail": detail}


def validate(release_dir: Path) -> list[dict[str, str]]:
    """Every problem found in the release (empty list: the release is sound)."""
    release_dir = Path(release_dir)
    try:
        manifest = read_manifest(release_dir)
    except ReleaseError as exc:
        return [_problem("manifest", MANIFEST, str(exc))]
    if manifest is None:
        return [_problem("manifest", MANIFEST, f"{release_dir} has no {MANIFEST}")]
    try:
        scheme = release_project(release_dir).labels
    except ProjectError as exc:
        return [_problem("project", RELEASE_COPY, str(exc))]
    with use_scheme(scheme):  # ClassLabel names are the release's own
        problems = list(_check_files(release_dir, manifest))
        if problems:  # the rows of damaged files are not worth reading
            return problems
        problems += _check_card(release_dir, manifest)
        problems += _check_articles(release_dir, manifest)
        problems += _check_entities(release_dir, manifest)
        problems += _check_label_splits(release_dir, manifest)
        problems += _check_git(release_dir, manifest)
    return problems


def _check_files(release_dir: Path, manifest: dict[str, Any]) -> Iterator[dict[str, str]]:
    listed: set[str] = set()
    for config, entry in manifest["configs"].items():
        if config not in CONFIGS:
            yield _problem("schema", config, f"unknown config '{config}'")
            continue
        expected = config_schema(config).arrow_schema.remove_metadata()
        for split, info in entry["splits"].items():
            rows = 0
            for name, digest in info["files"].items():
                listed.add(name)
                path = release_dir / name
                if not path.is_file():
                    yield _problem("checksum", name, "file is missing")
                    continue
                if sha256_file(path) != digest:
                    yield _problem("checksum", name, "sha256 differs from the manifest")
                    continue
                meta = pq.ParquetFile(path)
                if not meta.schema_arrow.remove_metadata().equals(expected):
                    yield _problem("schema", name, f"schema differs from schemas/{config}.yaml")
                rows += meta.metadata.num_rows
            if rows != info["num_examples"]:
                yield _problem(
                    "split-size",
                    f"{config}/{split}",
                    f"{rows} rows in files, manifest says {info['num_examples']}",
                )
    data = release_dir / "data"
    for path in sorted(data.rglob("*.parquet")) if data.exists() else ():
        name = path.relative_to(release_dir).as_posix()
        if name not in listed:
            yield _problem("checksum", name, "file not listed in the manifest")


def _card_header(release_dir: Path) -> dict[str, Any]:
    text = (release_dir / "README.md").read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise ValueError("no YAML header")
    return yaml.safe_load(text.split("---\n", 2)[1])


def _check_card(release_dir: Path, manifest: dict[str, Any]) -> list[dict[str, str]]:
    try:
        header = _card_header(release_dir)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return [_problem("card", "README.md", f"unreadable card: {exc}")]
    problems = []
    declared = {info["config_name"]: info for info in header.get("dataset_info", [])}
    empty = set(empty_configs(manifest))  # left out of the card on purpose: cannot load
    for config, entry in manifest["configs"].items():
        if config in empty and config not in declared:
            continue
        info = declared.get(config)
        if info is None:
            problems.append(_problem("card", config, "config missing from dataset_info"))
            continue
        card_sizes = {s["name"]: s["num_examples"] for s in info.get("splits", [])}
        real_sizes = {s: i["num_examples"] for s, i in entry["splits"].items()}
        if card_sizes != real_sizes:
            problems.append(
                _problem("split-size", config, f"card says {card_sizes}, data has {real_sizes}")
            )
    return problems


def _check_articles(release_dir: Path, manifest: dict[str, Any]) -> Iterator[dict[str, str]]:
    ratios = manifest["split_ratios"]
    seen: set[str] = set()
    for split, info in manifest["configs"]["articles"]["splits"].items():
        for row in iter_rows([release_dir / f for f in info["files"]]):
            where = f"articles/{row['id']}"
            if row["id"] in seen:
                yield _problem("unique-id", where, "id appears twice")
            seen.add(row["id"])
            text = row["text"] or ""
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != row["text_sha256"]:
                yield _problem("text-hash", where, "text_sha256 does not match text")
            if split_for(row["id"], ratios) != split:
                yield _problem("split", where, f"in {split}, the id hashes to another split")
            yield from _check_paragraphs(where, text, row["paragraphs"])


def _check_paragraphs(where: str, text: str, paragraphs: list[dict]) -> Iterator[dict[str, str]]:
    position = 0
    for p in paragraphs:
        if not position <= p["start"] < p["end"] <= len(text):
            yield _problem(
                "paragraphs", where, f"span {p['start']}-{p['end']} outside text or unordered"
            )
            return
        position = p["end"]


def _check_entities(release_dir: Path, manifest: dict[str, Any]) -> Iterator[dict[str, str]]:
    if "entities" not in manifest["configs"]:
        return
    texts = {
        row["text_sha256"]: row["text"]
        for info in manifest["configs"]["articles"]["splits"].values()
        for row in iter_rows([release_dir / f for f in info["files"]], ["text", "text_sha256"])
    }
    for info in manifest["configs"]["entities"]["splits"].values():
        for row in iter_rows([release_dir / f for f in info["files"]]):
            text = texts.get(row["text_sha256"])
            where = f"entities/{row['article_id']}/{row['annotation_id']}/{row['region_id']}"
            if text is None:
                yield _problem("span", where, "its article text is not in this release")
            elif text[row["start"] : row["end"]] != row["surface"]:
                yield _problem("span", where, "text[start:end] differs from the surface text")


# label configs -> the column naming their article
_ARTICLE_COLUMN = {"entities": "article_id", "stance": "article_id", "ner": "id"}


def _check_label_splits(release_dir: Path, manifest: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Each label row sits in its article's split and points at a text of this release
    (a quarantine row whose article is in no split sits in `unassigned`)."""
    configs = manifest["configs"]
    if not any(c in configs for c in (*_ARTICLE_COLUMN, "quarantine")):
        return
    placed = {
        row["id"]: (split, row["text_sha256"])
        for split, info in configs["articles"]["splits"].items()
        for row in iter_rows([release_dir / f for f in info["files"]], ["id", "text_sha256"])
    }
    texts = {sha for _, sha in placed.values()}
    for config in (*_ARTICLE_COLUMN, "quarantine"):
        column = _ARTICLE_COLUMN.get(config, "article_id")
        wanted = [column, "text_sha256"] if config in ("entities", "stance") else [column]
        for split, info in configs.get(config, {}).get("splits", {}).items():
            for row in iter_rows([release_dir / f for f in info["files"]], wanted):
                article = placed.get(row[column])
                where = f"{config}/{split}/{row[column]}"
                if config == "stance" and row["text_sha256"] not in texts:
                    yield _problem("label", where, "its article text is not in this release")
                if article is None and config != "quarantine":
                    yield _problem("label", where, "its article is not in this release")
                elif article is None and split != "unassigned":
                    yield _problem("split", where, "no such article, yet not in 'unassigned'")
                elif article is not None and article[0] != split:
                    yield _problem("split", where, f"its article is in {article[0]}, not {split}")


def _check_git(release_dir: Path, manifest: dict[str, Any]) -> list[dict[str, str]]:
    tag = f"v{manifest['version']}"
    try:
        if tag not in tags(release_dir):
            return [_problem("git", tag, "the release's version has no tag")]
        if git(release_dir, "status", "--porcelain").strip():
            return [_problem("git", ".", "the working tree differs from the committed release")]
    except ReleaseError as exc:
        return [_problem("git", ".", str(exc))]
    return []
