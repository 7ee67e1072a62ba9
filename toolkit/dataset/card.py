"""The release's documents: dataset card (README.md), CITATION.cff and CHANGELOG.md.

All typed parts (features, split sizes, label names) are derived from schemas/ and the
release manifest, so the card cannot disagree with the data it describes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from toolkit.dataset.schema import config_schema, label_set
from toolkit.dataset.versioning import ConfigDiff

LICENSE_NOTE = (
    "The article texts remain the copyright of their publishers (Tribunnews, Liputan6, "
    "detikNews and others). They are redistributed here for non-commercial research on "
    "Indonesian NLP only; do not republish the texts. The annotations and the toolkit's "
    "code are MIT-licensed."
)
_CONFIG_ORDER = ("articles", "entities", "stance", "ner", "quarantine")


def _ordered_configs(manifest: dict[str, Any]) -> list[str]:
    present = manifest["configs"]
    return [c for c in _CONFIG_ORDER if c in present] + sorted(
        c for c in present if c not in _CONFIG_ORDER
    )


def header(manifest: dict[str, Any]) -> dict[str, Any]:
    """The card's YAML metadata: configs, dataset_info and the Hub's descriptive fields."""
    configs, infos = [], []
    for name in _ordered_configs(manifest):
        splits = manifest["configs"][name]["splits"]
        entry: dict[str, Any] = {
            "config_name": name,
            "data_files": [{"split": s, "path": f"data/{name}/{s}-*.parquet"} for s in splits],
        }
        if name == "articles":
            entry["default"] = True
        configs.append(entry)
        infos.append(
            {
                "config_name": name,
                "features": config_schema(name).features._to_yaml_list(),
                "splits": [
                    {"name": s, "num_bytes": i["num_bytes"], "num_examples": i["num_examples"]}
                    for s, i in splits.items()
                ],
                "download_size": sum(i["num_bytes"] for i in splits.values()),
            }
        )
    total = sum(i["num_examples"] for i in manifest["configs"]["articles"]["splits"].values())
    return {
        "pretty_name": manifest["name"],
        "language": ["id"],
        "license": "other",
        "license_name": "research-only-news-text",
        "license_details": LICENSE_NOTE,
        "multilinguality": "monolingual",
        "size_categories": [_size_category(total)],
        "source_datasets": ["original"],
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition"],
        "tags": ["news", "stance-detection", "label-studio", "indonesian"],
        "configs": configs,
        "dataset_info": infos,
    }


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < limit:
            return label
    return "100K<n<1M"


def _table(rows: list[list[str]], head: list[str]) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _fields_table(config: str) -> str:
    schema = config_schema(config)
    rows = []
    for f in schema.fields:
        kind = f.type + (f" ({', '.join(f.names)})" if f.names and len(f.names) < 10 else "")
        rows.append([f"`{f.name}`", kind, f.description])
    return _table(rows, ["field", "type", "meaning"])


def _label_guide() -> str:
    labels = label_set()
    parts = ["Entity types (NERGrit names):", ""]
    parts += [f"- **{t['name']}** - {t['guide']}" for t in labels["entity_types"]]
    parts += ["", "Stance labels (SemEval-2016 style):", ""]
    parts += [f"- **{s['name']}** - {s['guide']}" for s in labels["stances"]]
    parts += ["", "Stance targets of this corpus:", ""]
    parts += [f"- **{t['name']}** - {t['guide']}" for t in labels["stance_targets"]]
    return "\n".join(parts)


def render_card(manifest: dict[str, Any]) -> str:
    name, version = manifest["name"], manifest["version"]
    build = manifest.get("build", {})
    meta = yaml.safe_dump(header(manifest), sort_keys=False, allow_unicode=True, width=1000)
    sources = _table(
        [[p, n] for p, n in build.get("publishers", {}).items()], ["publisher", "articles"]
    )
    sizes = _table(
        [
            [c, s, i["num_examples"]]
            for c in _ordered_configs(manifest)
            for s, i in manifest["configs"][c]["splits"].items()
        ],
        ["config", "split", "rows"],
    )
    rejected = ", ".join(f"{r}: {n}" for r, n in build.get("rejected_by_reason", {}).items())
    config_docs = "\n\n".join(
        f"### `{c}`\n\n{config_schema(c).description}\n\n{_fields_table(c)}"
        for c in _ordered_configs(manifest)
    )
    extra = "\n\n".join(
        f"## {title}\n\n{body.strip()}" for title, body in manifest["card_sections"].items()
    )
    return f"""---
{meta}---

# {name}

Indonesian news articles about Russia, China and North Korea (Putin, Xi Jinping, Kim Jong
Un, Wang Yi; September 2023), cleaned of site clutter and prepared for named-entity and
stance annotation. Version **{version}**, released {manifest["date"]}, built with
news-annotation-toolkit {manifest["toolkit_version"]}.

## How to load

```python
from datasets import load_dataset

articles = load_dataset("path/to/{name}")            # the default config: articles
entities = load_dataset("path/to/{name}", "entities")  # after annotation
```

