"""Exported tasks + article texts -> the typed label tables and the card's label sections.

Pure (no network, no files): `pull` fetches, this builds, `release` writes. Tested on
recorded exports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.compute as pc
from datasets.features.features import encode_nested_example

from toolkit.batches import batched
from toolkit.dataset.schema import config_schema, label_names
from toolkit.labels.agreement import Agreement, agreement
from toolkit.labels.bio import bio_rows
from toolkit.labels.export import (
    Annotation,
    Annotator,
    ArticleText,
    Controls,
    LabelRows,
    rows_from_export,
)
from toolkit.labels.gold import GOLD_RULE, gold_rows, mark_gold
from toolkit.studio import label_config

LABEL_CONFIGS = ("entities", "stance", "quarantine", "ner")


def controls() -> Controls:
    return Controls(
        entity=label_config.ENTITY_CONTROL,
        region_stance=label_config.ENTITY_STANCE_CONTROL,
        targets=label_config.target_controls(),
    )


@dataclass
class NerReport:
    """How the gold entities went into the `ner` table: tagged, or skipped with a reason
    (`bio.bio_rows`). The rows themselves are only in the table."""

    tagged: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PullTables:
    tables: dict[str, pa.Table]
    rows: LabelRows
    ner: NerReport
    agreement: Agreement
    counts: dict[str, int] = field(default_factory=dict)


def to_table(config: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows with label names -> a table typed exactly as schemas/<config>.yaml declares.

    Column by column: `Features.encode_example` row by row took 10 s of a 10k-task pull,
    nearly all of it encoding the `ner` tags one ClassLabel call per token. Label names
    become ints through a dict; other values go to Arrow as they are, which checks them
    against the schema's types (a wrong type is an error, never silently converted).
    """
    schema = config_schema(config)
    rows = rows if isinstance(rows, list) else list(rows)
    arrow = schema.arrow_schema
    columns = []
    for name, feature in schema.features.items():
        values = _encoder(feature)([r.get(name) for r in rows])
        columns.append(pa.array(values, type=arrow.field(name).type))
    return pa.Table.from_arrays(columns, schema=arrow)


def _encoder(feature: Any) -> Callable[[list[Any]], list[Any]]:
    """Encodes one column's values as `datasets` would for this feature."""
    if isinstance(feature, datasets.ClassLabel):
        return lambda values: [_class_index(feature, v) for v in values]
    inner = getattr(feature, "feature", None)
    if isinstance(feature, datasets.List) and isinstance(inner, datasets.ClassLabel):
        index = {n: i for i, n in enumerate(inner.names)}

        def encode_lists(values: list[Any]) -> list[Any]:
            out = []
            for names in values:
                try:
                    out.append(None if names is None else [index[n] for n in names])
                except (KeyError, TypeError):  # not a known name: the careful way, or its error
                    out.append([_class_index(inner, n) for n in names])
            return out

        return encode_lists
    if isinstance(feature, datasets.Value):
        return lambda values: values
    return lambda values: [encode_nested_example(feature, v) for v in values]


def _class_index(feature: datasets.ClassLabel, value: Any) -> Any:
    return None if value is None else feature.encode_example(value)


def annotations_from_rows(*tables: Iterable[Mapping[str, Any]]) -> list[Annotation]:
    """The annotations behind label rows (what agreement is computed over)."""
    seen: dict[int, Annotation] = {}
    for rows in tables:
        for r in rows:
            seen.setdefault(
                r["annotation_id"],
                Annotation(
                    r["annotation_id"],
                    r["task_id"],
                    r["article_id"],
                    r["annotator"],
                    r["updated_at"],
                    bool(r.get("ground_truth")),
                ),
            )
    return list(seen.values())


BATCH_TASKS = 1000  # tasks converted at a time, while the next export page downloads


def build_tables(
    tasks: Iterable[Mapping[str, Any]],
    articles: Mapping[str, ArticleText],
    users: Mapping[int, str] | None = None,
    known: Mapping[int, Annotator] | None = None,
) -> PullTables:
    """Exported tasks + article texts -> the typed label tables (no network, no files).

    Tasks are converted a batch at a time, NER rows included, so that with a streamed
    export (`fetch.ExportStream`) the work overlaps the download instead of following it
    (10k tasks: tokenising and encoding the NER rows took 3 s after the last page). The
    NER rows of a batch use the gold entities of that batch; gold is then chosen again
    over every annotation, and the few articles whose gold changed (tasks of one article
    in two batches) are tagged again. The result is the same as converting all at once.
    `known`: annotation id -> annotator, as a previous pull recorded (deleted users)."""
    rows, ner = LabelRows(), _NerRows(articles)
    for batch in batched(tasks, BATCH_TASKS):
        part = rows_from_export(batch, articles, controls(), users, known)
        mark_gold(part.entities, part.stance, part.annotations)
        ner.add(part)
        rows.entities += part.entities
        rows.stance += part.stance
        rows.quarantine += part.quarantine
        rows.annotations += part.annotations
        for key, n in part.counts.items():
            rows.counts[key] = rows.counts.get(key, 0) + n
    mark_gold(rows.entities, rows.stance, rows.annotations)
    ner_report, ner_table = ner.finish(rows)
    agree = agreement(
        rows.entities,
        rows.stance,
        annotations_from_rows(rows.entities, rows.stance),
        label_names("stance_targets"),
    )
    tables = {
        "entities": to_table("entities", rows.entities),
        "stance": to_table("stance", rows.stance),
        "quarantine": to_table("quarantine", rows.quarantine),
        "ner": ner_table,
    }
    counts = {
        **rows.counts,
        "entity_rows": len(rows.entities),
        "stance_rows": len(rows.stance),
        "quarantined": len(rows.quarantine),
        "ner_tagged": ner_report.tagged,
        "ner_skipped": len(ner_report.skipped),
    }
    return PullTables(tables, rows, ner_report, agree, counts)


