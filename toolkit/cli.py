"""Command-line interface: a thin layer over the library.

Each command parses its options, calls one library function, renders what it returns
or yields, and turns `ToolkitError` into `click.ClickException` (exit 1, `Error: ...`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit import __version__
from toolkit.errors import ToolkitError

if TYPE_CHECKING:  # the library is imported lazily, inside each command
    from toolkit.dataset.release import ReleaseResult


@contextlib.contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's own errors into `Error: ...` and exit status 1."""
    try:
        yield
    except ToolkitError as exc:
        raise click.ClickException(str(exc)) from None


def _echo_release(result: ReleaseResult, unchanged: str) -> None:
    """The last line of build and pull: the version made, or why none was."""
    if result.unchanged:
        click.echo(f"{unchanged} since {result.previous_version}: no new version made")
    else:
        click.echo(f"released {result.version} ({result.bump}) in {result.out}")


class StageProgress:
    """Progress of a command's stages on stderr: a tqdm bar per stage on a terminal; off
    one (logs, pipes), one plain line per stage when it ends, e.g. `extract: 5 pages`."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.tty = sys.stderr.isatty()
        self.stage: str | None = None
        self.done = self.total = 0
        self.bar = None

    def update(self, stage: str, done: int, total: int = 0) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            if self.tty:
                from tqdm import tqdm

                self.bar = tqdm(desc=stage, total=total or None, unit=f" {self.unit}",
                                file=sys.stderr, leave=True)  # fmt: skip
        self.done, self.total = done, total
        if self.bar is not None:
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.stage is not None:
            of = f"/{self.total}" if self.total else ""
            click.echo(f"{self.stage}: {self.done}{of} {self.unit}", err=True)
        self.stage = None

    def __enter__(self) -> StageProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def studio_options(command: Callable[..., None]) -> Callable[..., None]:
    """--project, --url and --api-key, shared by the commands that talk to Label Studio."""
    for option in reversed(
        (
            click.option("--project", help="Label Studio project title [the dataset name]."),
            click.option("--url", help="Label Studio URL [$LABEL_STUDIO_URL, else `studio up`'s]."),
            click.option(
                "--api-key",
                help="Legacy token or personal access token [$LABEL_STUDIO_API_KEY, else "
                "`studio up`'s]; never printed.",
            ),
        )
    ):
        command = option(command)
    return command


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
@click.option(
    "--text", "as_text", is_flag=True, help="Print the kept text, paragraph by paragraph."
)
@click.option("--max-bytes", default=5_000_000, show_default=True, help="Reject larger pages.")
def inspect(file: Path, as_json: bool, as_text: bool, max_bytes: int) -> None:
    """Show how one page parses: title, byline, date, paragraphs, dropped lines.

    With --json, print one JSON object: the article record plus every dropped line
    and its reason; a rejected page prints {"rejected": REASON, "detail": ...} and
    exits 1. With --text, print the kept text with each paragraph's kind.

    \b
    Example:
        toolkit inspect seeds/004_4a136c2b2b479954.txt
        toolkit inspect page.html --json
        toolkit inspect page.txt --text
    """
    from toolkit.errors import RejectedInput
    from toolkit.pages.extract import extract_file

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
    if as_text:
        for paragraph in article.paragraphs:
            text = article.text[paragraph.start : paragraph.end]
            click.echo(f"[{paragraph.kind}] {text}")
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
    if article.sources:
        click.echo("read from:  " + ", ".join(f"{k} <- {v}" for k, v in article.sources.items()))
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


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Dataset name [the folder's name].")
@click.option("--force", is_flag=True, help="Overwrite an existing dataset.yaml.")
def init(directory: Path, name: str | None, force: bool) -> None:
    """Write a commented dataset.yaml (the dataset's project file) into DIRECTORY.

    It holds the dataset's name, description, authors, license, sources, split ratios,
    label scheme (the built-in one, to edit) and annotation settings. Put the pages
    beside it and run `toolkit build DIRECTORY`.

    \b
    Example:
        toolkit init my-corpus && toolkit build my-corpus
    """
    from toolkit.dataset.project import write_init

    with library_errors():
        path = write_init(directory, name, force=force)
    click.echo(f"wrote {path}: fill in the description, authors and license, then build")


@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Release directory [dist/NAME].")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project file [dataset.yaml in (or beside) the first source folder].",
)
@click.option("--name", help="Dataset name [the project's, else the --out folder name].")
@click.option("--version", "version", help="Release this version (at least the computed bump).")
@click.option(
    "--splits",
    default=None,
    help="Split ratios, assigned from a hash of each article id "
    "[the project's, else train=0.8,validation=0.1,test=0.1].",
)
@click.option("--workers", default=1, show_default=True, help="Extraction processes.")
@click.option("--max-bytes", default=5_000_000, show_default=True, help="Reject larger pages.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Extraction cache of incremental builds [.toolkit-cache/NAME beside --out].",
)
@click.option("--no-cache", is_flag=True, help="Extract every page again; leave the cache alone.")
@click.option(
    "--executor",
    type=click.Choice(["native", "local", "ray", "slurm"]),
    default="native",
    show_default=True,
    help="Run the per-page and near-duplicate stages on datatrove (local, ray, slurm).",
)
@click.option("--tasks", type=int, help="datatrove tasks per stage [--workers].")
@click.option("--slurm-partition", help="Slurm partition of the stages' jobs (--executor slurm).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def build(
    sources: tuple[Path, ...],
    out: Path | None,
    config: Path | None,
    name: str | None,
    version: str | None,
    splits: str,
    workers: int,
    max_bytes: int,
    cache_dir: Path | None,
    no_cache: bool,
    executor: str,
    tasks: int | None,
    slurm_partition: str | None,
    as_json: bool,
) -> None:
    """Build the next release of the dataset from news pages (.txt, .html, .jsonl).

    SOURCES are files or folders (default: seeds/). The dataset's project file is
    --config, else the dataset.yaml in (or beside) the first source folder; without one
    the card says so. The release is a git repository tagged vX.Y.Z; the version is
    computed from the diff with the previous release.

    \b
    Example:
        toolkit build seeds/ --out dist/news
        toolkit build seeds/ more-pages/ --out dist/news --workers 2
        toolkit build seeds/ --out dist/news --executor ray --workers 8
    """
    from toolkit.dataset.cache import default_dir
    from toolkit.dataset.project import find_project, load_project
    from toolkit.dataset.release import Progress
    from toolkit.dataset.release import build as build_release
    from toolkit.dataset.splits import parse_ratios

    result: ReleaseResult | None = None
    with library_errors():
        paths = list(sources) or [Path("seeds")]
        found = find_project(paths, config)
        project = load_project(found) if found else None
        name = name or (project.name if project else (out.name if out else "news"))
        out = out or Path("dist") / name
        options: dict[str, Any] = {
            "name": name,
            "version": version,
            "ratios": parse_ratios(splits) if splits else None,
            "workers": workers,
            "max_bytes": max_bytes,
            "project": project,
            "skip": [found] if found else [],  # the project file is not a page
            "cache_dir": None if no_cache else (cache_dir or default_dir(out)),
        }
        if executor == "native":
            events = build_release(paths, out, **options)
        else:
            from toolkit.dataset.distributed import SlurmOptions, build_distributed

            slurm = SlurmOptions(slurm_partition) if slurm_partition else None
            events = build_distributed(
                paths, out, executor=executor, tasks=tasks, slurm=slurm, **options
            )
        with StageProgress("pages") as progress:
            for event in events:
                if isinstance(event, Progress) and event.stage == "waiting":
                    click.echo(event.message, err=True)  # another writer holds the release
                elif isinstance(event, Progress):
                    progress.update(event.stage, event.done)
                else:
                    result = event
    assert result is not None
    summary = {
        "out": str(result.out),
        "version": result.version,
        "previous_version": result.previous_version,
        "bump": result.bump,
        "built": result.built,
        "rejected": [
            {"source_file": r.source_file, "reason": r.reason, "detail": r.detail}
            for r in result.rejected
        ],
        "near_duplicate_groups": result.near_duplicate_groups,
        "changes": {
            c: {
                "added": len(d.added),
                "removed": len(d.removed),
                "changed": len(d.changed),
                "moved": len(d.moved),
            }
            for c, d in result.diffs.items()
        },
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"built {result.built} articles, rejected {len(result.rejected)}, "
        f"near-duplicate groups {result.near_duplicate_groups}",
        err=False,
    )
    for r in result.rejected:
        click.echo(
            f"  rejected {r.source_file}: {r.reason}" + (f" ({r.detail})" if r.detail else "")
        )
    for config, change in summary["changes"].items():
        click.echo(f"  {config}: " + ", ".join(f"{k} {v}" for k, v in change.items()))
    _echo_release(result, "nothing changed")


@cli.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def validate(release_dir: Path, as_json: bool) -> None:
    """Check a release: schema, checksums, offsets, split sizes, git tag.

    Exits 1 and prints the problems when anything is off.

    \b
    Example:
        toolkit validate dist/news --json
    """
    from toolkit.dataset.validate import validate as validate_release

    problems = validate_release(release_dir)
    if as_json:
        click.echo(json.dumps({"ok": not problems, "problems": problems}, indent=2))
    elif not problems:
        click.echo(f"{release_dir}: ok")
    for p in problems if not as_json else ():
        click.echo(f"{p['check']}: {p['where']}: {p['detail']}")
    if problems:
        click.get_current_context().exit(1)


@cli.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@studio_options
@click.option(
    "--page-size",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Tasks per export request.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def pull(
    release_dir: Path,
    project: str | None,
    url: str | None,
    api_key: str | None,
    page_size: int,
    as_json: bool,
) -> None:
    """Pull finished labels into typed entities, stance, quarantine and ner configs.

    Every span is checked against the article text it was pushed with; drifted spans
    are re-located, impossible ones quarantined with the reason. The labels become the
    next release (new labels: MINOR; changed or removed labels: MAJOR).

    \b
    Example:
        toolkit pull dist/news
        toolkit pull dist/news --project news --url http://127.0.0.1:8080
    """
    from toolkit.labels.pull import pull as pull_labels
    from toolkit.studio.server import toolkit_home

    with library_errors(), StageProgress("tasks") as progress:
        result = pull_labels(
            release_dir,
            project=project,
            url=url,
            api_key=api_key,
            page_size=page_size,
            progress=progress.update,
            state_dir=toolkit_home() / "push-cache",
            on_wait=lambda message: click.echo(message, err=True),
        )
    counts, rel = result.tables.counts, result.release
    quarantined: dict[str, int] = {}
    for row in result.tables.rows.quarantine:
        quarantined[row["reason"]] = quarantined.get(row["reason"], 0) + 1
    summary = {
        "version": rel.version,
        "previous_version": rel.previous_version,
        "bump": rel.bump,
        "counts": counts,
        "quarantine_reasons": quarantined,
        "agreement": result.tables.agreement.as_dict(),
        "open_disagreements": len({d.task_id for d in result.disagreements if not d.settled}),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{counts['annotations']} annotations from {counts['tasks']} tasks: "
        f"{counts['entity_rows']} entity rows ({counts['relocated']} re-located), "
        f"{counts['stance_rows']} stance rows, {counts['quarantined']} quarantined"
    )
    click.echo(
        f"excluded: {counts['cancelled']} cancelled, {counts['drafts']} drafts; "
        f"predictions not mixed in: {counts['predictions']}"
    )
    for reason, n in sorted(quarantined.items()):
        click.echo(f"  quarantined {reason}: {n}")
    if counts["ner_skipped"]:
        click.echo(f"  ner: {counts['ner_skipped']} gold spans not token-aligned, not tagged")
    if summary["open_disagreements"]:
        click.echo(
            f"{summary['open_disagreements']} task(s) with open disagreements: see the "
            f"'Disagreements' tab of the project, or `toolkit report {release_dir}`"
        )
    _echo_release(rel, "labels unchanged")


@cli.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as one self-contained HTML page with charts.",
)
def report(release_dir: Path, as_json: bool, html_file: Path | None) -> None:
    """Label counts, annotator progress, agreement and open disagreements of a release.

    Krippendorff's alpha (nominal) per stance target and pairwise span F1 per entity
    type, over articles with two or more annotators, each with the number of items it
    rests on. A disagreement is open until a reviewer marks one of the article's
    annotations as ground truth in Label Studio (the "Disagreements" tab lists them).

    \b
    Example:
        toolkit report dist/news --json
        toolkit report dist/news --html report.html
    """
    from toolkit.labels.report import build_report

    with library_errors():
        rep = build_report(release_dir)
    if html_file is not None:
        from toolkit.labels.report_html import render_html

        html_file.write_text(render_html(rep, f"{release_dir.name} {rep.version}"), "utf-8")
    if as_json:
        click.echo(json.dumps(rep.as_dict(), indent=2, ensure_ascii=False))
        return

    def fmt(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.3f}"

    counts = ", ".join(f"{k} {v}" for k, v in rep.counts.items())
    click.echo(f"{release_dir} {rep.version}: {rep.articles} articles; {counts}")
    for reason, n in sorted(rep.quarantine_reasons.items()):
        click.echo(f"  quarantined {reason}: {n}")
    mentions = (f"{t} {c['mentions']} ({c['gold']} gold)" for t, c in rep.entity_types.items())
    click.echo("entity mentions: " + ", ".join(mentions))
    for target, by_stance in rep.targets.items():
        click.echo(f"  {target}: " + ", ".join(f"{s} {n}" for s, n in by_stance.items()))
    click.echo("annotators:")
    for a in rep.annotators:
        click.echo(
            f"  {a['annotator']}: {a['done']}/{a['total']} articles, {a['annotations']} "
            f"annotation(s), {a['entity_rows']} entity rows, {a['stance_rows']} stance rows"
        )
    agree = rep.agreement
    click.echo(f"agreement over {agree.articles} articles with two or more annotators:")
    for t in agree.stance:
        click.echo(f"  stance {t.target}: alpha {fmt(t.alpha)} ({t.units} articles)")
    click.echo(
        f"  entity span F1 over {agree.entity_pairs} pairs: exact {fmt(agree.entity_f1_exact)}, "
        f"overlap {fmt(agree.entity_f1_overlap)}"
    )
    for t in rep.type_agreement:
        click.echo(f"  entity {t.entity_type}: exact F1 {fmt(t.f1_exact)} ({t.mentions} mentions)")
    opened = rep.open_disagreements
    settled = len(rep.disagreements) - len(opened)
    click.echo(f"disagreements: {len(opened)} open, {settled} settled")
    for d in opened:
        values = "; ".join(f"{who}: {v}" for who, v in d.values)
        click.echo(f"  task {d.task_id} ({d.article_id}) {d.kind} {d.what}: {values}")
    if html_file is not None:
        click.echo(f"wrote {html_file}")


@cli.group()
def studio() -> None:
    """Run the embedded Label Studio (own virtual environment, 127.0.0.1, SQLite).

    \b
    Example:
        toolkit studio up && toolkit push dist/news
        toolkit studio status
        toolkit studio down
    """


@studio.command("up")
@click.option("--port", default=8080, show_default=True, help="Port to listen on (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Server data (SQLite database, uploads) [$TOOLKIT_HOME/studio].",
)
def studio_up(port: int, host: str, data_dir: Path | None) -> None:
    """Install (first time only), start and wait for the local Label Studio.

    The admin login and API token are generated once and kept in
    $TOOLKIT_HOME/studio.json (readable by you only), so push and pull need no flags.
    Running it again while the server is up does nothing.

    \b
    Example:
        toolkit studio up
        toolkit studio up --port 8090 --data-dir ~/annotation-server
    """
    from toolkit.studio import server as studio_server

    with library_errors():
        for event in studio_server.up(port=port, host=host, data_dir=data_dir):
            click.echo(event.message, err=event.stage not in ("up", "already-up"))
    path = studio_server.config_path()
    config = studio_server.read_config()
    user = config.username if config is not None else "the username"
    click.echo(f"open {event.url} and log in as {user} (password in {path})")


@studio.command("down")
def studio_down() -> None:
    """Stop the Label Studio that `toolkit studio up` started (that process only).

    \b
    Example:
        toolkit studio down
    """
    from toolkit.studio import server as studio_server

    with library_errors():
        for event in studio_server.down():
            click.echo(event.message)


@studio.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def studio_status(as_json: bool) -> None:
    """Say whether the local Label Studio is up, where, and which version.

    Exits 1 when it is not running.

    \b
    Example:
        toolkit studio status --json
    """
    from toolkit.studio import server as studio_server

    with library_errors():
        state = studio_server.status()
    if as_json:
        info = {"running": state.running, "url": state.url, "version": state.version,
                "pid": state.pid, "config_file": str(state.config_file)}  # fmt: skip
        click.echo(json.dumps(info, indent=2))
    elif state.running:
        click.echo(f"up at {state.url} (Label Studio {state.version}, pid {state.pid})")
        click.echo(f"login: {state.username}, password in {state.config_file}")
    else:
        where = f" (last at {state.url})" if state.url else ""
        click.echo(f"down{where}: start it with `toolkit studio up`")
    if not state.running:
        click.get_current_context().exit(1)


@studio.group("users")
def studio_users() -> None:
    """Annotator accounts on the Label Studio server.

    \b
    Example:
        toolkit studio users add ana@example.org
    """


@studio_users.command("add")
@click.argument("email")
@click.option("--url", help="Label Studio URL [$LABEL_STUDIO_URL, else `studio up`'s].")
@click.option("--api-key", help="Admin's token [$LABEL_STUDIO_API_KEY, else `studio up`'s].")
@click.option("--print-password", is_flag=True, help="Also print the password, once.")
def studio_users_add(
    email: str, url: str | None, api_key: str | None, print_password: bool
) -> None:
    """Create an annotator account (through the organisation's invite link).

    The generated password is kept in $TOOLKIT_HOME/studio-users.json, readable by
    you only; pass it to the annotator yourself.

    \b
    Example:
        toolkit studio users add ana@example.org
    """
    from toolkit.studio.client import connect
    from toolkit.studio.users import add_user, users_file

    with library_errors():
        made = add_user(connect(url, api_key), email)
    click.echo(f"added annotator {made.email} (user {made.user_id}); they log in at the server URL")
    if print_password:
        click.echo(f"password: {made.password}")
    else:
        click.echo(f"password kept in {users_file()} (readable by you only)")


@cli.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@studio_options
@click.option("--batch-size", default=2000, show_default=True, help="Tasks per import request.")
@click.option(
    "--annotators-per-task",
    type=click.IntRange(min=1),
    help="Different annotators each article goes to [the release's dataset.yaml].",
)
@click.option(
    "--suggest", "then_suggest", is_flag=True, help="Then run `toolkit suggest` on the project."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def push(
    release_dir: Path,
    project: str | None,
    url: str | None,
    api_key: str | None,
    batch_size: int,
    annotators_per_task: int | None,
    then_suggest: bool,
    as_json: bool,
) -> None:
    """Send a release's articles to Label Studio as tasks, idempotently.

    Creates the project (or finds it by title) with the labeling interface generated
    from the label scheme the release was built with (its dataset.yaml), then imports
    only the articles it does not hold yet. Articles whose text changed since they were
    pushed are listed, never touched, and so are tasks whose text was edited inside
    Label Studio. A push that was interrupted is simply run again; tasks a concurrent
    push made twice are removed.

    \b
    Example:
        toolkit push dist/news
        toolkit push dist/news --project "Berita Sept 2023" --url http://ls:8080
        toolkit push dist/news --suggest
    """
    from toolkit.studio.client import connect
    from toolkit.studio.push import push_release
    from toolkit.studio.server import toolkit_home

    result = None
    with library_errors():
        client = connect(url, api_key)
        events = push_release(
            client,
            release_dir,
            project_title=project,
            batch_size=batch_size,
            cache_dir=toolkit_home() / "push-cache",
            annotators_per_task=annotators_per_task,
        )
        with StageProgress("tasks") as progress:
            for event in events:
                if event.stage == "listing":
                    progress.update("listing", event.done, event.total)
                elif event.stage in ("importing", "imported") and event.total:
                    progress.update("importing", event.done, event.total)
                elif event.stage in ("waiting", "project", "listed", "deduplicated"):
                    progress.close()
                    click.echo(event.message, err=True)
                if event.result is not None:
                    result = event.result
    assert result is not None
    summary = {
        "url": result.url,
        "project_id": result.project_id,
        "project": result.project_title,
        "dataset_version": result.dataset_version,
        "created": result.created,
        "already_present": result.already_present,
        "changed": [
            {"article_id": c.article_id, "task_ids": list(c.task_ids)} for c in result.changed
        ],
        "duplicated": result.duplicated,
        "edited_in_studio": [
            {"article_id": e.article_id, "task_id": e.task_id} for e in result.edited
        ],
        "duplicates_removed": result.duplicates_removed,
        "config_updated": result.config_updated,
        "settings_updated": result.settings_updated,
    }
    if then_suggest:
        with library_errors():
            from toolkit.labels.suggest_release import suggest as suggest_tasks

            summary["suggest"] = suggest_tasks(
                release_dir,
                project=result.project_title,
                client=client,
                cache_dir=toolkit_home() / "suggest-cache",
            ).as_dict()
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    if then_suggest:
        _echo_suggest(summary["suggest"])
    click.echo(
        f"project {result.project_id} {result.project_title!r}: {result.created} task(s) "
        f"created, {result.already_present} already present"
    )
    if result.config_updated:
        click.echo("labeling config updated from the release's label scheme")
    if result.settings_updated:
        click.echo(f"project settings updated: {', '.join(result.settings_updated)}")
    for c in result.changed:
        ids = ", ".join(map(str, c.task_ids))
        click.echo(f"  changed since pushed (task {ids} left as is): {c.article_id}")
    for article_id, ids in result.duplicated.items():
        click.echo(f"  held by several tasks ({', '.join(map(str, ids))}): {article_id}")
    for e in result.edited:
        click.echo(
            f"  text edited in Label Studio (task {e.task_id}; pull quarantines its labels): "
            f"{e.article_id}"
        )
    if result.duplicates_removed:
        n = len(result.duplicates_removed)
        click.echo(f"  removed {n} task(s) a concurrent push had made twice")
    click.echo(f"open {result.url}/projects/{result.project_id}/")


def _echo_suggest(done: dict) -> None:
    sources = ", ".join(f"{k} {v}" for k, v in sorted(done["by_source"].items())) or "none"
    click.echo(
        f"suggest: {done['suggested']} task(s) given predictions {done['model_version']!r} "
        f"({done['spans']} span(s): {sources}); {done['kept']} task(s) kept theirs "
        f"(unchanged); {done['annotated']} annotated task(s) left alone; "
        f"{done['not_in_release']} task(s) not in the release"
    )
    if done["replaced"]:
        click.echo(f"  replaced earlier predictions: {', '.join(done['replaced'])}")
    click.echo(
        f"  model used for: {', '.join(done['model_types']) or 'no type'} "
        f"(cross-validation: {done['model_choice']})"
    )


@cli.command()
@click.argument("release_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@studio_options
@click.option(
    "--evaluate",
    "do_evaluate",
    is_flag=True,
    help="Cross-validate the sources on the gold instead, and write the table to the card.",
)
@click.option("--folds", default=5, show_default=True, help="Folds for --evaluate.")
@click.option("--no-model", is_flag=True, help="Leave the spaCy model out (faster).")
@click.option(
    "--cross-validate",
    is_flag=True,
    help="Cross-validate the model now if --evaluate has not (one training per fold).",
)
@click.option("--no-stance", is_flag=True, help="Propose no document stances.")
@click.option(
    "--serve",
    is_flag=True,
    help="Instead, serve the suggestions as the project's ML backend until interrupted: "
    "a task gets its prediction when it is first opened.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address --serve listens on.")
@click.option("--port", default=0, show_default=True, help="Port for --serve [0: a free one].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def suggest(
    release_dir: Path,
    project: str | None,
    url: str | None,
    api_key: str | None,
    do_evaluate: bool,
    folds: int,
    no_model: bool,
    cross_validate: bool,
    no_stance: bool,
    serve: bool,
    host: str,
    port: int,
    as_json: bool,
) -> None:
    """Pre-annotate every unannotated task from the release's gold labels.

    Sources: a gazetteer of gold surfaces, propagation inside near-duplicate groups, a
    spaCy model trained on the gold (only for the types where cross-validation shows it
    beats the gazetteer: run --evaluate first, or pass --cross-validate), and a stance
    per target. The toolkit's earlier predictions are replaced, except where they are
    what this run would make (same gold, sources and code): those are kept, so a re-run
    only posts for new tasks. Annotations are never touched. With --evaluate, nothing is
    posted: the sources are cross-validated over the gold articles, the table goes to the
    card, and the model's types are remembered.

    With --serve, nothing is posted up front: the toolkit runs an ML backend that Label
    Studio asks for a task's prediction when the task is first opened (same predictions,
    same model version), until Ctrl-C disconnects it.

    \b
    Example:
        toolkit suggest dist/news
        toolkit suggest dist/news --evaluate --json
        toolkit suggest dist/news --serve --port 9090
    """
    from toolkit.labels import suggest_release
    from toolkit.studio.server import toolkit_home

    cache = toolkit_home() / "suggest-cache"  # the cross-validation behind the model's types
    if serve:
        if do_evaluate or cross_validate:
            raise click.UsageError("--serve serves the suggestions; evaluate them on their own")
        _serve_suggestions(
            release_dir, project, url, api_key, host, port, no_model, no_stance, cache
        )
        return
    with library_errors():
        if do_evaluate:
            evaluation, rel = suggest_release.evaluate_release(
                release_dir, k=folds, model=not no_model, cache_dir=cache
            )
            if as_json:
                click.echo(json.dumps(evaluation.as_dict(), indent=2))
                return
            click.echo(evaluation.markdown())
            _echo_release(rel, "evaluation unchanged")
            return
        done = suggest_release.suggest(
            release_dir,
            project=project,
            url=url,
            api_key=api_key,
            model=not no_model,
            stance=not no_stance,
            cache_dir=cache,
            cross_validate=cross_validate,
        ).as_dict()
    if as_json:
        click.echo(json.dumps(done, indent=2, ensure_ascii=False))
        return
    _echo_suggest(done)


def _serve_suggestions(
    release_dir: Path, project: str | None, url: str | None, api_key: str | None, host: str,
    port: int, no_model: bool, no_stance: bool, cache: Path,
) -> None:  # fmt: skip
    """`suggest --serve`: start, connect, wait for Ctrl-C (or SIGTERM), disconnect."""
    import signal
    import threading

    from toolkit.labels.suggest_backend import Predictor, serving

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    served: list[Predictor] = []
    backend = serving(release_dir, project=project, url=url, api_key=api_key, host=host,
                      port=port, model=not no_model, stance=not no_stance,
                      cache_dir=cache)  # fmt: skip
    with library_errors(), contextlib.suppress(KeyboardInterrupt), backend as serve:
        served.append(serve.predictor)
        if serve.replaced:
            click.echo(f"deleted earlier predictions: {', '.join(serve.replaced)}")
        types = serve.predictor.suggester.model_types
        click.echo(
            f"serving suggestions {serve.predictor.model_version!r} at {serve.url} for "
            f"project {serve.connection.project_id} (model used for: "
            f"{', '.join(types) or 'no type'}); Ctrl-C to stop"
        )
        threading.Event().wait()
    if not served:
        return
    counts, error = served[0].counts, served[0].last_error
    click.echo(
        f"disconnected; {counts['suggested']} task(s) given predictions, {counts['annotated']} "
        f"annotated, {counts['not in release']} not in the release, {counts['nothing found']} "
        f"with nothing to propose"
    )
    if error:
        click.echo(f"  {counts['error']} task(s) failed: {error}")


@cli.command()
@click.option(
    "--out", default=Path("dist/news"), show_default=True, type=click.Path(path_type=Path)
)
@click.option("--port", default=8080, show_default=True, help="Port of the local Label Studio.")
@click.pass_context
def demo(ctx: click.Context, out: Path, port: int) -> None:
    """The main job on the embedded default: build seeds/, start Label Studio, push.

    Runs `toolkit build seeds/`, `toolkit studio up` and `toolkit push`, then tells you
    where to annotate, where the login is kept and how to bring the labels back.

    \b
    Example:
        toolkit demo
        toolkit demo --out dist/news --port 8090
    """
    from toolkit.studio import server as studio_server

    click.secho("1/3 build", bold=True)
    ctx.invoke(build, sources=(Path("seeds"),), out=out, name=out.name)
    click.secho("2/3 studio up", bold=True)
    ctx.invoke(studio_up, port=port)
    click.secho("3/3 push", bold=True)
    ctx.invoke(push, release_dir=out)
    with library_errors():
        config = studio_server.read_config()
    assert config is not None
    click.echo(
        f"\nAnnotate at {config.url} (login: {config.username}; the password is in "
        f"{studio_server.config_path()}, readable by you only).\n"
        f"Then bring the labels back as the next release:\n"
        f"    .venv/bin/toolkit pull {out}\n"
        f"and load them:  datasets.load_dataset('{out}', 'entities')"
    )


def main() -> None:
    # Arrow picks its allocator once, when it loads (the commands import it lazily). glibc
    # hands back the few-MB buffers a streaming build frees; Arrow's default, mimalloc,
    # keeps them (peak RSS of a 20k build 282 -> 235 MB, BENCHMARKS.md). A choice the user
    # made in the environment stands.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    cli()
