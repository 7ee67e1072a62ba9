"""The data contract: read schemas/*.yaml and derive Features and pyarrow schemas from it.

Everything typed in the toolkit (Parquet files, the card's `dataset_info`, the Label
Studio config) comes from here, so the contract is written once.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import yaml

from toolkit.errors import SchemaError

# The top-level schemas/ is the single source; the wheel ships it as the package data
# `toolkit.schemas` (pyproject's package-dir mapping). A source checkout has no such
# subpackage, so the checkout's own schemas/ is the fallback.
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
TIMESTAMP = "timestamp[ms, tz=+07:00]"  # WIB; Parquet has no seconds unit, so ms
CONFIGS = ("articles", "entities", "stance", "quarantine", "ner")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str = ""
    names: tuple[str, ...] = ()
    fields: tuple[Field, ...] = field(default_factory=tuple)
    nullable: bool = True


@dataclass(frozen=True)
class ConfigSchema:
    name: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()  # columns that identify a row across releases
    derived: tuple[str, ...] = ()  # recomputed each build: changing only these is MINOR
    provenance: tuple[str, ...] = ()  # how the row was made: changing only these is PATCH

    @property
    def features(self) -> datasets.Features:
        return datasets.Features({f.name: _feature(f) for f in self.fields})

    @property
    def arrow_schema(self) -> pa.Schema:
        return self.features.arrow_schema

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]


@functools.cache
def _schema_dir() -> Path:
    try:  # a data-only folder of the wheel: a namespace package, found by its path
        spec = importlib.util.find_spec("toolkit.schemas")
    except ModuleNotFoundError:
        spec = None
    for location in (spec and spec.submodule_search_locations) or ():
        if (Path(location) / "articles.yaml").is_file():
            return Path(location)
    if not SCHEMA_DIR.is_dir():
        raise SchemaError(f"schemas directory not found at {SCHEMA_DIR} (nor as package data)")
    return SCHEMA_DIR


def schema_file(name: str) -> Path:
    """Path of one file of the data contract (e.g. `labels.yaml`)."""
    return _schema_dir() / name


def _read_yaml(name: str) -> dict[str, Any]:
    path = _schema_dir() / f"{name}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"cannot read {path.name}: {exc}") from exc


LABEL_KEYS = ("entity_types", "stances", "stance_targets")


@dataclass(frozen=True)
class Label:
    """One entity type, stance label or stance target, with its annotator guide."""

    name: str
    guide: str = ""
    hotkey: str = ""
    document_only: bool = False  # a stance offered for targets only, not for entities


@dataclass(frozen=True)
class LabelScheme:
    """What annotators mark: entity types, stance labels and document stance targets.

    The built-in scheme is schemas/labels.yaml; a dataset's project file may replace it.
    Frozen and hashable, so the schemas derived from it can be cached per scheme.
    """

    entity_types: tuple[Label, ...]
    stances: tuple[Label, ...]
    stance_targets: tuple[Label, ...]

    @classmethod
    def from_dict(cls, raw: Any, where: str = "labels.yaml") -> LabelScheme:
        if not isinstance(raw, dict):
            raise SchemaError(f"{where}: the label scheme must be a mapping of {LABEL_KEYS}")
        lists = {}
        for key in LABEL_KEYS:
            items = raw.get(key)
            if not isinstance(items, list) or not items:
                raise SchemaError(f"{where}: '{key}' must be a non-empty list")
            labels = []
            for item in items:
                if not isinstance(item, dict) or not str(item.get("name") or "").strip():
                    raise SchemaError(f"{where}: every item of '{key}' needs a 'name'")
                labels.append(
                    Label(
                        str(item["name"]).strip(),
                        str(item.get("guide") or "").strip(),
                        str(item.get("hotkey") or "").strip(),
                        bool(item.get("document_only", False)),
                    )
                )
            names = [label.name for label in labels]
            if len(names) != len(set(names)):
                raise SchemaError(f"{where}: '{key}' must list unique names")
            lists[key] = tuple(labels)
        return cls(**lists)

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        """The scheme as plain lists of {name, guide[, hotkey]} (YAML / label config)."""
        return _scheme_dict(self)

    def names(self, key: str) -> tuple[str, ...]:
        return _scheme_names(self, key)


@functools.cache
def _scheme_dict(scheme: LabelScheme) -> dict[str, list[dict[str, str]]]:
    return {
        key: [
            {
                "name": x.name,
                **({"hotkey": x.hotkey} if x.hotkey else {}),
                **({"document_only": True} if x.document_only else {}),
                "guide": x.guide,
            }
            for x in getattr(scheme, key)
        ]
        for key in LABEL_KEYS
    }


@functools.cache
def _scheme_names(scheme: LabelScheme, key: str) -> tuple[str, ...]:
    if key == "bio_tags":
        types = _scheme_names(scheme, "entity_types")
        return ("O", *(f"{p}-{t}" for t in types for p in ("B", "I")))
    if key not in LABEL_KEYS:
        raise SchemaError(f"the label scheme has no list '{key}'")
    return tuple(x.name for x in getattr(scheme, key))


@functools.cache
def builtin_scheme() -> LabelScheme:
    """The toolkit's default label scheme (schemas/labels.yaml)."""
    return LabelScheme.from_dict(_read_yaml("labels"))


