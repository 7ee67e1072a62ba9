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


def card_header(release: Path) -> dict:
    import yaml

    return yaml.safe_load((release / "README.md").read_text(encoding="utf-8").split("---\n")[1])


def load_every_card_config(release: Path) -> dict[str, object]:
    """load_dataset of every config the card lists (all must load with the declared
    features); every config of the manifest that the card leaves out must be empty."""
    import tempfile

    import datasets

    from toolkit.dataset.project import release_project
    from toolkit.dataset.release import read_manifest
    from toolkit.dataset.schema import config_schema

    listed = [c["config_name"] for c in card_header(release)["configs"]]
    cache = tempfile.mkdtemp(prefix="hf-cache-")  # never a stale cache of an earlier run
    manifest = read_manifest(release)
    assert manifest is not None
    scheme = release_project(release).labels
    loaded = {}
    for config in listed:
        ds = datasets.load_dataset(str(release), config, cache_dir=cache)
        splits = manifest["configs"][config]["splits"]
        assert set(ds) == set(splits), config
        for split, info in splits.items():
            assert ds[split].num_rows == info["num_examples"], (config, split)
            assert ds[split].features == config_schema(config, scheme).features, config
        loaded[config] = ds
    for config in set(manifest["configs"]) - set(listed):
        rows = sum(i["num_examples"] for i in manifest["configs"][config]["splits"].values())
        assert rows == 0, f"{config} has {rows} rows but the card does not list it"
    return loaded


def _plain(value: object) -> object:
    """A value read through mlcroissant as the plain Python value load_dataset gives."""
    import datetime as dt

    import numpy as np
    import pandas as pd

    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k.rsplit("/", 1)[-1]: _plain(v) for k, v in value.items()}
    return value


def croissant_rows(release: Path, config: str) -> list[dict]:
    """The records of one RecordSet of the release's croissant.json, read by mlcroissant,
    as plain rows (field names without the record set prefix), `split` included."""
    import mlcroissant

    dataset = mlcroissant.Dataset(jsonld=str(release / "croissant.json"))
    return [_plain(dict(r)) for r in dataset.records(record_set=config)]


# Words of the seed corpus that no other corpus's release may contain.
SEED_WORDS = (
    "Putin", "Rusia", "Tiongkok", "Korea Utara", "ICC", "Barat", "Xi Jinping", "Kim Jong",
    "Wang Yi", "Kremlin", "Vostochny", "Tribun", "Liputan6", "detik", "Reuters", "NERGrit",
)  # fmt: skip


def seed_words_in(root: Path) -> dict[str, list[str]]:
    """file -> seed words it contains, over every file of a release but its git store."""
    found = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        data = path.read_bytes()
        hits = [w for w in SEED_WORDS if w.encode() in data]
        if hits:
            found[path.relative_to(root).as_posix()] = hits
    return found


def release_files(root: Path) -> dict[str, str]:
    """Every file of a release outside .git, by content hash, plus the commit id (which
    covers the tree, the message and the date)."""
    files = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    files["HEAD"] = head.stdout.strip()
    return files
