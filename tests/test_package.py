"""The package installs: the wheel `python -m build` makes works from any folder.

The wheel is built (from an sdist, as `python -m build` does) out of a copy of the tracked
files, installed with --no-deps into a virtual environment that holds only the runtime
dependencies (created once and cached, like the cffconvert one; never the dev venv, and
never the checkout on the path), and used from a folder outside the checkout: `toolkit
init`, `toolkit build`, then `datasets.load_dataset`. A wheel without the schemas as
package data fails here exactly as it failed for users.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT

# Keyed by the declared dependencies, so a new dependency gets a new venv.
_DEPS = hashlib.sha256((ROOT / "pyproject.toml").read_bytes().split(b"[project.optional")[0])
DEPS_VENV = ROOT / ".cache" / f"wheel-deps-{_DEPS.hexdigest()[:12]}"
PAGES = ROOT / "tests" / "projects" / "pesisir" / "pages"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    tracked = run("git", "ls-files", "-z", cwd=ROOT).split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():  # the working tree's version of every tracked file
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    run(sys.executable, "-m", "build", "--outdir", root / "dist", ".", cwd=src)
    (found,) = (root / "dist").glob("*.whl")
    return found


def test_the_wheel_carries_the_schemas_as_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in sorted((ROOT / "schemas").glob("*.yaml")):
        assert f"toolkit/schemas/{schema.name}" in names, schema.name
    assert not any(n.startswith("schemas/") for n in names)  # no top-level package
    assert "toolkit/py.typed" in names


def test_installed_wheel_inits_builds_and_loads_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    python = DEPS_VENV / "bin" / "python"
    if not python.exists():  # the runtime dependencies, once (no dev tools, no toolkit)
        subprocess.run([sys.executable, "-m", "venv", str(DEPS_VENV)], check=True)
        run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HF_DATASETS_CACHE"] = str(tmp_path / "hf-cache")
    toolkit = DEPS_VENV / "bin" / "toolkit"

    work = tmp_path / "elsewhere"
    work.mkdir()
    run(toolkit, "init", "corpus", cwd=work, env=env)
    for page in PAGES.iterdir():
        shutil.copy(page, work / "corpus" / page.name)
    built = json.loads(run(toolkit, "build", "corpus", "--json", cwd=work, env=env))
    assert built["version"] == "1.0.0" and built["built"] == 3 and built["rejected"] == []

    probe = (
        "import json, datasets, toolkit\n"
        "from toolkit.dataset.schema import _schema_dir, builtin_scheme\n"
        "ds = datasets.load_dataset('dist/corpus')\n"
        "print(json.dumps({'toolkit': toolkit.__file__, 'schemas': str(_schema_dir()),\n"
        "  'rows': sum(s.num_rows for s in ds.values()),\n"
        "  'targets': builtin_scheme().names('stance_targets')}))\n"
    )
    seen = json.loads(run(DEPS_VENV / "bin" / "python", "-c", probe, cwd=work, env=env))
    site = DEPS_VENV.resolve()
    assert Path(seen["toolkit"]).resolve().is_relative_to(site)
    assert Path(seen["schemas"]).resolve().is_relative_to(site)
    assert (
        Path(seen["schemas"]).name == "schemas" and Path(seen["schemas"]).parent.name == "toolkit"
    )
    assert seen["rows"] == 3
    # the release describes itself with the project file init wrote
    card = (work / "dist" / "corpus" / "README.md").read_text(encoding="utf-8")
    assert "Your Name" in card and "cc-by-4.0" in card
    assert (work / "dist" / "corpus" / "croissant.json").is_file()


def test_every_runtime_dependency_is_used() -> None:
    """Each declared runtime dependency is imported by the package, or (lxml_html_clean)
    imported at run time by a dependency that the package imports."""
    import ast
    import importlib
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    imported: set[str] = set()
    for path in (ROOT / "toolkit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    dists = packages_distributions()
    used = {d.lower().replace("_", "-") for m in imported for d in dists.get(m, [])}
    importlib.import_module("trafilatura")  # pulls jusText, which imports lxml.html.clean
    assert "lxml_html_clean" in sys.modules
    used.add("lxml-html-clean")
    assert names <= used, f"declared but never imported: {sorted(names - used)}"
