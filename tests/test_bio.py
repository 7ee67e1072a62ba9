"""Gold entities -> tokens and BIO tags; spans that do not align are reported, not cut."""

from __future__ import annotations

from toolkit.labels.bio import MISALIGNED, OVERLAPPING, bio_rows, tokenize
from toolkit.labels.bio import TOKEN as TOKEN_RE

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


def reference_bio_rows(texts, gold_entities):
    """The straightforward version (offsets of every token) that bio_rows must equal."""
    by_article = {}
    for e in gold_entities:
        by_article.setdefault(e["article_id"], []).append(e)
    rows, tagged, skipped = [], 0, []
    for article_id in sorted(texts):
        tokens = tokenize(texts[article_id])
        starts = {s: i for i, (_, s, _) in enumerate(tokens)}
        ends = {e: i for i, (_, _, e) in enumerate(tokens)}
        tags = ["O"] * len(tokens)
        for e in sorted(by_article.get(article_id, []), key=lambda e: (e["start"], -e["end"])):
            first, last = starts.get(e["start"]), ends.get(e["end"])
            if first is None or last is None or last < first:
                skipped.append((e["start"], e["end"], MISALIGNED))
            elif any(t != "O" for t in tags[first : last + 1]):
                skipped.append((e["start"], e["end"], OVERLAPPING))
            else:
                tags[first : last + 1] = [f"B-{e['type']}"] + [f"I-{e['type']}"] * (last - first)
                tagged += 1
        rows.append({"id": article_id, "tokens": [t for t, _, _ in tokens], "labels": tags})
    return rows, tagged, skipped


def test_bio_rows_equals_the_token_offset_version_on_random_texts():
    import random

    rng = random.Random(3)
    pieces = ["Kim", "Jong", "Un", "Korea", "-", "'", "’", "9", "_", ",", ".", "🙂", "“", "”"]
    spaces = [" ", "  ", "\n", "\u00a0", "\u2009", "\u200b", "\r\n"]  # \u200b is no space
    texts, gold = {}, []
    for n in range(300):
        text = "".join(rng.choice(pieces + spaces) for _ in range(rng.randint(0, 40)))
        texts[f"a{n}"] = text
        bounds = [m.start() for m in TOKEN_RE.finditer(text)] + [
            m.end() for m in TOKEN_RE.finditer(text)
        ]
        for _ in range(rng.randint(0, 4)):
            if bounds and rng.random() < 0.7:
                start, end = sorted(rng.sample(bounds, 2)) if len(bounds) > 1 else (bounds[0],) * 2
            else:
                start, end = rng.randint(-2, len(text) + 2), rng.randint(-2, len(text) + 2)
            gold.append({"article_id": f"a{n}", "start": start, "end": end,
                         "surface": text[max(start, 0) : max(end, 0)], "type": "PER"})  # fmt: skip
    report = bio_rows(texts, gold)
    rows, tagged, skipped = reference_bio_rows(texts, gold)
    assert report.rows == rows and report.tagged == tagged
    assert [(s["start"], s["end"], s["reason"]) for s in report.skipped] == skipped
    assert tagged > 100 and {r for _, _, r in skipped} == {MISALIGNED, OVERLAPPING}
