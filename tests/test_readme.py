"""The README cannot drift from the CLI, and its two commands are the ones CI runs."""

from __future__ import annotations

from click.testing import CliRunner

from helpers import ROOT
from toolkit.cli import cli
from toolkit.cli_docs import README, command_names, render, replace_block

TEXT = README.read_text(encoding="utf-8")


def test_cli_reference_is_generated_from_help() -> None:
    assert replace_block(TEXT) == TEXT, "run `python -m toolkit.cli_docs` to update README.md"
    assert "### `toolkit build`" in render()


def test_every_command_is_in_the_readme_and_has_an_example() -> None:
    runner = CliRunner()
    names = command_names()
    assert {"toolkit build", "toolkit push", "toolkit pull", "toolkit studio up"} <= set(names)
    for name in names:
        assert f"`{name}`" in TEXT, name
        done = runner.invoke(cli, [*name.split()[1:], "--help"])
        assert done.exit_code == 0, name
        assert "Example:" in done.output, f"{name} --help has no example"


def test_the_two_commands_exist_and_ci_runs_the_second() -> None:
    assert "./scripts/demo.sh" in TEXT and "./scripts/test.sh" in TEXT
    for script in ("scripts/demo.sh", "scripts/test.sh", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    assert "toolkit demo" in demo
