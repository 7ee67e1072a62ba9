"""The generic page model: bylines, printed dates, line roles, HTML metadata, templates.

Every page here is written for this test (own sentences, invented names) in a layout seen
on a real Indonesian news site that has no publisher profile; none of these layouts is
named anywhere in the extractor.
"""

# ruff: noqa: E501 - the pages below are printed as they would be, one paragraph a line

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.dataset.release import build, read_articles, wait_for_build
from toolkit.dataset.templates import find_templates
from toolkit.pages.article import Article
from toolkit.pages.bylines import is_person, parse_byline
from toolkit.pages.dates import find_printed_time, parse_zoneless_line
from toolkit.pages.extract import extract_source
from toolkit.pages.read import Source, iter_sources
from toolkit.pages.roles import is_prose, strip_site_suffix


def _extract(text: str, kind: str = "txt", name: str = "page") -> Article:
    raw = text.encode("utf-8")
    result = extract_source(Source(f"{name}.{kind}", raw, kind, len(raw)))
    assert isinstance(result, Article), result
    return result


def _reasons(article: Article) -> dict[str, str]:
    return {d.line: d.reason for d in article.dropped}


# --- byline grammar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "authors", "editor"),
    [
        ("Penulis: Raka Pratama | Editor: Lestari Wening", ["Raka Pratama"], "Lestari Wening"),
        ("Penulis Raka Pratama | Editor Lestari Wening", ["Raka Pratama"], "Lestari Wening"),
        ("Redaktur & Reporter : Bagas Wicaksono", ["Bagas Wicaksono"], "Bagas Wicaksono"),
        ("Rep: Nadia Puspita/ Red: Hendra Kusuma", ["Nadia Puspita"], "Hendra Kusuma"),
        ("LAPORAN: YOGI ARDIANSYAH", ["YOGI ARDIANSYAH"], None),
        ("Laporan Wartawan Serambi.com, Putri Anggraini", ["Putri Anggraini"], None),
        ("oleh Dimas Haryanto diperbarui 12 Mar 2024, 10:05 WIB", ["Dimas Haryanto"], None),
        ("Dimas Haryanto, Jurnalis", ["Dimas Haryanto"], None),
        ("Dimas Haryanto / Jurnalis", ["Dimas Haryanto"], None),
        ("Kontributor: Arif Setiadi", ["Arif Setiadi"], None),
        ("Pewarta: Wulan Sari dan Bima Aditya", ["Wulan Sari", "Bima Aditya"], None),
        ("EditorSekar Ayuningtyas", [], "Sekar Ayuningtyas"),
        ("Editor : Taufik Hidayat", [], "Taufik Hidayat"),
        ("Fajar Nugraha, CNBC Indonesia", ["Fajar Nugraha"], None),
        ("Produser: Galih Permana", [], None),  # a credit, but neither writer nor editor
        ("(dil/jpnn)", [], None),
        ("(OL-3)", [], None),
    ],
)
def test_byline_grammar(line: str, authors: list[str], editor: str | None) -> None:
    byline = parse_byline(line)
    assert byline is not None, line
    assert (byline.authors, byline.editor) == (authors, editor)


@pytest.mark.parametrize(
    "line",
    [
        "Oleh karena itu, pemerintah daerah menunda pembangunan jembatan.",
        "Reporter televisi lokal itu menyebut banjir datang tengah malam.",
        "Joko Susilo, Presiden",
        "Warga mulai kembali ke rumah masing-masing setelah air surut pada sore hari.",
    ],
)
def test_sentences_are_not_bylines(line: str) -> None:
    assert parse_byline(line) is None


def test_organisations_are_not_persons() -> None:
    assert not is_person("PT VIVA MEDIA BARU")
    assert not is_person("Kompas Cyber Media")
    assert not is_person("Web Design")
    assert not is_person("Tribunjabar.id")
    assert is_person("Sidqi Al Ghifari")


