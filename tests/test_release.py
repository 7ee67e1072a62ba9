"""Releases: typed Parquet that `datasets` loads as declared, versioned by the diff rule."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import datasets
import pytest
from click.testing import CliRunner

from benchmarks.corpus import write_corpus
from helpers import NEW_PAGE, copy_seeds, tree_digest
from toolkit.cli import cli
from toolkit.dataset import prepare, shards
from toolkit.dataset.release import build, read_manifest, wait_for_build
from toolkit.dataset.schema import config_schema
from toolkit.dataset.splits import split_for
from toolkit.dataset.validate import validate
from toolkit.errors import ReleaseError

ARTICLES = config_schema("articles").features


def make(sources: Path, out: Path, **kwargs):
    return wait_for_build(build([sources], out, name="news", date="2026-11-22", **kwargs))


@pytest.fixture(scope="module")
def seed_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "news"
    make(copy_seeds(tmp_path_factory.mktemp("src")), out)
    return out


def test_first_release_is_1_0_0_with_every_seed(seed_release: Path) -> None:
    manifest = read_manifest(seed_release)
    assert manifest["version"] == "1.0.0"
    assert manifest["build"]["built"] == 5
    assert manifest["build"]["rejected"] == 0
    tags = subprocess.run(
        ["git", "-C", str(seed_release), "tag"], capture_output=True, text=True, check=True
    )
    assert tags.stdout.split() == ["v1.0.0"]
    for name in ("README.md", "CITATION.cff", "CHANGELOG.md", "build-report.json"):
        assert (seed_release / name).is_file(), name
    assert validate(seed_release) == []


def test_load_dataset_gives_the_declared_features(seed_release: Path) -> None:
    loaded = datasets.load_dataset(str(seed_release))
    assert sum(len(split) for split in loaded.values()) == 5
    for split in loaded.values():
        assert split.features == ARTICLES
    streamed = datasets.load_dataset(str(seed_release), streaming=True)
    for split in streamed.values():
        assert split.features == ARTICLES
        assert all(isinstance(row["text"], str) for row in split)
    files = [str(p) for p in sorted((seed_release / "data" / "articles").glob("*.parquet"))]
    plain = datasets.load_dataset("parquet", data_files=files, split="train")
    assert plain.features == ARTICLES
    assert len(plain) == 5


def test_split_follows_the_id_hash(seed_release: Path) -> None:
    loaded = datasets.load_dataset(str(seed_release))
    for split_name, split in loaded.items():
        for article_id in split["id"]:
            assert split_for(article_id) == split_name


def test_detik_time_keeps_its_wib_offset(seed_release: Path) -> None:
    loaded = datasets.concatenate_datasets(list(datasets.load_dataset(str(seed_release)).values()))
    detik = [r for r in loaded if r["publisher"] == "detik"]
    assert len(detik) == 1
    assert detik[0]["published_at"].isoformat() == "2023-09-20T20:02:00+07:00"


def test_two_builds_are_byte_identical(tmp_path: Path, seed_release: Path) -> None:
    out = tmp_path / "again"
    make(copy_seeds(tmp_path / "src"), out)
    assert tree_digest(out) == tree_digest(seed_release)
    assert tree_digest(out)  # not vacuously equal


def test_two_workers_build_the_same_bytes_as_one(tmp_path: Path, seed_release: Path) -> None:
    out = tmp_path / "pooled"
    result = make(copy_seeds(tmp_path / "src"), out, workers=2)
    assert result.built > 1 and result.near_duplicate_groups == 1  # the two Tribun seeds
    assert tree_digest(out) == tree_digest(seed_release)


def test_chunking_and_workers_do_not_change_a_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many spool chunks and row groups that straddle them, 1 vs 2 workers: same release."""
    src = copy_seeds(tmp_path / "src")
    write_corpus(src / "generated", 150, seed=2)
    shutil.copy(min((src / "generated").rglob("*.txt")), src / "copy.txt")
    monkeypatch.setattr(shards, "ROWS_PER_GROUP", 16)
    monkeypatch.setattr(shards, "ROWS_PER_SHARD", 64)
    one = make(src, tmp_path / "one", workers=1)
    monkeypatch.setattr(prepare, "CHUNK_PAGES", 7)
    two = make(src, tmp_path / "two", workers=2)
    assert one.built == two.built == 155 and len(one.rejected) == len(two.rejected) == 1
    assert one.near_duplicate_groups == two.near_duplicate_groups >= 2
    files = sorted(p.name for p in (tmp_path / "two" / "data" / "articles").glob("*.parquet"))
    assert any(f.startswith("train-00001-of-") for f in files)  # several shards per split
    assert tree_digest(tmp_path / "one") == tree_digest(tmp_path / "two")
    assert (
        json.loads((tmp_path / "one" / "build-report.json").read_text())["rejected"][0]["reason"]
        == "duplicate"
    )
    assert validate(tmp_path / "two") == []


