"""A dataset's project file (`dataset.yaml`): what one corpus is, who made it, how to label it.

The card, CITATION.cff, croissant.json and the labeling interface are derived from it, so
nothing about one corpus is written into the package. `toolkit init` writes a commented
one; a build finds it next to its sources (or is given it), and a normalised copy travels
inside every release (`RELEASE_COPY`), so a release describes itself and a pull labels with
the scheme the release was built with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from toolkit.dataset.schema import LabelScheme, active_scheme, builtin_scheme, schema_file
from toolkit.dataset.splits import DEFAULT_RATIOS, check_ratios
from toolkit.errors import ProjectError, ReleaseError

PROJECT_FILE = "dataset.yaml"
RELEASE_COPY = "dataset.yaml"  # the copy inside a release, at its root
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
_ORCID = re.compile(r"^(?:https://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")
_URL = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class Author:
    name: str
    orcid: str | None = None  # https://orcid.org/XXXX-XXXX-XXXX-XXXX
    affiliation: str | None = None
    given_names: str | None = None  # for CITATION.cff; default: all but the last word
    family_names: str | None = None
    organisation: bool = False  # a team or institution: cited by its name as a whole

    @property
    def names(self) -> tuple[str | None, str]:
        """(given names, family names), as CITATION.cff and BibTeX want them."""
        if self.family_names:
            return self.given_names, self.family_names
        given, _, family = self.name.rpartition(" ")
        return (given or None), family


@dataclass(frozen=True)
class License:
    id: str  # an SPDX id (CC-BY-4.0, MIT...), or `other`
    name: str | None = None  # for `other`: a short name
    details: str | None = None  # for `other`: what may and may not be done
    url: str | None = None

    @property
    def link(self) -> str:
        if self.url:
            return self.url
        return f"https://spdx.org/licenses/{self.id}.html"

    @property
    def is_spdx(self) -> bool:
        return self.id != "other"


@dataclass(frozen=True)
class Annotation:
    # Names shared with the k-annotator push (issue 15): keep them exactly these.
    annotators_per_task: int = 1
    instructions: str = ""
    annotators: str = ""  # who annotates (for the card and Croissant's RAI fields)


@dataclass(frozen=True)
class Project:
    name: str
    pretty_name: str
    description: str
    authors: tuple[Author, ...]
    license: License
    labels: LabelScheme
    homepage: str | None = None
    repository: str | None = None
    languages: tuple[str, ...] = ("id",)
    sources: str = ""  # where the pages came from, in the authors' words
    limitations: tuple[str, ...] = ()
    biases: str = ""
    personal_information: str = ""
    keywords: tuple[str, ...] = ()
    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    annotation: Annotation = field(default_factory=Annotation)

    def to_dict(self) -> dict[str, Any]:
        """The project as the YAML mapping `load` reads back (the release's copy)."""
        lic: Any = self.license.id
        if not self.license.is_spdx or self.license.url:
            lic = _drop_none(
                {
                    "id": self.license.id,
                    "name": self.license.name,
                    "details": self.license.details,
                    "url": self.license.url,
                }
            )
        return _drop_none(
            {
                "name": self.name,
                "pretty_name": self.pretty_name,
                "description": self.description,
                "authors": [
                    _drop_none(
                        {
                            "name": a.name,
                            "orcid": a.orcid,
                            "affiliation": a.affiliation,
                            "given_names": a.given_names,
                            "family_names": a.family_names,
                            "organisation": a.organisation or None,
                        }
                    )
                    for a in self.authors
                ],
                "license": lic,
                "homepage": self.homepage,
                "repository": self.repository,
                "languages": list(self.languages),
                "sources": self.sources or None,
                "limitations": list(self.limitations) or None,
                "biases": self.biases or None,
                "personal_information": self.personal_information or None,
                "keywords": list(self.keywords) or None,
                "splits": dict(self.splits),
                "labels": self.labels.as_dict(),
                "annotation": {
                    "annotators_per_task": self.annotation.annotators_per_task,
                    "instructions": self.annotation.instructions,
                    "annotators": self.annotation.annotators,
                },
            }
        )

    def dump(self) -> str:
        head = "# The project file this release was built with (normalised by the toolkit).\n"
        return head + yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# ---------------------------------------------------------------- reading


def _text(raw: dict, key: str, where: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ProjectError(f"{where}: '{key}' is required")
        return None
    if not isinstance(value, str | int | float):
        raise ProjectError(f"{where}: '{key}' must be text, got {type(value).__name__}")
    return str(value).strip()


def _url(raw: dict, key: str, where: str) -> str | None:
    value = _text(raw, key, where)
    if value is not None and not _URL.match(value):
        raise ProjectError(f"{where}: '{key}' must be an http(s) URL, got {value!r}")
    return value


def orcid_url(value: str, where: str) -> str:
    """An ORCID iD as its URL, checked (format and ISO 7064 11-2 check digit)."""
    match = _ORCID.match(value.strip())
    if not match:
        raise ProjectError(f"{where}: ORCID {value!r} is not of the form 0000-0000-0000-0000")
    digits = match.group(1).replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    if digits[-1] != ("X" if check == 10 else str(check)):
        raise ProjectError(f"{where}: ORCID {value!r} has a wrong check digit")
    return f"https://orcid.org/{match.group(1)}"


def _authors(raw: Any, where: str) -> tuple[Author, ...]:
    if not isinstance(raw, list) or not raw:
        raise ProjectError(f"{where}: 'authors' must list at least one author (name, orcid)")
    authors = []
    for i, item in enumerate(raw, 1):
        here = f"{where}: author {i}"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ProjectError(f"{here} must be a mapping with 'name'")
        orcid = _text(item, "orcid", here)
        authors.append(
            Author(
                name=_text(item, "name", here, required=True) or "",
                orcid=orcid_url(orcid, here) if orcid else None,
                affiliation=_text(item, "affiliation", here),
                given_names=_text(item, "given_names", here),
                family_names=_text(item, "family_names", here),
                organisation=bool(item.get("organisation", False)),
            )
        )
    return tuple(authors)


def _license(raw: Any, where: str) -> License:
    if isinstance(raw, str):
        raw = {"id": raw}
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: 'license' must be an SPDX id or a mapping with 'id'")
    lid = _text(raw, "id", f"{where}: license", required=True) or ""
    if not _SPDX.match(lid):
        raise ProjectError(f"{where}: license id {lid!r} is not an SPDX identifier or 'other'")
    lic = License(
        lid,
        _text(raw, "name", where),
        _text(raw, "details", where),
        _url(raw, "url", f"{where}: license"),
    )
    if lid == "other" and not (lic.name and lic.details and lic.url):
        raise ProjectError(f"{where}: license 'other' needs a 'name', 'details' and a 'url'")
    return lic


def _strings(raw: Any, key: str, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise ProjectError(f"{where}: '{key}' must be a list of texts")
    return tuple(x.strip() for x in raw)


def _annotation(raw: Any, where: str) -> Annotation:
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: 'annotation' must be a mapping")
    k = raw.get("annotators_per_task", 1)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ProjectError(f"{where}: annotation.annotators_per_task must be a whole number >= 1")
    return Annotation(
        k,
        _text(raw, "instructions", where) or "",
        _text(raw, "annotators", where) or "",
    )


def project_from_dict(raw: Any, where: str, *, scheme: LabelScheme | None = None) -> Project:
    """Check a parsed project file and type it. `scheme`: used when it has no `labels`."""
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: expected a mapping of settings, got {type(raw).__name__}")
    name = _text(raw, "name", where, required=True) or ""
    if not _NAME.match(name):
        raise ProjectError(
            f"{where}: name {name!r} must be one word of letters, digits, '.', '_' or '-'"
        )
    splits = raw.get("splits") or dict(DEFAULT_RATIOS)
    try:
        splits = {str(k): float(v) for k, v in dict(splits).items()}
        check_ratios(splits)
    except (TypeError, ValueError, ReleaseError) as exc:
        raise ProjectError(f"{where}: splits: {exc}") from None
    languages = _strings(raw.get("languages"), "languages", where) or ("id",)
    try:
        labels = (
            LabelScheme.from_dict(raw["labels"], f"{where}: labels")
            if raw.get("labels") is not None
            else scheme or active_scheme()
        )
    except ProjectError:
        raise
    except Exception as exc:  # SchemaError from the scheme: same file, same kind of error
        raise ProjectError(str(exc)) from None
    return Project(
        name=name,
        pretty_name=_text(raw, "pretty_name", where) or name,
        description=_text(raw, "description", where, required=True) or "",
        authors=_authors(raw.get("authors"), where),
        license=_license(raw.get("license"), where),
        labels=labels,
        homepage=_url(raw, "homepage", where),
        repository=_url(raw, "repository", where),
        languages=languages,
        sources=_text(raw, "sources", where) or "",
        limitations=_strings(raw.get("limitations"), "limitations", where),
        biases=_text(raw, "biases", where) or "",
        personal_information=_text(raw, "personal_information", where) or "",
        keywords=_strings(raw.get("keywords"), "keywords", where),
        splits=splits,
        annotation=_annotation(raw.get("annotation"), where),
    )


def load_project(path: Path) -> Project:
    """Read and check a project file; every problem is a ProjectError naming the file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(
            f"project file {path} not found (write one with `toolkit init`)"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProjectError(f"cannot read project file {path}: {exc}") from None
    return project_from_dict(raw, str(path))


def default_project(name: str) -> Project:
    """What a build without a project file describes: placeholders a card says are
    placeholders, and the active (by default the built-in) label scheme."""
    return Project(
        name=name,
        pretty_name=name,
        description=(
            "News articles cleaned of site clutter and prepared for named-entity and stance "
            "annotation. (No project file was given: run `toolkit init` to describe this "
            "dataset.)"
        ),
        authors=(Author(f"{name} maintainers", organisation=True),),
        license=License(
            "other",
            "unspecified",
            "No license was declared for this dataset; ask its maintainers before reuse.",
            "https://choosealicense.com/no-permission/",
        ),
        labels=active_scheme(),
    )


def find_project(sources: Iterable[Path], config: Path | None = None) -> Path | None:
    """The project file: `config` if given, else a dataset.yaml inside the first source
    folder (or beside the first source file), else one beside the first source folder."""
    if config is not None:
        if not Path(config).is_file():
            raise ProjectError(f"project file {config} not found (write one with `toolkit init`)")
        return Path(config)
    for source in sources:
        source = Path(source)
        folder = source if source.is_dir() else source.parent
        for candidate in (folder / PROJECT_FILE, folder.parent / PROJECT_FILE):
            if candidate.is_file():
                return candidate
        break
    return None


def release_project(release_dir: Path) -> Project:
    """The project a release was built with (its own copy)."""
    copy = Path(release_dir) / RELEASE_COPY
    if not copy.is_file():  # a release made before project files: the built-in defaults
        return default_project(Path(release_dir).name)
    return load_project(copy)


# ---------------------------------------------------------------- init


def _indent(text: str, by: str) -> str:
    return "\n".join(by + line if line else line for line in text.splitlines())


def init_text(name: str) -> str:
    """A commented project file with the built-in label scheme written out."""
    if not _NAME.match(name):
        raise ProjectError(f"name {name!r} must be one word of letters, digits, '.', '_' or '-'")
    labels = yaml.safe_dump(builtin_scheme().as_dict(), sort_keys=False, allow_unicode=True)
    guide = schema_file("labels.yaml").name
    return f"""# The dataset project file: read by `toolkit build`, `push`, `pull`, `report` and the
# dataset card. Everything about this corpus lives here, not in the toolkit. A copy travels
# inside every release. Lines starting with # are comments.

# One word: the release folder (dist/NAME), the Label Studio project title.
name: {name}
# The title shown on the dataset card.
pretty_name: "{name}"
# What the dataset is: what the articles are about, where and when. Shown on the card.
description: >-
  News articles about ... (say what, where and when), cleaned of site clutter and
  prepared for named-entity and stance annotation.

# Authors, as they should be cited (CITATION.cff, BibTeX, Croissant).
authors:
  - name: Your Name
    # orcid: 0000-0000-0000-0000
    # affiliation: Your institution

# An SPDX id (https://spdx.org/licenses/), e.g. CC-BY-4.0, or a license of your own:
# license: {{id: other, name: short-name, details: "what may be done", url: https://...}}
license: CC-BY-4.0

# Where the dataset and its code can be found (optional).
# homepage: https://example.org/my-dataset
# repository: https://github.com/you/my-dataset

# ISO 639-1 codes of the texts.
languages: [id]

# Where the pages came from, in your words. Publishers, date range and URL hosts are
# computed from the data at build time and added to the card.
sources: >-
  Pages saved from news websites between ... and ...

# Known limitations and biases of the corpus, and what personal information it holds.
limitations:
  - "..."
biases: "..."
personal_information: >-
  Names of public figures and of people quoted in the news, as printed by the publishers.
keywords: [news]

# Split ratios: each article's split is a hash of its id, so it never moves.
splits: {{train: 0.8, validation: 0.1, test: 0.1}}

# The label scheme (the toolkit's built-in one, from its {guide}): entity types with
# their guides and hotkeys, stance labels, and the document-level stance targets. Adding
# a type or target is a MINOR release; removing or renaming one is MAJOR, and push refuses
# it while Label Studio holds labels that would be orphaned.
labels:
{_indent(labels.rstrip(), "  ")}

# Annotation settings.
annotation:
  # How many annotators label each article (Label Studio's overlap).
  annotators_per_task: 1
  # Shown to annotators in Label Studio; also on the card.
  instructions: >-
    Mark every named entity with its type, give the article's stance toward each
    marked entity, then choose the article's stance toward each target.
  # Who annotates (the card and croissant.json describe them).
  annotators: ""
"""


def write_init(folder: Path, name: str | None = None, *, force: bool = False) -> Path:
    folder = Path(folder)
    path = folder / PROJECT_FILE
    if path.exists() and not force:
        raise ProjectError(f"{path} already exists (use --force to overwrite)")
    text = init_text(name or _default_name(folder))
    project_from_dict(yaml.safe_load(text), str(path))  # what init writes must load
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _default_name(folder: Path) -> str:
    word = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return word or "news"