# --- date grammar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "iso", "publication"),
    [
        ("Peristiwa | 19 Januari 2021, 14:32 WIB", "2021-01-19T14:32:00+07:00", True),
        ("RABU, 24 JANUARI 2024 | 13:19 WIB | LAPORAN: YOGI", "2024-01-24T13:19:00+07:00", True),
        ("Selasa, 6 Februari 2018 | 00:53 WIB", "2018-02-06T00:53:00+07:00", True),
        ("Minggu 07 Februari 2021 17:06 WITA", "2021-02-07T17:06:00+08:00", True),
        ("Published: January 19, 2021 14:32 WIT", "2021-01-19T14:32:00+09:00", True),
        ("Diperbarui 20 Sep 2023, 21:00 WIB", "2023-09-20T21:00:00+07:00", False),
        ("Kompas.com - 09/02/2024, 13:25 WIB", "2024-02-09T13:25:00+07:00", True),
    ],
)
def test_printed_times(line: str, iso: str, publication: bool) -> None:
    printed = find_printed_time(line)
    assert printed is not None, line
    assert (printed.iso, printed.is_publication) == (iso, publication)


def test_a_time_inside_a_sentence_is_not_the_publication_time() -> None:
    sentence = "Polisi menangkap pelaku pada Senin, 19 Januari 2021 pukul 14.32 WIB di rumahnya."
    assert find_printed_time(sentence) is None
    assert find_printed_time("Rabu (20/9/2023) warga berkumpul di balai desa.") is None
    assert parse_zoneless_line("09 January 2024 09:58") == ("2024-01-09T09:58:00+07:00", True)
    assert parse_zoneless_line("Harga naik 09:58") is None


# --- line evidence --------------------------------------------------------------------


def test_prose_and_headlines_are_told_apart() -> None:
    assert is_prose("Warga mulai kembali ke rumah masing-masing setelah air surut pada sore hari.")
    assert not is_prose("Banjir Surut, Warga Mulai Bersihkan Rumah dari Lumpur Tebal di Bekasi?")
    assert strip_site_suffix("Banjir Surut di Bekasi - Kabar Pesisir Regional", {"pesisir"}) == (
        "Banjir Surut di Bekasi"
    )
    assert strip_site_suffix("Banjir Surut di Bekasi | Tempo Gaya") == "Banjir Surut di Bekasi"


# --- whole pages of unprofiled layouts ------------------------------------------------

VIDEO_PORTAL = """Beranda
Video
Jembatan Gantung Putus, Siswa Seberangi Sungai dengan Rakit
Senin 12 Februari 2024 09:15 WIB
Siswa sekolah dasar di sebuah desa di Lebak terpaksa menyeberangi sungai dengan rakit bambu setelah jembatan gantung satu-satunya putus diterjang arus.

Warga bergotong royong membuat rakit agar anak-anak tetap bisa berangkat ke sekolah setiap pagi, meski arus sungai sedang deras.

Kepala desa berharap pemerintah kabupaten segera membangun jembatan baru sebelum musim hujan mencapai puncaknya.

Reporter: Wahyu Kurniawan

Produser: Sinta Maharani

(zar)

Follow Berita Kabar Lebak di Google News

Bagikan Artikel Ini

Berita Terkait

Warga Lebak Bangun Jembatan Darurat dari Bambu

Banjir Rendam Dua Kecamatan di Lebak Selatan

Cari Berita Lain Di Sini
"""


def test_video_portal_layout() -> None:
    a = _extract(VIDEO_PORTAL)
    assert a.title == "Jembatan Gantung Putus, Siswa Seberangi Sungai dengan Rakit"
    assert a.authors == ["Wahyu Kurniawan"] and a.editor is None
    assert a.published_at == "2024-02-12T09:15:00+07:00"
    assert len(a.paragraphs) == 3 and a.text.startswith("Siswa sekolah dasar")
    for clutter in ("Produser", "(zar)", "Google News", "Berita Terkait", "Jembatan Darurat"):
        assert clutter not in a.text
    assert _reasons(a)["Warga Lebak Bangun Jembatan Darurat dari Bambu"] == "related-link"


