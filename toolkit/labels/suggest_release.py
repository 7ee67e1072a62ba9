"""`toolkit suggest`: predictions from a release's gold for every task nobody answered yet.

Reads the release (its gold entity and stance rows, its articles), builds one prediction
per unannotated task from the sources of toolkit.labels.suggest under a model version
that ends in a digest of what it was made from, keeps the predictions an equal digest
already made, deletes the toolkit's other versions (MODEL_VERSION_PREFIX) and imports the
new ones, then has the project show them. A task whose text is not the release's
(changed since it was pushed) gets none. `suggest_backend` serves the same predictions
lazily.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from toolkit.batches import batched
from toolkit.dataset import release
from toolkit.dataset.project import release_project
from toolkit.dataset.schema import config_schema, use_scheme
from toolkit.errors import ToolkitError
from toolkit.labels.evaluate import DEFAULT_FOLDS, Evaluation, EvaluationError, evaluate
from toolkit.labels.suggest import (
    GAZETTEER,
    MODEL,
    PROPAGATION,
    STANCE,
    Gazetteer,
    GoldArticle,
    Span,
    StanceProposer,
    combine,
    propagate,
)
from toolkit.studio import label_config, predictions
from toolkit.studio.client import StudioClient, connect
from toolkit.studio.fetch import find_project

MODEL_VERSION_PREFIX = "toolkit-suggest"
P = ParamSpec("P")
R = TypeVar("R")


def _in_release_scheme(fn: Callable[Concatenate[Path, P], R]) -> Callable[Concatenate[Path, P], R]:
    """Run with the release's own label scheme (its dataset.yaml), as pull does: the
    caller's active scheme (the CLI's is the built-in one) may name other labels."""

    @functools.wraps(fn)
    def wrapper(release_dir: Path, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with use_scheme(release_project(Path(release_dir)).labels):
            return fn(release_dir, *args, **kwargs)

    return wrapper


EVALUATION_SECTION = "Suggestions: evaluation"


# ---------------------------------------------------------------- reading the release


def _decoded(release_dir: Path, config: str) -> Iterable[dict[str, Any]]:
    features = config_schema(config).features
    names = {k: f.names for k, f in features.items() if hasattr(f, "names")}
    for row in release.read_rows(release_dir, config):
        yield {k: (names[k][v] if k in names and v is not None else v) for k, v in row.items()}


@dataclass
class ReleaseGold:
    version: str
    name: str
    gold: list[GoldArticle]  # articles with gold, their spans and stances
    articles: dict[str, GoldArticle]  # every article of the release, without labels
    votes: dict[str, Counter[str]]  # gold surface -> type -> rows (every annotator's)
    shas: dict[str, str] = field(default_factory=dict)  # article id -> text_sha256


def read_gold(release_dir: Path) -> ReleaseGold:
    release_dir = Path(release_dir)
    if not release.config_files(release_dir, "entities"):
        raise ToolkitError(f"{release_dir} holds no labels yet; run `toolkit pull` first")
    articles: dict[str, GoldArticle] = {}
    shas: dict[str, str] = {}
    for row in release.read_rows(release_dir, "articles"):
        shas[row["id"]] = row["text_sha256"]
        paragraphs = tuple((p["start"], p["end"]) for p in row.get("paragraphs") or [])
        articles[row["id"]] = GoldArticle(
            row["id"], row["text"], group=row.get("near_duplicate_group"), paragraphs=paragraphs
        )
    spans: dict[str, list[Span]] = defaultdict(list)
    all_rows: list[tuple[str, str]] = []
    for r in _decoded(release_dir, "entities"):
        all_rows.append((r["surface"], r["type"]))
        if r["gold"] and r["article_id"] in articles:
            spans[r["article_id"]].append(Span(r["start"], r["end"], r["type"]))
    stances: dict[str, dict[str, str]] = defaultdict(dict)
    for r in _decoded(release_dir, "stance"):
        if r["gold"] and r["article_id"] in articles:
            stances[r["article_id"]][r["target"]] = r["stance"]
    gold = []
    for article_id in sorted(set(spans) | set(stances)):
        a = articles[article_id]
        gold.append(
            GoldArticle(
                article_id,
                a.text,
                tuple(sorted(spans.get(article_id, []))),
                stances.get(article_id, {}),
                a.group,
                a.paragraphs,
            )
        )
    surfaces = {a.text[s.start : s.end] for a in gold for s in a.spans}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for surface, etype in all_rows:  # the type most annotators gave each gold surface
        if surface in surfaces:
            votes[surface][etype] += 1
    return ReleaseGold(
        release.current_version(release_dir),
        release.dataset_name(release_dir),
        gold,
        articles,
        votes,
        shas,
    )


# ---------------------------------------------------------------- making the predictions


@dataclass(frozen=True)
class ModelChoice:
    """Which types the model is used for, and the score its spans carry (its cross-
    validated exact precision per type): what the evaluation decides."""

    types: tuple[str, ...] = ()
    precision: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> ModelChoice:
        by_type = evaluation.counts.get(MODEL, {})
        return cls(
            tuple(evaluation.model_types),
            {t: by_type[t].scores("exact")[0] for t in evaluation.model_types},
        )


def gold_digest(data: ReleaseGold) -> str:
    """What a cross-validation depends on: the gold itself and the model's settings."""
    from toolkit.labels import suggest_model

    h = hashlib.sha256()
    settings = [suggest_model.SEED, suggest_model.EPOCHS, suggest_model.MAX_TRAIN_PARAGRAPHS]
    h.update(json.dumps(settings).encode())
    for art in data.gold:
        spans = [(s.start, s.end, s.type) for s in art.spans]
        item = [art.article_id, data.shas.get(art.article_id), spans, sorted(art.stances.items())]
        h.update(json.dumps(item).encode())
    return h.hexdigest()[:32]


