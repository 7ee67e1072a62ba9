"""Printed publication times in Indonesian news pages -> ISO 8601 with the zone's offset.

Only a line that is a date *and* a time *and* a zone (WIB/WITA/WIT) counts as a printed
publication time: a dateline such as "Rabu (20/9/2023)" inside a sentence is when the
story's events happened, not when the page was published, and is never used.
"""

from __future__ import annotations

import re
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

_WEEKDAY = r"(?:Senin|Selasa|Rabu|Kamis|Jumat|Jum'at|Sabtu|Minggu|Ahad)"
_ZONE = r"(?P<zone>WITA|WIB|WIT)"
_TIME = r"(?:pukul |Pukul |jam )?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.]\d{2})?"
# Words that may open the line; "updated" ones mark a time that is not the publication.
_PUBLISHED_WORDS = r"Diterbitkan|Dipublikasikan|Terbit|Tayang|Dipublikasi|Published|Publikasi"
_UPDATED_WORDS = r"Diperbarui|Diupdate|Update|Updated|Pembaruan|Terakhir diperbarui"
_PREFIX = (
    rf"(?:(?P<label>{_PUBLISHED_WORDS}|{_UPDATED_WORDS})\s*:?\s*)?"
    r"(?:[A-Z][\w.]*\.com\s*-\s*)?"
    rf"(?:{_WEEKDAY},?\s*)?"
)
_NAMED = re.compile(
    rf"^{_PREFIX}(?P<day>\d{{1,2}})\s+(?P<month>[A-Za-z]+)\.?\s+(?P<year>\d{{4}})"
    rf"\s*(?:,|-|\||\bpukul\b|\bPukul\b)?\s*{_TIME}\s*{_ZONE}$"
)
_NUMERIC = re.compile(
    rf"^{_PREFIX}(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})/(?P<year>\d{{4}})"
    rf"\s*(?:,|-|\|)?\s*{_TIME}\s*{_ZONE}$"
)


def parse_printed_time(line: str) -> tuple[str, bool] | None:
    """(ISO 8601 time, is_publication) for a line that is a printed date+time+zone, else None.

    is_publication is False for "Diperbarui ..." (updated) lines.
    """
    line = line.strip()
    for pattern in (_NAMED, _NUMERIC):
        match = pattern.match(line)
        if not match:
            continue
        month_text = match["month"]
        month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text.lower())
        if month is None:
            return None
        try:
            tz = timezone(timedelta(hours=ZONES[match["zone"]]))
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
        label = (match["label"] or "").lower()
        is_publication = not re.match(_UPDATED_WORDS, label, re.IGNORECASE) if label else True
        return when.isoformat(), is_publication
    return None


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
