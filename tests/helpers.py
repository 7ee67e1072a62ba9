"""Small shared helpers for tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def copy_seeds(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for page in sorted(SEEDS.iterdir()):
        shutil.copyfile(page, dest / page.name)
    return dest


def tree_digest(root: Path, pattern: str = "data/**/*.parquet") -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob(pattern))
    }


NEW_PAGE = (ROOT / "tests" / "fixtures" / "new_tribun_page.txt").read_text(encoding="utf-8")


def clean_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without LABEL_STUDIO_* (so no stray URL or key leaks into
    a test), with TOOLKIT_HOME set when `home` is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}
    if home is not None:
        env["TOOLKIT_HOME"] = str(home)
    env.update(extra)
    return env


def run_toolkit(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m toolkit ARGS` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
