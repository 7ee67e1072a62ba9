"""Smoke test of the benchmarks package (no timing assertions: the figures are not tested,
only that the corpus is right and the runner produces its table and JSON)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from benchmarks import report
from benchmarks.__main__ import main
from benchmarks.corpus import PUBLISHERS, iter_pages, write_corpus
from benchmarks.studio_bench import PUSH_PAIRS, bench_pull, bench_push
from toolkit.dataset.near_duplicates import NearDuplicateIndex
from toolkit.dataset.release import build, wait_for_build
from toolkit.pages.article import Article
from toolkit.pages.extract import extract_source
from toolkit.pages.read import iter_sources

if TYPE_CHECKING:
    from conftest import StudioServer


def test_corpus_is_deterministic_for_a_seed_and_page_i_does_not_depend_on_n() -> None:
    first = list(iter_pages(25, seed=3))
    assert first == list(iter_pages(25, seed=3))
    assert list(iter_pages(10, seed=3)) == first[:10]
    other = list(iter_pages(25, seed=4))
    assert [t for _, _, t in other] != [t for _, _, t in first]
    assert len({t for _, _, t in first}) == 25


def test_generated_pages_parse_as_articles_of_their_publisher(tmp_path: Path) -> None:
    n = 60
    info = write_corpus(tmp_path, n, seed=11)
    assert info["pages"] == n
    assert info["bytes"] == sum(p.stat().st_size for p in tmp_path.rglob("*.txt"))
    expected = {name: publisher for name, publisher, _ in iter_pages(n, seed=11)}
    got = {}
    for source in iter_sources([tmp_path]):
        article = extract_source(source)
        assert isinstance(article, Article), (source.source_file, article)
        got[source.source_file] = article.publisher
        assert article.title
        if article.publisher != "liputan6":  # a liputan6 page may carry no date line
            assert article.published_at is not None
        assert article.language == "id"
        # the clutter around the body never reaches the text
        for clutter in ("Baca juga", "ADVERTISEMENT", "TRIBUNNEWS.COM", "Liputan6.com,", "zoom-in"):
            assert clutter not in article.text, (source.source_file, clutter)
    assert got == expected
    assert set(Counter(got.values())) == set(PUBLISHERS)


def test_syndicated_pages_are_grouped_and_the_rest_mostly_not() -> None:
    index = NearDuplicateIndex()
    for name, _, text in iter_pages(400, seed=5):
        article = extract_source(_source(name, text))
        assert isinstance(article, Article)
        index.add(article.id, article.text)
    grouped = index.groups()
    # ~3% of pages copy an earlier page's paragraphs: some groups, not one giant blob
    assert 2 <= len(set(grouped.values())) <= 40
    assert max(Counter(grouped.values()).values()) <= 5


def _source(name: str, text: str):  # type: ignore[no-untyped-def]
    from toolkit.pages.read import Source

    raw = text.encode("utf-8")
    return Source(source_file=name, raw=raw, kind="txt", size=len(raw))


def test_runner_writes_table_and_json_on_a_tiny_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["--sizes", "20", "--no-studio", "--workdir", str(tmp_path / "w"),
                 "--json", str(out)]) == 0  # fmt: skip
    results = json.loads(out.read_text())
    (row,) = results["build"]
    assert row["n"] == 20
    for job in ("io_floor", "naive", "build_1w", "build_2w"):
        assert row[job]["articles"] == 20
        assert row[job]["seconds"] > 0 and row[job]["peak_rss_mb"] > 10
    assert row["build_1w"]["rejected"] == 0
    assert set(row["ratios"]) == {
        "build_1w_vs_naive",
        "build_2w_vs_naive",
        "build_1w_vs_io_floor",
        "build_2w_vs_io_floor",
        "speedup_1_to_2_workers",
    }
    by_name = {t["target"]: t for t in results["targets"]}
    assert by_name["push rate vs raw import rate"]["met"] is None  # studio skipped
    assert by_name["speed-up 1 -> 2 workers"]["met"] in (True, False)
    table = capsys.readouterr().out
    assert table == report.render(results) + "\n"
    assert "build 2w" in table and "TARGETS" in table and "not run" in table
    assert not (tmp_path / "w" / "corpus-20").exists()  # corpora are removed after use


@pytest.mark.studio
def test_push_and_pull_benchmarks_run_on_a_real_server(
    studio: StudioServer, tmp_path: Path
) -> None:
    """The studio half of the runner, on a 15-page corpus and the session's server."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 15, 5)
    release = tmp_path / "release"
    wait_for_build(build([corpus], release, name="bench-tiny"))
    client = studio.client()
    results: dict[str, Any] = {"build": []}

    results["push"] = push = bench_push(client, release, tmp_path, lambda _: None)
    assert push["tasks"] == 15 and push["repush_used_cache"] is True
    assert len(push["push_seconds_each"]) == len(push["raw_import_seconds_each"]) == PUSH_PAIRS
    assert push["push_seconds"] == sorted(push["push_seconds_each"])[PUSH_PAIRS // 2]
    titles = {p.title for p in client.sdk.projects.list(page_size=1000)}
    assert not {t for t in titles if t.startswith("bench-")}  # the pairs' projects are deleted

    results["pull"] = pull = bench_pull(client, release, tmp_path, lambda _: None)
    assert pull["tasks"] == 15 and pull["quarantined"] == 0
    assert pull["entity_rows"] >= 15 and pull["stance_rows"] >= 2 * 15
    results["targets"] = report.targets(results)
    by_name = {t["target"]: t for t in results["targets"]}
    assert by_name["push rate vs raw import rate"]["met"] in (True, False)
    assert by_name["pull time / bare export time"]["met"] in (True, False)
    table = report.render(results)
    assert "medians of 3 alternated pairs" in table and "push/raw rate per pair" in table
    assert pull["pull_peak_rss_mb"] > 50 and "toolkit pull peak RSS" in table


@pytest.mark.studio
def test_suggest_benchmark_runs_on_a_real_server(studio: StudioServer, tmp_path: Path) -> None:
    """The suggest job on a 12-page corpus (3 with gold) and the session's server; no
    model, to keep CI short (the model's cost is the real run's to measure)."""
    from benchmarks import suggest_bench

    corpus = tmp_path / "corpus"
    write_corpus(corpus, 12, 5)
    release = tmp_path / "release"
    wait_for_build(build([corpus], release, name="bench-suggest-tiny"))
    figures = suggest_bench.bench_suggest(
        studio.client(), release, tmp_path, lambda _: None, gold=3, model=False,
        title="bench-suggest-tiny",
    )  # fmt: skip
    assert figures["tasks"] == 12 and figures["gold_tasks"] == 3
    assert figures["gold_entity_rows"] > 0
    # no model, so no --evaluate: the first run, an unchanged re-run, a run after 1 more
    # gold annotation was pulled
    first, again, after = figures["suggest_runs"]
    assert first["annotated"] == 2 and first["model_choice"] == "off"
    assert (first["suggested"], first["kept"], first["replaced"]) == (10, 0, {})
    assert (again["suggested"], again["kept"], again["replaced"]) == (0, 10, {})
    assert after["annotated"] == 3 and after["model_version"] != first["model_version"]
    assert (after["suggested"], after["replaced"]) == (9, {first["model_version"]: 10})
    assert figures["suggested_tasks"] == 9
    assert figures["push_seconds"] > 0 and figures["ratio_suggest_last_vs_push_time"] > 0
    table = suggest_bench.render({"suggest": figures})
    assert "suggest / push time" in table and "target: at most 1" in table
    titles = {p.title for p in studio.client().sdk.projects.list(page_size=1000)}
    assert "bench-suggest-tiny" not in titles