WIRE_DESK = """Nasional
Harga Gabah di Karawang Anjlok Jelang Panen Raya
Redaktur & Reporter : Bagas Wicaksono
Kamis, 14 Maret 2024 – 10:20 WIB
Petani memanen padi di sawah Karawang, Kamis (14/3). Foto: Bagas Wicaksono/kabarjabar
kabarjabar.com, KARAWANG - Harga gabah kering panen di tingkat petani Karawang turun tajam dalam sepekan terakhir menjelang panen raya.

Seorang petani di Rawamerta mengatakan tengkulak kini hanya berani membeli gabah dengan harga jauh di bawah bulan lalu.

Dinas Pertanian setempat menyebut penurunan itu terjadi karena pasokan dari sejumlah kecamatan datang hampir bersamaan dan gudang penggilingan sudah penuh. (ant/dil/kabarjabar)
Jangan Lewatkan Video Terbaru:
"""


def test_wire_desk_layout_keeps_a_paragraph_closed_by_desk_initials() -> None:
    a = _extract(WIRE_DESK)
    assert a.title == "Harga Gabah di Karawang Anjlok Jelang Panen Raya"
    assert a.authors == ["Bagas Wicaksono"] and a.editor == "Bagas Wicaksono"
    assert a.published_at == "2024-03-14T10:20:00+07:00"
    assert a.text.startswith("Harga gabah kering panen")  # the dateline is cut off
    # body, not a caption: the paragraph stays, only its closing desk tag is cut off
    assert a.text.endswith("gudang penggilingan sudah penuh.")
    assert _reasons(a)["(ant/dil/kabarjabar)"] == "end-mark"
    assert a.captions and a.captions[0].startswith("Petani memanen padi")


SUMMARY_BOX = """Kabar Nusa
Sains
Gerhana Matahari Hibrida Bisa Diamati dari Biak
Intinya Sih...
Gerhana terlihat paling jelas dari pesisir utara Biak.
Warga diminta memakai kacamata khusus.
Puncak gerhana terjadi menjelang siang.
Rep: Nadia Puspita/ Red: Hendra Kusuma
Jakarta, Kabar Nusa - Gerhana matahari hibrida dapat diamati dari sebagian wilayah Papua pada Kamis siang, menurut lembaga antariksa nasional.

Peneliti menyebut fase total hanya berlangsung sekitar satu menit di jalur sempit yang melintasi Biak.

Masyarakat diimbau tidak menatap matahari secara langsung tanpa pelindung mata yang memadai.
Sumber: Lembaga Antariksa Nasional
Lanjutkan Membaca
Baca Juga
Planet Venus Tampak Terang Sepanjang Bulan Ini
Hujan Meteor Puncaknya Malam Nanti, Begini Cara Melihatnya
"""


def test_summary_box_source_line_and_teasers_are_dropped() -> None:
    a = _extract(SUMMARY_BOX)
    assert a.title == "Gerhana Matahari Hibrida Bisa Diamati dari Biak"
    assert a.authors == ["Nadia Puspita"] and a.editor == "Hendra Kusuma"
    assert a.text.startswith("Gerhana matahari hibrida dapat diamati")
    assert len(a.paragraphs) == 3
    reasons = _reasons(a)
    assert reasons["Warga diminta memakai kacamata khusus."] == "summary"
    assert reasons["Sumber: Lembaga Antariksa Nasional"] == "source-line"
    assert reasons["Lanjutkan Membaca"] == "navigation"
    assert "Planet Venus" not in a.text and "Hujan Meteor" not in a.text
    assert reasons["Jakarta, Kabar Nusa -"] == "dateline"


