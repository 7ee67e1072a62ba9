"""Incremental builds: the extraction cache reuses pages it has seen, and the release it
makes is byte-identical to a full build of the same sources."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.corpus import write_corpus
from helpers import ROOT, release_files
from toolkit.cli import cli
from toolkit.dataset.cache import PageCache, default_dir
from toolkit.dataset.distributed import build_distributed
from toolkit.dataset.release import DEFAULT_MAX_BYTES, build, read_articles, wait_for_build
from toolkit.dataset.template_cache import TemplateCache
from toolkit.dataset.templates import find_templates
from toolkit.pages.roles import normalise

DATE = "2026-11-22"


def make(sources: Path, out: Path, **kwargs):
    return wait_for_build(build([sources], out, name="news", date=DATE, **kwargs))


def new_or_changed(old: Path, new: Path) -> list[str]:
    """Pages of `new` that `old` does not have with the same bytes."""
    names = [p.relative_to(new).as_posix() for p in new.rglob("*.txt")]
    return [
        n
        for n in names
        if not (old / n).exists() or (old / n).read_bytes() != (new / n).read_bytes()
    ]


def entries(cache_dir: Path) -> int:
    return len(PageCache(cache_dir, DEFAULT_MAX_BYTES))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`old`: 70 pages and an empty file; `new`: the same with 10 new pages, one changed
    page and one removed."""
    pool = tmp_path_factory.mktemp("pool")
    write_corpus(pool, 80)
    old, new = tmp_path_factory.mktemp("old"), tmp_path_factory.mktemp("new")
    pages = sorted(pool.rglob("*.txt"))
    for source, target in ((pages[:70], old), (pages, new)):
        for page in source:
            dest = target / page.relative_to(pool)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, dest)
        (target / "0000" / "empty.txt").write_bytes(b"")
    changed = new / pages[3].relative_to(pool)
    changed.write_text(changed.read_text(encoding="utf-8") + "\nSatu paragraf tambahan.\n")
    (new / pages[5].relative_to(pool)).unlink()
    return old, new