CACHED, COMPUTED, NOT_EVALUATED = "cached", "computed", "not evaluated"


def model_choice(
    data: ReleaseGold, cache_dir: Path | None = None, *, compute: bool = False
) -> tuple[ModelChoice, str]:
    """The model's types, from the k-fold cross-validation of this gold kept in
    `cache_dir` per gold digest (by `suggest --evaluate`, or here with `compute`: the
    folds train one model each, minutes on a large gold, and a release's gold never
    changes). Without one, the model is not used. Returns (choice, CACHED / COMPUTED /
    NOT_EVALUATED)."""
    path = cache_dir / f"{gold_digest(data)}.json" if cache_dir else None
    if path is not None and path.is_file():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return ModelChoice(tuple(raw["types"]), dict(raw["precision"])), CACHED
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry counts as none
    if not compute or len(data.gold) < 2:
        return ModelChoice(), NOT_EVALUATED
    choice = ModelChoice.from_evaluation(evaluate(data.gold))
    if path is not None:
        _save_choice(path, choice)
    return choice, COMPUTED


def _save_choice(path: Path, choice: ModelChoice) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"types": choice.types, "precision": choice.precision}))
    os.replace(tmp, path)


@dataclass
class Suggestions:
    model_version: str
    spans: dict[str, list[Span]]  # article id -> combined spans
    stances: dict[str, tuple[str, float]]  # target -> (stance, score), same for every task
    by_source: Counter[str] = field(default_factory=Counter)  # spans kept, per source
    model_types: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


_CODE = ("suggest.py", "suggest_model.py", "suggest_release.py")  # what makes the spans


def suggestion_digest(data: ReleaseGold, sources: Sequence[str], choice: ModelChoice | None) -> str:
    """Everything a task's prediction depends on besides its own text (which the task's
    text_sha256 pins): the gold, every annotator's votes, the sources, the model's types,
    the members of the gold's near-duplicate groups (propagation), the label controls
    and the code. Equal digests, equal predictions: a re-run keeps them."""
    h = hashlib.sha256()
    h.update(gold_digest(data).encode())
    h.update(json.dumps([list(sources), sorted(label_config.target_controls().items())]).encode())
    h.update(json.dumps(sorted((s, sorted(c.items())) for s, c in data.votes.items())).encode())
    if choice is not None and choice.types:  # a model used for no type is no model
        h.update(json.dumps([list(choice.types), sorted(choice.precision.items())]).encode())
    groups = {a.group for a in data.gold if a.group is not None}
    members = sorted(
        (a.group, a.article_id, data.shas.get(a.article_id, ""))
        for a in data.articles.values()
        if a.group in groups
    )
    h.update(json.dumps(members).encode())
    here = Path(__file__).parent
    for name in _CODE:
        h.update((here / name).read_bytes())
    return h.hexdigest()[:12]


