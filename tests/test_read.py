"""Sources and text hygiene: directory expansion, JSONL lines, decoding, normalisation."""

from __future__ import annotations

import pickle
import unicodedata
from pathlib import Path

import pytest

from toolkit.errors import RejectedInput
from toolkit.pages.read import Source, clean_text, decode_bytes, iter_sources

SEEDS = Path(__file__).parent.parent / "seeds"


def test_directory_expansion_is_sorted_recursive_and_accounts_for_every_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.html").write_text("<p>x</p>")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".hidden.txt").write_text("reported, not parsed")
    (tmp_path / "c.jsonl").write_text('{"text": "x"}\n\n{"text": "y", "url": "https://a.id/1"}\n')
    sources = list(iter_sources([tmp_path]))
    assert [(s.source_file, s.kind) for s in sources] == [
        (".hidden.txt", "unsupported"),
        ("a.txt", "txt"),
        ("b/z.html", "html"),
        ("c.jsonl:1", "jsonl"),
        ("c.jsonl:3", "jsonl"),
        ("notes.pdf", "unsupported"),
    ]
    assert sources[4].url == "https://a.id/1"
    assert sources[4].raw == b'{"text": "y", "url": "https://a.id/1"}'


def test_a_file_given_directly_is_named_by_its_file_name() -> None:
    (source,) = iter_sources([SEEDS / "004_4a136c2b2b479954.txt"])
    assert source.source_file == "004_4a136c2b2b479954.txt"
    assert source.size == len(source.raw) == (SEEDS / "004_4a136c2b2b479954.txt").stat().st_size


def test_source_is_frozen_and_picklable() -> None:
    source = Source("a.txt", b"abc", "txt", 3)
    assert pickle.loads(pickle.dumps(source)) == source
    with pytest.raises(AttributeError):
        source.kind = "html"  # type: ignore[misc]


def test_read_cap_keeps_the_true_size(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 1000)
    (source,) = iter_sources([big], read_cap=100)
    assert len(source.raw) == 100 and source.size == 1000


def test_a_file_longer_than_its_stat_size_is_read_to_the_end(tmp_path: Path) -> None:
    """A page is read in one call sized to its stat size (+1): a file that has more bytes
    than that by the time it is read (here a /proc file: size 0, text inside) is read on
    to the end, as a read up to the cap would."""
    status = tmp_path / "status.txt"
    status.symlink_to("/proc/self/status")
    assert status.stat().st_size == 0
    (source,) = iter_sources([status])
    assert source.raw.startswith(b"Name:") and b"\nPid:" in source.raw
    (capped,) = iter_sources([status], read_cap=3)
    assert capped.raw == b"Nam"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Berita hari ini", "Berita hari ini"),
        (b"\xef\xbb\xbfBerita", "Berita"),
        ("“Kami siap,” kata dia. Café".encode("cp1252"), "“Kami siap,” kata dia. Café"),
        ("Jalan Ñ".encode("utf-16"), "Jalan Ñ"),
    ],
)
def test_decodes_utf8_bom_cp1252_and_utf16(raw: bytes, expected: str) -> None:
    assert decode_bytes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "binary"),
        (b"abc\x00def" * 10, "binary"),
        (bytes([0x81, 0x90, 0xC3, 0x28, 0xA0, 0xFF, 0x9D, 0xFE]) * 30, "undecodable"),
    ],
)
def test_bad_bytes_are_rejected_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(RejectedInput) as info:
        decode_bytes(raw)
    assert info.value.reason == reason


def test_clean_text_fixes_mojibake_spaces_line_ends_and_normalises() -> None:
    raw = (
        "Presiden\u00a0 Putin\r\nke\u00a0China.\u00c2\r\n"
        "menyatakan \u201ctanpa batas\u201d\u200b\nCafe\u0301 Ã©"
    )
    text = clean_text(raw)
    assert text == "Presiden Putin\nke China.\nmenyatakan \u201ctanpa batas\u201d\nCafé é"
    assert unicodedata.is_normalized("NFC", text)


def test_seeds_lose_every_no_break_space_and_stray_a_circumflex() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = clean_text(decode_bytes(path.read_bytes()))
        assert "\u00a0" not in text and "Â" not in text and "\r" not in text


def test_hidden_files_are_reported_and_hidden_directories_are_not_inputs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "page.txt").write_text("Judul\n\nIsi berita.\n")
    sources = {s.source_file: s.kind for s in iter_sources([tmp_path])}
    assert sources == {".DS_Store": "unsupported", "page.txt": "txt"}
