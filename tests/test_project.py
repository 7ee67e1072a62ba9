"""A corpus that is not the seeds, described by its own dataset.yaml, all the way through.

tests/projects/pesisir/ holds three pages written for these tests and a project file with
other stance targets, an extra entity type (KAPAL), CC-BY-4.0 and two authors with ORCIDs.
The card, CITATION.cff, croissant.json and the Label Studio labeling interface must show
them, and nothing of the seed corpus may appear anywhere in the releases.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_citation import cffconvert, run_validate  # noqa: F401  (the fixture)
from test_pull import Api, doc, span

from helpers import (
    ROOT,
    card_header,
    croissant_rows,
    load_every_card_config,
    seed_words_in,
)
from toolkit.cli import cli
from toolkit.dataset.project import load_project, release_project
from toolkit.dataset.release import read_articles, read_manifest
from toolkit.dataset.validate import validate
from toolkit.labels.pull import pull
from toolkit.studio.client import connect
from toolkit.studio.push import push_release

PROJECT = ROOT / "tests" / "projects" / "pesisir"
ORCIDS = ("https://orcid.org/0000-0002-1825-0097", "https://orcid.org/0000-0003-1415-9269")
TARGETS = ("Dinas Perhubungan", "Nelayan")
MLCROISSANT = Path(sys.executable).with_name("mlcroissant")


def build_cli(*args: str) -> dict:
    done = CliRunner().invoke(cli, ["build", *args, "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output[done.output.index("{") :])


def croissant_valid(release: Path) -> None:
    done = subprocess.run(
        [str(MLCROISSANT), "validate", "--jsonld", str(release / "croissant.json")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Done." in done.stderr + done.stdout


def croissant_equals_load_dataset(release: Path, loaded: dict) -> None:
    """Every record set's records, read by mlcroissant, equal load_dataset's rows."""
    doc_ = json.loads((release / "croissant.json").read_text())
    sets = {r["name"] for r in doc_["recordSet"] if not r["name"].startswith("labels/")}
    assert sets == set(loaded)
    for config, ds in loaded.items():
        via_croissant = croissant_rows(release, config)
        via_hf = [{**row, "split": split} for split in ds for row in ds[split]]

        def key(r: dict) -> str:
            return json.dumps(r, sort_keys=True, default=str)

        assert len(via_croissant) == len(via_hf) > 0, config
        pairs = zip(sorted(map(key, via_croissant)), sorted(map(key, via_hf)), strict=True)
        for ours, theirs in pairs:
            assert ours == theirs, (config, ours, theirs)


@pytest.fixture(scope="module")
def pesisir(studio, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pesisir")
    out = root / "release"
    # found beside the pages folder, as a user's corpus folder holds it
    first = build_cli(str(PROJECT / "pages"), "--out", str(out), "--name", "pesisir")
    assert first["version"] == "1.0.0" and first["built"] == 3 and not first["rejected"]
    v1 = root / "v1"
    shutil.copytree(out, v1, ignore=shutil.ignore_patterns(".git"))

    client = connect(studio.url, studio.api_key)
    title = f"pesisir-{root.name}"
    result = list(push_release(client, out, project_title=title))[-1].result
    project = client.sdk.projects.get(result.project_id)

    api = Api(studio)
    tasks = api.tasks(result.project_id)
    texts = {row["title"].split()[0]: row for row in read_articles(out)}
    warga = texts["Warga"]
    text = warga["text"]
    one, two = api.user("pesisir1@example.com"), api.user("pesisir2@example.com")
    for user, stance in ((one, "AGAINST"), (two, "NONE")):
        result_items = [
            *span(text, "Bahari Lestari", "KAPAL", f"k-{user}"),
            *span(text, "Dinas Perhubungan Sagara", "ORG", f"o-{user}", stance=stance),
            doc("stance_dinas_perhubungan", stance),
            doc("stance_nelayan", "FAVOR"),
        ]
        api.annotate(tasks[warga["id"]], result_items, user)
    pulled = pull(out, project=title, url=studio.url, api_key=studio.api_key)
    assert pulled.release.version == "1.1.0"
    return {"out": out, "v1": v1, "label_config": project.label_config, "project": project}


@pytest.mark.studio
def test_card_shows_the_project_not_the_seeds(pesisir) -> None:
    out = pesisir["out"]
    header = card_header(out)
    assert header["license"] == "cc-by-4.0" and header["pretty_name"].startswith("Berita pesisir")
    card = (out / "README.md").read_text(encoding="utf-8")
    for needle in (
        *ORCIDS,
        *TARGETS,
        "KAPAL",
        "A named vessel",
        "Laras Kinanti",
        "Bima Aryasatya",
        "https://example.org/datasets/pesisir",
        "2024-06-06 to 2024-06-14",
        "Annotators per article: 2",
        "Annotators who labelled this release: 2",
        "Two students",
        "Krippendorff",
        "## Annotation",
        "## Sources and provenance",
    ):
        assert needle in card, needle
    entity_info = next(i for i in header["dataset_info"] if i["config_name"] == "entities")
    type_feature = next(f for f in entity_info["features"] if f["name"] == "type")
    assert type_feature["dtype"]["class_label"]["names"] == {
        str(i): n for i, n in enumerate(("PER", "ORG", "LOC", "GPE", "KAPAL"))
    }
    # the release describes itself: its project copy is the project file, normalised
    assert release_project(out) == load_project(PROJECT / "dataset.yaml")


@pytest.mark.studio
def test_citation_agrees_with_the_card_and_validates(pesisir, cffconvert) -> None:  # noqa: F811
    out = pesisir["out"]
    cff = yaml.safe_load((out / "CITATION.cff").read_text(encoding="utf-8"))
    manifest = read_manifest(out)
    assert cff["license"] == "CC-BY-4.0" and cff["type"] == "dataset"
    assert cff["version"] == manifest["version"] == "1.1.0"
    assert cff["date-released"] == manifest["date"]
    assert cff["url"] == "https://example.org/datasets/pesisir"
    assert cff["repository"] == "https://example.org/git/pesisir"
    assert [(a["given-names"], a["family-names"], a.get("orcid")) for a in cff["authors"]] == [
        ("Laras", "Kinanti", ORCIDS[0]),
        ("Bima", "Aryasatya", ORCIDS[1]),
    ]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert cff["title"] in card and "CC-BY-4.0" in card
    bib = card.split("```bibtex\n")[1].split("```")[0]
    for field in (
        "author = {Kinanti, Laras and Aryasatya, Bima}",
        "version = {1.1.0}",
        f"year = {{{manifest['date'][:4]}}}",
        "url = {https://example.org/datasets",
        "title = {Berita pesisir",
    ):
        assert field in bib, field
    for release in (pesisir["v1"], out):
        done = run_validate(cffconvert, release / "CITATION.cff")
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.studio
def test_croissant_validates_and_its_records_equal_load_dataset(pesisir) -> None:
    for release in (pesisir["v1"], pesisir["out"]):
        croissant_valid(release)
        loaded = load_every_card_config(release)
        croissant_equals_load_dataset(release, loaded)
    assert validate(pesisir["out"]) == []
    doc_ = json.loads((pesisir["out"] / "croissant.json").read_text())
    assert doc_["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert [c.get("identifier") for c in doc_["creator"]] == list(ORCIDS)
    assert doc_["rai:annotationsPerItem"] == "2"
    assert doc_["rai:dataAnnotationPlatform"] == ["Label Studio"]
    for key in (
        "rai:dataCollection",
        "rai:annotatorDemographics",
        "rai:machineAnnotationTools",
        "rai:dataLimitations",
        "rai:dataBiases",
        "rai:personalSensitiveInformation",
    ):
        assert doc_[key], key
    names = {
        tuple(row[f"{r['@id']}/name"] for row in r["data"])
        for r in doc_["recordSet"]
        if r["@id"].startswith("labels/")
    }
    assert ("PER", "ORG", "LOC", "GPE", "KAPAL") in names and TARGETS in names
    sets = {r["name"] for r in doc_["recordSet"] if not r["name"].startswith("labels/")}
    assert sets == {c["config_name"] for c in card_header(pesisir["out"])["configs"]}


@pytest.mark.studio
def test_labeling_interface_shows_the_projects_scheme(pesisir) -> None:
    xml = pesisir["label_config"]
    assert 'value="KAPAL"' in xml and 'hotkey="k"' in xml
    for target in TARGETS:
        assert f"stance toward {target}." in xml
    assert pesisir["project"].maximum_annotations == 2
    shown = pesisir["project"].expert_instruction  # the project file's, then its scheme's
    for needle in ("<p>Tandai setiap nama", "A named vessel", "The fishermen and their"):
        assert needle in shown, needle
    assert not [w for w in ("Rusia", "Tiongkok", "Barat", "ICC") if w in xml]


@pytest.mark.studio
def test_nothing_of_the_seed_corpus_is_in_any_release(pesisir) -> None:
    for release in (pesisir["v1"], pesisir["out"]):
        assert seed_words_in(release) == {}
    # the check itself finds seed words where they are
    assert "Putin" in seed_words_in(ROOT / "seeds")["000_2dd241c7a54ea137.txt"]


def test_scheme_changes_are_versioned(tmp_path: Path) -> None:
    """A new target is MINOR, a removed one MAJOR; guides alone are PATCH."""
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT, corpus)
    out = tmp_path / "release"
    config = corpus / "dataset.yaml"

    def rebuild(edit) -> dict:
        raw = yaml.safe_load(config.read_text())
        edit(raw["labels"])
        config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
        summary = build_cli(str(corpus / "pages"), "--out", str(out))
        load_every_card_config(out)
        return summary

    assert build_cli(str(corpus / "pages"), "--out", str(out))["version"] == "1.0.0"
    load_every_card_config(out)
    added = rebuild(lambda s: s["stance_targets"].append({"name": "Koperasi", "guide": "x"}))
    assert (added["bump"], added["version"]) == ("minor", "1.1.0")
    guide = rebuild(lambda s: s["stance_targets"][0].update(guide="Kantor perhubungan."))
    assert (guide["bump"], guide["version"]) == ("patch", "1.1.1")
    removed = rebuild(lambda s: s["entity_types"].pop())
    assert (removed["bump"], removed["version"]) == ("major", "2.0.0")
    assert release_project(out).labels.names("entity_types") == ("PER", "ORG", "LOC", "GPE")
    load_every_card_config(out)


def test_init_writes_a_commented_project_that_builds(tmp_path: Path) -> None:
    runner = CliRunner()
    corpus = tmp_path / "kliping"
    done = runner.invoke(cli, ["init", str(corpus)])
    assert done.exit_code == 0, done.output
    text = (corpus / "dataset.yaml").read_text(encoding="utf-8")
    assert text.count("\n#") > 10 and "name: kliping" in text
    project = load_project(corpus / "dataset.yaml")
    from toolkit.dataset.schema import builtin_scheme

    assert project.labels == builtin_scheme() and project.annotation.annotators_per_task == 1
    again = runner.invoke(cli, ["init", str(corpus)])
    assert again.exit_code == 1 and "already exists (use --force" in again.output
    for page in (PROJECT / "pages").iterdir():
        shutil.copy(page, corpus / page.name)
    summary = build_cli(str(corpus), "--out", str(tmp_path / "out"))
    # the project file beside the pages is read, not built nor rejected
    assert summary["built"] == 3 and summary["rejected"] == []
    assert read_manifest(tmp_path / "out")["name"] == "kliping"
    load_every_card_config(tmp_path / "out")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"authors": []}, "'authors' must list at least one author"),
        ({"authors": [{"name": "A B", "orcid": "0000-0002-1825-0098"}]}, "wrong check digit"),
        ({"authors": [{"name": "A B", "orcid": "1234"}]}, "is not of the form"),
        ({"license": {"id": "other", "name": "x"}}, "license 'other' needs"),
        ({"license": "CC BY"}, "is not an SPDX identifier"),
        ({"name": "two words"}, "must be one word"),
        ({"splits": {"train": 0.5}}, "splits: split ratios must be"),
        ({"homepage": "example.org"}, "'homepage' must be an http(s) URL"),
        ({"annotation": {"annotators_per_task": 0}}, "annotators_per_task must be a whole"),
        ({"labels": {"entity_types": [{"name": "A"}, {"name": "A"}]}}, "unique names"),
        ({"description": None}, "'description' is required"),
    ],
)
def test_a_bad_project_file_is_refused_with_its_reason(
    tmp_path: Path, change: dict, message: str
) -> None:
    raw = yaml.safe_load((PROJECT / "dataset.yaml").read_text())
    raw.update(change)
    if "labels" in change:
        raw["labels"] = {
            **yaml.safe_load((PROJECT / "dataset.yaml").read_text())["labels"],
            **change["labels"],
        }
    (tmp_path / "dataset.yaml").write_text(yaml.safe_dump(raw))
    done = CliRunner().invoke(
        cli,
        [
            "build",
            str(PROJECT / "pages"),
            "--config",
            str(tmp_path / "dataset.yaml"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert done.exit_code == 1
    assert done.output.startswith(f"Error: {tmp_path / 'dataset.yaml'}"), done.output
    assert message in done.output, done.output
    assert not (tmp_path / "out").exists()


def test_empty_label_configs_are_left_out_and_every_listed_config_loads(tmp_path: Path) -> None:
    """Nothing quarantined and no document stance yet (the normal case after a first
    pull) used to crash load_dataset; now the card lists only configs with rows."""
    import datasets

    from toolkit.dataset.release import release_tables
    from toolkit.dataset.schema import config_schema

    out = tmp_path / "release"
    build_cli(str(PROJECT / "pages"), "--out", str(out))
    scheme = load_project(PROJECT / "dataset.yaml").labels
    empty = {
        c: config_schema(c, scheme).arrow_schema.empty_table() for c in ("stance", "quarantine")
    }
    assert release_tables(out, empty).version == "1.1.0"
    assert [c["config_name"] for c in card_header(out)["configs"]] == ["articles"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Without rows in this release: `stance`, `quarantine`" in card
    assert set(read_manifest(out)["configs"]) == {"articles", "stance", "quarantine"}
    assert list(load_every_card_config(out)) == ["articles"]
    assert validate(out) == []
    with pytest.raises(ValueError, match="quarantine"):  # not listed: a clear error, no crash
        datasets.load_dataset(str(out), "quarantine", cache_dir=str(tmp_path / "hf"))


def test_the_seed_corpus_builds_with_its_own_project_file(tmp_path: Path) -> None:
    """`toolkit build seeds/` (what `toolkit demo` and scripts/demo.sh run) finds the
    repository root's dataset.yaml beside seeds/: the seed card comes from it."""
    out = tmp_path / "news"
    summary = build_cli(str(ROOT / "seeds"), "--out", str(out))
    assert summary["built"] == 5 and summary["rejected"] == []
    assert release_project(out) == load_project(ROOT / "dataset.yaml")
    assert release_project(out).labels.names("stance_targets")[0] == "Rusia"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "research-only-news-text" in card and "Putin" in card
    assert "2023-09-20 to 2023-09-20" in card  # computed from the data
    load_every_card_config(out)


@pytest.mark.studio
def test_report_reads_the_releases_own_scheme(pesisir) -> None:
    done = CliRunner().invoke(cli, ["report", str(pesisir["out"]), "--json"])
    assert done.exit_code == 0, done.output
    assert "Dinas Perhubungan" in done.output and "KAPAL" in done.output
    assert "Rusia" not in done.output  # the seed scheme is the test session's active one