TEASER_RUN = """Portal Timur
Nelayan Ambon Keluhkan Solar Langka di SPBN
Penulis: Yosef Latuconsina | Editor: Maria Tuhumury
Selasa, 5 Maret 2024 | 08:45 WIT
Nelayan di pesisir Ambon mengeluhkan sulitnya mendapatkan solar bersubsidi di stasiun pengisian khusus nelayan sejak awal bulan.

Akibatnya, sebagian nelayan memilih tidak melaut dan menambatkan perahu mereka di dermaga.

Pengelola stasiun pengisian mengatakan kiriman solar dari depot tertunda karena cuaca buruk di perairan Seram.
Harga Ikan Tongkol di Pasar Mardika Naik Dua Kali Lipat
Pelabuhan Perikanan Baru di Maluku Tengah Mulai Dibangun
Gelombang Tinggi, Kapal Penumpang Tunda Keberangkatan
"""


def test_an_unlabelled_teaser_run_after_the_story_is_dropped() -> None:
    a = _extract(TEASER_RUN)
    assert a.title == "Nelayan Ambon Keluhkan Solar Langka di SPBN"
    assert a.published_at == "2024-03-05T08:45:00+09:00"
    assert a.editor == "Maria Tuhumury" and a.authors == ["Yosef Latuconsina"]
    assert len(a.paragraphs) == 3
    assert _reasons(a)["Pelabuhan Perikanan Baru di Maluku Tengah Mulai Dibangun"] == "teaser"


PORTAL_WITH_STANDFIRST = """Terpopuler: Tiga Desa di Lereng Merapi Gelar Latihan Evakuasi Bersama
Warga tiga desa berlatih mengungsi dengan kendaraan bak terbuka menuju barak pengungsian.

Andika Saputro
Rabu, 8 Mei 2024 | 07:30 WIB
Terpopuler: Tiga Desa di Lereng Merapi Gelar Latihan Evakuasi Bersama
Warga menaiki truk saat latihan evakuasi di Cangkringan (Dok. BPBD Sleman)

SuaraJogja.id - Ratusan warga dari tiga desa di lereng Merapi mengikuti latihan evakuasi yang digelar badan penanggulangan bencana daerah pada Selasa pagi.

Baca Juga:Jalur Evakuasi Merapi Diperlebar Sebelum Musim Hujan

Latihan dimulai dengan bunyi sirene dari pos pemantauan, lalu warga berkumpul di titik kumpul masing-masing dusun.

Petugas mencatat waktu tempuh dari titik kumpul ke barak pengungsian untuk menilai kesiapan jalur evakuasi.
Halaman:
Editor: Rina Kartikasari
Sumber: SuaraJogja.id
"""

SPLIT_DATELINE = """Megapolitan
Pedagang Pasar Kramat Jati Keluhkan Atap Bocor
Tim Redaksi
JAKARTA, KABARKOTA.com
– Pedagang di Pasar Kramat Jati mengeluhkan atap los sayur yang bocor setiap kali hujan turun sejak awal bulan.
Pengelola pasar berjanji memperbaiki atap dalam dua pekan dan memindahkan sementara pedagang ke los kosong di lantai dua.
2024 © PT Kabar Kota Media Network
"""


def test_standfirst_bare_name_and_bracketed_captions() -> None:
    a = _extract(PORTAL_WITH_STANDFIRST)
    assert a.title == "Terpopuler: Tiga Desa di Lereng Merapi Gelar Latihan Evakuasi Bersama"
    assert a.subtitle and a.subtitle.startswith("Warga tiga desa berlatih")
    assert a.authors == ["Andika Saputro"] and a.editor == "Rina Kartikasari"
    assert a.published_at == "2024-05-08T07:30:00+07:00"
    assert a.text.startswith("Ratusan warga dari tiga desa") and len(a.paragraphs) == 3
    assert "Baca Juga" not in a.text and "Halaman" not in a.text and "Sumber" not in a.text


def test_a_dateline_split_over_two_lines_is_cut_from_the_lead() -> None:
    a = _extract(SPLIT_DATELINE)
    assert a.title == "Pedagang Pasar Kramat Jati Keluhkan Atap Bocor"
    assert a.text.startswith("Pedagang di Pasar Kramat Jati mengeluhkan")
    assert "©" not in a.text and len(a.paragraphs) == 2


