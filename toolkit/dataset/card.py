"""The release's documents: dataset card (README.md), CITATION.cff, croissant.json and
CHANGELOG.md.

All typed parts (features, split sizes, label names) are derived from schemas/, the
dataset's project file and the release manifest; provenance (publishers, dates, hosts) is
computed from the data. Nothing here is about one corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from toolkit.dataset import croissant
from toolkit.dataset.project import Project
from toolkit.dataset.provenance import annotator_count, empty_configs
from toolkit.dataset.schema import config_schema
from toolkit.dataset.versioning import ConfigDiff

_CONFIG_ORDER = ("articles", "entities", "stance", "ner", "quarantine")
PLATFORM = "Label Studio"
# Sections of the pull that the annotation section shows in its own place.
_ANNOTATION_PARTS = ("Agreement", "Gold labels")


def _ordered_configs(manifest: dict[str, Any], *, with_empty: bool = False) -> list[str]:
    """Configs in reading order; without the empty ones unless asked (see empty_configs)."""
    skip = set() if with_empty else set(empty_configs(manifest))
    present = [c for c in manifest["configs"] if c not in skip]
    return [c for c in _CONFIG_ORDER if c in present] + sorted(
        c for c in present if c not in _CONFIG_ORDER
    )


def hf_license(project: Project) -> dict[str, Any]:
    """The Hub's license fields: a lower-case SPDX id, or `other` with name and link."""
    lic = project.license
    if lic.is_spdx:
        return {"license": lic.id.lower()}
    return {
        "license": "other",
        "license_name": lic.name,
        "license_link": lic.link,
        "license_details": lic.details,
    }


