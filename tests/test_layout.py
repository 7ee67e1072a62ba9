"""The package layout shows the pipeline: a lower stage never imports a higher one.

pages <- dataset <- studio <- labels <- cli. Imports are read from the source (function-level
ones included), so a lazy import that runs back up fails here as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"
# Rank of each part of the package; the shared bottom (errors, batches, version) is rank 0.
RANKS = {"pages": 1, "dataset": 2, "studio": 3, "labels": 4, "cli": 5, "cli_docs": 5, "__main__": 5}


def rank(module: str) -> int:
    """Rank of a dotted module name inside `toolkit` (0 for the shared bottom)."""
    parts = module.split(".")
    return RANKS.get(parts[1], 0) if len(parts) > 1 else 0


def imported_modules(tree: ast.AST) -> set[str]:
    """Every `toolkit...` module a source file imports, as dotted names."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "toolkit"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "toolkit":  # from toolkit import pages -> toolkit.pages
                found |= {f"toolkit.{a.name}" for a in node.names}
            elif node.module.split(".")[0] == "toolkit":
                found.add(node.module)
    return found


def upward_imports(package: Path) -> list[str]:
    """`file imports module` for every import that runs from a lower stage to a higher one."""
    bad = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(("toolkit", *path.relative_to(package).with_suffix("").parts))
        here = rank(module.removesuffix(".__init__"))
        for target in sorted(imported_modules(ast.parse(path.read_text(), str(path)))):
            if rank(target) > here:
                bad.append(f"{path.relative_to(package.parent)} imports {target}")
    return bad


def test_no_stage_imports_a_later_stage() -> None:
    assert upward_imports(PACKAGE) == []


def test_every_module_sits_in_a_stage_folder_or_the_shared_bottom() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "__main__", "batches", "cli", "cli_docs", "errors"]
    for stage in ("pages", "dataset", "studio", "labels"):
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text()))
        assert doc and "in" in doc and "out" in doc, f"{stage}/__init__.py says what it takes"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from toolkit.labels.gold import x", ["toolkit/pages/bad.py imports toolkit.labels.gold"]),
        ("import toolkit.studio.push", ["toolkit/pages/bad.py imports toolkit.studio.push"]),
        ("def f():\n    from toolkit import cli", ["toolkit/pages/bad.py imports toolkit.cli"]),
        ("from toolkit.errors import ToolkitError", []),
        ("from toolkit.pages.read import Source", []),
    ],
)
def test_the_checker_catches_an_upward_import(tmp_path: Path, source: str, expected: list) -> None:
    """The checker itself can fail: a planted import from pages up to a later stage is caught."""
    package = tmp_path / "toolkit"
    (package / "pages").mkdir(parents=True)
    (package / "pages" / "bad.py").write_text(source + "\n")
    assert upward_imports(package) == expected