class Suggester:
    """What predictions are made from, prepared once (the gazetteer, the stance
    proposals, the gold by near-duplicate group, the model trained for its types), then
    asked for any number of articles: the spans of a batch are made while the server
    stores the previous one."""

    def __init__(
        self, data: ReleaseGold, *, choice: ModelChoice | None = None, stance: bool = True
    ) -> None:
        self.data = data
        self.seconds: dict[str, float] = defaultdict(float)
        self.by_source: Counter[str] = Counter()
        self.model_types = list(choice.types) if choice else []
        sources = [PROPAGATION, GAZETTEER] + ([MODEL] if self.model_types else [])
        self._ner = None
        if self.model_types and choice is not None:
            from toolkit.labels.suggest_model import NerModel

            clock = time.perf_counter()
            self._ner = NerModel(data.gold, scores=choice.precision)
            self.seconds["model"] += time.perf_counter() - clock
        clock = time.perf_counter()
        self.gazetteer = Gazetteer(data.votes)
        self.stances = StanceProposer(data.gold).propose() if stance else {}
        if self.stances:
            sources.append(STANCE)
        self.by_group: dict[str | None, list[GoldArticle]] = defaultdict(list)
        for art in data.gold:  # propagation looks inside a group only
            self.by_group[art.group].append(art)
        self.digest = suggestion_digest(data, sources, choice)
        self.model_version = (
            f"{MODEL_VERSION_PREFIX}:{'+'.join(sources)}@{data.name}-{data.version}#{self.digest}"
        )
        self.seconds["gazetteer_and_propagation"] += time.perf_counter() - clock

    def spans(self, article_ids: Sequence[str]) -> dict[str, list[Span]]:
        """Combined spans for each article of `article_ids` (pure: no network)."""
        targets = [self.data.articles[a] for a in article_ids]
        model_spans: list[list[Span]] = [[] for _ in targets]
        if self._ner is not None:
            clock = time.perf_counter()
            model_spans = self._ner.predict([t.text for t in targets], types=self.model_types)
            self.seconds["model"] += time.perf_counter() - clock
        clock = time.perf_counter()
        out = {}
        for art, from_model in zip(targets, model_spans, strict=True):
            chosen = combine(
                {
                    PROPAGATION: propagate(self.by_group.get(art.group, []), art),
                    GAZETTEER: self.gazetteer.find(art.text),
                    MODEL: from_model,
                }
            )
            out[art.article_id] = chosen
            self.by_source.update(s.source for s in chosen)
        self.seconds["gazetteer_and_propagation"] += time.perf_counter() - clock
        return out


def make_suggestions(
    data: ReleaseGold,
    article_ids: Sequence[str],
    *,
    choice: ModelChoice | None = None,
    stance: bool = True,
) -> Suggestions:
    """Combined spans for each article of `article_ids` (pure: no network). `choice`: the
    types the model is used for (none: no model)."""
    suggester = Suggester(data, choice=choice, stance=stance)
    spans = suggester.spans(article_ids)
    return Suggestions(
        suggester.model_version,
        spans,
        suggester.stances,
        suggester.by_source,
        suggester.model_types,
        dict(suggester.seconds),
    )


def prediction_result(
    text: str, spans: Sequence[Span], stances: Mapping[str, tuple[str, float]]
) -> list[dict[str, Any]]:
    """Label Studio result items: one labelled region per span (its region id names its
    source), one document-level choice per proposed target stance."""
    items: list[dict[str, Any]] = []
    for i, s in enumerate(spans):
        items.append(
            {
                "id": f"{s.source[:4]}-{i}",
                "from_name": label_config.ENTITY_CONTROL,
                "to_name": label_config.TEXT_NAME,
                "type": "labels",
                "score": round(s.score, 4),
                "value": {
                    "start": s.start,
                    "end": s.end,
                    "text": text[s.start : s.end],
                    "labels": [s.type],
                },
            }
        )
    controls = {t: c for c, t in label_config.target_controls().items()}
    for target, (choice, score) in sorted(stances.items()):
        if target in controls:
            items.append(
                {
                    "id": f"stan-{controls[target]}",
                    "from_name": controls[target],
                    "to_name": label_config.TEXT_NAME,
                    "type": "choices",
                    "score": round(score, 4),
                    "value": {"choices": [choice]},
                }
            )
    return items


# ---------------------------------------------------------------- posting


