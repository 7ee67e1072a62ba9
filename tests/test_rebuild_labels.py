"""A rebuild after `pull` (issue 18, item 2): labels follow their article's split; labels
whose article changed or vanished go to quarantine with the reason; `validate` catches a
label row in another split than its article, or pointing at a text not in the release.

The labels are released with `release_tables`, the function `pull` ends with (the Label
Studio side is tested in test_pull.py); each label points at a real span of its text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from helpers import copy_seeds
from toolkit.dataset import release as rel
from toolkit.dataset.project import release_project
from toolkit.dataset.release import (
    build,
    read_articles,
    read_manifest,
    read_rows,
    release_tables,
    wait_for_build,
)
from toolkit.dataset.splits import split_for
from toolkit.dataset.validate import validate
from toolkit.labels.tables import to_table

URL = "https://news.example.id/read/77/banjir-rob"
WHEN = datetime(2026, 1, 5, tzinfo=UTC)


def feed_line(text_extra: str = "") -> str:
    text = (
        "Banjir rob kembali merendam kawasan pesisir utara Semarang pada Senin pagi.\n"
        "Warga di Kelurahan Tanjung Mas mengungsi ke balai kelurahan sejak subuh."
        f"{text_extra}\n"
        "Petugas Badan Penanggulangan Bencana Daerah membagikan makanan bagi pengungsi."
    )
    return json.dumps({"url": URL, "text": text}) + "\n"


def corpus(tmp_path: Path) -> Path:
    src = copy_seeds(tmp_path / "src")
    (src / "feed.jsonl").write_text(feed_line(), encoding="utf-8")
    return src


def labels_for(articles: list[dict]) -> dict:
    """One entity (the first word) and one stance per article, annotation id = index."""
    entities, stance = [], []
    for n, article in enumerate(articles):
        word = article["text"].split()[0]
        common = {
            "article_id": article["id"],
            "text_sha256": article["text_sha256"],
            "annotator": "a@example.org",
            "annotation_id": n,
            "task_id": n,
            "created_at": WHEN,
            "updated_at": WHEN,
            "lead_time": 1.0,
            "gold": True,
        }
        start = article["text"].index(word)
        entities.append(
            {
                **common,
                "start": start,
                "end": start + len(word),
                "surface": word,
                "type": "PER",
                "stance": None,
                "relocated": False,
                "region_id": f"r{n}",
            }
        )
        stance.append({**common, "target": "Rusia", "stance": "NONE"})
    return {"entities": to_table("entities", entities), "stance": to_table("stance", stance)}


def labelled_release(tmp_path: Path) -> tuple[Path, Path, dict[str, dict]]:
    src, out = corpus(tmp_path), tmp_path / "news"
    wait_for_build(build([src], out, name="news"))
    articles = sorted(read_articles(out), key=lambda r: r["source_file"])
    release_tables(out, labels_for(articles))
    return src, out, {a["source_file"]: a for a in articles}


def test_labels_follow_their_articles_to_new_splits(tmp_path: Path) -> None:
    src, out, _ = labelled_release(tmp_path)
    ratios = {"train": 0.5, "test": 0.5}
    result = wait_for_build(build([src], out, ratios=ratios))
    assert (result.previous_version, result.version) == ("1.1.0", "2.0.0")  # moved: MAJOR
    placed = {r["id"]: r["split"] for r in read_articles(out)}
    assert all(placed[a] == split_for(a, ratios) for a in placed)
    for config in ("entities", "stance"):
        rows = list(read_rows(out, config))
        assert len(rows) == 6  # none lost
        assert all(r["split"] == placed[r["article_id"]] for r in rows), config
    assert validate(out) == []


def test_labels_of_changed_or_removed_articles_go_to_quarantine(tmp_path: Path) -> None:
    src, out, by_file = labelled_release(tmp_path)
    (src / "feed.jsonl").write_text(feed_line(" Air setinggi lutut."), encoding="utf-8")
    removed = sorted(p for p in src.glob("*.txt"))[0]
    removed.unlink()
    result = wait_for_build(build([src], out))
    assert result.bump == "major"
    assert len(result.diffs["entities"].removed) == len(result.diffs["stance"].removed) == 2
    assert len(result.diffs["quarantine"].added) == 4
    reasons = {
        (r["article_id"], json.loads(r["result_json"])[0]["config"]): r["reason"]
        for r in read_rows(out, "quarantine")
    }
    changed, gone = by_file["feed.jsonl:1"]["id"], by_file[removed.name]["id"]
    assert reasons == {
        (changed, "entities"): "article-changed",
        (changed, "stance"): "article-changed",
        (gone, "entities"): "article-removed",
        (gone, "stance"): "article-removed",
    }
    kept = {r["article_id"] for r in read_rows(out, "entities")}
    assert kept == set(by_file[f]["id"] for f in by_file) - {changed, gone}
    assert validate(out) == []


def test_validate_catches_a_label_in_another_split_or_on_a_missing_text(tmp_path: Path) -> None:
    _, out, by_file = labelled_release(tmp_path)
    # Write a release the way a rebuild did before issue 18: label rows left where they
    # were, one of them in a split its article is not in.
    previous = read_manifest(out)
    staging = rel._stage(out)
    manifest = rel._next_manifest(previous, previous["name"], None)
    rows = list(read_rows(out, "stance"))
    article = by_file["feed.jsonl:1"]
    wrong = next(s for s in ("train", "validation", "test") if s != article["split"])
    moved = [wrong if r["article_id"] == article["id"] else r["split"] for r in rows]
    table = read_stance_table(out)
    stale = table.set_column(
        table.schema.get_field_index("text_sha256"),
        "text_sha256",
        [[("0" * 64 if r["article_id"] == article["id"] else r["text_sha256"]) for r in rows]],
    ).cast(table.schema)
    diffs = {
        "stance": rel._write_label_config(staging, out, manifest, previous, "stance", stale, moved)
    }
    project = release_project(out)
    rel._finish(staging, out, manifest, previous, diffs, None, False, project)
    problems = {(p["check"], p["where"], p["detail"]) for p in validate(out)}
    where = f"stance/{wrong}/{article['id']}"
    assert ("split", where, f"its article is in {article['split']}, not {wrong}") in problems
    assert ("label", where, "its article text is not in this release") in problems


def read_stance_table(out: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = rel.config_files(out, "stance")
    return pa.concat_tables([pq.read_table(f) for s in files for f in files[s]])


def test_labels_pulled_on_a_text_a_build_replaced_meanwhile_go_to_quarantine(
    tmp_path: Path,
) -> None:
    """A pull reads the texts, a build replaces one, then the pull releases: its rows on
    the old text are quarantined, not released against a text the release lacks."""
    src, out = corpus(tmp_path), tmp_path / "news"
    wait_for_build(build([src], out, name="news"))
    articles = sorted(read_articles(out), key=lambda r: r["source_file"])  # the pull reads
    (src / "feed.jsonl").write_text(feed_line(" Air setinggi lutut."), encoding="utf-8")
    wait_for_build(build([src], out))  # the build lands first
    release_tables(out, labels_for(articles))
    changed = next(a["id"] for a in articles if a["source_file"] == "feed.jsonl:1")
    reasons = [(r["article_id"], r["reason"]) for r in read_rows(out, "quarantine")]
    assert reasons == [(changed, "article-changed")] * 2  # its entity and its stance row
    assert len(list(read_rows(out, "entities"))) == len(articles) - 1
    assert validate(out) == []


def test_empty_label_tables_release_and_rebuild(tmp_path: Path) -> None:
    """A pull of a project with no annotation yet: empty tables (found by test_secrets)."""
    src, out = corpus(tmp_path), tmp_path / "news"
    wait_for_build(build([src], out, name="news"))
    assert release_tables(out, labels_for([])).version == "1.1.0"
    (src / "feed.jsonl").unlink()
    assert wait_for_build(build([src], out)).version == "2.0.0"
    assert list(read_rows(out, "entities")) == [] and validate(out) == []
