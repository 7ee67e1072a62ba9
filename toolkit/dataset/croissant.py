"""croissant.json: the release described for dataset catalogues (Croissant 1.0 JSON-LD).

One FileSet and one RecordSet per config, field types derived from schemas/ (the same
contract as the Parquet files and the card), one enumeration RecordSet per label list
(the ClassLabel names, referenced by the integer fields that use them), and the RAI
fields from the project file and the release's own numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from toolkit.dataset.project import Project
from toolkit.dataset.provenance import empty_configs
from toolkit.dataset.schema import ConfigSchema, Field, config_schema

FILE = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
_TYPES = {
    "string": "sc:Text",
    "int32": "sc:Integer",
    "int64": "sc:Integer",
    "float64": "sc:Float",
    "bool": "sc:Boolean",
    "timestamp": "sc:DateTime",
    "class_label": "sc:Integer",
}
# Which label list each ClassLabel field takes its names from (schemas/*.yaml names_from).
_MACHINE_TOOLS = (
    "Rule-based page extraction (news-annotation-toolkit: line roles from position, sentence "
    "shape, markers and repetition; trafilatura/jusText for HTML), MinHash near-duplicate "
    "grouping, and optional pre-annotation suggestions shown to annotators as predictions "
    "(never mixed into the labels)."
)


def _names_id(f: Field) -> str:
    return "labels/" + "-".join(f.names).lower().replace(" ", "_")[:60] + f"-{len(f.names)}"


def _field(record: str, f: Field, fileset: str, column: str | None = None) -> dict[str, Any]:
    column = column or f.name
    base = f.type[5:-1] if f.type.startswith("list<") else f.type
    out: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{record}/{f.name}",
        "name": f.name,
        "description": f.description + (f" Names: {', '.join(f.names)}." if f.names else ""),
    }
    if base == "struct":
        # A list of structs: each subfield reads the whole column and picks its key.
        out["subField"] = [_field(f"{record}/{f.name}", sub, fileset, column) for sub in f.fields]
        for sub in out["subField"]:
            sub["source"]["transform"] = {"jsonPath": sub["name"]}
            sub["repeated"] = f.type.startswith("list<")
    else:
        out["dataType"] = _TYPES[base]
    if f.type.startswith("list<"):
        out["repeated"] = True
    out["source"] = {"fileSet": {"@id": fileset}, "extract": {"column": column}}
    if f.names and not f.type.startswith("list<"):  # mlcroissant cannot join on a list
        out["references"] = {"field": {"@id": f"{_names_id(f)}/index"}}
    return out


def _label_record_sets(schemas: list[ConfigSchema]) -> list[dict[str, Any]]:
    """One inline enumeration per distinct list of ClassLabel names."""
    seen: dict[str, Field] = {}
    for schema in schemas:
        for f in schema.fields:
            if f.names:
                seen.setdefault(_names_id(f), f)
    return [
        {
            "@type": "cr:RecordSet",
            "@id": rid,
            "name": rid,
            "description": f"The names of the ClassLabel values of `{f.name}`, by index.",
            "key": {"@id": f"{rid}/index"},
            "field": [
                {
                    "@type": "cr:Field",
                    "@id": f"{rid}/index",
                    "name": "index",
                    "dataType": "sc:Integer",
                },
                {"@type": "cr:Field", "@id": f"{rid}/name", "name": "name", "dataType": "sc:Text"},
            ],
            "data": [{f"{rid}/index": i, f"{rid}/name": name} for i, name in enumerate(f.names)],
        }
        for rid, f in seen.items()
    ]


def build(
    manifest: dict[str, Any], project: Project, annotators: int, citation: str
) -> dict[str, Any]:
    """The Croissant document of a release."""
    empty = set(empty_configs(manifest))
    configs = [c for c in manifest["configs"] if c not in empty]
    schemas = [config_schema(c, project.labels) for c in configs]
    build_info = manifest.get("build", {})
    span = build_info.get("published_range")
    distribution, record_sets = [], []
    for config, schema in zip(configs, schemas, strict=True):
        fileset = f"parquet-{config}"
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": fileset,
                "name": fileset,
                "description": f"Parquet shards of the `{config}` config, all splits.",
                "encodingFormat": "application/x-parquet",
                "includes": f"data/{config}/*.parquet",
            }
        )
        fields = [_field(config, f, fileset) for f in schema.fields]
        fields.append(
            {
                "@type": "cr:Field",
                "@id": f"{config}/split",
                "name": "split",
                "description": "The split the row belongs to (from its shard's file name).",
                "dataType": "sc:Text",
                "source": {
                    "fileSet": {"@id": fileset},
                    "extract": {"fileProperty": "filename"},
                    "transform": {"regex": "^(\\w+)-\\d+-of-\\d+\\.parquet$"},
                },
            }
        )
        record_sets.append(
            {
                "@type": "cr:RecordSet",
                "@id": config,
                "name": config,
                "description": schema.description,
                "field": fields,
            }
        )
    url = project.homepage or project.repository
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": manifest["name"],
        "alternateName": project.pretty_name,
        "description": project.description,
        "version": manifest["version"],
        "datePublished": manifest["date"],
        "license": project.license.link,
        "inLanguage": list(project.languages),
        "keywords": list(project.keywords),
        "creator": [
            {
                "@type": "sc:Person",
                "name": a.name,
                **({"identifier": a.orcid, "url": a.orcid} if a.orcid else {}),
                **({"affiliation": a.affiliation} if a.affiliation else {}),
            }
            for a in project.authors
        ],
        "citeAs": citation,
        "isLiveDataset": False,
        "rai:dataCollection": project.sources or "Not described by the authors.",
        "rai:dataCollectionType": ["Web Scraping"],
        "rai:dataAnnotationPlatform": ["Label Studio"],
        "rai:dataAnnotationProtocol": project.annotation.instructions or "Not given.",
        "rai:annotationsPerItem": str(project.annotation.annotators_per_task),
        "rai:annotatorDemographics": [
            (project.annotation.annotators or "Not described by the authors.")
            + f" Annotators who labelled this release: {annotators}."
        ],
        "rai:machineAnnotationTools": [
            _MACHINE_TOOLS,
            *(text for _, text in sorted(manifest.get("machine_annotation_tools", {}).items())),
        ],
        "rai:dataLimitations": list(project.limitations) or ["Not described by the authors."],
        "rai:dataBiases": [project.biases or "Not described by the authors."],
        "rai:personalSensitiveInformation": [
            project.personal_information or "Not described by the authors."
        ],
        "distribution": distribution,
        "recordSet": _label_record_sets(schemas) + record_sets,
    }
    if url:
        doc["url"] = url
    if span:
        doc["temporalCoverage"] = f"{span[0]}/{span[1]}"
    return doc


def write(
    staging: Path, manifest: dict[str, Any], project: Project, annotators: int, citation: str
) -> None:
    doc = build(manifest, project, annotators, citation)
    (staging / FILE).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
