"""Clutter rules shared by every publisher profile: which lines of a page are not article
text, and why. Each rule is a (reason, pattern) pair matched against one whole line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE


@dataclass
class Line:
    """One line of a page; `hint` is what the page's markup said it is, when known."""

    text: str
    hint: str | None = None  # heading | quote | headline (an <h1>) | None


def _rules(reason: str, *patterns: str, flags: int = _I) -> list[tuple[str, re.Pattern[str]]]:
    return [(reason, re.compile(rf"^(?:{p})$", flags)) for p in patterns]


_SOCIAL = r"(?:Facebook|Twitter|X|WhatsApp|Telegram|LINE|Email)"

# Order matters: the first rule that matches a line names the reason.
LINE_RULES: list[tuple[str, re.Pattern[str]]] = [
    *_rules(
        "share",
        r"Dapatkan Berita Pilihan",
        r"di WhatsApp Anda",
        r"Baca WhatsApp \w+",
        r"Ikuti kami di.*",
        r"Ikuti (?:saluran|channel|berita|update|kanal)\b.{0,120}"
        r"(?:WhatsApp|Google News|Telegram).*",
        r".{0,60}\b(?:gabung|bergabung|join)\b.{0,60}(?:WhatsApp|Telegram)\b.*",
        r"(?:Bagikan|Share)(?: (?:artikel|berita) ini)?\s*:?.{0,40}",
        r"Salin tautan|Tautan tersalin|Link tersalin",
        rf"{_SOCIAL}(?: ?[|,] ?{_SOCIAL})+",
        r"Follow (?:us|kami) .{0,60}",
        r"(?:Follow|Ikuti|Cek) .{0,80}"
        r"\b(?:Google News|WhatsApp|Instagram|Telegram|YouTube)\b.{0,80}",
        r"Bagikan (?:artikel|berita) ini.{0,40}|Share this article.{0,20}",
        r"Dapatkan (?:update|berita|info|informasi|notifikasi)\b.{0,160}",
        r".{0,100}\bGoogle News\b.{0,60}",
        r"Bagaimana (?:tanggapan|pendapat|reaksi) (?:anda|Anda)\b.{0,80}",
        r"Simak breaking news.{0,200}|.{0,200}\b(?:WhatsApp|Telegram) Channel\b.{0,40}",
    ),
    *_rules(
        "banner",
        r"Nikmati berita interaktif.*",
        r"Tribun|Tribunnews|Tribunnews\.com|TribunX|Tribun Network",
        r"detikNews|detikcom|Liputan6|Liputan6\.com",
        r"Kompas\.com|KOMPAS\.com|CNN Indonesia|ANTARA|ANTARA News|Antaranews\.com",
        r"(?:Berita|Video|Foto) (?:Terkini|Terpopuler|Populer)",
        r"Login|Masuk|Daftar|Beranda|Home|Menu|Cari|Search|Newsletter",
        # subscription promos: "Baca berita tanpa iklan. Gabung ...", "Langganan ..."
        r".{0,60}\btanpa iklan\b.{0,80}|(?:Langganan|Berlangganan|Gabung) .{0,60}",
        r"Anda bisa menjadi kolumnis\W{0,3}|Kriteria \(salah satu\).{0,200}",
    ),
    *_rules(
        "navigation",
        r"Atas|Kembali ke atas|Sukses|Selengkapnya|Tutup|Close|Lihat semua|Tampilkan semua",
        r"(?:Lanjutkan|Lanjut) (?:Membaca|Baca)\W{0,3}",
        r"(?:Baca|Lihat|Tampilkan) Selengkapnya\W{0,3}",
        r"Text Sizes?|Ukuran (?:Teks|Huruf|Font)|A ?A ?A|A\+ ?A-|A[+-]?",
        r"Mode (?:Gelap|Terang)|Dark Mode",
        r"Menuju konten utama|Skip to (?:main )?content|Teks Berjalan|Berita Terkini",
        r"Cari Berita Lain.{0,20}|Berita Lainnya di .{0,40}|Loading\W{0,3}|loading…",
        r"\W{0,3}\d+ (?:menit|min) (?:baca|membaca|read)\W{0,3}|(?:waktu )?baca \d+ menit",
        r"[^\w\s]{1,5}",  # a separator or icon left alone on its line: "·", "|", "***"
        r"Kembali|Back|Back to top|Muat (?:lebih banyak|lainnya)|Load more|Tampilkan lebih banyak",
        r"(?:Home|Beranda)(?: ?[>»/›] ?[\w .&-]{1,30}){1,5}",
    ),
    *_rules(
        "related-link",
        r"(?:Baca|Lihat|Simak|Tonton|Saksikan) "
        r"(?:juga|pula|lainnya|selengkapnya|berita lainnya)\b.*",
        r"Simak (?:juga )?video.*|Saksikan video.{0,60}|Video pilihan.*|Tonton video.{0,60}",
        r"Jangan [Ll]ewatkan\b.{0,80}",
        r"(?:Baca|Lihat|Simak)\s*:\s*.{3,160}",
        r"Next Article\b.{0,160}|Artikel Selanjutnya\b.{0,160}|Berita Selanjutnya\b.{0,160}",
        r"(?:Berita|Artikel) (?:rekomendasi|terkait|lainnya|pilihan)",
        r"Rekomendasi untuk Anda|Terkait",
        r"(?:Berita|Artikel|Topik|Video|Foto) (?:Terkait|Lainnya|Terbaru|Terkini|Pilihan|Populer"
        r"|Terpopuler|Rekomendasi|Menarik|Unggulan)(?: \w+){0,2}",
        r"Terpopuler|Terkini|Terbaru|Populer|Rekomendasi|Pilihan Editor|Editor'?s Pick|Tags?|Topik"
        r"|Trending|Headline|Headlines|Most Popular|Baca Berita Lainnya|Lihat Juga",
        r"(?:Berita|Artikel) (?:rekomendasi|terkait) ?:.*",
    ),
    *_rules(
        "ad-marker",
        r"ADVERTISEMENT|Advertisement|Iklan|Hide Ads|Sponsored|Konten Bersponsor",
        r"SCROLL TO CONTINUE WITH CONTENT|SCROLL TO RESUME CONTENT|CONTINUE READING BELOW",
        r"\[iklan_?\d*\]|\[Gambas:[^\]]*\]|\[ads?\d*\]|\[sisip_\w+\]",
    ),
    *_rules(
        "pagination",
        r"Halaman \d+ dari \d+|\d+ dari \d+ halaman|Halaman \d+|Halaman ?:? ?(?:\d+ ?)+",
        r"Halaman (?:selanjutnya|berikutnya|sebelumnya)|Halaman\s*:|Halaman \d+/\d+",
        r"Selanjutnya|Sebelumnya|Next|Prev|Berikutnya",
        r"(?:\d+ ){1,9}\d+|(?:\d+ )*(?:Next|Selanjutnya|»|›)",
    ),
    *_rules(
        "footer",
        r"(?:©|\(c\)|Copyright|Hak ?cipta).*|\d{4}\s*©.*|Version \d+(?:\.\d+)+",
        r".{0,80}\bAll Rights? Reserved\.?.*",
        r"Tautan sumber|Sumber tautan|Komentar(?: \(\d+\))?|Tulis komentar|Kirim komentar",
        r"Sumber: [\w.-]+\.(?:com|id|co\.id|net)",
        r"Artikel ini (?:telah )?(?:tayang|terbit|diterbitkan|ditayangkan) di .*",
        r"Artikel ini merupakan (?:opini|pendapat|tulisan)\b.{0,200}",
        r"Dilarang (?:keras )?(?:mengambil|mengutip|menyalin|memperbanyak|menggunakan)\b.{0,240}",
        r"(?:Kantor )?Redaksi|Kantor Redaksi|Alamat Redaksi|Layanan Pelanggan|Hubungi Kami"
        r"|Kontak(?: Kami)?|Pedoman Media Siber|Kebijakan Privasi|Tentang Kami|Disclaimer"
        r"|Info Iklan|Karir|Redaksi & Kontak|Privacy Policy|Terms of Use",
    ),
    # "Sumber: Antara", "Sumber : BPS, diolah" - where the story (or its data) came from.
    *_rules("source-line", r"(?:Sumber|Source|Disadur dari|Dikutip dari)\s*:\s*.{1,80}"),
    # AI-written summary boxes above the story: the header line ("Intinya sih...").
    *_rules(
        "summary",
        r"Intinya [Ss]ih\W{0,4}|Poin [Pp]enting\W{0,3}|Ringkasan(?: [Bb]erita| AI)?\W{0,3}"
        r"|Rangkuman\W{0,3}|Key ?[Pp]oints?\W{0,3}|Sorotan\W{0,3}|Highlights?\W{0,3}",
    ),
    # Editor initials that close a detik/CNN-style article: "(maa/maa)", "(khr/dna)".
    *_rules("byline", r"\([a-z]{2,5}(?:/[a-z]{2,5})+\)"),
    *_rules("photo-widget", r"zoom-in\b.*"),
]

