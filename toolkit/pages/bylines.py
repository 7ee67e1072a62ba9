"""Byline grammar: the ways Indonesian news pages credit their writers and editors.

One function, `parse_byline`, reads a line that is only a credit ("Penulis: A | Editor: B",
"Rep: A/ Red: B", "LAPORAN: A", "A, Jurnalis", "oleh A diperbarui ...") into the names it
names. The roles are words, not sites: a new publisher that writes "Reporter" or "Redaktur"
is understood without a profile. Nothing is guessed: a line that names no one gives no
names, and an editor is only ever a name printed after an editor's label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Labels for the people who wrote the story, and for the people who edited it.
_AUTHOR_LABELS = (
    r"Penulis|Reporter|Reporters|Wartawan|Jurnalis|Pewarta|Kontributor|Koresponden"
    r"|Ditulis oleh|Dilaporkan oleh|Laporan|Liputan|Teks|Naskah|Author|Written by|Writer"
    r"|Rep|Oleh|By"
)
_EDITOR_LABELS = r"Editor|Penyunting|Redaktur|Red|Editing|Edited by|Penanggung jawab"
# Credits that are neither writer nor editor (video producer, photographer): recognised so
# the line is dropped as a byline, never read as a name of either role.
_OTHER_LABELS = r"Produser|Producer|Fotografer|Foto|Videografer|Video Editor|Grafis|Desain"
# The label is read in any case ("LAPORAN:"), the name after it must start with a capital.
_LABEL = re.compile(
    rf"(?P<label>(?i:(?:{_EDITOR_LABELS})\s*(?:&|dan)\s*(?:{_AUTHOR_LABELS})"
    rf"|(?:{_AUTHOR_LABELS})\s*(?:&|dan)\s*(?:{_EDITOR_LABELS})"
    rf"|Laporan (?:Wartawan|Reporter|Kontributor)(?: [\w.-]+){{0,3}}?(?=\s*,)"
    rf"|Laporan oleh|{_OTHER_LABELS}|{_EDITOR_LABELS}|{_AUTHOR_LABELS}))"
    r"(?P<sep>\s*[:：]\s*|\s*,\s*(?=[A-Z])|\s+(?=[A-Z]))"
)
# Labels that may stand before a name with only a space ("Penulis Nama", "Oleh Nama"); the
# others need a colon ("Teks: Nama"), or "Teks Berjalan" would be a credit.
_SPACED_LABELS = re.compile(
    r"(?i:Penulis|Reporter|Editor|Penyunting|Redaktur|Oleh|By|Pewarta|Kontributor"
    r"|Laporan oleh|Ditulis oleh|Dilaporkan oleh|Written by|Edited by)"
)
_NAME_WORD = r"[A-Z][\w'’.-]*|[a-z]{1,3}|bin|binti|van|de|al-\w+"
_NAME_SHAPE = re.compile(rf"^(?:{_NAME_WORD})(?: (?:{_NAME_WORD}|[A-Z][\w'’.-]*))*$")
# Job titles printed after a name: "NAME, Jurnalis", "NAME / Jurnalis", "NAME - Reporter".
_JOB = (
    r"Jurnalis|Wartawan|Reporter|Kontributor|Penulis|Koresponden|Redaktur|Editor"
    r"|Jurnalis \w+(?: \w+)?|Wartawan \w+(?: \w+)?|Kontributor \w+(?: \w+)?"
)
_NAME_THEN_JOB = re.compile(
    rf"^(?P<name>[A-Z][^,/|:]{{2,60}}?)\s*(?:,|/|\||-|–)\s*(?P<job>{_JOB})$"
)
# "NAME, CNBC Indonesia", "NAME - detikNews": a writer and the outlet they write for.
_ONE_NAME = r"[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){1,4}"
_NAME_THEN_OUTLET = re.compile(
    rf"^(?P<name>{_ONE_NAME}(?:(?:, | dan | & ){_ONE_NAME})*)\s*(?:,|-|–|\|)\s*"
    r"(?P<outlet>[A-Za-z][\w.]*(?: [A-Z][\w.]*){0,2})$"
)
_OUTLET_WORD = re.compile(
    r"\b[A-Z]{3,}\b|\.(?:com|id)\b|\b(?:Indonesia|News|Times|TV)\b|^[a-z]+[A-Z]"
)


def _is_outlet(text: str) -> bool:
    return not is_person(text) or bool(_OUTLET_WORD.search(text)) or text.startswith("Tim ")


_OUTLET_THEN_NAME = re.compile(
    rf"^(?P<outlet>Tim [\w.]+(?: [\w.]+)?)\s*[-–/|]\s*(?P<name>{_ONE_NAME})$"
)


# "Editor" or "Penulis" printed glued to the name by a page that lost its markup.
_GLUED = re.compile(
    r"^(?P<label>Editor|Penulis|Reporter|Penyunting)"
    r"(?P<name>[A-Z][a-z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,4})$"
)
# Desk or agency initials closing a story on their own line: "(fru)", "(OL-8)", "(Bob/P-3)",
# "(ant/dil/jpnn)", "(*)". Inside a paragraph they are part of the body and stay there.
DESK_INITIALS = re.compile(
    r"^\(\s*(?:\*+|[A-Za-z]{1,6}(?:[-/][A-Za-z0-9]{1,6}){0,4}|[A-Z][a-z]+/[A-Z]+-\d+)\s*\)\.?$"
)
_SPLIT_NAMES = re.compile(r"\s*(?:,|;|&|\bdan\b|\band\b|\|)\s*")
_TRAILING_NOISE = re.compile(
    r"\s*(?:[-–|]\s*)?(?:\b(?:diperbarui|diupdate|updated|update|dipublikasikan|published|terbit)\b.*"
    r"|\s\d{1,2}[ /-](?:\w+|\d{1,2})[ /-]\d{4}.*)$",
    re.IGNORECASE,
)
_ORGANISATIONS = re.compile(
    r"\b(?:PT|CV|Tbk|Media|Cyber|Group|Grup|Network|Redaksi|Newsroom|Team|Web|Design|Admin"
    r"|Official|Com|News|Online|Digital|Corporation|Inc|Ltd|Portal|Desk)\b|\.(?:com|co\.id|id|net|org|tv)\b",
    re.IGNORECASE,
)


@dataclass
class Byline:
    """The names one credit line gives. `editor` is only set from an editor's label."""

    authors: list[str] = field(default_factory=list)
    editor: str | None = None
    rest: str | None = None  # what followed the names (a date, "diperbarui ..."), unparsed


