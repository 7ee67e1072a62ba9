"""Label Studio JSON export -> entity rows, stance rows and quarantine rows (pure).

One exported task holds the pushed article (`data`), its annotations, drafts and
predictions. Only finished, non-cancelled annotations become rows; drafts, cancelled
annotations and predictions are counted, never mixed in. A span result (`labels`) and
its per-region stance (`choices` with the same region `id`) are joined into one entity
row; every result that cannot become a row goes to quarantine with its reason.

Label Studio stores what its API is given, well formed or not (a `value` that is a
string, a span without region id, the same stance control answered twice, a task whose
`article_id` is a number). Such input never stops a pull: each annotation is converted on
its own, its results checked before use, two rows that would share a key go to quarantine
together, and anything still unforeseen quarantines that annotation as
`malformed-annotation` while the rest of the project pulls.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
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
MALFORMED_RESULT = "malformed-result"  # not an object, or its value/from_name/text mistyped
MALFORMED_ANNOTATION = "malformed-annotation"  # anything else that would not convert
NO_REGION_ID = "no-region-id"  # a span or region stance without a region id to join on
REPEATED_RESULT = "repeated-result"  # the very same result twice in one annotation
REPEATED_CONTROL = "repeated-control"  # two rows of one annotation would share a key
BAD_ARTICLE_ID = "bad-article-id"  # the task's article_id is not a string
TASK_TEXT_EDITED = "task-text-edited"  # the task's text was edited in Label Studio

# Row keys within one annotation (the schemas' keys minus annotation_id): two rows of one
# annotation sharing one would make the release refuse the whole pull.
_ROW_KEYS = {"entities": ("region_id",), "stance": ("target",)}


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


@dataclass(frozen=True)
class Annotator:
    """Who made an annotation: `name` is the e-mail when known, `user_id` the Label
    Studio user id. `name` is what gold and agreement tell annotators apart by."""

    name: str
    user_id: int | None


def deleted_annotator(annotation_id: Any) -> Annotator:
    """An annotation whose user was deleted before any pull saw them: its own annotator
    (two deleted users must never merge into one)."""
    return Annotator(f"deleted-user-of-annotation-{annotation_id}", None)


def annotator_of(
    completed_by: Any,
    users: Mapping[int, str],
    annotation_id: Any = None,
    known: Mapping[int, Annotator] | None = None,
) -> Annotator:
    """The annotator of an annotation (Label Studio exports a user id, a user object, or
    null once the user was deleted: then who a previous pull recorded, from `known`)."""
    if isinstance(completed_by, dict):
        user_id = completed_by.get("id")
        user_id = user_id if isinstance(user_id, int) else None
        name = completed_by.get("email") or users.get(user_id or -1)
        return Annotator(str(name or f"user-{user_id}"), user_id)
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return Annotator(users.get(completed_by) or f"user-{completed_by}", completed_by)
    if known and isinstance(annotation_id, int) and annotation_id in known:
        return known[annotation_id]
    return deleted_annotator(annotation_id)


def task_article(task: Mapping[str, Any]) -> tuple[Any, Any]:
    """The article id and text hash a task was pushed with (in `data`, else `meta`); as
    stored, so possibly not strings in a hand-imported task."""
    data, meta = _mapping(task.get("data")), _mapping(task.get("meta"))
    article_id = data.get("article_id") or meta.get("article_id")
    sha = data.get("text_sha256") or meta.get("text_sha256")
    return article_id, sha


def text_edited(task: Mapping[str, Any]) -> bool:
    """Whether the task's text is no longer the one it was pushed with (edited inside
    Label Studio): its hash differs from the `text_sha256` recorded at push."""
    data, meta = _mapping(task.get("data")), _mapping(task.get("meta"))
    pushed = meta.get("text_sha256")
    text = data.get("text")
    if not isinstance(pushed, str) or not pushed:
        return False  # not pushed by the toolkit: nothing to compare with
    if not isinstance(text, str):
        return True
    return hashlib.sha256(text.encode("utf-8")).hexdigest() != pushed


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def rows_from_export(
    tasks: Iterable[Mapping[str, Any]],
    articles: Mapping[str, ArticleText],
    controls: Controls,
    users: Mapping[int, str] | None = None,
    known: Mapping[int, Annotator] | None = None,
) -> LabelRows:
    """Turn exported tasks into label rows, checking every span against `articles`.
    `known`: annotation id -> annotator recorded by a previous pull (for deleted users)."""
    out = LabelRows()
    users = users or {}
    for task in tasks:
        out.counts["tasks"] += 1
        out.counts["drafts"] += _count(task.get("drafts"))
        out.counts["predictions"] += _count(task.get("predictions"))
        annotations = task.get("annotations") or []
        for ann in annotations if isinstance(annotations, list) else [annotations]:
            if isinstance(ann, Mapping) and ann.get("was_cancelled"):
                out.counts["cancelled"] += 1
                continue
            out.counts["annotations"] += 1
            _annotation_rows(task, ann, articles, controls, users, known or {}, out)
    return out


def _count(items: Any) -> int:
    return len(items) if isinstance(items, list) else 0


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _annotation_rows(
    task: Mapping[str, Any],
    ann: Any,
    articles: Mapping[str, ArticleText],
    controls: Controls,
    users: Mapping[int, str],
    known: Mapping[int, Annotator],
    out: LabelRows,
) -> None:
    """One annotation's rows into `out`; whatever it holds, it never raises (the rows of
    an annotation that will not convert go to quarantine, and the pull goes on)."""
    ann = _mapping(ann)
    raw_id, raw_task_id = _as_int(ann.get("id")), _as_int(task.get("id"))
    article_id, pushed_sha = task_article(task)
    results = ann.get("result") or []
    try:
        who = annotator_of(ann.get("completed_by"), users, raw_id, known)
    except Exception:  # a user object of an unforeseen shape
        who = deleted_annotator(raw_id)
    try:
        meta = {
            "annotator": who.name,
            "annotator_id": who.user_id,
            "annotation_id": raw_id,
            "task_id": raw_task_id,
            "created_at": parse_time(ann.get("created_at")),
            "updated_at": parse_time(ann.get("updated_at")),
            "lead_time": _lead_time(ann.get("lead_time")),
            "ground_truth": bool(ann.get("ground_truth")),
        }
        if raw_id is None or raw_task_id is None or not isinstance(results, list):
            raise ValueError("annotation without ids or without a list of results")
        part = LabelRows()
        _checked_rows(task, ann, article_id, pushed_sha, results, meta, articles, controls, part)
        _repeated_keys(part)
    except Exception:  # the net under every check: quarantined, never a stopped pull
        name = str(article_id) if article_id is not None else None
        meta = {
            "annotator": who.name,
            "annotator_id": who.user_id,
            "annotation_id": raw_id,
            "task_id": raw_task_id,
        }
        items = results if isinstance(results, list) else [results]
        out.quarantine.append(_quarantined(name, meta, MALFORMED_ANNOTATION, items))
        return
    out.entities += part.entities
    out.stance += part.stance
    out.quarantine += _merged(part.quarantine)
    out.annotations += part.annotations
    out.counts["relocated"] += part.counts["relocated"]


def _lead_time(value: Any) -> float | None:
    if value is None:
        return None
    lead = float(value)
    return lead if lead == lead else None  # NaN: unknown


def _checked_rows(
    task: Mapping[str, Any],
    ann: Mapping[str, Any],
    article_id: Any,
    pushed_sha: Any,
    results: list[Any],
    meta: dict[str, Any],
    articles: Mapping[str, ArticleText],
    controls: Controls,
    out: LabelRows,
) -> None:
    refusal = None
    if article_id is not None and not isinstance(article_id, str):
        refusal, article_id = BAD_ARTICLE_ID, str(article_id)
    article = articles.get(article_id) if article_id and not refusal else None
    if refusal:
        pass
    elif not article_id:
        refusal = NO_ARTICLE_ID
    elif article is None:
        refusal = ARTICLE_MISSING
    elif text_edited(task):
        refusal = TASK_TEXT_EDITED
    elif pushed_sha != article.text_sha256:
        refusal = TEXT_CHANGED
    usable = []
    for item, copies in _unique(results):
        problem = _result_problem(item, controls)
        if problem:
            out.quarantine.append(_quarantined(article_id, meta, problem, [item]))
        else:
            usable.append(item)
        if copies:
            out.quarantine.append(_quarantined(article_id, meta, REPEATED_RESULT, copies))
    groups = _group_results(usable, controls)
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


def _unique(results: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Each distinct result once, with its later identical copies (Label Studio keeps a
    result posted twice: a repeat is quarantined, the first copy used)."""
    seen: dict[str, tuple[Any, list[Any]]] = {}
    for item in results:
        key = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
        if key in seen:
            seen[key][1].append(item)
        else:
            seen[key] = (item, [])
    return list(seen.values())


