"""The gold fixture of the five seed articles (tests/fixtures/seed_gold.json, written by
tests/fixtures/make_seed_gold.py), as Label Studio export tasks and as GoldArticles."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from helpers import ROOT
from toolkit.dataset.release import read_articles
from toolkit.labels.export import ArticleText
from toolkit.labels.suggest import GoldArticle, Span
from toolkit.labels.tables import build_tables

FIXTURE = ROOT / "tests" / "fixtures" / "seed_gold.json"


def export_tasks(release_dir: Path) -> list[dict[str, Any]]:
    """The fixture's tasks with `data.text` filled in from a build of seeds/ (the fixture
    holds no article text); fails if a text is not the one the offsets were made for."""
    rows = {r["id"]: r for r in read_articles(release_dir)}
    tasks = copy.deepcopy(json.loads(FIXTURE.read_text(encoding="utf-8")))
    for task in tasks:
        row = rows[task["meta"]["article_id"]]
        assert row["text_sha256"] == task["meta"]["text_sha256"], row["source_file"]
        task["data"]["text"] = row["text"]
    return tasks


def gold_articles(release_dir: Path) -> list[GoldArticle]:
    """Through the pull's own transform (export -> checked label rows -> gold view)."""
    rows = {r["id"]: r for r in read_articles(release_dir)}
    texts = {a: ArticleText(r["text"], r["text_sha256"]) for a, r in rows.items()}
    built = build_tables(export_tasks(release_dir), texts)
    assert not built.rows.quarantine, built.rows.quarantine
    out = []
    for article_id in sorted({r["article_id"] for r in built.rows.entities}):
        r = rows[article_id]
        spans = tuple(
            sorted(
                Span(e["start"], e["end"], e["type"])
                for e in built.rows.entities
                if e["article_id"] == article_id and e["gold"]
            )
        )
        stances = {
            s["target"]: s["stance"]
            for s in built.rows.stance
            if s["article_id"] == article_id and s["gold"]
        }
        paragraphs = tuple((p["start"], p["end"]) for p in r["paragraphs"])
        out.append(
            GoldArticle(
                article_id, r["text"], spans, stances, r["near_duplicate_group"], paragraphs
            )
        )
    return out
