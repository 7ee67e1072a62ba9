"""Small shared helpers for tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import hashlib
import shutil
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
