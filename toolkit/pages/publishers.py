"""Publisher profiles: how each site prints its headline, byline and end-of-article mark.

Profiles live in the `PROFILES` registry (name -> Profile); `detect_profile` picks one by
URL host, else by the site's fingerprints in the page text, else the generic fallback.
The clutter rules (`toolkit.pages.clutter`) are shared by all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_NAME = r"[A-Z][\w.'-]*(?: [\w.'-]+){0,5}"


@dataclass(frozen=True)
class Profile:
    name: str
    host: re.Pattern[str]  # URL hosts of the publisher (network subdomains included)
    markers: tuple[re.Pattern[str], ...]  # fingerprints of the site in a page's text
    # The first content line is the headline (known layouts); the generic fallback
    # instead demands evidence, so a body sentence is never promoted to title.
    headline_first: bool = True
    # A standfirst may sit between the headline and the lead.
    standfirst: bool = False
    author_lines: tuple[re.Pattern[str], ...] = ()  # bylines: group "authors" (and "editor")
    end_bylines: tuple[re.Pattern[str], ...] = ()  # closing bylines: the article ends there
    extra: dict[str, str] = field(default_factory=dict)


def _re(*patterns: str, flags: int = 0) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, flags) for p in patterns)


# Byline forms every profile understands (a line that is only a byline).
SHARED_AUTHOR_LINES = _re(
    r"^(?:Penulis|Reporter|Pewarta|Wartawan|Jurnalis|Laporan [Ww]artawan [\w .]+?|Oleh"
    r"|Ditulis oleh)\s*:\s*(?P<authors>[^|]+?)"
    r"(?:\s*\|\s*(?:Editor|Penyunting)\s*:\s*(?P<editor>.+))?$",
    rf"^(?:Oleh|By)\s+(?P<authors>{_NAME})$",
    r"^(?:Editor|Penyunting|Redaktur)\s*:\s*(?P<editor>.+)$",
    # Kompas: "Penulis Nirmala Maulana Achmad | Editor Jessi Carina"
    r"^(?:Penulis|Reporter)\s+(?P<authors>[^|:]+?)\s*\|\s*(?:Editor|Penyunting)\s+(?P<editor>[^|:]+)$",
    # Tribun network: "Laporan Wartawan Tribunjateng.com, Fajar Nugroho"
    r"^Laporan (?:[Ww]artawan|[Rr]eporter) [\w.-]+(?: [\w.-]+){0,3}, (?P<authors>[^,]{3,60})$",
)
# Closing bylines every profile understands: "Huyen Le (Menurut Reuters )", "(Kompas.com/Nama)".
SHARED_END_BYLINES = _re(
    r"^(?P<authors>[A-Z][\w.' -]{1,60}?)\s*"
    r"\((?:Menurut|Sumber|Dari|Berdasarkan|Dilansir|According to)\b[^)]*\)$",
    r"^\((?:[\w-]+\.)+(?:com|co\.id|id)/(?P<authors>[^)]+)\)$",
    r"^\([a-z]{2,5}(?:/[a-z]{2,5})+\)$",  # editor initials: "(maa/maa)"
)

PROFILES: dict[str, Profile] = {
    "tribunnews": Profile(
        name="tribunnews",
        # tribunnews.com and its network: jateng.tribunnews.com, tribun-bali.com, tribunjabar.id...
        host=re.compile(r"(?:^|\.)(?:tribunnews\.com|tribun[\w-]*\.(?:com|id|co\.id))$"),
        markers=_re(
            r"^TRIBUN[\w-]*\.(?:COM|ID|CO\.ID)\b",
            r"\(Tribun[\w-]*\.com/[^)]+\)$",
            r"TRIBUNnews\.com|Nikmati berita interaktif dan LIVE report 24 jam hanya di TribunX",
            r"^Baca WhatsApp Tribunnews$",
            flags=re.MULTILINE,
        ),
        standfirst=True,
        author_lines=_re(r"^(?:Penulis|Reporter)\s*:\s*(?P<authors>.+)$"),
        end_bylines=_re(r"^\(Tribun[\w-]*\.(?:com|co\.id|id)/(?P<authors>[^)]+)\)$"),
    ),
    "liputan6": Profile(
        name="liputan6",
        host=re.compile(r"(?:^|\.)liputan6\.com$"),
        markers=_re(r"^Liputan6\.com, ", r"Liputan6\.com", flags=re.MULTILINE),
        standfirst=True,
    ),
    "detik": Profile(
        name="detik",
        host=re.compile(r"(?:^|\.)detik\.com$"),
        markers=_re(
            r"^.{2,80} - detik[A-Z]\w*$",
            r"\[Gambas:[^\]]*\]",
            r"^SCROLL TO CONTINUE WITH CONTENT$",
            r"persembahan detikcom",
            flags=re.MULTILINE,
        ),
        # "Tim detikcom - detikNews", "Anggi Muliawati, Rolando Sihombing - detikFinance"
        author_lines=_re(r"^(?P<authors>[^-]{2,120}?) - detik[A-Z]\w*$"),
    ),
    "generic": Profile(
        name="generic",
        host=re.compile(r"(?!)"),
        markers=(),
        headline_first=False,
    ),
}
FALLBACK = "generic"


def detect_profile(text: str, url: str | None = None) -> Profile:
    """The profile for a page: by URL host when known, else by most fingerprints in text."""
    if url:
        host = (urlsplit(url).hostname or "").lower()
        for profile in PROFILES.values():
            if profile.host.search(host):
                return profile
    scores = {
        name: sum(1 for marker in profile.markers if marker.search(text))
        for name, profile in PROFILES.items()
    }
    best = max(scores, key=lambda name: scores[name])
    return PROFILES[best] if scores[best] > 0 else PROFILES[FALLBACK]
