"""Per-field accuracy of the extractor on the hand-written test pages.

Two sets, scored apart: the tuning pages in tests/pages/ and the blind pages in
tests/pages/blind/ (written from sites used nowhere else, never to be tuned on). Each
page `X.ext` has `X.expected.json`: {source_file: expected record}.

Run as a script: `python tests/page_accuracy.py` prints, for each set, the accuracy of
every scored field for sites with a publisher profile and sites without one, the share of
`text` characters that belong to the article, and the counts of invented dates and
editors; `--json` prints the same as JSON; `--wrong` lists every failed check.

Expected record (every key optional except where said):
  site, layout, profiled   which site and layout the page copies; profiled = the site had a
                           profile in toolkit/pages/publishers.py when the page was written
                           (older pages without the key: derived from "publisher")
  title, subtitle, authors, editor, published_at   the article's own values (null = none)
  clutter_absent           strings that must not be in `text` (one check each)
  body_present             article paragraphs (or sentences) that must be in `text`
                           (one check each); with "body_complete": true the list is every
                           paragraph of the article, and the share of `text` they cover is
                           the page's purity
  must_contain / must_not_contain   older names of body_present / clutter_absent
  rejected, publisher, url, paragraphs, headings, captions   exact checks kept for the seed
                           pages (reported under "other")
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from toolkit.pages.article import Article, Rejection
from toolkit.pages.extract import extract_source
from toolkit.pages.read import iter_sources

PAGES = Path(__file__).parent / "pages"
BLIND = PAGES / "blind"
SETS = {"tuning": PAGES, "blind": BLIND}
# The nine pages the toolkit started with: every one of their checks must stay right.
SEED_PAGES = frozenset(
    {
        "antara_beasiswa.txt",
        "detik_gempa_garut.txt",
        "detik_kereta_cepat.html",
        "kompas_sampah_plastik.txt",
        "liputan6_jsonl_lines.jsonl:1",
        "liputan6_jsonl_lines.jsonl:2",
        "liputan6_jsonl_lines.jsonl:3",
        "liputan6_vaksin_polio.txt",
        "tribunjateng_banjir_rob.txt",
        "tribunnews_harga_cabai.txt",
        "tribunnews_pupuk_subsidi.html",
    }
)
SCORED = (
    "title",
    "subtitle",
    "authors",
    "editor",
    "published_at",
    "clutter_absent",
    "body_present",
)
OTHER = ("rejected", "publisher", "url", "paragraphs", "headings", "captions")
PROFILED_PUBLISHERS = frozenset({"tribunnews", "liputan6", "detik"})
FIELDS = (*OTHER[:3], *SCORED[:5], *OTHER[3:], "must_contain", "must_not_contain")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-"})


def expected_pages(folder: Path = PAGES) -> dict[str, tuple[Path, dict[str, Any]]]:
    """source_file -> (page path, expected record) for every page with expectations."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for spec in sorted(folder.glob("*.expected.json")):
        stem = spec.name.removesuffix(".expected.json")
        (page,) = [p for p in folder.glob(f"{stem}.*") if not p.name.endswith(".expected.json")]
        for source_file, expected in json.loads(spec.read_text("utf-8")).items():
            out[source_file] = (page, expected)
    return out


def extract_pages(folder: Path = PAGES) -> dict[str, Article | Rejection]:
    """source_file -> what today's extractor makes of it."""
    results: dict[str, Article | Rejection] = {}
    for page in sorted({page for page, _ in expected_pages(folder).values()}):
        for source in iter_sources([page]):
            results[source.source_file] = extract_source(source)
    return results


