"""Exported tasks + article texts -> the typed label tables and the card's label sections.

Pure (no network, no files): `pull` fetches, this builds, `release` writes. Tested on
recorded exports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import pyarrow as pa
from datasets.features.features import encode_nested_example

from toolkit import label_config
from toolkit.agreement import Agreement, agreement
from toolkit.bio import BioReport, bio_rows
from toolkit.gold import GOLD_RULE, gold_rows, mark_gold
from toolkit.labels import Annotation, ArticleText, Controls, LabelRows, rows_from_export
from toolkit.schema import config_schema, label_names

LABEL_CONFIGS = ("entities", "stance", "quarantine", "ner")


def controls() -> Controls:
    return Controls(
        entity=label_config.ENTITY_CONTROL,
        region_stance=label_config.ENTITY_STANCE_CONTROL,
        targets=label_config.target_controls(),
    )


@dataclass
class PullTables:
    tables: dict[str, pa.Table]
    rows: LabelRows
    bio: BioReport
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
                    False,
                ),
            )
    return list(seen.values())


def build_tables(
    tasks: Iterable[Mapping[str, Any]],
    articles: Mapping[str, ArticleText],
    users: Mapping[int, str] | None = None,
) -> PullTables:
    """Exported tasks + article texts -> the typed label tables (no network, no files)."""
    rows = rows_from_export(tasks, articles, controls(), users)
    mark_gold(rows.entities, rows.stance, rows.annotations)
    annotated = {a.article_id for a in rows.annotations}
    bio = bio_rows({a: articles[a].text for a in annotated}, gold_rows(rows.entities))
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
        "ner": to_table("ner", bio.rows),
    }
    counts = {
        **rows.counts,
        "entity_rows": len(rows.entities),
        "stance_rows": len(rows.stance),
        "quarantined": len(rows.quarantine),
        "ner_tagged": bio.tagged,
        "ner_skipped": len(bio.skipped),
    }
    return PullTables(tables, rows, bio, agree, counts)


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.3f}"


def card_sections(result: PullTables) -> dict[str, str]:
    """The card's label sections: statistics, gold rule, agreement."""
    c = result.counts
    types = Counter(r["type"] for r in result.rows.entities)
    reasons = Counter(r["reason"] for r in result.rows.quarantine)
    skipped = Counter(s["reason"] for s in result.bio.skipped)
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
