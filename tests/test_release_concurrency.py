"""Two writers on one release folder (issue 18, item 1): both finish, neither erases the
other. Real processes: two `toolkit build`s, and a build racing the dataset-stage writer
of `pull` (release_tables), 5 times each; tags and rows are counted after every round."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from helpers import NEW_PAGE, ROOT, copy_seeds
from toolkit.dataset.release import build, read_rows, wait_for_build
from toolkit.dataset.release_lock import release_lock
from toolkit.dataset.release_repo import git, tags
from toolkit.dataset.validate import validate
from toolkit.errors import ReleaseError

ROUNDS = 5
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# What `pull` does once it has its tables: release them under the release's lock.
# It starts once the build is staging its release (the window where, without a lock, the
# build's swap would erase what the pull publishes).
PULL_WRITER = """
import sys, time
from pathlib import Path
import pyarrow as pa
from toolkit.dataset.release import release_tables, read_articles
from toolkit.dataset.schema import config_schema
out, annotation = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while not list(Path(out).parent.glob(".news.staging-*")) and time.monotonic() < deadline:
    time.sleep(0.005)
article = sorted(r["id"] for r in read_articles(out))[0]
row = dict(article_id=article, task_id=annotation, annotation_id=annotation,
           annotator="a@example.org", reason="span-not-found", result_json="[]")
table = pa.Table.from_pylist([row], schema=config_schema("quarantine").arrow_schema)
result = release_tables(out, {"quarantine": table}, on_wait=lambda m: print(m, file=sys.stderr))
print(result.version)
"""


def page(tag: str) -> str:
    return NEW_PAGE.replace(
        "Para analis menilai", f"Laporan {tag} menyebut hal baru. Para analis menilai"
    )


def source_with(tmp_path: Path, name: str, tag: str) -> Path:
    src = tmp_path / name
    shutil.rmtree(src, ignore_errors=True)
    copy_seeds(src)
    (src / f"900_{tag}.txt").write_text(page(tag), encoding="utf-8")
    return src


def start_build(src: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "toolkit", "build", str(src), "--out", str(out), "--json"]
    return subprocess.Popen(
        command, env=ENV, cwd=src.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen) -> tuple[str, str]:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    return stdout, stderr


def built_pages(out: Path, tag: str) -> set[str]:
    """The source files of the articles of one tagged version."""
    listing = git(out, "ls-tree", "-r", "--name-only", tag, "data/articles").split()
    clone = out.parent / f"clone-{tag}"
    subprocess.run(["git", "clone", "-q", str(out), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", tag], check=True)
    assert listing
    files = {r["source_file"] for r in read_rows(clone, "articles")}
    shutil.rmtree(clone)
    return files


def test_two_builds_on_one_release_both_land(tmp_path: Path) -> None:
    out = tmp_path / "news"
    wait_for_build(build([copy_seeds(tmp_path / "seeds")], out, name="news"))
    waited = 0
    for round_ in range(ROUNDS):
        before = set(tags(out))
        a = start_build(source_with(tmp_path, "a", f"a{round_}"), out)
        b = start_build(source_with(tmp_path, "b", f"b{round_}"), out)
        (a_out, a_err), (b_out, b_err) = finish(a), finish(b)
        waited += ("waiting for it to finish" in a_err) + ("waiting for it to finish" in b_err)
        runs = [json.loads(a_out), json.loads(b_out)]
        first, second = sorted(runs, key=lambda r: tuple(map(int, r["version"].split("."))))
        # both released, the second on top of the first: two new tags, none erased
        assert set(tags(out)) - before == {f"v{first['version']}", f"v{second['version']}"}
        assert second["previous_version"] == first["version"]
        assert second["changes"]["articles"] == {"added": 1, "removed": 1, "changed": 0, "moved": 0}
        # each tag holds its writer's page; the live release holds the last writer's
        for run in runs:
            pages = built_pages(out, f"v{run['version']}")
            assert len(pages) == 6 and any(p.startswith("900_") for p in pages)
        assert validate(out) == []
        assert len(list(read_rows(out, "articles"))) == 6
        assert not list(tmp_path.glob(".news.staging-*"))
    assert len(tags(out)) == 1 + 2 * ROUNDS
    assert waited >= 1  # the lock was met at least once (both start at the same moment)


def test_a_build_and_a_pull_on_one_release_both_land(tmp_path: Path) -> None:
    out = tmp_path / "news"
    wait_for_build(build([copy_seeds(tmp_path / "seeds")], out, name="news"))
    for round_ in range(ROUNDS):
        before = set(tags(out))
        built = start_build(source_with(tmp_path, "a", f"a{round_}"), out)
        pulled = subprocess.Popen(
            [sys.executable, "-c", PULL_WRITER, str(out), str(1000 + round_)],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        build_out, _ = finish(built)
        pull_out, _ = finish(pulled)
        versions = {f"v{json.loads(build_out)['version']}", f"v{pull_out.strip()}"}
        assert set(tags(out)) - before == versions  # two releases, none erased
        # the live release holds the build's page and the labels of the latest pull (a
        # pull releases the whole export: its tables replace the previous ones)
        files = {r["source_file"] for r in read_rows(out, "articles")}
        assert f"900_a{round_}.txt" in files
        quarantine = sorted(r["annotation_id"] for r in read_rows(out, "quarantine"))
        assert quarantine == [1000 + round_]
        assert validate(out) == []
    assert len(tags(out)) == 1 + 2 * ROUNDS


def test_a_held_lock_makes_a_writer_wait_then_times_out(tmp_path: Path) -> None:
    out = tmp_path / "news"
    messages: list[str] = []
    held, done = threading.Event(), threading.Event()

    def holder() -> None:  # another writer, in another thread
        with release_lock(out):
            held.set()
            done.wait(60)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(60)
    try:
        with pytest.raises(ReleaseError, match="still being written"):
            wait_for_build(build([copy_seeds(tmp_path / "seeds")], out, lock_timeout=0.2))
        with (
            pytest.raises(ReleaseError, match="still being written"),
            release_lock(out, timeout=0.1, on_wait=messages.append),
        ):
            pass
    finally:
        done.set()
        thread.join()
    assert messages and "waiting for it to finish" in messages[0]
    assert not out.exists()  # the refused build wrote nothing
    assert wait_for_build(build([tmp_path / "seeds"], out, name="news")).version == "1.0.0"


def test_the_lock_is_reentrant_in_one_thread_and_exclusive_across_threads(tmp_path: Path) -> None:
    out = tmp_path / "news"
    seen: list[str] = []

    def other() -> None:
        try:
            with release_lock(out, timeout=0.2):
                seen.append("got it")
        except ReleaseError:
            seen.append("refused")

    with release_lock(out), release_lock(out, timeout=1):  # nested in one thread: no deadlock
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == ["refused"]
    other()
    assert seen == ["refused", "got it"]
