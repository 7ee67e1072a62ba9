"""Bad options and a failing disk (issue 18): refused early with one clear sentence, no
traceback, nothing written, the previous release intact."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import NEW_PAGE, ROOT, copy_seeds
from toolkit.cli import cli
from toolkit.dataset.release import Progress, build, read_manifest, wait_for_build
from toolkit.dataset.validate import validate
from toolkit.errors import ReleaseError


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--splits", "train=nan,test=nan"], "split ratios must be non-negative and sum to 1"),
        (["--splits", "train=inf,test=-inf"], "split ratios must be non-negative and sum to 1"),
        (["--name", "berita\nlicense: other"], "must be one line of printable text"),
        (["--version", "abc"], "'abc' is not a version of the form X.Y.Z"),
    ],
)
def test_bad_options_are_refused_and_write_nothing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    done = CliRunner().invoke(cli, ["build", str(src), "--out", str(out), *options])
    assert done.exit_code == 1 and done.exception.__class__ is SystemExit
    assert done.output.startswith("Error: ") and message in done.output, done.output
    assert "Traceback" not in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # nothing written


def test_a_bad_version_is_refused_before_any_page_is_read(tmp_path: Path) -> None:
    events = build([copy_seeds(tmp_path / "src")], tmp_path / "news", version="abc")
    with pytest.raises(ReleaseError, match="not a version"):
        first = next(events)
        assert not isinstance(first, Progress), "extraction started before the refusal"


def test_out_inside_a_source_folder_is_refused(tmp_path: Path) -> None:
    src = copy_seeds(tmp_path / "src")
    with pytest.raises(ReleaseError, match="is inside the source folder"):
        wait_for_build(build([src], src / "dist" / "news"))
    assert not (src / "dist").exists()


def test_a_symlinked_out_publishes_at_its_target_and_stays_a_link(tmp_path: Path) -> None:
    src = copy_seeds(tmp_path / "src")
    target, link = tmp_path / "releases" / "news-v1", tmp_path / "news"
    target.parent.mkdir()
    wait_for_build(build([src], target, name="news"))
    link.symlink_to(target, target_is_directory=True)
    (src / "900_new.txt").write_text(NEW_PAGE, encoding="utf-8")
    result = wait_for_build(build([src], link))
    assert result.version == "1.1.0"
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert read_manifest(target)["version"] == "1.1.0"  # the target got the new release
    assert validate(target) == []


def _limit_file_size() -> None:
    # Any write past 8 KiB into one file fails with EFBIG (SIGXFSZ ignored): the disk
    # "fills up" while the release is being written, in this process and in git alike.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))


def test_a_full_disk_leaves_the_previous_release_and_no_staging(tmp_path: Path) -> None:
    src, out = copy_seeds(tmp_path / "src"), tmp_path / "news"
    wait_for_build(build([src], out, name="news"))
    for i in range(40):  # new articles: the build has shards and a spool to write
        page = NEW_PAGE.replace("Para analis menilai", f"Laporan {i} terbit. Para analis menilai")
        (src / f"9{i:02d}_new.txt").write_text(page, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "build", str(src), "--out", str(out)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert (
        done.stderr.strip().splitlines()[-1].startswith(f"Error: cannot write the release at {out}")
    )
    assert "the previous release is unchanged" in done.stderr
    assert read_manifest(out)["version"] == "1.0.0" and validate(out) == []
    assert not list(tmp_path.glob(".news.staging-*"))