def _result_problem(item: Any, controls: Controls) -> str | None:
    """Why a result cannot be read at all, or None."""
    if not isinstance(item, Mapping) or not isinstance(item.get("value", {}), Mapping):
        return MALFORMED_RESULT
    name = item.get("from_name")
    if name is not None and not isinstance(name, str):
        return MALFORMED_RESULT
    if name in (controls.entity, controls.region_stance):
        rid = item.get("id")
        if not isinstance(rid, str | int) or isinstance(rid, bool) or str(rid).strip() == "":
            return NO_REGION_ID
        text = item["value"].get("text") if isinstance(item.get("value"), Mapping) else None
        if text is not None and not isinstance(text, str):
            return MALFORMED_RESULT
    return None


def _repeated_keys(out: LabelRows) -> None:
    """Rows of one annotation that would share a key (the same stance control answered
    twice, ...) go to quarantine together: which one was meant is not ours to guess."""
    for config, key in _ROW_KEYS.items():
        rows: list[dict[str, Any]] = getattr(out, config)
        count = Counter(tuple(r[k] for k in key) for r in rows)
        if all(n == 1 for n in count.values()):
            continue
        keep = []
        for r in rows:
            if count[tuple(r[k] for k in key)] == 1:
                keep.append(r)
            else:
                out.quarantine.append(
                    _quarantined(r["article_id"], r, REPEATED_CONTROL, r["_items"])
                )
        rows[:] = keep
    for r in [*out.entities, *out.stance]:
        r.pop("_items", None)


def _merged(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Quarantine rows of one annotation that would share a key (same reason, same
    results) as one row holding all their results."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["reason"], row["result_json"])
        if key in by_key:
            first = by_key[key]
            both = json.loads(first["result_json"]) + json.loads(row["result_json"])
            first["result_json"] = json.dumps(both, ensure_ascii=False, sort_keys=True)
        else:
            by_key[key] = row
    return list(by_key.values())


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
            **_order(base, "annotator", "annotator_id", "annotation_id", "task_id"),
            "region_id": str(span["id"]),
            **_order(base, "created_at", "updated_at", "lead_time"),
            "_items": items,
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
            **_order(base, "annotator", "annotator_id", "annotation_id", "task_id"),
            **_order(base, "created_at", "updated_at", "lead_time"),
            "_items": [item],
        }
    )


def _order(d: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys}


def _quarantined(article_id: Any, meta: Mapping[str, Any], reason: str, items: list) -> dict:
    return {
        "article_id": article_id,
        "task_id": meta["task_id"],
        "annotation_id": meta["annotation_id"],
        "annotator": meta["annotator"],
        "annotator_id": meta.get("annotator_id"),
        "reason": reason,
        "result_json": json.dumps(items, ensure_ascii=False, sort_keys=True),
    }