# A photo credit standing alone: "Mikhail METZEL / POOL / AFP", "Foto: AFP", "Dok. Humas".
_AGENCIES = (
    r"AFP|AP|REUTERS|Reuters|ANTARA(?: FOTO)?|Antara|POOL|SPUTNIK|Sputnik|EPA|Getty(?: Images)?|"
    r"TRIBUN[\w-]*|Tribun[\w-]*|KOMPAS(?:\.com)?|XINHUA|Xinhua|KCNA|Yonhap|Anadolu|Bloomberg|istimewa|Istimewa|ISTIMEWA|dok\.?\w*|Dok\.?\w*|"
    r"Shutterstock|Freepik|Unsplash|File Photo|[\w-]+(?:\.[\w-]+)*\.[a-z]{2,4}(?:/[\w .]+)?"
)
CREDIT_LINE = re.compile(
    rf"^(?:(?:Foto|Photo|Ilustrasi|Sumber foto|Dok\.?)\s*:\s*.{{1,60}}|"
    rf"(?:[\w.'-]+ ){{0,4}}[\w.'-]+(?: ?/ ?(?:[\w.'-]+ ){{0,3}}[\w.'-]+){{0,4}}"
    rf" ?/ ?(?:{_AGENCIES}))$"
)
# A caption: some text, then a parenthesised photo credit or a trailing "Foto: ..." credit.
CAPTION_LINE = re.compile(
    rf"^.{{8,}}?(?:\((?:[^()]*(?:{_AGENCIES})[^()]*|[^()]*/[^()]*)\)(?: ?\([^()]*\))?"
    rf"|\bFoto ?: ?[\w ./-]{{1,50}}|\bAcquire Licensing Rights"
    rf"|[.)]\s*/?\s*(?:{_AGENCIES}|[A-Z][\w.]*)(?:[/-][A-Z][\w.]*(?: [A-Z][\w.]*){{0,3}}){{1,3}}"
    rf"|\[[^\[\]]*/[^\[\]]*\]|\s/[^/]{{2,60}}(?:/[^/]{{2,60}})*/)$"
)
CAPTION_START = re.compile(
    r"^(?:\(FILES?\)|FILE PHOTO|FOTO ?:|Foto ?:|Ilustrasi ?:)", re.IGNORECASE
)

