"""Printed publication times in Indonesian news pages -> ISO 8601 with the zone's offset.

Only a line that is a date *and* a time *and* a zone (WIB/WITA/WIT) counts as a printed
publication time: a dateline such as "Rabu (20/9/2023)" inside a sentence is when the
story's events happened, not when the page was published, and is never used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "pebruari": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nopember": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}  # fmt: skip
ZONES: dict[str, int] = {"WIB": 7, "WITA": 8, "WIT": 9}

_WEEKDAY = (
    r"(?:Senin|Selasa|Rabu|Kamis|Jumat|Jum'at|Sabtu|Minggu|Ahad|Monday|Tuesday|Wednesday"
    r"|Thursday|Friday|Saturday|Sunday|Sen|Sel|Rab|Kam|Jum|Sab|Min|Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
)
_ZONE = r"(?P<zone>WITA|WIB|WIT)"
_TIME = r"(?:pukul |jam )?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.]\d{2})?"
# Words that may open the date; "updated" ones mark a time that is not the publication.
_PUBLISHED_WORDS = (
    r"Diterbitkan|Dipublikasikan|Terbit|Tayang|Dipublikasi|Published|Publikasi|Posted|Dibuat"
)
_UPDATED_WORDS = r"Terakhir diperbarui|Diperbarui|Diupdate|Update|Updated|Pembaruan|Last updated"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY_FIRST = rf"(?P<day>\d{{1,2}})\s+{_MONTH}\s+(?P<year>\d{{4}})"
_MONTH_FIRST = rf"{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"
_NUMERIC_DATE = r"(?P<day>\d{1,2})[/-](?P<month>\d{1,2})[/-](?P<year>\d{4})"
_ISO_DATE = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
_GLUE = r"\s*(?:,|-|–|\||/|\bpukul\b|\bjam\b)?\s*"
# One printed time: an optional label and weekday, a date, then a time and its zone.
_STAMPS = [
    re.compile(
        rf"(?:(?P<label>{_PUBLISHED_WORDS}|{_UPDATED_WORDS})\b\s*(?:pada\s*)?:?\s*)?"
        rf"(?:{_WEEKDAY}\b\.?,?\s*)?(?:{date}){_GLUE}{_TIME}\s*{_ZONE}\b",
        re.IGNORECASE,
    )
    for date in (_DAY_FIRST, _MONTH_FIRST, _NUMERIC_DATE, _ISO_DATE)
]
_HAS_ZONE = re.compile(r"\d\s*(?:WIB|WITA|WIT)\b", re.IGNORECASE)  # a cheap first test
_UPDATED_LABEL = re.compile(rf"\b(?:{_UPDATED_WORDS})\b", re.IGNORECASE)
# What may stand beside a printed time on a date line: a site name, a section label, a
# weekday printed apart; anything longer is a sentence, and its dates are story dates.
_SEPARATORS = re.compile(r"\s*(?:\||•|·|/|–|—|\s-\s)\s*")
_MAX_SIDE_WORDS = 5


@dataclass(frozen=True)
class PrintedTime:
    iso: str
    is_publication: bool
    others: tuple[str, ...]  # the line's other segments ("Peristiwa", "LAPORAN: NAME")


def find_printed_time(line: str) -> PrintedTime | None:
    """The printed time of a date line ("Peristiwa | 19 Januari 2021, 14:32 WIB",
    "RABU, 24 JANUARI 2024 | 13:19 WIB | LAPORAN: NAME"), or None.

    The first publication time wins over an "updated" one; a line with only an updated
    time gives that time with is_publication False.
    """
    line = line.strip()
    if len(line) > 200 or not _HAS_ZONE.search(line):
        return None
    found: list[tuple[int, int, str, bool]] = []
    for pattern in _STAMPS:
        for match in pattern.finditer(line):
            if any(s < match.end() and match.start() < e for s, e, _, _ in found):
                continue
            iso = _stamp(match)
            if iso is None:
                continue
            before = line[max(0, match.start() - 25) : match.start()]
            updated = bool(_UPDATED_LABEL.search(match["label"] or "")) or (
                not match["label"] and bool(_UPDATED_LABEL.search(before))
            )
            found.append((match.start(), match.end(), iso, not updated))
    if not found:
        found = _split_date_and_time(line)
        if not found:
            return None
    found.sort()
    rest = line
    for start, end, _, _ in sorted(found, reverse=True):
        rest = rest[:start] + " | " + rest[end:]
    others = tuple(
        part.strip(" ,.-:")
        for part in _SEPARATORS.split(rest)
        if part.strip(" ,.-:") and not re.fullmatch(_WEEKDAY + r"\.?,?", part.strip(" ,.-:"), re.I)
    )
    if sum(len(o.split()) for o in others if not _credit(o)) > _MAX_SIDE_WORDS:
        return None  # a sentence around the time: a story date, not the page's
    publication = [f for f in found if f[3]]
    first = publication[0] if publication else found[0]
    return PrintedTime(first[2], first[3], others)


_NUMERIC_N = (
    _NUMERIC_DATE.replace("day", "nday").replace("month", "nmonth").replace("year", "nyear")
)
_DATE_ONLY = re.compile(
    rf"(?:(?P<label>{_PUBLISHED_WORDS}|{_UPDATED_WORDS})\b\s*:?\s*)?(?:{_WEEKDAY}\b\.?,?\s*)?"
    rf"(?:{_DAY_FIRST}|{_NUMERIC_N})",
    re.IGNORECASE,
)
_TIME_ZONE = re.compile(
    rf"(?:pukul |jam )?(?P<hour>\d{{1,2}})[:.](?P<minute>\d{{2}})(?:[:.]\d{{2}})?\s*{_ZONE}\b", re.I
)


# A line that is only a date and a time with no zone: "09 January 2024 09:58". Indonesian
# publishers print Jakarta time; the caller decides whether to read it as WIB.
_ENDS_IN_TIME = re.compile(r"\d[:.]\d\d$")
_ZONELESS = [
    re.compile(
        rf"^(?:(?P<label>{_PUBLISHED_WORDS}|{_UPDATED_WORDS})\b\s*:?\s*)?"
        rf"(?:{_WEEKDAY}\b\.?,?\s*)?(?:{date}){_GLUE}{_TIME}$",
        re.IGNORECASE,
    )
    for date in (_DAY_FIRST, _MONTH_FIRST, _NUMERIC_DATE)
]


def parse_zoneless_line(line: str, zone: str = "WIB") -> tuple[str, bool] | None:
    """(ISO time in `zone`, is_publication) for a whole line that is a date and a time
    printed without a zone, else None."""
    line = line.strip()
    if len(line) > 60 or not _ENDS_IN_TIME.search(line):
        return None
    for pattern in _ZONELESS:
        if match := pattern.match(line):
            fields = {k: match[k] for k in ("day", "month", "year", "hour", "minute")}
            iso = _stamp({**fields, "zone": zone})
            if iso is None:
                return None
            return iso, not _UPDATED_LABEL.search(match["label"] or "")
    return None


def _unnamed(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


# A line that is only a date, no time: a date banner or a list item's stamp. Dropped as a
# date line; never a publication time (the time of day is not printed).
DATE_ONLY_LINE = re.compile(
    rf"^(?:(?:{_PUBLISHED_WORDS}|{_UPDATED_WORDS})\b\s*:?\s*)?(?:{_WEEKDAY}\b\.?,?\s*)?"
    rf"(?:{_unnamed(_DAY_FIRST)}|{_unnamed(_MONTH_FIRST)}|{_unnamed(_NUMERIC_DATE)})\.?$",
    re.IGNORECASE,
)


def _split_date_and_time(line: str) -> list[tuple[int, int, str, bool]]:
    """ "RABU, 24 JANUARI 2024 | 13:19 WIB": date and time printed in two segments."""
    date = _DATE_ONLY.search(line)
    if not date:
        return []
    time = _TIME_ZONE.search(line, date.end())
    if not time or len(line[date.end() : time.start()].strip(" |,-–•")) > 0:
        return []
    fields = {
        "day": date["day"] or date["nday"],
        "month": date["month"] or date["nmonth"],
        "year": date["year"] or date["nyear"],
        "hour": time["hour"],
        "minute": time["minute"],
        "zone": time["zone"],
    }
    iso = _stamp(fields)
    if iso is None:
        return []
    updated = bool(_UPDATED_LABEL.search(date["label"] or ""))
    return [(date.start(), time.end(), iso, not updated)]


def _credit(segment: str) -> bool:
    return bool(
        re.match(r"(?:Laporan|Penulis|Reporter|Editor|Oleh|Redaktur|Rep|Red)\b", segment, re.I)
    )


def _stamp(match) -> str | None:
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text.lower().rstrip("."))
    if month is None:
        return None
    try:
        tz = timezone(timedelta(hours=ZONES[match["zone"].upper()]))
        when = datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            tzinfo=tz,
        )
    except ValueError:
        return None
    return when.isoformat()


def parse_printed_time(line: str) -> tuple[str, bool] | None:
    """(ISO 8601 time, is_publication) for a line that is a printed date+time+zone, else None.

    is_publication is False for "Diperbarui ..." (updated) lines.
    """
    printed = find_printed_time(line)
    return (printed.iso, printed.is_publication) if printed else None


def normalise_iso(value: str) -> str | None:
    """A machine-readable time (HTML meta, JSONL field) -> ISO 8601 with offset, or None.

    A time without an offset is not guessed: None. A printed Indonesian time is accepted too.
    """
    value = value.strip()
    printed = parse_printed_time(value)
    if printed:
        return printed[0]
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    if when.utcoffset() == timedelta(0):
        # UTC stamps are shown in WIB, the zone Indonesian readers and pages use.
        when = when.astimezone(timezone(timedelta(hours=7)))
    return when.isoformat()