def test_separator_and_reading_time_lines_are_not_the_lead() -> None:
    page = (
        "kabarKOTA\n"
        "Warga Depok Keluhkan Antrean Panjang di Kantor Samsat Baru\n"
        "kabarKOTA\n"
        "12 Februari 2024 10:15 WIB\n"
        "·\n"
        "waktu baca 2 menit\n"
        "Antrean panjang terlihat di kantor samsat baru di Depok sejak pagi hari karena warga "
        "ingin membayar pajak kendaraan sebelum jatuh tempo.\n"
        "Petugas mengatakan sistem pembayaran sempat terganggu selama satu jam.\n"
    )
    a = _extract(page)
    assert a.title == "Warga Depok Keluhkan Antrean Panjang di Kantor Samsat Baru"
    assert a.text.startswith("Antrean panjang") and len(a.paragraphs) == 2
    assert _reasons(a)["·"] == _reasons(a)["waktu baca 2 menit"] == "navigation"


def test_a_list_the_story_announces_is_kept() -> None:
    page = TEASER_RUN.replace(
        "Pengelola stasiun pengisian mengatakan kiriman solar dari depot tertunda karena cuaca "
        "buruk di perairan Seram.",
        "Pengelola menyebut tiga stasiun pengisian yang paling sering kehabisan solar:\n"
        "Stasiun Pengisian Pelabuhan Tulehu Lama\n"
        "Stasiun Pengisian Dermaga Galala Baru\n"
        "Stasiun Pengisian Pantai Waai Utara\n"
        "Kiriman solar dari depot tertunda karena cuaca buruk di perairan Seram.",
    )
    a = _extract(page)
    assert "Stasiun Pengisian Dermaga Galala Baru" in a.text
    assert "Harga Ikan Tongkol" not in a.text  # the unannounced run after the story still goes


def test_no_title_is_invented_for_a_page_without_evidence() -> None:
    page = (
        "Pasar Malam Kembali Dibuka di Alun-alun\n"
        "Pedagang kaki lima kembali menggelar dagangan di alun-alun kota setelah dua tahun "
        "dilarang, dan pengunjung mulai berdatangan sejak sore.\n"
        "Pemerintah kota membatasi jumlah lapak agar jalur pejalan kaki tetap lega.\n"
    )
    a = _extract(page)
    assert a.title is None and a.published_at is None and a.editor is None
    assert a.text.startswith("Pasar Malam Kembali Dibuka")


# --- HTML: metadata weighed against the page ------------------------------------------

HTML_PAGE = """<!doctype html><html><head>
<title>Sungai Meluap, Ratusan Rumah di Cilacap Terendam - Kabar Selatan Regional</title>
<meta property="og:title" content="Sungai Meluap, Ratusan Rumah di Cilacap Terendam - Kabar Selatan">
<meta property="og:site_name" content="Kabar Selatan">
<meta name="author" content="PT Kabar Selatan Media">
<link rel="canonical" href="https://regional.kabarselatan.example/read/sungai-meluap-cilacap">
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "NewsArticle", "headline": "Sungai Meluap, Ratusan Rumah di Cilacap Terendam",
  "datePublished": "2024-02-01T06:30:00+07:00",
  "author": {"@type": "Organization", "name": "Kabar Selatan"}}]}</script>
</head><body>
<aside><ul><li>Berita Terbaru</li>
<li><a href="/a">Pasar Ikan Cilacap Sepi Pembeli</a> <span>Rabu, 31 Januari 2024 21:10 WIB</span></li>
</ul></aside>
<article>
<h1>Sungai Meluap, Ratusan Rumah di Cilacap Terendam</h1>
<div class="byline">Oleh : Galang Prasetyo</div>
<div class="date">Kamis, 1 Februari 2024 06:30 WIB</div>
<p>Luapan sungai merendam ratusan rumah warga di tiga desa di Cilacap setelah hujan deras turun sejak Rabu malam hingga Kamis pagi.</p>
<p>Ketinggian air di permukiman mencapai pinggang orang dewasa, sehingga warga mengungsi ke balai desa dan masjid terdekat.</p>
<p>Petugas penanggulangan bencana mengerahkan perahu karet untuk membantu warga lanjut usia dan anak-anak keluar dari rumah.</p>
</article></body></html>
"""


