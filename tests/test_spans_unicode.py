"""Span relocation on arbitrary Unicode (complements test_spans.py, whose texts come from a
small fixed alphabet): any code point, offsets drifted the ways exporters drift them, and
offsets of the wrong type. A kept span always carries the exported surface text exactly;
through `rows_from_export`, every exported span is a row or a quarantine entry.
"""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.labels.export import ArticleText, rows_from_export
from toolkit.labels.spans import check_span
from toolkit.labels.tables import controls

DRIFTERS = ["\r\n", "\r", "\u00a0", "\u202f", "  ", "\t", "\u0301", "e\u0301", "🙂", "👩‍👩‍👧", "🇮🇩"]
ANY_CHAR = st.characters(exclude_categories=["Cs"])  # every code point a str can hold in JSON
TEXTS = st.lists(st.one_of(ANY_CHAR, st.sampled_from(DRIFTERS)), min_size=1, max_size=80).map(
    "".join
)


def drifted(text: str, start: int, end: int, how: str) -> tuple[int, int]:
    """Offsets as a faulty exporter would count them."""
    if how == "utf16":
        f = lambda i: len(text[:i].encode("utf-16-le")) // 2  # noqa: E731
    elif how == "crlf":
        f = lambda i: len(text[:i].replace("\r\n", "\n"))  # noqa: E731
    elif how == "nfc":
        import unicodedata

        f = lambda i: len(unicodedata.normalize("NFC", text[:i]))  # noqa: E731
    else:
        f = lambda i: len(" ".join(text[:i].split(" ")).replace("  ", " "))  # noqa: E731
    return f(start), f(end)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), text=TEXTS)
def test_any_unicode_relocation_keeps_only_the_exact_surface(data, text) -> None:
    s = data.draw(st.integers(0, len(text) - 1))
    e = data.draw(st.integers(s + 1, len(text)))
    surface = data.draw(
        st.one_of(st.just(text[s:e]), TEXTS, st.just(text[s:e].strip()), st.just(text[s:e] + " "))
    )
    how = data.draw(st.sampled_from(["utf16", "crlf", "nfc", "spaces", "shift"]))
    if how == "shift":
        d = data.draw(st.integers(-300, 300))
        s2, e2 = s + d, e + d
    else:
        s2, e2 = drifted(text, s, e, how)
    r = check_span(text, s2, e2, surface)
    if r.ok:
        assert r.start is not None and r.end is not None
        assert text[r.start : r.end] == surface
    else:
        assert (r.start, r.end) == (None, None) and r.reason


@settings(max_examples=100, deadline=None)
@given(
    text=TEXTS,
    start=st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=3), st.integers()),
    end=st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=3), st.integers()),
    surface=st.one_of(st.none(), TEXTS),
)
def test_offsets_of_any_type_never_raise(text, start, end, surface) -> None:
    r = check_span(text, start, end, surface)
    if r.ok:
        assert text[r.start : r.end] == surface


@settings(max_examples=100, deadline=None)
@given(data=st.data(), text=TEXTS, n=st.integers(1, 6))
def test_every_exported_span_becomes_a_row_or_a_quarantine_entry(data, text, n) -> None:
    results = []
    for i in range(n):
        s = data.draw(st.integers(0, len(text) - 1))
        e = data.draw(st.integers(s + 1, len(text)))
        how = data.draw(st.sampled_from(["utf16", "crlf", "nfc", "spaces", "exact"]))
        s2, e2 = (s, e) if how == "exact" else drifted(text, s, e, how)
        surface = data.draw(st.one_of(st.just(text[s:e]), TEXTS))
        value = {"start": s2, "end": e2, "text": surface, "labels": ["PER"]}
        results.append(
            {
                "id": f"r{i}",
                "from_name": "entity",
                "to_name": "text",
                "type": "labels",
                "value": value,
            }
        )
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    task = {
        "id": 1,
        "data": {"article_id": "a" * 16, "text": text},
        "meta": {"article_id": "a" * 16, "text_sha256": sha},
        "annotations": [{"id": 7, "completed_by": 1, "result": results}],
    }
    task = json.loads(json.dumps(task))  # what comes over the wire
    rows = rows_from_export([task], {"a" * 16: ArticleText(text, sha)}, controls(), {1: "a@x"})
    assert len(rows.entities) + len(rows.quarantine) == n
    exported = {r["id"]: r["value"]["text"] for r in results}
    for row in rows.entities:
        assert row["surface"] == exported[row["region_id"]] == text[row["start"] : row["end"]]
    for q in rows.quarantine:
        assert q["reason"] and json.loads(q["result_json"])