def _norm(text: str) -> str:
    """Compare text as a reader would: NFKC, straight quotes and dashes, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def _same_time(want: str | None, got: str | None) -> bool:
    if want is None or got is None:
        return want == got
    try:
        a, b = datetime.fromisoformat(want), datetime.fromisoformat(got)
    except ValueError:
        return False
    if (a.tzinfo is None) != (b.tzinfo is None):
        return False
    return a == b and a.utcoffset() == b.utcoffset()


def _date_conflict(want: str | None, got: str | None) -> bool:
    """A date given that is not the article's: another instant, or another wall-clock time
    when one side has no offset (a missing offset alone is not an invented date)."""
    if got is None:
        return False
    if want is None:
        return True
    try:
        a, b = datetime.fromisoformat(want), datetime.fromisoformat(got)
    except ValueError:
        return True
    if (a.tzinfo is None) != (b.tzinfo is None):
        return a.replace(tzinfo=None) != b.replace(tzinfo=None)
    return a != b


def _value(result: Article | Rejection, name: str) -> Any:
    if isinstance(result, Rejection):
        return result.reason if name == "rejected" else None
    if name == "rejected":
        return None
    if name == "paragraphs":
        return len(result.paragraphs)
    if name == "headings":
        return [result.text[p.start : p.end] for p in result.paragraphs if p.kind == "heading"]
    if name in ("must_contain", "must_not_contain", "clutter_absent", "body_present"):
        return "(see text)"
    return getattr(result, name)


actual_value = _value  # the name the older tests import


def field_check(result: Article | Rejection, name: str, want: Any) -> bool:
    """One exact check of a whole field (lists of strings: all of them)."""
    if name in ("must_contain", "body_present"):
        return all(_item_check(result, name, s) for s in want)
    if name in ("must_not_contain", "clutter_absent"):
        return all(_item_check(result, name, s) for s in want)
    got = _value(result, name)
    if name == "published_at":
        return _same_time(want, got)
    if name in ("title", "subtitle") and isinstance(want, str):
        return isinstance(got, str) and _norm(got) == _norm(want)
    # a person's name is right whatever its case ("LAPORAN: AGUS DWI" names Agus Dwi)
    if name == "editor" and isinstance(want, str):
        return isinstance(got, str) and _norm(got).casefold() == _norm(want).casefold()
    if name == "authors" and isinstance(got, list):
        return [_norm(a).casefold() for a in got] == [_norm(a).casefold() for a in want]
    return bool(got == want)


def _item_check(result: Article | Rejection, name: str, item: str) -> bool:
    if isinstance(result, Rejection):
        return False
    needle = _norm(item)
    # a whitespace or control character item ("\r", "\xa0") is looked for as it is
    present = needle in _norm(result.text) if needle else item in result.text
    return present if name in ("must_contain", "body_present") else not present


def check_pages(folder: Path = PAGES) -> list[tuple[str, str, bool, Any, Any]]:
    """(source_file, field, ok, expected, actual) for every expected field of every page."""
    results = extract_pages(folder)
    rows = []
    for source_file, (_, expected) in sorted(expected_pages(folder).items()):
        result = results[source_file]
        for name in FIELDS:
            if name in expected or name == "rejected":
                want = expected.get(name)
                ok = field_check(result, name, want)
                rows.append((source_file, name, ok, want, _value(result, name)))
    return rows


def accuracy(rows: list[tuple[str, str, bool, Any, Any]]) -> dict[str, tuple[int, int]]:
    """field -> (right, total) over check_pages rows."""
    table: dict[str, tuple[int, int]] = {}
    for _, name, ok, _, _ in rows:
        right, total = table.get(name, (0, 0))
        table[name] = (right + ok, total + 1)
    return table


# ------------------------------------------------------------------ the scored table


@dataclass(frozen=True)
class Check:
    source_file: str
    group: str  # profiled | unprofiled
    field: str  # one of SCORED, or "other"
    ok: bool
    want: Any
    got: Any


@dataclass
class PageScore:
    source_file: str
    group: str
    html: bool
    checks: list[Check]
    purity: float | None  # share of text characters inside the article's paragraphs
    invented_date: bool  # a date given that is not the article's
    invented_editor: bool  # an editor given that the page does not name


def _profiled(expected: dict[str, Any]) -> bool:
    if "profiled" in expected:
        return bool(expected["profiled"])
    return expected.get("publisher") in PROFILED_PUBLISHERS


def purity(text: str, paragraphs: Iterable[str]) -> float:
    """Share of the non-space characters of `text` covered by the article's paragraphs."""
    norm = _norm(text)
    covered = [False] * len(norm)
    for paragraph in paragraphs:
        needle = _norm(paragraph)
        start = norm.find(needle) if needle else -1
        while start >= 0:
            covered[start : start + len(needle)] = [True] * len(needle)
            start = norm.find(needle, start + 1)
    counted = [c for ch, c in zip(norm, covered, strict=True) if not ch.isspace()]
    return sum(counted) / len(counted) if counted else 0.0