def is_person(name: str) -> bool:
    """A person's name, not an organisation ("PT VIVA MEDIA BARU", "Kompas Cyber Media")."""
    name = name.strip()
    if not name or len(name) > 60 or any(ch.isdigit() for ch in name):
        return False
    if _ORGANISATIONS.search(name):
        return False
    return len(name.split()) <= 6


def person_names(value: str) -> list[str]:
    """The persons a metadata author field names; none when it names an organisation
    ("Media Indonesia - News & Views" is not "Views")."""
    if _ORGANISATIONS.search(value):
        return []
    return [n for n in split_names(value) if is_person(n)]


def split_names(value: str) -> list[str]:
    """ "A, B dan C" -> ["A", "B", "C"]; keeps only name-shaped parts."""
    names: list[str] = []
    for part in _SPLIT_NAMES.split(value.strip()):
        part = part.strip(" .-–—:()")
        if (
            part
            and len(part) <= 60
            and len(part.split()) <= 6
            and part[0].isalpha()
            and part not in names
        ):
            names.append(part)
    return names


def _names(value: str) -> tuple[list[str], str | None]:
    """Names at the start of `value`, and what follows them (a date, an update note)."""
    rest = None
    if match := _TRAILING_NOISE.search(value):
        rest = value[match.start() :].strip(" -–|") or None
        value = value[: match.start()]
    value = value.strip(" .-–|:/")
    if not value or len(value) > 120:
        return [], rest
    names = [n for n in split_names(value) if _NAME_SHAPE.match(n) or n.isupper()]
    return names, rest


def _segments(line: str) -> list[str]:
    """ "Penulis: A | Editor: B", "Rep: A/ Red: B": one credit per segment."""
    parts = re.split(
        r"\s+\|\s+|\s*\|\s*(?=[A-Za-z]+\s*:)|\s*/\s*(?=(?:Red|Editor|Redaktur)\b)", line
    )
    return [p.strip() for p in parts if p.strip()]


