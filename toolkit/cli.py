"""Command-line interface: a thin layer over the library.

Each command parses its options, calls one library function, renders what it returns
or yields, and turns `ToolkitError` into `click.ClickException` (exit 1, `Error: ...`).
"""

from __future__ import annotations

import click

from toolkit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Turn scraped news pages into a versioned, annotated Hugging Face dataset.

    \b
    Example:
        toolkit build seeds/ && toolkit push dist/news && toolkit pull dist/news
    """


def main() -> None:
    cli()
