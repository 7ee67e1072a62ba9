"""The data contract: read schemas/*.yaml and derive Features and pyarrow schemas from it.

Everything typed in the toolkit (Parquet files, the card's `dataset_info`, the Label
Studio config) comes from here, so the contract is written once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import yaml

from toolkit.errors import SchemaError

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


def _schema_dir() -> Path:
    if not SCHEMA_DIR.is_dir():
        raise SchemaError(f"schemas directory not found at {SCHEMA_DIR}")
    return SCHEMA_DIR


def _read_yaml(name: str) -> dict[str, Any]:
    path = _schema_dir() / f"{name}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"cannot read {path.name}: {exc}") from exc


@functools.cache
def label_set() -> dict[str, list[dict[str, str]]]:
    """The label set: entity_types, stances, stance_targets (each a list of {name, guide, ...})."""
    raw = _read_yaml("labels")
    for key in ("entity_types", "stances", "stance_targets"):
        names = [item["name"] for item in raw.get(key, [])]
        if not names or len(names) != len(set(names)):
            raise SchemaError(f"labels.yaml: '{key}' must list unique names")
    return raw


def label_names(key: str) -> tuple[str, ...]:
    """Names of one label list; `bio_tags` is derived from the entity types."""
    if key == "bio_tags":
        types = label_names("entity_types")
        return ("O", *(f"{p}-{t}" for t in types for p in ("B", "I")))
    try:
        return tuple(item["name"] for item in label_set()[key])
    except KeyError as exc:
        raise SchemaError(f"labels.yaml has no list '{key}'") from exc


def _parse_field(raw: dict[str, Any]) -> Field:
    names: tuple[str, ...] = ()
    if "class_label" in raw["type"]:
        names = tuple(raw["names"]) if "names" in raw else label_names(raw["names_from"])
    return Field(
        name=raw["name"],
        type=raw["type"],
        description=raw.get("description", ""),
        names=names,
        fields=tuple(_parse_field(f) for f in raw.get("fields", [])),
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


@functools.cache
def config_schema(name: str) -> ConfigSchema:
    """The schema of one dataset config (articles, entities, stance, quarantine, ner)."""
    if name not in CONFIGS:
        raise SchemaError(f"unknown config '{name}' (known: {', '.join(CONFIGS)})")
    raw = _read_yaml(name)
    try:
        fields = tuple(_parse_field(f) for f in raw["fields"])
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
