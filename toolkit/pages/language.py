"""A small stopword heuristic for the language of a page (no models, no downloads).

It only has to tell Indonesian from a page clearly written in something else; Malay
shares most function words with Indonesian and is reported as "id".
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "id": _words(
        "yang dan di ke dari ini itu dengan untuk tidak dalam akan pada juga oleh karena "
        "adalah sebagai atau telah bahwa kata mereka kami tersebut sudah lebih saat bisa "
        "para setelah sejak masih hanya belum ada dia ia kita namun menjadi secara"
    ),
    "en": _words(
        "the and of to in is that for it with was on as by at from this be are have has "
        "said were which an not but they their been will would who its"
    ),
    "vi": _words("của và là các những được trong có cho với không này một người đã"),
    "nl": _words("de het een en van in is dat op te zijn met voor niet aan er"),
    "fr": _words("le la les et des du un une est que dans pour pas sur au avec"),
    "es": _words("el la los las y de que en un una es por para con no se del"),
    "de": _words("der die das und ist nicht mit von zu den ein eine auf für sich dem"),
}
_WORD = re.compile(r"[^\W\d_]+")
UNKNOWN = "und"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the language whose stopwords cover most of the text, or "und"."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return UNKNOWN
    scores = {
        lang: sum(w in stops for w in words) / len(words) for lang, stops in STOPWORDS.items()
    }
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 0.05 else UNKNOWN
