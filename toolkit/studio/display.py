"""Task fields written for people, not programs: the publication date as Indonesian news
sites print it ("Rabu, 20 Sep 2023 20:02 WIB") instead of an ISO timestamp."""

from __future__ import annotations

from datetime import datetime, timedelta

_DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
# Indonesia's three time zones; any other offset is printed as it is.
_ZONES = {timedelta(hours=7): "WIB", timedelta(hours=8): "WITA", timedelta(hours=9): "WIT"}


def display_date(value: datetime | str | None) -> str:
    """'Rabu, 20 Sep 2023 20:02 WIB' for a timestamp (or its ISO string); '' for none or an
    unreadable one. A naive timestamp is printed without a zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    offset = value.utcoffset()
    if offset is None:
        zone = ""
    elif offset in _ZONES:
        zone = " " + _ZONES[offset]
    else:
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        zone = f" UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return (
        f"{_DAYS[value.weekday()]}, {value.day} {_MONTHS[value.month - 1]} {value.year} "
        f"{value.hour:02d}:{value.minute:02d}{zone}"
    )