# Datelines opening the lead paragraph: "TRIBUNNEWS.COM -", "Liputan6.com, Moskow -",
# "JAKARTA, KOMPAS.com -", "Jakarta, CNN Indonesia --", "Jakarta (ANTARA) -", "Jakarta -".
_PLACE = r"[A-Z][A-Za-z'.]*(?: [A-Z][A-Za-z'.]*){0,3}"
_SITE = r"[A-Za-z0-9][\w-]*(?:\.[A-Za-z][\w-]*)*\.(?:COM|com|CO\.ID|co\.id|ID|id|NET|net)"
DATELINE = re.compile(
    rf"^(?:(?:{_PLACE}, )?{_SITE}(?:, ?{_PLACE})?"
    rf"|{_PLACE}, (?:CNN Indonesia|[A-Z][\w.]*(?: [A-Z][\w.]*)?)"
    rf"|{_PLACE} \((?:ANTARA|Antara|ANTARA News)\)"
    rf"|{_PLACE}(?: \([\w.]+\))?)(?:\s?[-–—]{{1,2}}(?: |$)|[–—](?=[A-Z]))"
)
# A standalone dateline line ("Jakarta -") must be short: a place and a dash, nothing else;
# with the site named, the dash may open the next line ("JAKARTA, KOMPAS.com" / "– Aksi").
STANDALONE_DATELINE = re.compile(
    rf"^(?:(?:{_PLACE}|{_SITE}(?:, ?{_PLACE})?)\s?[-–—]{{1,2}}"
    rf"|{_PLACE}, {_SITE}|{_SITE}, {_PLACE})$"
)