def test_card_declares_configs_features_and_split_sizes(seed_release: Path) -> None:
    card = (seed_release / "README.md").read_text(encoding="utf-8")
    header = __import__("yaml").safe_load(card.split("---\n")[1])
    assert header["language"] == ["id"]
    assert header["configs"][0]["config_name"] == "articles"
    assert header["configs"][0]["default"] is True
    info = header["dataset_info"][0]
    assert datasets.Features._from_yaml_list(info["features"]) == ARTICLES
    assert sum(s["num_examples"] for s in info["splits"]) == 5
    for heading in ("## Sources", "## Configs and fields", "## Limitations", "## Citation"):
        assert heading in card
    assert "| tribunnews | 2 |" in card


def test_rebuild_add_edit_and_every_tag_loads(tmp_path: Path) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    first = make(src, out)
    assert first.version == "1.0.0"

    again = make(src, out)
    assert again.unchanged and again.version is None
    assert again.previous_version == "1.0.0"

    (src / "900_new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    added = make(src, out)
    assert (added.version, added.bump) == ("1.1.0", "minor")
    assert len(added.diffs["articles"].added) == 1
    new_id = added.diffs["articles"].added[0][0]
    assert new_id in (out / "CHANGELOG.md").read_text()

    detik = src / "004_4a136c2b2b479954.txt"
    detik.write_text(
        detik.read_text(encoding="utf-8").replace("senapan produksi Moskow", "senapan buatan Tula"),
        encoding="utf-8",
    )
    with pytest.raises(ReleaseError, match=r"MINOR bump, but the changes since 1.1.0 need MAJOR"):
        make(src, out, version="1.2.0")
    assert read_manifest(out)["version"] == "1.1.0"  # the refused build left nothing behind
    edited = make(src, out)
    assert (edited.version, edited.bump) == ("2.0.0", "major")
    # a page without a URL is identified by its bytes (issue 18): edited, it is another
    # article; pages with a URL keep their id when edited (test_identity.py)
    diff = edited.diffs["articles"]
    assert (len(diff.removed), len(diff.added), len(diff.changed)) == (1, 1, 0)
    changelog = (out / "CHANGELOG.md").read_text()
    assert "removed (1)" in changelog and "## 1.1.0" in changelog and "## 1.0.0" in changelog

    expected_rows = {"v1.0.0": 5, "v1.1.0": 6, "v2.0.0": 6}
    for tag, rows in expected_rows.items():
        clone = tmp_path / f"clone-{tag}"
        subprocess.run(["git", "clone", "-q", str(out), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", tag], check=True)
        manifest = json.loads((clone / "release.json").read_text())
        assert manifest["version"] == tag[1:]
        loaded = datasets.load_dataset(str(clone))
        assert sum(len(s) for s in loaded.values()) == rows
        assert validate(clone) == []
        shutil.rmtree(clone)


def test_version_must_be_above_the_current(tmp_path: Path) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    make(src, out)
    (src / "900_new_page.txt").write_text(NEW_PAGE, encoding="utf-8")
    with pytest.raises(ReleaseError, match=r"not above the current release 1\.0\.0"):
        make(src, out, version="1.0.0")
    assert make(src, out, version="3.0.0").version == "3.0.0"  # above the bump is allowed


def test_cli_build_and_validate(tmp_path: Path) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    runner = CliRunner()
    done = runner.invoke(cli, ["build", str(src), "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["version"], summary["built"], summary["rejected"]) == ("1.0.0", 5, [])
    again = runner.invoke(cli, ["build", str(src), "--out", str(out)])
    assert "nothing changed since 1.0.0: no new version made" in again.stdout
    ok = runner.invoke(cli, ["validate", str(out)])
    assert (ok.exit_code, ok.stdout) == (0, f"{out}: ok\n")

    shard = sorted((out / "data" / "articles").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:-20] + b"\0" * 20)
    bad = runner.invoke(cli, ["validate", str(out), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert report["problems"][0]["check"] == "checksum"

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("not a release\n")
    refused = runner.invoke(cli, ["build", str(src), "--out", str(notes)])
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {notes} exists and is not a dataset release")
    inside = runner.invoke(cli, ["build", str(src), "--out", str(src)])
    assert inside.exit_code == 1
    assert inside.output.startswith(f"Error: --out {src} is inside the source folder")


def test_label_rows_are_digested_slice_by_slice_as_a_whole(monkeypatch) -> None:
    """release_tables digests label rows a slice at a time (a whole `ner` table as Python
    objects is ~0.4 GB at 10k articles): the digests must be those of the whole table."""
    from toolkit.dataset import release
    from toolkit.dataset.versioning import row_digest
    from toolkit.labels.tables import to_table

    schema = config_schema("ner")
    rows = [
        {"id": f"a{i:02d}", "tokens": ["Putin", "di", str(i)], "labels": ["B-PER", "O", "O"]}
        for i in range(10)
    ]
    table = to_table("ner", rows)
    monkeypatch.setattr(release, "_DIGEST_ROWS", 3)
    got = list(release._row_digests(schema, table, "train"))
    assert len(got) == 10 and len({key for key, _ in got}) == 10
    assert got == [row_digest(schema, row, "train") for row in table.to_pylist()]