def test_rebuild_extracts_only_new_pages_and_equals_a_full_build(
    corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = corpora
    cache = tmp_path / "cache"
    first = make(old, tmp_path / "incremental", cache_dir=cache, workers=2)
    assert first.built == 70 and [r.reason for r in first.rejected] == ["empty"]
    assert entries(cache) == 71  # every page, the rejected one too
    shutil.copytree(tmp_path / "incremental", tmp_path / "uncached", symlinks=True)
    second = make(new, tmp_path / "incremental", cache_dir=cache, workers=2)
    # Extracted again: the 10 new pages, the changed one, and the pages of a site whose
    # template lines (counted over the whole corpus) changed; nothing else.
    before, after = find_templates([old]), find_templates([new])
    moved = {
        p.relative_to(new).as_posix()
        for p in new.rglob("*.txt")
        if after.for_source(p.relative_to(new).as_posix())
        != before.for_source(p.relative_to(new).as_posix())
    }
    assert entries(cache) == 71 + len(moved | set(new_or_changed(old, new)))
    # a page without a URL is identified by its bytes: the changed page is a new article
    assert second.diffs["articles"].added and second.diffs["articles"].removed
    kept = entries(cache)
    # The next release without the cache (pages extracted again, the previous release's
    # digests computed again from its shards): the same release, commit id included.
    make(new, tmp_path / "uncached", workers=2)
    assert release_files(tmp_path / "incremental") == release_files(tmp_path / "uncached")
    assert len(list(cache.glob("digests-*.pkl"))) == 2  # of both releases, for the next diff

    # The same sources from scratch (no cache) and through the warm cache, each into a
    # fresh release folder: the same bytes, down to the commit id.
    full = make(new, tmp_path / "full", workers=1)
    warm = make(new, tmp_path / "warm", cache_dir=cache, workers=1)
    assert entries(cache) == kept  # nothing extracted again
    assert warm.built == full.built == 79
    assert warm.near_duplicate_groups == full.near_duplicate_groups
    assert release_files(tmp_path / "warm") == release_files(tmp_path / "full")
    # and the incremental release holds the same data as the full one
    data = "data/articles"
    assert {k: v for k, v in release_files(tmp_path / "incremental").items() if data in k} == {
        k: v for k, v in release_files(tmp_path / "full").items() if data in k
    }
    # a third build of the same pages reads the second release's digests back: no change
    third = make(new, tmp_path / "incremental", cache_dir=cache)
    assert third.unchanged and not third.diffs["articles"].changed


def test_other_settings_do_not_share_entries(corpora: tuple[Path, Path], tmp_path: Path) -> None:
    old, _ = corpora
    cache = tmp_path / "cache"
    make(old, tmp_path / "a", cache_dir=cache)
    small = make(old, tmp_path / "b", cache_dir=cache, max_bytes=3000)
    assert entries(cache) == 2 * 71  # its own entries: every page once more
    assert any(r.reason == "too-large" for r in small.rejected)


def test_a_killed_build_leaves_a_usable_cache(tmp_path: Path) -> None:
    """SIGKILL in the middle of a build: the segments written so far are whole, the next
    build reuses them and still equals a full build."""
    sources = tmp_path / "many"
    write_corpus(sources, 1200)
    cache = tmp_path / "cache"
    script = (
        "import sys; from pathlib import Path; "
        "from toolkit.dataset.release import build, wait_for_build; "
        "wait_for_build(build([Path(sys.argv[1])], Path(sys.argv[2]), name='news', "
        "date='2026-11-22', workers=2, cache_dir=Path(sys.argv[3])))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(sources), str(tmp_path / "killed"), str(cache)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not list(cache.glob("seg-*.arrow")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the build ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (tmp_path / "killed" / "release.json").exists()  # it was killed mid-build
    kept = entries(cache)
    assert 0 < kept < 1200
    assert len(TemplateCache(cache)) == 1200  # the template pass ran before extraction
    (cache / ".tmp-leftover").write_bytes(b"half a segment")  # what a kill mid-write leaves
    resumed = make(sources, tmp_path / "resumed", cache_dir=cache, workers=2)
    assert entries(cache) == 1200
    assert len(TemplateCache(cache)) == 1200  # no page parsed again for the count
    full = make(sources, tmp_path / "full")
    assert resumed.built == full.built
    assert release_files(tmp_path / "resumed") == release_files(tmp_path / "full")


def test_cli_caches_beside_the_release_unless_told_not_to(
    corpora: tuple[Path, Path], tmp_path: Path
) -> None:
    old, _ = corpora
    runner = CliRunner()
    out = tmp_path / "dist" / "news"
    args = ["build", str(old), "--out", str(out), "--json"]
    result = runner.invoke(cli, [*args, "--no-cache"])
    assert result.exit_code == 0, result.output
    assert not default_dir(out).exists()
    result = runner.invoke(cli, [*args, "--version", "1.0.1"])
    assert result.exit_code == 0, result.output
    assert default_dir(out) == tmp_path / "dist" / ".toolkit-cache" / "news"
    assert entries(default_dir(out)) == 71
    elsewhere = tmp_path / "elsewhere"
    result = runner.invoke(cli, [*args, "--cache-dir", str(elsewhere), "--version", "1.0.2"])
    assert result.exit_code == 0, result.output
    assert entries(elsewhere) == 71


RADIO = "Warta Cirebon mengudara di radio setiap Sabtu pagi"
KIRIM = "Kirim kabar dari kampung Anda ke meja redaksi kami"


def _site_page(folder: Path, k: int, *lines: str) -> None:
    """Page k of one site (its URL's host), with `lines` between its paragraphs."""
    villages = ["Plered", "Weru", "Sumber", "Kapetakan", "Arjawinangun", "Gegesik"]
    village = villages[k % len(villages)]
    text = [
        f"Warga {village} bergotong royong memperbaiki saluran irigasi yang jebol di blok "
        f"nomor {k} sejak awal pekan.",
        *lines,
        f"Kepala desa {village} menyebut {k + 30} keluarga ikut bekerja sampai sore dan "
        "membawa bekal dari rumah masing-masing.",
        f"Air diperkirakan kembali mengalir ke sawah di {village} pada pekan depan setelah "
        f"tanggul nomor {k} selesai dipadatkan.",
    ]
    record = {"url": f"https://wartacirebon.example/berita/{k}", "text": "\n".join(text)}
    (folder / f"w{k:02d}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


def test_template_lines_counted_from_the_cache_follow_added_and_removed_pages(
    tmp_path: Path,
) -> None:
    """A rebuild counts the template lines again over the whole corpus from the cached
    rows of its pages, parsing only the new one: a line on 4 of the site's pages becomes
    a template line when a new page carries it too, and one on 5 pages stops being one
    when one of them is removed. Natively and on datatrove, with the warm cache, the next
    release equals the one built without the cache."""
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        for k in range(12):
            _site_page(folder, k, *([RADIO] if k < 4 else []), *([KIRIM] if 4 <= k < 9 else []))
    (new / "w08.jsonl").unlink()  # one of KIRIM's five pages is gone
    _site_page(new, 12, RADIO)  # RADIO's fifth page is new
    assert find_templates([old]).lines == {"wartacirebon.example": {normalise(KIRIM)}}
    assert find_templates([new]).lines == {"wartacirebon.example": {normalise(RADIO)}}

    cache = tmp_path / "cache"
    make(old, tmp_path / "cached", cache_dir=cache, workers=2)
    assert len(TemplateCache(cache)) == 12
    texts = {r["source_file"]: r["text"] for r in read_articles(tmp_path / "cached")}
    assert sum(RADIO in t for t in texts.values()) == 4 and not any(
        KIRIM in t for t in texts.values()
    )
    for name in ("uncached", "local"):
        shutil.copytree(tmp_path / "cached", tmp_path / name, symlinks=True)
    shutil.copytree(cache, tmp_path / "cache-local")
    make(new, tmp_path / "cached", cache_dir=cache, workers=2)
    assert len(TemplateCache(cache)) == 13  # only the new page was parsed for the count
    texts = {r["source_file"]: r["text"] for r in read_articles(tmp_path / "cached")}
    assert not any(RADIO in t for t in texts.values())
    assert sorted(f for f, t in texts.items() if KIRIM in t) == [
        f"w0{k}.jsonl:1" for k in (4, 5, 6, 7)
    ]
    make(new, tmp_path / "uncached", workers=2)
    assert release_files(tmp_path / "cached") == release_files(tmp_path / "uncached")
    events = build_distributed(
        [new],
        tmp_path / "local",
        executor="local",
        workers=2,
        name="news",
        date=DATE,
        cache_dir=tmp_path / "cache-local",
    )
    wait_for_build(events)
    assert len(TemplateCache(tmp_path / "cache-local")) == 13
    assert release_files(tmp_path / "local") == release_files(tmp_path / "uncached")
