"""Near-duplicate groups: per-paragraph MinHash, "
"flag syndicated copies, never drop."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from toolkit.dataset.near_duplicates import NearDuplicateIndex
from toolkit.pages.article import Article
from toolkit.pages.extract import extract_source
from toolkit.pages.read import iter_sources

SEEDS = Path(__file__).parent.parent / "seeds"

WIRE = [
    "Harga minyak mentah dunia naik tajam "
    "setelah negara pengekspor sepakat memangkas produksi "
    "hingga akhir tahun depan untuk menjaga stabilitas pasar.",
    "Kenaikan itu diperkirakan mendorong harga bahan bakar "
    "nonsubsidi di dalam negeri naik pada "
    "bulan depan, menurut sejumlah analis energi di Jakarta.",
    "Pemerintah menyatakan akan memantau dampaknya terhadap "
    "inflasi dan daya beli masyarakat, "
    "terutama di daerah yang jauh dari kilang pengolahan.",
]


def _seed_articles() -> list[Article]:
    articles = [extract_source(s) for s in iter_sources([SEEDS])]
    assert all(isinstance(a, Article) for a in articles)
    return articles  # type: ignore[return-value]


def test_the_two_tribun_seeds_share_a_group_and_nothing_else_does() -> None:
    index = NearDuplicateIndex()
    articles = _seed_articles()
    for article in articles:
        index.add(article.id, article.text)
    by_file = {a.source_file[:3]: a.id for a in articles}
    groups = index.groups()
    assert set(groups) == {by_file["000"], by_file["001"]}
    assert groups[by_file["000"]] == groups[by_file["001"]] == min(by_file["000"], by_file["001"])


def test_syndicated_copy_with_small_edits_is_grouped() -> None:
    index = NearDuplicateIndex()
    own = (
        "Berita ini ditulis sendiri oleh redaksi dengan "
        "sudut pandang yang berbeda dari kantor berita lain."
    )
    index.add("b", "\n\n".join([own, *WIRE]))
    edited = [
        p.replace("naik tajam", "melonjak tajam").replace("sejumlah", "beberapa") for p in WIRE
    ]
    index.add("a", "\n\n".join(edited))
    index.add(
        "c",
        "Sepak bola Indonesia menang besar atas tim tamu dalam laga persahabatan di Stadion Utama.",
    )
    assert index.groups() == {"a": "a", "b": "a"}


def test_one_shared_paragraph_is_not_enough_for_long_articles() -> None:
    index = NearDuplicateIndex()
    index.add(
        "x",
        "\n\n".join(
            [
                WIRE[0],
                "Paragraf lain tentang pertanian padi di Jawa "
                "Tengah yang tidak ada hubungannya sama sekali.",
            ]
        ),
    )
    index.add(
        "y",
        "\n\n".join(
            [
                WIRE[0],
                "Paragraf lain tentang pariwisata pantai di Bali "
                "yang juga tidak ada hubungannya sama sekali.",
            ]
        ),
    )
    assert index.groups() == {}


def test_boilerplate_shared_by_many_articles_links_nothing() -> None:
    index = NearDuplicateIndex(max_fanout=5)
    boiler = [
        "Ikuti terus perkembangan berita terbaru dari "
        "redaksi kami setiap hari melalui aplikasi resmi.",
        "Semua konten dilindungi undang-undang dan tidak "
        "boleh disalin tanpa izin tertulis dari redaksi.",
    ]
    for i in range(8):
        index.add(
            f"n{i}",
            "\n\n".join(
                [
                    f"Berita nomor {i} membahas topik berbeda setiap hari di kota {i}.",
                    *boiler,
                ]
            ),
        )
    assert index.groups() == {}


def test_index_holds_no_text() -> None:
    index = NearDuplicateIndex()
    index.add("a", "\n\n".join(WIRE))
    held = [v for v in vars(index).values()]
    assert not any(isinstance(v, str) and "minyak" in v for v in held)
    assert all(WIRE[0] not in str(v) for v in held)


def test_spooled_index_groups_like_the_in_memory_one(monkeypatch, tmp_path: Path) -> None:
    import toolkit.dataset.near_duplicates as near_duplicates

    articles = _seed_articles()
    edited = [p.replace("naik tajam", "melonjak tajam") for p in WIRE]
    texts = {a.id: a.text for a in articles}
    texts.update({"w1": "\n\n".join(WIRE), "w2": "\n\n".join(edited), "w3": WIRE[0]})
    in_memory = NearDuplicateIndex()
    for article_id, text in texts.items():
        in_memory.add(article_id, text)
    expected = in_memory.groups()
    assert (
        expected["w1"] == expected["w2"] == expected["w3"] == "w1"
    )  # w3: all of its one paragraph

    monkeypatch.setattr(near_duplicates, "BUFFER_RECORDS", 12)  # spool after every article
    spool = tmp_path / "spool"
    spooled = NearDuplicateIndex(spool_dir=spool)
    for article_id, text in texts.items():
        spooled.add(article_id, text)
    assert sorted(p.name for p in spool.glob("bucket-*.bin"))
    assert spooled.groups() == expected
    assert not spool.exists()


@pytest.mark.parametrize("buffer", [None, 12])
def test_adding_a_batch_indexes_like_adding_one_by_one(
    monkeypatch, tmp_path: Path, buffer: int | None
) -> None:
    """add_many (the build adds a worker chunk at a time) makes the same records, in the
    same order, as add_bands an article at a time: same bucket files, same groups."""
    import toolkit.dataset.near_duplicates as near_duplicates
    from toolkit.dataset.near_duplicates import paragraph_bands

    if buffer is not None:  # spooled: every batch goes to the bucket files
        monkeypatch.setattr(near_duplicates, "BUFFER_RECORDS", buffer)
    edited = [p.replace("naik tajam", "melonjak tajam") for p in WIRE]
    texts = {a.id: a.text for a in _seed_articles()}
    texts.update({"w1": "\n\n".join(WIRE), "w2": "\n\n".join(edited), "w3": WIRE[0]})
    texts["empty"] = "pendek"  # no paragraph long enough: no band hashes
    bands = {i: paragraph_bands(t) for i, t in texts.items()}
    one = NearDuplicateIndex(spool_dir=tmp_path / "one")
    for article_id, b in bands.items():
        one.add_bands(article_id, b)
    batched = NearDuplicateIndex(spool_dir=tmp_path / "batched")
    ids = list(bands)
    for start in range(0, len(ids), 3):
        batched.add_many(ids[start : start + 3], [bands[i] for i in ids[start : start + 3]])
    batched.add_many([], [])
    assert list(batched._first_paragraph) == list(one._first_paragraph)
    if buffer is not None:
        one._spool(), batched._spool()
        paths = sorted((tmp_path / "one").glob("bucket-*.bin"))
        assert paths
        for path in paths:
            assert path.read_bytes() == (tmp_path / "batched" / path.name).read_bytes()
    groups = batched.groups()
    assert groups == one.groups()
    assert groups["w1"] == groups["w2"] == groups["w3"] == "w1"


def _syndicated(copies: int, others: int) -> NearDuplicateIndex:
    """A story run `copies` times, each with its own local first line, among unrelated
    articles that all carry the same two boilerplate paragraphs."""
    index = NearDuplicateIndex()
    boiler = [
        "Ikuti terus perkembangan berita terbaru dari redaksi kami setiap hari melalui "
        "aplikasi resmi yang tersedia gratis.",
        "Semua konten dilindungi undang-undang dan tidak boleh disalin tanpa izin "
        "tertulis dari redaksi kami.",
    ]
    for i in range(copies):
        index.add(f"c{i:05d}", "\n\n".join([f"Dimuat ulang oleh media nomor {i}.", *WIRE]))
    vocabulary = " ".join([*WIRE, *boiler]).replace(",", "").replace(".", "").split()
    rng = random.Random(18)
    for i in range(others):  # unrelated: their own paragraphs are random word sequences
        own = [" ".join(rng.choices(vocabulary, k=25)) + "." for _ in range(2)]
        index.add(f"o{i:05d}", "\n\n".join([*own, *boiler]))
    return index


@pytest.mark.parametrize("copies", [30, 60, 500, 1000])
def test_a_story_syndicated_many_times_is_one_group(copies: int) -> None:
    """Issue 18: 30 copies made one group, 60 none (a band carried by more than
    max_fanout=50 articles linked nothing). 120 articles share the boilerplate."""
    groups = _syndicated(copies, 120).groups()
    copy_ids = {f"c{i:05d}" for i in range(copies)}
    assert {groups.get(c) for c in copy_ids} == {"c00000"}  # every copy, one group
    assert set(groups) == copy_ids  # the boilerplate links no other article