_DESK = re.compile(
    r"^(?:[a-z]{2,12}|[A-Z]{2,6}|ANTARA|Antara)(?:[/-](?:[a-z]{1,12}|[A-Z0-9]{1,6}))*$"
)
_DESK_BODY_WORDS = 12

_SENTENCE_END = re.compile(r"[.,;:\"”’')]$")


# All rules as one alternation, tried in order at the line's start: the first rule that
# matches the whole line names the reason, as a loop over LINE_RULES would, in one pass.
# A rule that cannot match a line as long as this one is left out of its alternation
# (long story paragraphs are most lines, and are tried against few rules).
_LENGTH_TIERS = (0, 120, 240, 400, 800)


def _max_width(pattern: re.Pattern[str]) -> int:
    return re._parser.parse(pattern.pattern, pattern.flags).getwidth()[1]  # type: ignore[attr-defined]


def _alternation(rules: list[tuple[int, re.Pattern[str]]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?P<r{k}>{p.pattern})" for k, p in rules), re.IGNORECASE)


_TIERED_RULES = [
    _alternation([(k, p) for k, (_, p) in enumerate(LINE_RULES) if _max_width(p) >= tier])
    for tier in _LENGTH_TIERS
]


def clutter_reason(line: str) -> str | None:
    """The reason this line is clutter, or None when it may be article text."""
    tier = next(k for k in range(len(_LENGTH_TIERS) - 1, -1, -1) if len(line) >= _LENGTH_TIERS[k])
    match = _TIERED_RULES[tier].match(line)
    if match is None or match.lastgroup is None:
        return None
    return LINE_RULES[int(match.lastgroup[1:])][0]


# A credit in capitals, agency or photographer first: "KOMPAS/KRISTI DWI UTAMI".
_CAPS_CREDIT = re.compile(
    r"^[A-Z][A-Z0-9.&'-]*(?: [A-Z][A-Z0-9.&'-]*){0,3} ?/ ?[A-Z][A-Z .'-]{1,50}$"
)


def is_credit(line: str) -> bool:
    return len(line) <= 90 and bool(CREDIT_LINE.match(line) or _CAPS_CREDIT.match(line))


def is_caption(line: str) -> bool:
    """A photo caption: text closed by a photo credit, or opened by a caption marker."""
    if CAPTION_START.match(line):
        return True
    tail = line[-120:]
    if not (
        line.endswith(")") or "/" in tail or "-" in tail or "Foto" in tail or "Acquire" in tail
    ):
        return False  # no credit at the end: spare the slow pattern
    if not CAPTION_LINE.match(line):
        return False
    # A body paragraph closed by agency or desk initials, "(ant/dil/jpnn)", "(ANTARA)",
    # ".(RAZ/RGI)": the story's own text; a caption is short.
    closing = line[line.rfind("(") + 1 : -1] if line.endswith(")") else ""
    if _DESK.match(closing) and len(line.split()) >= _DESK_BODY_WORDS:
        return False
    # A closing "(Tribunnews.com/Whiesa)" alone is a byline, not a caption.
    return not line.startswith("(")


def is_heading_like(line: str) -> bool:
    """Short, unpunctuated, capitalised: how section subheads look in plain-text pages."""
    words = line.split()
    return (
        1 <= len(words) <= 14
        and len(line) <= 110
        and not _SENTENCE_END.search(line)
        and (line[0].isupper() or line[0].isdigit())
        and not line.startswith(('"', "“", "'", "‘"))
    )


# "Jakarta: Pemerintah ..." (a colon for a dash), only where the lead is looked for
COLON_DATELINE = re.compile(
    rf"^(?!(?:Baca|Lihat|Simak|Sumber|Foto|Catatan|Editor|Penulis)\b){_PLACE}: (?=[A-Z])"
)


def split_dateline(line: str, colon: bool = False) -> tuple[str, str] | None:
    """("TRIBUNNEWS.COM -", rest) when the line opens with a dateline, else None."""
    match = DATELINE.match(line) or (COLON_DATELINE.match(line) if colon else None)
    if not match:
        return None
    rest = line[match.end() :].strip()
    if not rest:
        return None
    return match.group(0).strip(), rest


QUOTE_OPENERS = ('"', "“", "'", "‘", "«", "„")