def header(manifest: dict[str, Any], project: Project) -> dict[str, Any]:
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
                "features": config_schema(name, project.labels).features._to_yaml_list(),
                "splits": [
                    {"name": s, "num_bytes": i["num_bytes"], "num_examples": i["num_examples"]}
                    for s, i in splits.items()
                ],
                "download_size": sum(i["num_bytes"] for i in splits.values()),
            }
        )
    total = sum(i["num_examples"] for i in manifest["configs"]["articles"]["splits"].values())
    return {
        "pretty_name": project.pretty_name,
        "language": list(project.languages),
        **hf_license(project),
        "multilinguality": "monolingual" if len(project.languages) == 1 else "multilingual",
        "size_categories": [_size_category(total)],
        "source_datasets": ["original"],
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition"],
        "tags": list(
            dict.fromkeys(["news", "stance-detection", "label-studio", *project.keywords])
        ),
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


def _fields_table(config: str, project: Project) -> str:
    schema = config_schema(config, project.labels)
    rows = []
    for f in schema.fields:
        kind = f.type + (f" ({', '.join(f.names)})" if f.names and len(f.names) < 10 else "")
        rows.append([f"`{f.name}`", kind, f.description])
    return _table(rows, ["field", "type", "meaning"])


def _label_guide(project: Project) -> str:
    labels = project.labels
    parts = ["Entity types:", ""]
    parts += [f"- **{t.name}** - {t.guide}" for t in labels.entity_types]
    parts += ["", "Stance labels:", ""]
    parts += [f"- **{s.name}** - {s.guide}" for s in labels.stances]
    parts += ["", "Stance targets of this dataset:", ""]
    parts += [f"- **{t.name}** - {t.guide}" for t in labels.stance_targets]
    return "\n".join(parts)


def authors_line(project: Project) -> str:
    return "; ".join(
        a.name
        + (f" ({a.orcid})" if a.orcid else "")
        + (f", {a.affiliation}" if a.affiliation else "")
        for a in project.authors
    )


def license_line(project: Project) -> str:
    lic = project.license
    if lic.is_spdx:
        return f"{lic.id} ({lic.link})"
    return f"{lic.name} ({lic.link}): {lic.details}"


def provenance_section(manifest: dict[str, Any], project: Project) -> str:
    build = manifest.get("build", {})
    publishers = build.get("publishers", {})
    span = build.get("published_range")
    hosts = build.get("url_hosts", {})
    langs = build.get("languages", {})
    lines = [project.sources or "(The project file does not say where the pages came from.)", ""]
    lines += [_table([[p, n] for p, n in publishers.items()], ["publisher", "articles"]), ""]
    lines.append(f"- Publishers: {len(publishers)} (the profile that parsed each page).")
    lines.append(
        f"- Publication dates: {span[0]} to {span[1]}."
        if span
        else "- Publication dates: none printed on the pages."
    )
    lines.append(
        f"- Languages detected: {', '.join(f'{k}: {n}' for k, n in langs.items()) or 'none'}."
    )
    lines.append(
        f"- URL hosts: {', '.join(f'{h}: {n}' for h, n in hosts.items())}."
        if hosts
        else "- URL hosts: no page carried its URL."
    )
    if project.homepage:
        lines.append(f"- Homepage: {project.homepage}")
    if project.repository:
        lines.append(f"- Repository: {project.repository}")
    return "\n".join(lines)


def annotation_section(manifest: dict[str, Any], project: Project, annotators: int) -> str:
    ann = project.annotation
    sections = manifest.get("card_sections", {})
    lines = [
        f"- Platform: {PLATFORM}, through news-annotation-toolkit (`push`, then `pull`).",
        f"- Annotators per article: {ann.annotators_per_task}.",
        f"- Annotators who labelled this release: {annotators or 'none yet'}.",
    ]
    if ann.annotators:
        lines.append(f"- Who annotates: {ann.annotators}")
    lines.append(
        f"- Guidelines: {ann.instructions or 'none given'} The label guide below gives "
        "each entity type, stance label and stance target with its guide."
    )
    lines += ["", "### Gold rule", "", sections.get("Gold labels", "No labels pulled yet.")]
    lines += [
        "",
        "### Agreement",
        "",
        sections.get("Agreement", "Not measured yet: no labels pulled."),
    ]
    return "\n".join(lines)


def render_card(manifest: dict[str, Any], project: Project, annotators: int = 0) -> str:
    name, version = manifest["name"], manifest["version"]
    build = manifest.get("build", {})
    meta = yaml.safe_dump(
        header(manifest, project), sort_keys=False, allow_unicode=True, width=1000
    )
    sizes = _table(
        [
            [c, s, i["num_examples"]]
            for c in _ordered_configs(manifest, with_empty=True)
            for s, i in manifest["configs"][c]["splits"].items()
        ],
        ["config", "split", "rows"],
    )
    empty = empty_configs(manifest)
    if empty:
        sizes += (
            f"\n\nWithout rows in this release: {', '.join(f'`{c}`' for c in empty)}. "
            "A config without rows cannot be loaded, so it is not listed in `configs` "
            "(nor in croissant.json) until it has some."
        )
    rejected = ", ".join(f"{r}: {n}" for r, n in build.get("rejected_by_reason", {}).items())
    config_docs = "\n\n".join(
        f"### `{c}`\n\n{config_schema(c, project.labels).description}\n\n"
        f"{_fields_table(c, project)}"
        for c in _ordered_configs(manifest)
    )
    extra = "\n\n".join(
        f"## {title}\n\n{body.strip()}"
        for title, body in manifest["card_sections"].items()
        if title not in _ANNOTATION_PARTS
    )
    limitations = "\n".join(f"- {x}" for x in project.limitations)
    return f"""---
{meta}---

# {project.pretty_name}

{project.description}

Version **{version}**, released {manifest["date"]}, built with news-annotation-toolkit
{manifest["toolkit_version"]}. Authors: {authors_line(project)}. License:
{license_line(project)}

## How to load

```python
from datasets import load_dataset

articles = load_dataset("path/to/{name}")            # the default config: articles
entities = load_dataset("path/to/{name}", "entities")  # after annotation
```

Every version is a git tag: `git -C {name} checkout v{version}` gives this release back
byte for byte. `croissant.json` describes the release for dataset catalogues, and
`dataset.yaml` is the project file it was built with.

## Sources and provenance

{provenance_section(manifest, project)}

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

## Annotation

{annotation_section(manifest, project, annotators)}

## Label guide

{_label_guide(project)}

{extra}

## Versioning

PATCH = the same records re-serialised; MINOR = additive (new articles, columns, configs
or labels; recomputed near-duplicate groups or gold flags); MAJOR = records edited,
removed or moved between splits. A label scheme change is versioned the same way (a new
entity type or target: MINOR; one removed or renamed: MAJOR). The toolkit computes the
bump from the diff with the previous release; see `CHANGELOG.md`.

## Limitations

- License: {license_line(project)}
- Extraction is rule-based; pages of unknown layouts fall back to a generic profile and
  may keep stray clutter lines or miss a byline.
{limitations}

Biases: {project.biases or "not described by the authors."}

Personal information: {project.personal_information or "not described by the authors."}

## Citation

See `CITATION.cff`:

```bibtex
{bibtex(manifest, project)}
```
"""


def _bibkey(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def bibtex(manifest: dict[str, Any], project: Project) -> str:
    authors = " and ".join(
        f"{{{a.name}}}"
        if a.organisation
        else (f"{a.names[1]}, {a.names[0]}" if a.names[0] else a.names[1])
        for a in project.authors
    )
    url = project.homepage or project.repository
    fields = [
        ("author", authors),
        ("title", project.pretty_name),
        ("version", manifest["version"]),
        ("year", manifest["date"][:4]),
        ("url", url),
        ("note", "Built with news-annotation-toolkit"),
    ]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields if v)
    return (
        f"@misc{{{_bibkey(manifest['name'])}_{manifest['version'].replace('.', '_')},\n{body}\n}}"
    )


def render_citation(manifest: dict[str, Any], project: Project) -> str:
    authors = []
    for a in project.authors:
        if a.organisation:
            authors.append({"name": a.name, **({"orcid": a.orcid} if a.orcid else {})})
            continue
        given, family = a.names
        person: dict[str, Any] = {"family-names": family}
        if given:
            person["given-names"] = given
        if a.affiliation:
            person["affiliation"] = a.affiliation
        if a.orcid:
            person["orcid"] = a.orcid
        authors.append(person)
    data: dict[str, Any] = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": project.pretty_name,
        "version": manifest["version"],
        "date-released": manifest["date"],
        "authors": authors,
        "abstract": project.description,
        "keywords": list(project.keywords) or ["news"],
    }
    if project.license.is_spdx:
        data["license"] = project.license.id
    data["license-url"] = project.license.link
    if project.homepage:
        data["url"] = project.homepage
    if project.repository:
        data["repository"] = project.repository
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
    project: Project,
    *,
    previous_version: str | None,
    bump: str,
) -> None:
    annotators = annotator_count(staging, manifest)
    card = render_card(manifest, project, annotators)
    (staging / "README.md").write_text(card, encoding="utf-8")
    (staging / "CITATION.cff").write_text(render_citation(manifest, project), encoding="utf-8")
    croissant.write(staging, manifest, project, annotators, bibtex(manifest, project))
    log = staging / "CHANGELOG.md"
    old = log.read_text(encoding="utf-8").split("\n", 2)[-1] if log.exists() else ""
    entry = changelog_entry(manifest, diffs, previous_version, bump)
    log.write_text(f"# Changelog\n\n{entry}\n{old.lstrip()}", encoding="utf-8")