@dataclass
class SuggestResult:
    project_id: int
    model_version: str
    tasks: int = 0
    annotated: int = 0  # tasks left alone: someone answered them
    suggested: int = 0  # tasks given a prediction
    # unannotated tasks whose prediction from an equal digest stays as it is (not listed
    # again, so not re-checked against the release: a pull quarantines labels on a text
    # edited in Label Studio, and new gold replaces every prediction)
    kept: int = 0
    not_in_release: int = 0  # unannotated tasks whose article or text the release lacks
    spans: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    stances: dict[str, str] = field(default_factory=dict)
    model_types: list[str] = field(default_factory=list)
    replaced: dict[str, int] = field(default_factory=dict)  # earlier version -> deleted
    # where the model's types came from: "cached" (an earlier cross-validation of this
    # gold), "computed" (now), "not evaluated" (none yet: the model is not used)
    model_choice: str = NOT_EVALUATED
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@_in_release_scheme
def suggest(
    release_dir: Path,
    *,
    project: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    client: StudioClient | None = None,
    model: bool = True,
    stance: bool = True,
    cache_dir: Path | None = None,
    cross_validate: bool = False,
) -> SuggestResult:
    """Give every task nobody has annotated the prediction the release's gold makes:
    kept where an equal digest already made it, posted elsewhere, and the toolkit's
    other versions deleted. The model is used for the types where the
    cross-validation of this gold (in `cache_dir`; run now with `cross_validate` if there
    is none) shows it beats the gazetteer (see `model_choice`)."""
    release_dir = Path(release_dir)
    start = time.perf_counter()
    data = read_gold(release_dir)
    if not data.gold:
        raise ToolkitError(f"{release_dir} has no gold labels to suggest from")
    client = client or connect(url, api_key)
    pid = find_project(client, project or data.name)
    clock = time.perf_counter()
    choice, how = model_choice(data, cache_dir, compute=cross_validate) if model else (None, "off")
    decided = time.perf_counter() - clock
    suggester = Suggester(data, choice=choice, stance=stance)
    clock = time.perf_counter()
    version = current_version(client, pid, suggester)
    # Only the tasks without it are listed (and their texts read): listing a task that
    # holds a prediction costs the server ~3x more, and those are kept as they are.
    lacking = predictions.task_states(client, pid, filters=[predictions.holding(version, False)])
    result = SuggestResult(pid, version, model_choice=how)
    result.tasks = predictions.count_tasks(client, pid)
    result.annotated = predictions.count_tasks(client, pid, [predictions.answered()])
    result.kept = predictions.count_tasks(
        client, pid, [predictions.holding(version), predictions.answered(False)]
    )
    listed = time.perf_counter() - clock
    todo: dict[int, str] = {}
    for task in lacking:
        article = data.articles.get(task.article_id or "")
        if task.annotations:
            continue  # counted above
        if article is None or task.edited or task.text_sha256 != data.shas.get(article.article_id):
            result.not_in_release += 1
        else:
            todo[task.task_id] = article.article_id

    def payload() -> Iterator[dict[str, Any]]:
        for chunk in batched(sorted(todo.items()), predictions.IMPORT_BATCH):
            spans = suggester.spans(sorted({article_id for _, article_id in chunk}))
            for task_id, article_id in chunk:
                items = prediction_result(
                    data.articles[article_id].text, spans[article_id], suggester.stances
                )
                if not items:
                    continue
                result.suggested += 1
                result.spans += len(spans[article_id])
                scores = [i["score"] for i in items]
                yield {
                    "task": task_id,
                    "result": items,
                    "model_version": version,
                    "score": round(sum(scores) / len(scores), 4),
                }

    clock = time.perf_counter()
    result.replaced = predictions.delete_versions(client, pid, MODEL_VERSION_PREFIX, keep=version)
    for _ in predictions.import_predictions(client, pid, payload()):
        pass
    if result.suggested or result.kept:
        predictions.show_predictions(client, pid, version)
    posted = time.perf_counter() - clock
    result.by_source = dict(suggester.by_source)
    result.stances = {t: s for t, (s, _) in suggester.stances.items()}
    result.model_types = suggester.model_types
    result.seconds = {
        "list_tasks": listed,
        "model_choice": decided,
        **suggester.seconds,
        "post": posted,
        "total": time.perf_counter() - start,
    }
    return result


def current_version(client: StudioClient, pid: int, suggester: Suggester) -> str:
    """The model version to post (or serve) under. Predictions of an equal digest already
    in the project are the ones this run would make: their version string is kept (the
    project shows one version), so they stay and the tasks added since join them."""
    digest = f"#{suggester.digest}"
    same = sorted(
        v
        for v in predictions.model_versions(client, pid)
        if v.startswith(MODEL_VERSION_PREFIX) and v.endswith(digest)
    )
    return same[0] if same else suggester.model_version


# ---------------------------------------------------------------- evaluation to the card


@_in_release_scheme
def evaluate_release(
    release_dir: Path,
    *,
    k: int = DEFAULT_FOLDS,
    model: bool = True,
    date: str | None = None,
    cache_dir: Path | None = None,
) -> tuple[Evaluation, release.ReleaseResult]:
    """Cross-validate the suggestion sources on the release's gold and write the table
    to the card (and its summary to croissant.json's machine annotation tools) as the
    next (PATCH) release; none if the table is unchanged. With the
    default folds, the model's types are kept in `cache_dir` for `suggest`."""
    data = read_gold(Path(release_dir))
    if len(data.gold) < 2:
        raise EvaluationError(
            f"cross-validation needs gold on at least 2 articles, {release_dir} has "
            f"{len(data.gold)}"
        )
    evaluation = evaluate(data.gold, k, model=model)
    if cache_dir is not None and model and k == DEFAULT_FOLDS:
        _save_choice(
            cache_dir / f"{gold_digest(data)}.json", ModelChoice.from_evaluation(evaluation)
        )
    section = {EVALUATION_SECTION: evaluation.markdown()}
    tools = {"suggestions": evaluation.summary()}
    done = release.release_tables(
        Path(release_dir), {}, card_sections=section, machine_tools=tools, date=date
    )
    return evaluation, done
