"""Label Studio JSON export -> entity rows, stance rows and quarantine rows (pure).

One exported task holds the pushed article (`data`), its annotations, drafts and
predictions. Only finished, non-cancelled annotations become rows; drafts, cancelled
annotations and predictions are counted, never mixed in. A span result (`labels`) and
its per-region stance (`choices` with the same region `id`) are joined into one entity
row; every result that cannot become a row goes to quarantine with its reason.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from toolkit.dataset.schema import label_names
from toolkit.labels.spans import check_span

TEXT_CHANGED = "text-changed"  # the article text is no longer the one the task was pushed with
ARTICLE_MISSING = "article-missing"
NO_ARTICLE_ID = "no-article-id"
UNKNOWN_CONTROL = "unknown-control"
UNKNOWN_LABEL = "unknown-label"
MULTIPLE_LABELS = "multiple-labels"
ORPHAN_REGION_STANCE = "orphan-region-stance"


@dataclass(frozen=True)
class Controls:
    """Names of the label config's controls, and the stance target each document-level
    `<Choices>` stands for (from toolkit.studio.label_config)."""

    entity: str
    region_stance: str
    targets: Mapping[str, str]  # control name -> stance target name


@dataclass(frozen=True)
class ArticleText:
    text: str
    text_sha256: str


@dataclass(frozen=True)
class Annotation:
    """One accepted annotation (what gold and agreement reason about)."""

    annotation_id: int
    task_id: int
    article_id: str
    annotator: str
    updated_at: datetime | None
    ground_truth: bool


@dataclass
class LabelRows:
    entities: list[dict[str, Any]] = field(default_factory=list)
    stance: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("tasks", "annotations", "cancelled", "drafts", "predictions", "relocated"), 0
        )
    )


def parse_time(value: Any) -> datetime | None:
    """Label Studio's ISO times ('...Z') as aware datetimes, truncated to seconds."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.replace(microsecond=0)


def annotator_of(completed_by: Any, users: Mapping[int, str]) -> str:
    """The annotator's email (Label Studio exports a user id, or a user object)."""
    if isinstance(completed_by, dict):
        return str(completed_by.get("email") or completed_by.get("id"))
    if isinstance(completed_by, int) and completed_by in users:
        return users[completed_by]
    return str(completed_by)


