"""CITATION.cff files are valid per the real `cffconvert --validate`.

cffconvert pins old dependencies (jsonschema 3, ...) that clash with label-studio-sdk, so,
like Label Studio, it runs from a virtual environment of its own, created once and cached.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, copy_seeds
from toolkit.dataset.release import build, wait_for_build

TOOL_VENV = ROOT / ".cache" / "cffconvert-venv"


@pytest.fixture(scope="session")
def cffconvert() -> Path:
    exe = TOOL_VENV / "bin" / "cffconvert"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOL_VENV)], check=True)
        subprocess.run(
            [str(TOOL_VENV / "bin" / "pip"), "install", "-q", "cffconvert==2.0.0"], check=True
        )
    return exe


def run_validate(exe: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), "--validate", "-i", str(path)], capture_output=True, text=True)


def test_toolkit_citation_is_valid(cffconvert: Path) -> None:
    done = run_validate(cffconvert, ROOT / "CITATION.cff")
    assert done.returncode == 0, done.stdout + done.stderr


def test_dataset_citation_is_valid(cffconvert: Path, tmp_path: Path) -> None:
    out = tmp_path / "news"
    wait_for_build(build([copy_seeds(tmp_path / "src")], out, name="news", date="2026-11-22"))
    text = (out / "CITATION.cff").read_text()
    assert "type: dataset" in text and "version: 1.0.0" in text
    assert "date-released: '2026-11-22'" in text
    done = run_validate(cffconvert, out / "CITATION.cff")
    assert done.returncode == 0, done.stdout + done.stderr


def test_validation_can_fail(cffconvert: Path, tmp_path: Path) -> None:
    broken = tmp_path / "CITATION.cff"
    broken.write_text("cff-version: 1.2.0\ntitle: no authors nor message\n")
    assert run_validate(cffconvert, broken).returncode != 0
