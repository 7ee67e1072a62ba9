"""A build over the seeds mixed with bad files: every input is accounted for, each
rejection has its reason, nothing is written outside the release, and the seeds build.

The corpus is tests/bad_inputs/ (empty, whitespace, binary, random bytes, truncated UTF-8,
cp1252, UTF-16 with CRLF, HTML with no article, an English page, a CSV, JSONL with broken
lines and lines without `text`, JSONL whose ids/urls/names try path traversal, the same
page under two names) plus, made at test time, a 50 MB page and a seed under a second name.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import SEEDS
from toolkit.cli import cli
from toolkit.dataset.cache import default_dir
from toolkit.dataset.release import MANIFEST, REPORT, read_articles
from toolkit.dataset.validate import validate
from toolkit.pages.article import Article
from toolkit.pages.extract import article_id, extract_source
from toolkit.pages.read import Source, iter_sources

BAD = Path(__file__).parent / "bad_inputs"
BIG = "huge_page.txt"
SEED_COPY = "zz_copy_of_seed_000.txt"
BUILT = "built"
EXPECTED = {
    **{p.name: BUILT for p in SEEDS.iterdir()},
    "broken.jsonl:1": BUILT,
    "broken.jsonl:2": "bad-json",  # cut off inside a string
    "broken.jsonl:3": "missing-text",
    "broken.jsonl:4": "missing-text",  # "text": null
    "broken.jsonl:5": "missing-text",  # "text": 12345
    "broken.jsonl:6": "bad-json",  # an array, not an object
    "broken.jsonl:8": "bad-json",  # line 7 is blank: not an input
    "broken.jsonl:9": "bad-json",  # trailing garbage after the object
    "broken.jsonl:10": BUILT,
    "copy_one.txt": BUILT,
    "copy_two.txt": "duplicate",
    "cp1252.txt": BUILT,
    "empty.txt": "empty",
    "english.txt": "wrong-language",
    "image_named_txt.txt": "binary",
    "no_article.html": "no-body",
    "notes.csv": "unsupported-type",
    "path_traversal.jsonl:1": BUILT,
    "path_traversal.jsonl:2": BUILT,
    "path_traversal.jsonl:3": BUILT,
    "path_traversal.jsonl:4": BUILT,
    "random_bytes.html": "binary",
    "truncated_utf8.txt": BUILT,
    "utf16_bom_crlf.txt": BUILT,
    "whitespace_only.txt": "empty",
    BIG: "too-large",
    SEED_COPY: "duplicate",
}
MOJIBAKE = ("Ã", "â€", "‚Ä", "Â", "\ufffd")


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in [*SEEDS.iterdir(), *BAD.iterdir()]:
        shutil.copyfile(path, folder / path.name)
    shutil.copyfile(SEEDS / "000_2dd241c7a54ea137.txt", folder / SEED_COPY)
    page = (SEEDS / "004_4a136c2b2b479954.txt").read_bytes()
    with (folder / BIG).open("wb") as fh:  # a real page, repeated to 50 MB
        for _ in range(50 * 2**20 // len(page) + 1):
            fh.write(page)
    assert (folder / BIG).stat().st_size >= 50 * 2**20
    return folder


def tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("bad")
    corpus = make_corpus(root / "corpus")
    out = root / "a" / "b" / "c" / "news"  # deep, so "../../.." would still land in root
    before = tree(root)
    done = CliRunner().invoke(cli, ["build", str(corpus), "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output[done.output.index("{") :])
    return {"root": root, "corpus": corpus, "out": out, "before": before, "summary": summary}


def test_the_corpus_is_what_the_test_expects(built: dict) -> None:
    names = [s.source_file for s in iter_sources([built["corpus"]])]
    assert sorted(names) == sorted(EXPECTED)


def test_every_input_is_built_or_rejected_with_its_reason(built: dict) -> None:
    out = built["out"]
    manifest = json.loads((out / MANIFEST).read_text())
    report = json.loads((out / REPORT).read_text())
    rejected_expected = {k: v for k, v in EXPECTED.items() if v != BUILT}
    built_expected = {k for k, v in EXPECTED.items() if v == BUILT}

    stats = manifest["build"]
    assert stats["inputs"] == report["inputs"] == len(EXPECTED)
    assert stats["built"] + stats["rejected"] == stats["inputs"]
    assert stats["built"] == report["built"] == len(built_expected)
    assert stats["rejected_by_reason"] == dict(Counter(rejected_expected.values()))

    got = {r["source_file"]: r["reason"] for r in report["rejected"]}
    assert len(got) == len(report["rejected"])  # each input reported once
    assert got == rejected_expected
    assert all(r["detail"] for r in report["rejected"])  # and says why
    big = next(r for r in report["rejected"] if r["source_file"] == BIG)
    assert str((built["corpus"] / BIG).stat().st_size) in big["detail"]

    rows = list(read_articles(out))
    assert sorted(r["source_file"] for r in rows) == sorted(built_expected)
    assert {r["source_file"]: r["reason"] for r in built["summary"]["rejected"]} == got
    assert built["summary"]["built"] == len(rows)
    assert validate(out) == []


def test_the_seeds_build_as_they_do_alone(built: dict) -> None:
    rows = {r["source_file"]: r for r in read_articles(built["out"])}
    for seed in sorted(SEEDS.iterdir()):
        raw = seed.read_bytes()
        alone = extract_source(Source(seed.name, raw, "txt", len(raw)))
        assert isinstance(alone, Article)
        row = rows[seed.name]
        assert (row["id"], row["text_sha256"], row["title"]) == (
            alone.id,
            alone.text_sha256,
            alone.title,
        )


def test_odd_encodings_build_clean_text(built: dict) -> None:
    rows = {r["source_file"]: r for r in read_articles(built["out"])}
    for name in ("cp1252.txt", "utf16_bom_crlf.txt", "truncated_utf8.txt"):
        text = rows[name]["text"]
        assert not [m for m in MOJIBAKE if m in text], (name, text)
        assert "\r" not in text and "Pemerintah Kota" in text
    assert "Café" in rows["cp1252.txt"]["text"]
    assert rows["truncated_utf8.txt"]["text"].endswith("nyaman,” ujarnya.")


def test_path_traversal_writes_nothing_outside_and_ids_are_hashes(built: dict) -> None:
    root, out = built["root"], built["out"]
    rel_out = out.relative_to(root).as_posix()
    cache = default_dir(out).parent.relative_to(root.absolute()).as_posix()  # by design
    new = {p for p in tree(root) - built["before"] if p != cache and not p.startswith(cache + "/")}
    outside = {
        p for p in new if p != rel_out and not p.startswith(rel_out + "/") and rel_out.find(p) != 0
    }
    outside.discard(f"{rel_out.rpartition('/')[0]}/.{out.name}.lock")  # the lock beside it
    assert not outside, outside  # only the release dir (its parents, its build cache) appeared
    assert not list(root.glob("**/escaped*")) and not list(root.glob("**/win*"))
    for path in out.rglob("*"):  # nothing in the release points outside it
        assert path.resolve().is_relative_to(out.resolve()), path
    data = sorted(p.relative_to(out).as_posix() for p in (out / "data").rglob("*.parquet"))
    assert all(re.fullmatch(r"data/articles/[a-z]+-\d{5}-of-\d{5}\.parquet", p) for p in data)

    rows = list(read_articles(out))
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["id"]) for r in rows)
    traversal = {r["source_file"]: r for r in rows if r["source_file"].startswith("path_trav")}
    lines = (BAD / "path_traversal.jsonl").read_text("utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        record, row = json.loads(line), traversal[f"path_traversal.jsonl:{number}"]
        # the record's own "id" is ignored: the id is a hash of the source identity
        assert row["id"] == article_id(row["source_file"], record["url"]) != record.get("id")
        assert row["publisher"] == "generic"  # an unknown publisher name is not trusted
    card = (out / "README.md").read_text("utf-8")
    assert "../" not in card.split("---", 2)[1]  # the YAML header names only our own files


def test_a_rebuild_with_two_workers_accounts_identically(built: dict) -> None:
    done = CliRunner().invoke(
        cli, ["build", str(built["corpus"]), "--out", str(built["out"]), "--workers", "2", "--json"]
    )
    assert done.exit_code == 0, done.output
    again = json.loads(done.output[done.output.index("{") :])
    assert again["version"] is None  # nothing changed: same articles, same report
    assert again["rejected"] == built["summary"]["rejected"]
    assert again["built"] == built["summary"]["built"]


WITH_MULTIBYTE = sorted(p.name for p in SEEDS.iterdir() if not p.read_bytes().isascii())


@pytest.mark.parametrize("seed", WITH_MULTIBYTE)
def test_a_seed_cut_inside_its_last_character_is_still_utf8(seed: str) -> None:
    raw = (SEEDS / seed).read_bytes()
    text = raw.decode("utf-8")
    last = max(i for i, ch in enumerate(text) if len(ch.encode()) > 1)
    cut = len(text[:last].encode()) + 1  # one byte into a multi-byte character
    result = extract_source(Source(seed, raw[:cut], "txt", cut))
    assert isinstance(result, Article), result
    assert not [m for m in MOJIBAKE if m in result.text]
    assert result.raw_sha256 == hashlib.sha256(raw[:cut]).hexdigest()