def task_article(task: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The article id and text hash a task was pushed with (in `data`, else `meta`)."""
    data, meta = task.get("data") or {}, task.get("meta") or {}
    article_id = data.get("article_id") or meta.get("article_id")
    sha = data.get("text_sha256") or meta.get("text_sha256")
    return article_id, sha


def rows_from_export(
    tasks: Iterable[Mapping[str, Any]],
    articles: Mapping[str, ArticleText],
    controls: Controls,
    users: Mapping[int, str] | None = None,
) -> LabelRows:
    """Turn exported tasks into label rows, checking every span against `articles`."""
    out = LabelRows()
    users = users or {}
    for task in tasks:
        out.counts["tasks"] += 1
        out.counts["drafts"] += len(task.get("drafts") or [])
        out.counts["predictions"] += len(task.get("predictions") or [])
        for ann in task.get("annotations") or []:
            if ann.get("was_cancelled"):
                out.counts["cancelled"] += 1
                continue
            out.counts["annotations"] += 1
            _annotation_rows(task, ann, articles, controls, users, out)
    return out


def _annotation_rows(
    task: Mapping[str, Any],
    ann: Mapping[str, Any],
    articles: Mapping[str, ArticleText],
    controls: Controls,
    users: Mapping[int, str],
    out: LabelRows,
) -> None:
    article_id, pushed_sha = task_article(task)
    meta = {
        "annotator": annotator_of(ann.get("completed_by"), users),
        "annotation_id": int(ann["id"]),
        "task_id": int(task["id"]),
        "created_at": parse_time(ann.get("created_at")),
        "updated_at": parse_time(ann.get("updated_at")),
        "lead_time": float(ann["lead_time"]) if ann.get("lead_time") is not None else None,
        "ground_truth": bool(ann.get("ground_truth")),
    }
    groups = _group_results(ann.get("result") or [], controls)
    article = articles.get(article_id) if article_id else None
    refusal = None
    if not article_id:
        refusal = NO_ARTICLE_ID
    elif article is None:
        refusal = ARTICLE_MISSING
    elif pushed_sha != article.text_sha256:
        refusal = TEXT_CHANGED
    if refusal or article is None or article_id is None:
        for items in groups:
            out.quarantine.append(_quarantined(article_id, meta, refusal or NO_ARTICLE_ID, items))
        return
    out.annotations.append(
        Annotation(
            meta["annotation_id"],
            meta["task_id"],
            article_id,
            meta["annotator"],
            meta["updated_at"],
            bool(ann.get("ground_truth")),
        )
    )
    base = {"article_id": article_id, "text_sha256": article.text_sha256, **meta}
    for items in groups:
        _group_row(items, article, controls, base, out)


def _group_results(results: list[dict[str, Any]], controls: Controls) -> list[list[dict]]:
    """Results grouped so that a span and its per-region stance travel together."""
    regions: dict[str, list[dict]] = defaultdict(list)
    groups: list[list[dict]] = []
    for item in results:
        if item.get("from_name") in (controls.entity, controls.region_stance) and item.get("id"):
            if str(item["id"]) not in regions:
                groups.append(regions[str(item["id"])])
            regions[str(item["id"])].append(item)
        else:
            groups.append([item])
    return groups


def _group_row(
    items: list[dict], article: ArticleText, controls: Controls, base: dict, out: LabelRows
) -> None:
    first = items[0]
    name = first.get("from_name")
    if name in controls.targets and len(items) == 1:
        _stance_row(first, controls.targets[name], base, out)
        return
    spans = [i for i in items if i.get("from_name") == controls.entity]
    stances = [i for i in items if i.get("from_name") == controls.region_stance]
    if not spans and stances:
        out.quarantine.append(_quarantined(base["article_id"], base, ORPHAN_REGION_STANCE, items))
        return
    if len(spans) != 1 or len(stances) > 1:
        out.quarantine.append(_quarantined(base["article_id"], base, UNKNOWN_CONTROL, items))
        return
    _entity_row(spans[0], stances[0] if stances else None, items, article, base, out)


def _single(value: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    """The one label in value[key], or None if there is none, several, or an unknown one."""
    chosen = value.get(key) or []
    if len(chosen) != 1 or chosen[0] not in allowed:
        return None
    return chosen[0]


def _entity_row(
    span: dict,
    stance_item: dict | None,
    items: list[dict],
    article: ArticleText,
    base: dict,
    out: LabelRows,
) -> None:
    value = span.get("value") or {}
    types = label_names("entity_types")
    chosen = value.get("labels") or []
    etype = _single(value, "labels", types)
    if etype is None:
        reason = MULTIPLE_LABELS if len(chosen) > 1 else UNKNOWN_LABEL
        out.quarantine.append(_quarantined(base["article_id"], base, reason, items))
        return
    stance = None
    if stance_item is not None:
        stance = _single(stance_item.get("value") or {}, "choices", label_names("stances"))
        if stance is None:
            out.quarantine.append(_quarantined(base["article_id"], base, UNKNOWN_LABEL, items))
            return
    check = check_span(article.text, value.get("start"), value.get("end"), value.get("text"))
    if not check.ok:
        out.quarantine.append(_quarantined(base["article_id"], base, str(check.reason), items))
        return
    out.counts["relocated"] += int(check.relocated)
    out.entities.append(
        {
            **_order(base, "article_id", "text_sha256"),
            "start": check.start,
            "end": check.end,
            "surface": article.text[check.start : check.end],
            "type": etype,
            "stance": stance,
            "relocated": check.relocated,
            "origin": span.get("origin"),  # how the span was made: hand or suggestion
            "gold": False,
            "ground_truth": base["ground_truth"],
            **_order(base, "annotator", "annotation_id", "task_id"),
            "region_id": str(span["id"]),
            **_order(base, "created_at", "updated_at", "lead_time"),
        }
    )


def _stance_row(item: dict, target: str, base: dict, out: LabelRows) -> None:
    stance = _single(item.get("value") or {}, "choices", label_names("stances"))
    if stance is None:
        out.quarantine.append(_quarantined(base["article_id"], base, UNKNOWN_LABEL, [item]))
        return
    out.stance.append(
        {
            **_order(base, "article_id", "text_sha256"),
            "target": target,
            "stance": stance,
            "gold": False,
            "ground_truth": base["ground_truth"],
            **_order(base, "annotator", "annotation_id", "task_id"),
            **_order(base, "created_at", "updated_at", "lead_time"),
        }
    )


def _order(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys}


def _quarantined(article_id: str | None, meta: Mapping[str, Any], reason: str, items: list) -> dict:
    return {
        "article_id": article_id,
        "task_id": meta["task_id"],
        "annotation_id": meta["annotation_id"],
        "annotator": meta["annotator"],
        "reason": reason,
        "result_json": json.dumps(items, ensure_ascii=False, sort_keys=True),
    }
