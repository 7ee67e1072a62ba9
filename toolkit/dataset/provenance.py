"""Provenance computed from a release's articles: publication date range, languages and
URL hosts, for the card and croissant.json (never written by hand)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.parquet as pq


def provenance(staging: Path, articles_entry: dict[str, Any]) -> dict[str, Any]:
    """{published_range: [first, last] ISO dates or None, languages: {code: n},
    url_hosts: {host: n}} over the `articles` shards of a manifest entry."""
    first = last = None
    languages: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    for info in articles_entry["splits"].values():
        for name in info["files"]:
            table = pq.read_table(staging / name, columns=["published_at", "language", "url"])
            if table.num_rows == 0:
                continue
            dates = table.column("published_at")
            lo, hi = pc.min(dates).as_py(), pc.max(dates).as_py()
            if lo is not None:
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
            languages.update(v for v in table.column("language").to_pylist() if v)
            hosts.update(urlsplit(u).hostname or "" for u in table.column("url").to_pylist() if u)
    hosts.pop("", None)
    return {
        "published_range": (
            [first.date().isoformat(), last.date().isoformat()] if first is not None else None
        ),
        "languages": dict(sorted(languages.items())),
        "url_hosts": dict(sorted(hosts.items())),
    }


def annotator_count(staging: Path, manifest: dict[str, Any]) -> int:
    """Distinct annotators over the release's `entities` and `stance` rows (0: none yet)."""
    names: set[str] = set()
    for config in ("entities", "stance"):
        for info in manifest["configs"].get(config, {}).get("splits", {}).values():
            for name in info["files"]:
                column = pq.read_table(staging / name, columns=["annotator"]).column(0)
                names.update(v for v in column.to_pylist() if v)
    return len(names)


def empty_configs(manifest: dict[str, Any]) -> list[str]:
    """Configs with no rows in any split. `datasets` cannot load a Parquet config without
    rows (a 0-row group fails with batch size 0, a file without groups gives "no data"),
    so the card's `configs` and croissant.json leave these out and say why."""
    return [
        name
        for name, entry in manifest["configs"].items()
        if not sum(i["num_examples"] for i in entry["splits"].values())
    ]
