"""A build killed with SIGKILL at any moment leaves the previous release intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets

from helpers import NEW_PAGE, copy_seeds
from toolkit.dataset.release import build, read_manifest, wait_for_build
from toolkit.dataset.validate import validate


def write_corpus(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        page = NEW_PAGE.replace(
            "Para analis menilai",
            f"Laporan nomor {i} menyebut {i * 7 % 13} pejabat hadir. Para analis menilai",
        )
        (folder / f"gen_{i:05d}.txt").write_text(page, encoding="utf-8")


def test_sigkill_during_build_keeps_the_previous_release(tmp_path: Path) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    wait_for_build(build([src], out, name="news"))
    write_corpus(src / "more", 600)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    # --no-cache: every build must take as long as the timed one for the kills to land
    # inside builds (with the extraction cache the later builds are much shorter)
    command = [sys.executable, "-m", "toolkit", "build", str(src), "--out", str(out), "--no-cache"]

    # Time one full build first, then kill others at random points inside that window.
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--version", "9.0.0"], env=env, capture_output=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    full = time.monotonic() - started
    subprocess.run(["git", "-C", str(out), "tag", "-d", "v9.0.0"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(out), "reset", "-q", "--hard", "v1.0.0"], check=True)
    assert read_manifest(out)["version"] == "1.0.0"

    rng = random.Random(7)
    killed = mid_write = 0
    for attempt in range(8):
        edits = src / "more" / f"gen_{attempt:05d}.txt"
        edits.write_text(edits.read_text() + f"\nTambahan {attempt}.\n", encoding="utf-8")
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full * 0.95))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        mid_write += bool(list(tmp_path.glob(".news.staging-*")))
        version = read_manifest(out)["version"]
        assert validate(out) == [], f"attempt {attempt}: release {version} damaged"
        loaded = datasets.load_dataset(str(out), download_mode="force_redownload")
        expected = 5 if version == "1.0.0" else 605
        assert sum(len(split) for split in loaded.values()) == expected
    assert killed >= 3, "the kills must land inside builds for the test to mean anything"
    assert mid_write >= 1, "at least one kill must land while a release was being staged"
    # (.news.lock is the release's lock file: it stays beside the release by design)
    leftovers = [p for p in tmp_path.glob(".news.*") if p.name != ".news.lock"]
    wait_for_build(build([src], out, name="news"))  # the next build cleans up after the dead
    assert not [p for p in leftovers if p.exists()]