def score_page(source_file: str, page: Path, expected: dict[str, Any], result: Any) -> PageScore:
    group = "profiled" if _profiled(expected) else "unprofiled"
    checks: list[Check] = []

    def add(field: str, ok: bool, want: Any, got: Any) -> None:
        checks.append(Check(source_file, group, field, ok, want, got))

    for name in SCORED[:5]:
        if name in expected:
            add(
                name,
                field_check(result, name, expected[name]),
                expected[name],
                _value(result, name),
            )
    for name, old in (("clutter_absent", "must_not_contain"), ("body_present", "must_contain")):
        for item in expected.get(name, expected.get(old, [])):
            add(name, _item_check(result, name, item), item, None)
    for name in OTHER:
        if name in expected:
            add(
                "other",
                field_check(result, name, expected[name]),
                expected[name],
                _value(result, name),
            )
    text = result.text if isinstance(result, Article) else ""
    page_purity = None
    if expected.get("body_complete") and "body_present" in expected:
        page_purity = purity(text, expected["body_present"]) if text else 0.0
    got_date = None if isinstance(result, Rejection) else result.published_at
    got_editor = None if isinstance(result, Rejection) else result.editor
    want_editor = expected.get("editor")
    return PageScore(
        source_file=source_file,
        group=group,
        html=page.suffix == ".html",
        checks=checks,
        purity=page_purity,
        invented_date="published_at" in expected
        and _date_conflict(expected["published_at"], got_date),
        invented_editor="editor" in expected
        and got_editor is not None
        and (want_editor is None or _norm(got_editor).casefold() != _norm(want_editor).casefold()),
    )


def score_set(folder: Path) -> list[PageScore]:
    results = extract_pages(folder)
    return [
        score_page(source_file, page, expected, results[source_file])
        for source_file, (page, expected) in sorted(expected_pages(folder).items())
    ]


def summarise(pages: list[PageScore]) -> dict[str, Any]:
    """The table of one set: per field and group (right, total, percent), plus overall."""

    def cell(checks: list[Check]) -> dict[str, Any]:
        right, total = sum(c.ok for c in checks), len(checks)
        return {
            "right": right,
            "total": total,
            "pct": round(100 * right / total, 1) if total else None,
        }

    groups = ("profiled", "unprofiled")
    all_checks = [c for p in pages for c in p.checks]
    fields: dict[str, dict[str, Any]] = {}
    for name in (*SCORED, "other"):
        row = {g: cell([c for c in all_checks if c.field == name and c.group == g]) for g in groups}
        row["all"] = cell([c for c in all_checks if c.field == name])
        if row["all"]["total"]:
            fields[name] = row
    scored = [c for c in all_checks if c.field != "other"]
    purities = [p.purity for p in pages if p.purity is not None]
    html_purities = [p.purity for p in pages if p.purity is not None and p.html]
    return {
        "pages": {g: sum(p.group == g for p in pages) for g in groups} | {"all": len(pages)},
        "html_pages": sum(p.html for p in pages),
        "fields": fields,
        "overall": {g: cell([c for c in scored if c.group == g]) for g in groups}
        | {"all": cell(scored)},
        "html_overall": cell([c for p in pages if p.html for c in p.checks if c.field != "other"]),
        "pages_all_right": sum(all(c.ok for c in p.checks) for p in pages),
        "text_purity": round(100 * sum(purities) / len(purities), 1) if purities else None,
        "html_text_purity": round(100 * sum(html_purities) / len(html_purities), 1)
        if html_purities
        else None,
        "invented_dates": sum(p.invented_date for p in pages),
        "invented_editors": sum(p.invented_editor for p in pages),
    }


