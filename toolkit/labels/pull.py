"""Pull finished labels from Label Studio into typed tables and the next release.

Fetch (network) and save (transform + write) are separate: `fetch.ExportStream` pages
through the project with bounded retries; `label_tables.build_tables` (pure) turns the export
plus the release's article texts into the typed tables; `pull` ties both to
`release.release_tables`. The stream downloads in a thread while the release's texts are
read and each page is turned into rows, and only rows outlive their page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from toolkit.dataset import release
from toolkit.dataset.project import release_project
from toolkit.dataset.schema import config_schema, label_names, use_scheme
from toolkit.errors import ReleaseError, StudioError
from toolkit.labels.agreement import Agreement, agreement
from toolkit.labels.disagreements import Disagreement, find_disagreements
from toolkit.labels.export import Annotator, ArticleText
from toolkit.labels.suggest_usage import usage_section
from toolkit.labels.tables import PullTables, annotations_from_rows, build_tables, card_sections
from toolkit.studio import projects
from toolkit.studio.client import StudioClient, connect
from toolkit.studio.fetch import DEFAULT_PAGE_SIZE, ExportStream, fetch_users, find_project
from toolkit.studio.review import show_disagreements


@dataclass
class PullResult:
    release: release.ReleaseResult
    tables: PullTables
    disagreements: list[Disagreement] = field(default_factory=list)
    review_view: int | None = None  # the Data Manager tab listing the open ones


def release_articles(release_dir: Path) -> dict[str, ArticleText]:
    return {
        row["id"]: ArticleText(row["text"], row["text_sha256"])
        for row in release.read_articles(release_dir)
    }


def pull(
    release_dir: Path,
    *,
    project: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    client_options: dict[str, Any] | None = None,
    date: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    state_dir: Path | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> PullResult:
    """Export the project, check every label against the release's texts, and release
    the label configs as the next version (none if nothing changed). `progress(stage,
    done, total)` is told of every exported task (total 0 while still unknown);
    `on_wait(message)` when another writer holds the release folder and the pull waits.

    Without `project`, the project is the one this release was pulled from before, else
    the one push recorded in `state_dir`, found by id (so a renamed project is still
    found), else the one titled like the dataset."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise StudioError(f"the page size must be a whole number of at least 1, not {page_size}")
    release_dir = Path(release_dir)
    # Labels are read with the scheme the release was built with (its dataset.yaml).
    with use_scheme(release_project(release_dir).labels):
        return _pull(
            release_dir, project, url, api_key, page_size, client_options, date, progress,
            state_dir, on_wait,
        )  # fmt: skip


def _pull(
    release_dir: Path,
    project: str | None,
    url: str | None,
    api_key: str | None,
    page_size: int,
    client_options: dict[str, Any] | None,
    date: str | None,
    progress: Callable[[str, int, int], None] | None,
    state_dir: Path | None,
    on_wait: Callable[[str], None] | None,
) -> PullResult:
    manifest = release.read_manifest(release_dir)
    name = release.dataset_name(release_dir)
    client = connect(url, api_key, **(client_options or {}))
    project_id, title = _locate(client, manifest, name, project, state_dir)
    users = fetch_users(client)
    reviewer = int(client.call("identify the reviewer", client.sdk.users.whoami).id)
    known = recorded_annotators(release_dir)
    with ExportStream(client, project_id, page_size=page_size) as tasks:
        articles = release_articles(release_dir)  # while the first pages download
        counted = tasks if progress is None else _counted(tasks, progress)
        reviewed = reviews_as_ground_truth(counted, reviewer)
        built = build_tables(reviewed, articles, users, known)
    _refuse_emptying(release_dir, built, project_id, title, client.url)
    sections = card_sections(built)
    sections[projects.SECTION] = projects.section_for(manifest, project_id, client.url)
    result = release.release_tables(
        release_dir,
        built.tables,
        card_sections={**sections, **usage_section(built.rows.entities)},
        date=date,
        split_column={"ner": "id"},
        on_wait=on_wait,
    )
    rows = built.rows
    found = find_disagreements(rows.entities, rows.stance, rows.annotations)
    view = show_disagreements(client, project_id, {d.task_id for d in found if not d.settled})
    return PullResult(result, built, found, view)


def reviews_as_ground_truth(
    tasks: Iterable[dict[str, Any]], reviewer: int
) -> Iterator[dict[str, Any]]:
    """Label Studio Community has no ground-truth switch in its UI (only its API), so a
    reviewer settles a disagreement by submitting a review annotation (for instance
    "Duplicate Annotation" on the one they agree with, then Submit). The reviewer is the
    account the toolkit connects with (the project's owner): its annotations count as
    ground truth, which the gold rule prefers and agreement leaves out - on a task two or
    more other people annotated (there is something to review). Where the owner is one of
    the k annotators, or the only one, their annotation stays an ordinary one."""

    def who(ann: dict[str, Any]) -> Any:
        by = ann.get("completed_by")
        return by.get("id") if isinstance(by, dict) else by

    for task in tasks:
        anns = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if len({who(a) for a in anns} - {reviewer}) >= 2:
            for ann in anns:
                if who(ann) == reviewer:
                    ann["ground_truth"] = True
        yield task