def test_html_page_prefers_what_it_shows() -> None:
    a = _extract(HTML_PAGE, "html")
    assert a.title == "Sungai Meluap, Ratusan Rumah di Cilacap Terendam"
    assert a.authors == ["Galang Prasetyo"]  # not the company in meta author
    assert a.published_at == "2024-02-01T06:30:00+07:00"  # the article's, not the sidebar's
    assert a.sources["title"] == "h1" and a.sources["published_at"] == "json-ld datePublished"
    assert "Pasar Ikan" not in a.text
    assert a.to_json()["sources"] == a.sources
    assert "sources" not in a.record()  # not a column of the dataset


# --- corpus-level template lines ---------------------------------------------------------


def _site_pages(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    places = ["Garut", "Subang", "Kuningan", "Majalengka", "Sumedang", "Ciamis", "Banjar"]
    for k in range(n):
        place = places[k % len(places)]
        record = {
            "url": f"https://kabarpriangan.example/berita/{k}",
            "title": f"Musim Tanam Dimulai di {place} Pekan Ini",
            "text": "\n".join(
                [
                    f"Petani di {place} mulai menanam padi pekan ini setelah hujan turun "
                    f"cukup merata di desa nomor {k}.",
                    f"Dinas pertanian {place} membagikan benih unggul kepada {k + 20} "
                    "kelompok tani di wilayah utara.",
                    "Dukung jurnalisme lokal dengan menjadi pelanggan Kabar Priangan",
                    f"Penyuluh berharap panen di {place} tahun ini lebih baik dari musim lalu "
                    f"yang banyak diserang hama wereng di blok {k}.",
                ]
            ),
        }
        (folder / f"p{k:02d}.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")


def test_template_lines_are_dropped_the_same_with_one_or_two_workers(tmp_path: Path) -> None:
    corpus = tmp_path / "pages"
    _site_pages(corpus, 8)
    promo = "Dukung jurnalisme lokal dengan menjadi pelanggan Kabar Priangan"
    templates = find_templates([corpus])
    assert list(templates.lines) == ["kabarpriangan.example"]
    texts = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        wait_for_build(build([corpus], out, workers=workers, date="2024-01-01"))
        rows = list(read_articles(out))
        assert len(rows) == 8
        assert all(promo not in r["text"] and r["dropped_line_count"] >= 1 for r in rows)
        texts[workers] = sorted((r["id"], r["text_sha256"]) for r in rows)
    assert texts[1] == texts[2]
    # one page alone has no site to compare with: the promo stays in its text
    (source,) = iter_sources([corpus / "p00.jsonl"])
    alone = extract_source(source)
    assert isinstance(alone, Article) and promo in alone.text
    page = extract_source(source, templates=templates.for_source("p00.jsonl:1"))
    assert isinstance(page, Article) and _reasons(page)[promo] == "template"


def test_a_few_copies_of_one_story_do_not_make_template_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "pages"
    _site_pages(corpus, 3)
    assert find_templates([corpus]).lines == {}


# --- inspect --text ---------------------------------------------------------------------


def test_inspect_text_prints_each_paragraph_with_its_kind(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(SUMMARY_BOX, encoding="utf-8")
    result = CliRunner().invoke(cli, ["inspect", str(page), "--text"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().split("\n")
    assert lines[0].startswith("[lead] Gerhana matahari hibrida")
    assert len(lines) == 3 and all(line.startswith(("[lead]", "[body]")) for line in lines)
