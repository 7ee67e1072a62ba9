"""The span checker: exact spans kept, drifted spans re-located, the rest refused with a reason."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.labels import spans
from toolkit.labels.spans import check_span


def utf16(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


def test_exact_span_is_kept_unflagged():
    r = check_span("Putin bertemu Kim.", 14, 17, "Kim")
    assert (r.start, r.end, r.relocated, r.reason) == (14, 17, False, None)


def test_utf16_offsets_after_emoji_are_relocated_to_the_right_occurrence():
    text = "🙂🙂🙂 Rusia dan Rusia lagi"
    start = text.index("Rusia", 10)  # the second "Rusia"
    s16, e16 = utf16(text, start), utf16(text, start + 5)
    r = check_span(text, s16, e16, "Rusia")
    assert (r.start, r.end, r.relocated) == (start, start + 5, True)


def test_crlf_counted_as_one_character_is_relocated():
    text = "Baris satu.\r\nBaris dua.\r\nKim Jong Un datang."
    start = text.index("Kim")
    lf_start = start - 2  # two CRLFs before, each counted as one character
    r = check_span(text, lf_start, lf_start + 11, "Kim Jong Un")
    assert (r.start, r.end, r.relocated) == (start, start + 11, True)


def test_collapsed_double_spaces_are_relocated():
    text = "Putin  bertemu   Kim di sini"
    start = text.index("Kim")
    collapsed = "Putin bertemu Kim di sini".index("Kim")
    r = check_span(text, collapsed, collapsed + 3, "Kim")
    assert (r.start, r.relocated) == (start, True)


def test_trimmed_selection_is_relocated_to_the_surface():
    text = "kata Putin di Moskow"
    r = check_span(text, 4, 10, "Putin")  # offsets include the leading space
    assert (r.start, r.end, r.relocated) == (5, 10, True)


def test_surface_absent_is_refused_with_reason():
    assert check_span("Putin di Moskow", 0, 5, "Xi").reason == spans.NOT_FOUND


def test_surface_far_outside_window_is_refused():
    text = "Rusia" + " x" * 500
    r = check_span(text, 900, 905, "Rusia", window=50)
    assert r.reason == spans.NOT_FOUND and r.start is None


def test_equidistant_occurrences_are_ambiguous():
    text = "Kim dan Kim"
    assert check_span(text, 4, 7, "Kim").reason == spans.AMBIGUOUS


def test_surface_with_collapsed_whitespace_inside_is_refused_not_guessed():
    text = "Kim  Jong Un"
    r = check_span(text, 0, 11, "Kim Jong Un")
    assert r.reason == spans.WHITESPACE_DIFFERS and not r.ok


def test_bad_offsets_and_empty_surface():
    assert check_span("abc", None, 2, "ab").reason == spans.BAD_OFFSETS
    assert check_span("abc", 2, 1, "b").reason == spans.BAD_OFFSETS
    assert check_span("abc", -1, 1, "a").reason == spans.BAD_OFFSETS
    assert check_span("abc", 0, 1, "").reason == spans.EMPTY_SURFACE


# Texts built from the characters that make offsets drift.
DRIFTERS = ["  ", "\r\n", "\n", "\u00a0", "e\u0301", "\u0301", "🙂", "🇮🇩"]
ALPHABET = st.sampled_from(["a", "b", "K", "i", "m", " ", ".", *DRIFTERS])
TEXTS = st.lists(ALPHABET, min_size=1, max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), text=TEXTS)
def test_relocation_never_returns_a_span_whose_text_differs(data, text):
    s = data.draw(st.integers(0, len(text) - 1))
    e = data.draw(st.integers(s + 1, len(text)))
    surface = data.draw(st.one_of(st.just(text[s:e]), TEXTS, st.just(text[s:e].strip())))
    mode = data.draw(st.sampled_from(["exact", "utf16", "shift"]))
    if mode == "utf16":
        s2, e2 = utf16(text, s), utf16(text, e)
    elif mode == "shift":
        d = data.draw(st.integers(-5, 5))
        s2, e2 = s + d, e + d
    else:
        s2, e2 = s, e
    r = check_span(text, s2, e2, surface)
    if r.ok:
        assert text[r.start : r.end] == surface
        assert r.relocated == ((r.start, r.end) != (s2, e2))
    else:
        assert r.start is None and r.end is None and r.reason


@settings(max_examples=200, deadline=None)
@given(data=st.data(), text=TEXTS)
def test_exact_spans_always_survive_unchanged(data, text):
    s = data.draw(st.integers(0, len(text) - 1))
    e = data.draw(st.integers(s + 1, len(text)))
    r = check_span(text, s, e, text[s:e])
    assert (r.start, r.end, r.relocated) == (s, e, False)