def _counted(
    tasks: ExportStream, progress: Callable[[str, int, int], None]
) -> Iterator[dict[str, Any]]:
    for done, task in enumerate(tasks, start=1):
        progress("exporting", done, tasks.expected or 0)
        yield task


def _locate(
    client: StudioClient,
    manifest: dict[str, Any] | None,
    name: str,
    project: str | None,
    state_dir: Path | None,
) -> tuple[int, str]:
    if project is None:
        found = projects.recorded_project(client, manifest, name, state_dir)
        if found is not None:
            return int(found.id), str(found.title or "")
    title = project or name
    return find_project(client, title), title


LABEL_CONFIGS = ("entities", "stance", "quarantine")


def _refuse_emptying(
    release_dir: Path, built: PullTables, project_id: int, title: str, url: str
) -> None:
    """A project without a single label (a new or emptied one, found instead of the
    renamed original) must not become a release that removes every label."""
    if any(built.tables[c].num_rows for c in LABEL_CONFIGS):
        return
    held = sum(_row_count(release_dir, c) for c in LABEL_CONFIGS)
    if held:
        raise StudioError(
            f"project {project_id} ({title!r}) at {url} holds no labels, but {release_dir} "
            f"holds {held} label row(s): refusing to release a version that removes them "
            "all. If the project was renamed or re-created, pass --project with its title"
        )


def _row_count(release_dir: Path, config: str) -> int:
    files = [f for fs in release.config_files(release_dir, config).values() for f in fs]
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def recorded_annotators(release_dir: Path) -> dict[int, Annotator]:
    """annotation id -> annotator, as the release's label rows recorded them: who made an
    annotation stays known after Label Studio forgets a deleted user."""
    known: dict[int, Annotator] = {}
    for config in LABEL_CONFIGS:
        for files in release.config_files(release_dir, config).values():
            for path in files:
                parquet = pq.ParquetFile(path)
                names = parquet.schema_arrow.names
                columns = [c for c in ("annotation_id", "annotator", "annotator_id") if c in names]
                for row in parquet.read(columns=columns).to_pylist():
                    # ("None": what pulls before annotator ids wrote for a deleted user)
                    if row.get("annotation_id") is not None and row.get("annotator") not in (
                        None,
                        "None",
                    ):
                        who = Annotator(row["annotator"], row.get("annotator_id"))
                        known.setdefault(row["annotation_id"], who)
    return known


@dataclass
class LabelReport:
    version: str
    counts: dict[str, int]
    quarantine_reasons: dict[str, int]
    agreement: Agreement

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "counts": self.counts,
            "quarantine_reasons": self.quarantine_reasons,
            **self.agreement.as_dict(),
        }


def report(release_dir: Path) -> LabelReport:
    """Label statistics and agreement of a release, read from its label configs."""
    release_dir = Path(release_dir)
    with use_scheme(release_project(release_dir).labels):
        return _report(release_dir)


def _report(release_dir: Path) -> LabelReport:
    if not release.config_files(release_dir, "entities"):
        raise ReleaseError(f"{release_dir} holds no labels yet; run `toolkit pull` first")
    entities = list(release.read_rows(release_dir, "entities"))
    stance = list(release.read_rows(release_dir, "stance"))
    quarantine = list(release.read_rows(release_dir, "quarantine"))
    decode = label_decoder("entities")
    entities = [decode(r) for r in entities]
    stance = [label_decoder("stance")(r) for r in stance]
    agree = agreement(
        entities,
        stance,
        annotations_from_rows(entities, stance),
        label_names("stance_targets"),
    )
    counts = {
        "entity_rows": len(entities),
        "stance_rows": len(stance),
        "gold_entities": sum(1 for r in entities if r["gold"]),
        "relocated": sum(1 for r in entities if r["relocated"]),
        "quarantined": len(quarantine),
        "annotators": len({r["annotator"] for r in entities + stance}),
    }
    reasons = Counter(r["reason"] for r in quarantine)
    return LabelReport(release.current_version(release_dir), counts, dict(reasons), agree)


def label_decoder(config: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """ClassLabel ints back to names (what agreement compares)."""
    features = config_schema(config).features
    names = {k: f.names for k, f in features.items() if hasattr(f, "names")}

    def decode(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (names[k][v] if k in names and v is not None else v) for k, v in row.items()}

    return decode