class _NerRows:
    """NER rows made batch by batch, each article's with the gold spans it was made from.

    Only the Arrow table of a batch outlives it: its tokens as Python strings would take
    ~60 bytes each (10k articles are 5.7M tokens)."""

    def __init__(self, articles: Mapping[str, ArticleText]) -> None:
        self.articles = articles
        self.reports: dict[str, NerReport] = {}  # article id -> how its row was tagged
        self.spans: dict[str, list[tuple]] = {}  # article id -> the gold spans it used
        self.repeated: set[str] = set()  # articles annotated in more than one batch
        self.tables: list[pa.Table] = []

    def add(self, part: LabelRows) -> None:
        annotated = {a.article_id for a in part.annotations}
        self.repeated |= annotated & self.reports.keys()
        self.tables.append(self._tag(annotated, part.entities))

    def _tag(self, article_ids: set[str], entities: list[dict[str, Any]]) -> pa.Table:
        gold = _gold_by_article(entities, article_ids)
        rows = []
        for article_id in sorted(article_ids):
            ents = gold.get(article_id, [])
            bio = bio_rows({article_id: self.articles[article_id].text}, ents)
            self.reports[article_id] = NerReport(bio.tagged, bio.skipped)
            self.spans[article_id] = _spans(ents)
            rows += bio.rows
        return to_table("ner", rows)

    def finish(self, rows: LabelRows) -> tuple[NerReport, pa.Table]:
        """The report and table of all articles, with the gold chosen over all batches."""
        final = _gold_by_article(rows.entities, self.reports.keys())
        stale = self.repeated | {
            a for a in self.reports if _spans(final.get(a, [])) != self.spans[a]
        }
        table = pa.concat_tables(self.tables) if self.tables else to_table("ner", [])
        if stale:
            old = pc.is_in(table.column("id"), value_set=pa.array(sorted(stale), pa.string()))
            table = pa.concat_tables(
                [table.filter(pc.invert(old)), self._tag(stale, rows.entities)]
            )
        report = NerReport()
        for article_id in sorted(self.reports):  # bio_rows' own order
            one = self.reports[article_id]
            report.tagged += one.tagged
            report.skipped += one.skipped
        return report, table.sort_by("id")


def _gold_by_article(
    entities: Iterable[dict[str, Any]], article_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    wanted, by_article = set(article_ids), defaultdict(list)
    for ent in gold_rows(entities):
        if ent["article_id"] in wanted:
            by_article[ent["article_id"]].append(ent)
    return by_article


def _spans(entities: list[dict[str, Any]]) -> list[tuple]:
    """What of its gold entities an article's NER row depends on, in order."""
    return [(e["start"], e["end"], e["type"], e["surface"]) for e in entities]


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def card_sections(result: PullTables) -> dict[str, str]:
    """The card's label sections: statistics, gold rule, agreement."""
    c = result.counts
    types = Counter(r["type"] for r in result.rows.entities)
    reasons = Counter(r["reason"] for r in result.rows.quarantine)
    skipped = Counter(s["reason"] for s in result.ner.skipped)
    stats = "\n".join(
        [
            f"- Tasks exported: {c['tasks']}; annotations used: {c['annotations']}; "
            f"excluded: {c['cancelled']} cancelled (skipped), {c['drafts']} drafts; "
            f"predictions seen and never mixed in: {c['predictions']}.",
            f"- Entity mentions: {c['entity_rows']} "
            f"({', '.join(f'{t}: {n}' for t, n in sorted(types.items())) or 'none'}); "
            f"re-located after offset drift: {c['relocated']}.",
            f"- Stance rows: {c['stance_rows']}.",
            f"- Quarantined results: {c['quarantined']} "
            f"({', '.join(f'{r}: {n}' for r, n in sorted(reasons.items())) or 'none'}); "
            "see the `quarantine` config.",
            f"- `ner`: {c['ner_tagged']} gold mentions tagged; {c['ner_skipped']} not tagged "
            f"({', '.join(f'{r}: {n}' for r, n in sorted(skipped.items())) or 'none'}).",
        ]
    )
    a = result.agreement
    lines = [
        f"Over {a.articles} article(s) with two or more annotators.",
        "",
        "| stance target | Krippendorff's alpha (nominal) | articles | values |",
        "|---|---|---|---|",
        *(f"| {t.target} | {_fmt(t.alpha)} | {t.units} | {t.values} |" for t in a.stance),
        "",
        f"Entity spans, pairwise F1 over {a.entity_pairs} annotator pair(s): "
        f"exact {_fmt(a.entity_f1_exact)}, overlap {_fmt(a.entity_f1_overlap)}.",
    ]
    return {
        "Label statistics": stats,
        "Gold labels": GOLD_RULE,
        "Agreement": "\n".join(lines),
    }
