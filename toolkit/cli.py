"""Command-line interface: a thin layer over the library.

Each command parses its options, calls one library function, renders what it returns
or yields, and turns `ToolkitError` into `click.ClickException` (exit 1, `Error: ...`).
"""

from __future__ import annotations

import json
from pathlib import Path

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


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the article record as JSON.")
@click.option("--max-bytes", default=5_000_000, show_default=True, help="Reject larger pages.")
def inspect(file: Path, as_json: bool, max_bytes: int) -> None:
    """Show how one page parses: title, byline, date, paragraphs, dropped lines.

    With --json, print one JSON object: the article record plus every dropped line
    and its reason; a rejected page prints {"rejected": REASON, "detail": ...} and
    exits 1.

    \b
    Example:
        toolkit inspect seeds/004_4a136c2b2b479954.txt
        toolkit inspect page.html --json
    """
    from toolkit.errors import RejectedInput
    from toolkit.extract import extract_file

    try:
        article = extract_file(file, max_bytes=max_bytes)
    except RejectedInput as exc:
        if as_json:
            click.echo(json.dumps({"rejected": exc.reason, "detail": exc.detail}))
            click.get_current_context().exit(1)
        raise click.ClickException(f"rejected ({exc.reason}): {exc.detail}") from None
    if as_json:
        click.echo(json.dumps(article.to_json(), ensure_ascii=False, indent=2))
        return
    kinds: dict[str, int] = {}
    for paragraph in article.paragraphs:
        kinds[paragraph.kind] = kinds.get(paragraph.kind, 0) + 1
    click.echo(f"title:      {article.title or '(none)'}")
    if article.subtitle:
        click.echo(f"subtitle:   {article.subtitle}")
    click.echo(f"publisher:  {article.publisher}")
    click.echo(f"authors:    {', '.join(article.authors) or '(none)'}")
    click.echo(f"editor:     {article.editor or '(none)'}")
    click.echo(f"published:  {article.published_at or '(not printed)'}")
    click.echo(f"language:   {article.language}")
    click.echo(
        f"paragraphs: {len(article.paragraphs)} ("
        + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        + f"), {len(article.text)} characters"
    )
    click.echo(f"captions:   {len(article.captions)}")
    by_reason: dict[str, list[str]] = {}
    for dropped in article.dropped:
        by_reason.setdefault(dropped.reason, []).append(dropped.line)
    click.echo(f"dropped:    {len(article.dropped)} lines")
    for reason, lines in by_reason.items():
        click.echo(f"  {reason} ({len(lines)})")
        for line in lines:
            click.echo(f"    {line if len(line) <= 90 else line[:87] + '...'}")


def main() -> None:
    cli()
