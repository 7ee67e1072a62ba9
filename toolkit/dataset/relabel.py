"""Label configs across a rebuild: labels follow their article.

A rebuild after `pull` re-splits or edits articles, while the label configs were made
against the previous release. Each label row is checked against the article it points
to in the new build: same id and same text hash -> kept, in the article's (possibly new)
split; the article's text changed or the article is gone -> the row goes to `quarantine`
with reason `article-changed` or `article-removed` (the row itself, as JSON, in
`result_json`), so no label is lost and none points at a text it was not made on. `ner`
rows are a derived view of the gold entities: a row whose article changed or vanished
is dropped (its entities are in quarantine) and the next pull derives it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from toolkit.dataset.schema import config_schema

UNASSIGNED = "unassigned"  # the split of quarantine rows whose article is in no split
ARTICLE_CHANGED, ARTICLE_REMOVED = "article-changed", "article-removed"
_SPANNED = ("entities", "stance")  # configs whose rows carry the text_sha256 they were made on


def _read_config(release_dir: Path, manifest: dict[str, Any], config: str) -> pa.Table | None:
    entry = manifest["configs"].get(config)
    if entry is None:
        return None
    schema = config_schema(config).arrow_schema
    files = [release_dir / f for s in sorted(entry["splits"]) for f in entry["splits"][s]["files"]]
    columns = ["id", "text_sha256"] if config == "articles" else None
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    tables = [pq.read_table(f, columns=columns, schema=schema) for f in files]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _as_json(config: str, row: dict[str, Any]) -> str:
    """A label row as readable JSON: ClassLabel ints back to their names."""
    features = config_schema(config).features
    out = {}
    for key, value in row.items():
        names = getattr(features.get(key), "names", None)
        out[key] = names[value] if names and isinstance(value, int) else _jsonable(value)
    return json.dumps([{"config": config, **out}], ensure_ascii=False, sort_keys=True)


def split_spanned(
    config: str,
    table: pa.Table,
    articles: Mapping[str, tuple[str, str]],
    quarantined: list[dict[str, Any]],
) -> tuple[pa.Table, list[str]]:
    """Rows of an `entities` or `stance` table whose article is in `articles` with the
    same text hash, and the split of each; the others are appended to `quarantined` as
    quarantine rows (`article-changed`, `article-removed`)."""
    ids = table.column("article_id").to_pylist()
    shas = table.column("text_sha256").to_pylist()
    keep = []
    for i, (article_id, sha) in enumerate(zip(ids, shas, strict=True)):
        now = articles.get(article_id)
        if now is not None and now[1] == sha:
            keep.append(i)
            continue
        row = table.slice(i, 1).to_pylist()[0]
        quarantined.append(
            {
                "article_id": article_id,
                "task_id": row["task_id"],
                "annotation_id": row["annotation_id"],
                "annotator": row["annotator"],
                "reason": ARTICLE_REMOVED if now is None else ARTICLE_CHANGED,
                "result_json": _as_json(config, row),
            }
        )
    return table.take(pa.array(keep, pa.int64())), [articles[ids[i]][0] for i in keep]


def quarantine_rows(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=config_schema("quarantine").arrow_schema)


def follow_articles(
    release_dir: Path,
    manifest: dict[str, Any],
    articles: Mapping[str, tuple[str, str]],
) -> dict[str, tuple[pa.Table, list[str]]]:
    """The label configs of the release at `release_dir` (described by `manifest`), made
    to follow `articles` (id -> (split, text_sha256) of the new build): config -> (table,
    split of each row). Configs the release does not hold are left out."""
    result: dict[str, tuple[pa.Table, list[str]]] = {}
    quarantined: list[dict[str, Any]] = []
    for config in _SPANNED:
        table = _read_config(release_dir, manifest, config)
        if table is None:
            continue
        result[config] = split_spanned(config, table, articles, quarantined)
    ner = _read_config(release_dir, manifest, "ner")
    if ner is not None:
        before = _read_config(release_dir, manifest, "articles")
        assert before is not None  # every release holds articles
        old_sha = dict(
            zip(
                before.column("id").to_pylist(),
                before.column("text_sha256").to_pylist(),
                strict=True,
            )
        )
        ids = ner.column("id").to_pylist()
        keep = [i for i, a in enumerate(ids) if a in articles and articles[a][1] == old_sha.get(a)]
        result["ner"] = (ner.take(pa.array(keep, pa.int64())), [articles[ids[i]][0] for i in keep])
    quarantine = _read_config(release_dir, manifest, "quarantine")
    if quarantine is not None or quarantined:
        added = quarantine_rows(quarantined)
        table = pa.concat_tables([quarantine, added]) if quarantine is not None else added
        splits = [
            articles[a][0] if a in articles else UNASSIGNED
            for a in table.column("article_id").to_pylist()
        ]
        result["quarantine"] = (table, splits)
    return result