def parse_byline(line: str) -> Byline | None:
    """The credit a line gives, or None when the line is not a credit line.

    A whole line must be credits: a sentence that happens to start with "Oleh karena itu"
    is not a byline (the names must be name-shaped and the line short).
    """
    line = line.strip()
    if not line or len(line) > 160 or line.count(" ") > 24:
        return None
    if DESK_INITIALS.match(line):
        return Byline()
    if match := _NAME_THEN_JOB.match(line):
        names, _ = _names(match["name"])
        if names and all(is_person(n) for n in names):
            job = match["job"].lower()
            if job.startswith(("redaktur", "editor")):
                return Byline(editor=names[0])
            return Byline(authors=names)
    match = _NAME_THEN_OUTLET.match(line)
    if match and _is_outlet(match["outlet"]):
        names, _ = _names(match["name"])
        if names and all(is_person(n) for n in names):
            return Byline(authors=names)
    match = _OUTLET_THEN_NAME.match(line)
    if match and _is_outlet(match["outlet"]):
        names, _ = _names(match["name"])
        if names and all(is_person(n) for n in names):
            return Byline(authors=names)
    if match := _GLUED.match(line):
        if match["label"] in ("Editor", "Penyunting"):
            return Byline(editor=match["name"])
        return Byline(authors=[match["name"]])
    byline = Byline()
    found = False
    segments = _segments(line)
    if len(segments) > 1 and not _LABEL.match(segments[0]) and _LABEL.match(segments[1]):
        first, _ = _names(segments[0])  # "Mela Kurniasih | Editor: Sorta Manurung"
        if first and len(first) == len(split_names(segments[0])) and all(map(is_person, first)):
            byline.authors += first
            found = True
            segments = segments[1:]
    for segment in segments:
        label_match = _LABEL.match(segment)
        if not label_match:
            if not found:
                return None
            byline.rest = byline.rest or segment  # "Reporter : A | Kamis, 18 Januari ..."
            continue
        label = label_match["label"].lower()
        value = segment[label_match.end() :]
        spaced = label_match["sep"].strip() == ""
        if spaced and not _SPACED_LABELS.fullmatch(label_match["label"]):
            if not found:
                return None
            byline.rest = byline.rest or segment
            continue
        names, rest = _names(value)
        if not names and not rest:
            if label_match["sep"].strip() in (":", "：") and not value.strip():
                found = True  # a bare label: the name is on the next line
                continue
            return None
        # a credit line names at most a few people; more words means a sentence
        if any(len(n.split()) > 5 for n in names) or (
            value and len(value.split()) > 14 and not rest
        ):
            return None
        found = True
        byline.rest = byline.rest or rest
        editor_first = re.match(rf"(?:{_EDITOR_LABELS})\s*(?:&|dan)", label, re.IGNORECASE)
        author_first = re.match(rf"(?:{_AUTHOR_LABELS})\s*(?:&|dan)", label, re.IGNORECASE)
        if editor_first or author_first:
            # "Redaktur & Reporter : A" - one person in both roles, as printed
            byline.authors += [n for n in names if n not in byline.authors]
            if names and byline.editor is None:
                byline.editor = names[0]
        elif re.fullmatch(_EDITOR_LABELS, label, re.IGNORECASE):
            if names and byline.editor is None:
                byline.editor = names[0]
        elif re.fullmatch(_OTHER_LABELS, label, re.IGNORECASE):
            pass
        else:
            byline.authors += [n for n in names if n not in byline.authors]
    return byline if found else None


_JOB_WORD = re.compile(rf"^(?:{_JOB}|Kolumnis|Columnist)$", re.IGNORECASE)


def job_line(line: str) -> bool:
    """ "Jurnalis", "Kolumnis": a job title alone, printed under the writer's name."""
    return bool(_JOB_WORD.match(line.strip()))


_BARE_LABEL = re.compile(rf"\s*(?P<label>{_AUTHOR_LABELS}|{_EDITOR_LABELS})\s*:?\s*", re.I)


def bare_label(line: str) -> str | None:
    """ "Penulis" / "Editor:" alone on a line: the role of the name on the next line."""
    if len(line) > 40:
        return None
    match = _BARE_LABEL.fullmatch(line)
    if not match:
        return None
    return "editor" if re.fullmatch(_EDITOR_LABELS, match["label"], re.I) else "author"


def name_line(line: str) -> list[str]:
    """The names of a line that is only names (the second line of a two-line credit)."""
    names, rest = _names(line)
    if rest or not names or not all(is_person(n) for n in names):
        return []
    parts = [p for p in _SPLIT_NAMES.split(line.strip()) if p.strip(" .-–—:()")]
    if len(names) != len(parts) or bare_label(line) or _JOB_WORD.match(line):
        return []  # a part that is not a name, or a label ("Jurnalis") standing alone
    return names
