"""Gold entities -> tokens and BIO tags; spans that do not align are reported, not cut."""

from __future__ import annotations

from toolkit.bio import MISALIGNED, OVERLAPPING, bio_rows, tokenize

TOKENS = ["Presiden", "Putin", "bertemu", "Kim", "Jong", "Un", "di", "Korea-Utara", ","]
TOKENS += ["kata", "Reuters", "."]
TEXT = "Presiden Putin bertemu Kim Jong Un di Korea-Utara, kata Reuters."


def ent(surface, type_, article="a", occurrence=0, text=TEXT):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return {
        "article_id": article,
        "start": start,
        "end": start + len(surface),
        "surface": surface,
        "type": type_,
    }


def test_tokenize_words_and_punctuation():
    assert [t for t, _, _ in tokenize(TEXT)] == (TOKENS)
    other = "Mao  Ning\r\nberkata 🙂 “tidak”."
    assert [t for t, _, _ in tokenize(other)] == [
        "Mao",
        "Ning",
        "berkata",
        "🙂",
        "“",
        "tidak",
        "”",
        ".",
    ]
    assert all(other[s:e] == t for t, s, e in tokenize(other))


def test_bio_tags_nusacrowd_shape():
    report = bio_rows(
        {"a": TEXT, "b": "Tidak ada entitas."},
        [
            ent("Putin", "PER"),
            ent("Kim Jong Un", "PER"),
            ent("Korea-Utara", "GPE"),
            ent("Reuters", "ORG"),
        ],
    )
    assert report.tagged == 4 and report.skipped == []
    assert report.rows == [
        {
            "id": "a",
            "tokens": TOKENS,
            "labels": [
                "O",
                "B-PER",
                "O",
                "B-PER",
                "I-PER",
                "I-PER",
                "O",
                "B-GPE",
                "O",
                "O",
                "B-ORG",
                "O",
            ],
        },
        {"id": "b", "tokens": ["Tidak", "ada", "entitas", "."], "labels": ["O", "O", "O", "O"]},
    ]


def test_misaligned_and_overlapping_spans_are_reported():
    partial = ent("Korea", "GPE")  # half of the token "Korea-Utara"
    inner = ent("Jong", "PER")  # inside "Kim Jong Un", tagged first
    report = bio_rows({"a": TEXT}, [ent("Kim Jong Un", "PER"), partial, inner])
    assert report.tagged == 1
    assert report.skipped == [
        {**inner, "reason": OVERLAPPING},
        {**partial, "reason": MISALIGNED},
    ]
    assert report.rows[0]["labels"][7] == "O"  # not silently cut to a token