Every version is a git tag: `git -C {name} checkout v{version}` gives this release back
byte for byte.

## Sources

Scraped news pages, parsed by publisher profile:

{sources}

Inputs: {build.get("inputs", 0)}; built: {build.get("built", 0)}; rejected:
{build.get("rejected", 0)} ({rejected or "none"}). Every rejected input and its reason is
listed in `build-report.json`. Near-duplicate groups (syndicated copy, flagged, never
dropped): {build.get("near_duplicate_groups", 0)}.

## Splits and sizes

Splits are assigned from a hash of the article id with the ratios
{manifest["split_ratios"]}, so an article never changes split when the corpus grows.
Label rows sit in the split of their article.

Article ids: a hash of the page's normalised URL when it has one (a page `N > 1` of a
paginated story is its own article), else of a JSONL line's own `id` field, else of the
page's bytes - never of the path it was read from, so the same page keeps its id through
any folder or symlink. On a rebuild, labels follow their article; labels whose article
changed or was removed move to `quarantine` (`article-changed`, `article-removed`).

{sizes}

## Configs and fields

Offsets (`start`, `end`, paragraph spans) are Python code-point offsets into the
article's `text`, end exclusive.

{config_docs}

## Label guide

{_label_guide()}

{extra}

## Versioning

PATCH = the same records re-serialised; MINOR = additive (new articles, columns, configs
or labels; recomputed near-duplicate groups or gold flags); MAJOR = records edited,
removed or moved between splits. The toolkit computes the bump from the diff with the
previous release; see `CHANGELOG.md`.

## Limitations

- {LICENSE_NOTE}
- Extraction is rule-based per publisher; unknown layouts fall back to a generic profile
  and may keep stray clutter lines or miss a byline.
- Four publishers and one month of coverage: not a balanced sample of Indonesian news.

## Citation

See `CITATION.cff`:

```bibtex
@misc{{{_bibkey(name)},
  title = {{{name}}},
  version = {{{version}}},
  year = {{{manifest["date"][:4]}}},
  note = {{Built with news-annotation-toolkit}}
}}
```
"""


def _bibkey(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def render_citation(manifest: dict[str, Any]) -> str:
    data = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": manifest["name"],
        "version": manifest["version"],
        "date-released": manifest["date"],
        "authors": [{"name": f"{manifest['name']} maintainers"}],
        "abstract": "Indonesian news articles cleaned for named-entity and stance annotation.",
        "keywords": ["Indonesian", "news", "named entity recognition", "stance detection"],
        "license-url": "https://spdx.org/licenses/MIT.html",
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _ids(keys: list[tuple]) -> str:
    return ", ".join("/".join(str(k) for k in key) for key in sorted(keys, key=str))


def changelog_entry(
    manifest: dict[str, Any], diffs: dict[str, ConfigDiff], previous: str | None, bump: str
) -> str:
    lines = [f"## {manifest['version']} - {manifest['date']}", ""]
    if previous is None:
        lines.append("First release.")
    else:
        lines.append(f"{bump.upper()} release after {previous}.")
    for config, diff in diffs.items():
        if previous is None:
            n = len(diff.added)
            lines.append(f"- `{config}`: {n} rows.")
            continue
        for label, keys in (
            ("added", diff.added),
            ("removed", diff.removed),
            ("changed", diff.changed),
            ("moved between splits", diff.moved),
            ("derived fields recomputed", diff.rederived),
            ("re-serialised", diff.reprovenanced),
        ):
            if keys:
                lines.append(f"- `{config}` {label} ({len(keys)}): {_ids(keys)}")
        if diff.columns_added:
            lines.append(f"- `{config}` new columns: {', '.join(diff.columns_added)}")
        if diff.columns_removed:
            lines.append(f"- `{config}` removed columns: {', '.join(diff.columns_removed)}")
        if diff.new_config:
            lines.append(f"- new config `{config}`")
    return "\n".join(lines) + "\n"


def commit_message(manifest: dict[str, Any], diffs: dict[str, ConfigDiff], bump: str) -> str:
    counts = "; ".join(
        f"{c}: +{len(d.added)} -{len(d.removed)} ~{len(d.changed)}" for c, d in diffs.items()
    )
    return f"Release {manifest['version']} ({bump})\n\n{counts}\n"


def write_all(
    staging: Path,
    manifest: dict[str, Any],
    diffs: dict[str, ConfigDiff],
    *,
    previous_version: str | None,
    bump: str,
) -> None:
    (staging / "README.md").write_text(render_card(manifest), encoding="utf-8")
    (staging / "CITATION.cff").write_text(render_citation(manifest), encoding="utf-8")
    log = staging / "CHANGELOG.md"
    old = log.read_text(encoding="utf-8").split("\n", 2)[-1] if log.exists() else ""
    entry = changelog_entry(manifest, diffs, previous_version, bump)
    log.write_text(f"# Changelog\n\n{entry}\n{old.lstrip()}", encoding="utf-8")