def inventory(folders: Iterable[Path] = SETS.values()) -> dict[str, Any]:
    """What the page set covers: page files, sites, site layouts (a layout named
    "detik text, page 2" is the detik text layout), and which layouts have a profile."""
    files: set[str] = set()
    html: set[str] = set()
    layouts: dict[str, bool] = {}
    sites: set[str] = set()
    for folder in folders:
        for page, expected in expected_pages(folder).values():
            files.add(f"{folder.name}/{page.name}")
            if page.suffix == ".html":
                html.add(page.name)
            if "site" in expected:
                sites.add(expected["site"])
            layout = expected.get("layout", "").split(",")[0].strip()
            if layout and layout != "JSONL record":
                layouts[layout] = _profiled(expected)
    return {
        "page_files": len(files),
        "html_files": len(html),
        "sites": sorted(sites),
        "layouts": sorted(layouts),
        "unprofiled_layouts": sorted(name for name, prof in layouts.items() if not prof),
    }


def report(sets: dict[str, Path] = SETS) -> dict[str, Any]:
    """Summaries for each set (tuning, blind) and the failed checks of each."""
    out: dict[str, Any] = {}
    for name, folder in sets.items():
        pages = score_set(folder)
        out[name] = summarise(pages)
        out[name]["wrong"] = [
            {"page": c.source_file, "field": c.field, "expected": c.want, "got": c.got}
            for p in pages
            for c in p.checks
            if not c.ok
        ]
    return out


def _pct(cell: dict[str, Any]) -> str:
    if not cell["total"]:
        return "-"
    return f"{cell['right']}/{cell['total']} {cell['pct']:.0f}%"


def format_table(summaries: dict[str, Any]) -> str:
    lines = []
    for name, s in summaries.items():
        pages = s["pages"]
        lines.append(
            f"== {name}: {pages['all']} pages ({pages['profiled']} profiled, "
            f"{pages['unprofiled']} unprofiled; {s['html_pages']} HTML)"
        )
        lines.append(f"{'field':16} {'profiled':>14} {'unprofiled':>14} {'all':>14}")
        for field, row in s["fields"].items():
            cells = [_pct(row[g]) for g in ("profiled", "unprofiled", "all")]
            lines.append(f"{field:16} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14}")
        o = s["overall"]
        cells = [_pct(o[g]) for g in ("profiled", "unprofiled", "all")]
        lines.append(f"{'OVERALL':16} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14}")
        lines.append(f"HTML pages overall: {_pct(s['html_overall'])}")
        lines.append(f"pages with every check right: {s['pages_all_right']}/{pages['all']}")
        lines.append(
            f"text purity (article share of text chars): {s['text_purity']}% "
            f"(HTML pages: {s['html_text_purity']}%)"
        )
        lines.append(
            f"invented dates: {s['invented_dates']}   invented editors: {s['invented_editors']}"
        )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON")
    parser.add_argument("--wrong", action="store_true", help="list every failed check")
    parser.add_argument("--set", choices=sorted(SETS), help="score one set only")
    args = parser.parse_args(argv)
    sets = {args.set: SETS[args.set]} if args.set else SETS
    summaries = report(sets)
    inv = inventory(sets.values())
    if args.json:
        print(json.dumps(summaries | {"inventory": inv}, ensure_ascii=False, indent=1))
        return 0
    print(
        f"{inv['page_files']} page files ({inv['html_files']} HTML), {len(inv['sites'])} sites, "
        f"{len(inv['layouts'])} layouts ({len(inv['unprofiled_layouts'])} without a profile)\n"
    )
    print(format_table(summaries))
    if args.wrong:
        for name, s in summaries.items():
            for w in s["wrong"]:
                where = f"[{name}] {w['page']} {w['field']}"
                print(f"WRONG {where}: expected {w['expected']!r}, got {w['got']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