# The scheme of the dataset being built or pulled. A context variable rather than a
# parameter on every label-reading function: the stages below read label names in many
# small places, and `use_scheme` sets it once around a whole build or pull.
_ACTIVE: ContextVar[LabelScheme | None] = ContextVar("label_scheme", default=None)


def active_scheme() -> LabelScheme:
    return _ACTIVE.get() or builtin_scheme()


@contextlib.contextmanager
def use_scheme(scheme: LabelScheme | None) -> Iterator[LabelScheme]:
    """Within the block, label names and config schemas come from `scheme`."""
    token = _ACTIVE.set(scheme)
    try:
        yield active_scheme()
    finally:
        _ACTIVE.reset(token)


def label_set() -> dict[str, list[dict[str, str]]]:
    """The active label scheme: entity_types, stances, stance_targets (each a list of
    {name, guide, ...})."""
    return active_scheme().as_dict()


def label_names(key: str) -> tuple[str, ...]:
    """Names of one list of the active scheme; `bio_tags` is derived from the entity types."""
    return active_scheme().names(key)


def _parse_field(raw: dict[str, Any], scheme: LabelScheme) -> Field:
    names: tuple[str, ...] = ()
    if "class_label" in raw["type"]:
        names = tuple(raw["names"]) if "names" in raw else scheme.names(raw["names_from"])
    return Field(
        name=raw["name"],
        type=raw["type"],
        description=raw.get("description", ""),
        names=names,
        fields=tuple(_parse_field(f, scheme) for f in raw.get("fields", [])),
        nullable=raw.get("nullable", True),
    )


_SCALARS = {
    "string": "string",
    "int32": "int32",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "timestamp": TIMESTAMP,
}


def _feature(f: Field, type_: str | None = None) -> Any:
    type_ = type_ or f.type
    if type_.startswith("list<") and type_.endswith(">"):
        return datasets.List(_feature(f, type_[5:-1]))
    if type_ == "struct":
        return {sub.name: _feature(sub) for sub in f.fields}
    if type_ == "class_label":
        return datasets.ClassLabel(names=list(f.names))
    if type_ in _SCALARS:
        return datasets.Value(_SCALARS[type_])
    raise SchemaError(f"field '{f.name}': unknown type '{type_}'")


def config_schema(name: str, scheme: LabelScheme | None = None) -> ConfigSchema:
    """The schema of one dataset config (articles, entities, stance, quarantine, ner);
    its ClassLabel names come from `scheme` (default: the active scheme)."""
    return _config_schema(name, scheme or active_scheme())


@functools.cache
def _config_schema(name: str, scheme: LabelScheme) -> ConfigSchema:
    if name not in CONFIGS:
        raise SchemaError(f"unknown config '{name}' (known: {', '.join(CONFIGS)})")
    raw = _read_yaml(name)
    try:
        fields = tuple(_parse_field(f, scheme) for f in raw["fields"])
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"{name}.yaml: malformed field list ({exc})") from exc
    schema = ConfigSchema(
        name=name,
        description=raw.get("description", ""),
        fields=fields,
        key=tuple(raw.get("key") or ()),
        derived=tuple(raw.get("derived") or ()),
        provenance=tuple(raw.get("provenance") or ()),
    )
    unknown = set(schema.key + schema.derived + schema.provenance) - set(schema.column_names)
    if not schema.key or unknown:
        raise SchemaError(f"{name}.yaml: key/derived/provenance name unknown {sorted(unknown)}")
    return schema
