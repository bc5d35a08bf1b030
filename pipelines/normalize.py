"""Vietnamese text normalisation shared by cleaning, relevance, dedup and search.

Everything here is a pure function over ``str`` and runs on every article, so the hot
paths use precompiled regexes and lookup tables built once at import, and C-level
string methods (``str.translate`` with a dict is avoided: it is slow on non-ASCII text).
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# the marks Vietnamese letters decompose into: five tones, circumflex, breve, horn
_VIETNAMESE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def fold(text: str) -> str:
    """Lower-case ASCII skeleton of Vietnamese text: "Nghị định" -> "nghi dinh".

    Used where the reader may type without diacritics (search) and where sources drop
    them (URL slugs); ``đ`` has no Unicode decomposition, so it is mapped by hand.
    The search index folds every stored article, so the Vietnamese marks go with C-speed
    ``str.replace`` and only the non-ASCII characters left (quotes, dashes, other scripts)
    are checked one by one for other combining marks; a dict ``str.translate`` and a loop
    over every character made this a visible share of a crawl.
    """
    stripped = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    for mark in _VIETNAMESE_MARKS:
        stripped = stripped.replace(mark, "")
    if not stripped.isascii():
        stripped = _NON_ASCII.sub(_unless_combining, stripped)
    return stripped.lower()


_WORD = re.compile(r"[^\W_]+")  # letters and digits; everything else separates words


def words(text: str) -> list[str]:
    """The folded words of ``text``: what the search index holds, and what a query looks for."""
    return _WORD.findall(fold(text))


def search_document(title: str, body: str) -> str:
    """An article as the search index stores it (``qpan.storage.search``). Here, beside ``fold``,
    not in the storage module: the page workers compute it, and importing that module would
    cost each of them SQLAlchemy and the ORM models (0.35-0.45 s of start-up)."""
    return " ".join(words(f"{title}\n{body}"))


def _unless_combining(match: re.Match[str]) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


# --- tone marks -------------------------------------------------------------------------------
# Vietnamese writes five tones as combining marks on one vowel of the syllable. Two
# conventions exist for where the mark sits in open syllables ending in -oa, -oe, -uy
# ("hoà"/"hòa", "thuỷ"/"thủy", "khoẻ"/"khỏe"); sites mix them, and so do authors in one
# article. We rewrite every syllable to the traditional placement that the seed texts and
# most newspapers use ("hóa", "Ủy", "thủy"), so both spellings become the same string.

_TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # huyền, sắc, hỏi, ngã, nặng
_TONELESS_VOWELS = "aăâeêioôơuưy"
_MARKED_VOWELS = frozenset("ăâêôơư")  # vowels whose quality mark attracts the tone


def _tone_tables() -> tuple[dict[str, tuple[str, int]], dict[tuple[str, int], str]]:
    split: dict[str, tuple[str, int]] = {}
    join: dict[tuple[str, int], str] = {}
    for base in _TONELESS_VOWELS + _TONELESS_VOWELS.upper():
        for index, mark in enumerate(_TONES, start=1):
            toned = unicodedata.normalize("NFC", base + mark)
            split[toned] = (base, index)
            join[(base, index)] = toned
    return split, join


_SPLIT_TONE, _JOIN_TONE = _tone_tables()
_VOWELS = frozenset(_TONELESS_VOWELS + _TONELESS_VOWELS.upper())
_CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
_TONED = "[" + "".join(_SPLIT_TONE) + "]"
_ANY_VOWEL = "[" + "".join(_SPLIT_TONE) + "".join(_VOWELS) + "]"
# only a tone mark next to another vowel can sit in the wrong place; single vowels are skipped
_TONED_WORD = re.compile(rf"\b\w*?(?:{_TONED}{_ANY_VOWEL}|{_ANY_VOWEL}{_TONED})\w*")


def _tone_position(lower: str, start: int, end: int, has_coda: bool) -> int:
    """Index (into ``lower``) of the vowel that carries the tone in nucleus [start, end)."""
    nucleus = lower[start:end]
    marked = [i for i, ch in enumerate(nucleus) if ch in _MARKED_VOWELS]
    if marked:
        return start + marked[-1]  # "ươ" -> ơ, "uyê" -> ê, "ưa" -> ư
    if len(nucleus) == 1 or has_coda:
        return end - 1  # "hoàng", "huỳnh": the last vowel before the final consonant
    if len(nucleus) == 3:
        return start + 1  # "hoài", "khuỷu": the middle vowel
    return start  # open two-vowel syllable, traditional style: "hóa", "thủy", "mùa"


@lru_cache(maxsize=65536)
def _retone_word(word: str) -> str:
    """``word`` with its tone mark on the canonical vowel; unchanged if not one Vietnamese syllable."""
    tone = 0
    letters: list[str] = []
    for ch in word:
        parts = _SPLIT_TONE.get(ch)
        if parts is None:
            letters.append(ch)
            continue
        if tone:
            return word  # two tone marks: not a Vietnamese syllable, leave it alone
        letters.append(parts[0])
        tone = parts[1]
    if not tone:
        return word
    lower = "".join(letters).lower()
    start = 0
    while start < len(lower) and lower[start] not in _VOWELS:
        start += 1
    if start == len(lower):
        return word
    if lower[start] == "u" and lower[start - 1 : start] == "q":
        start += 1  # "qu" is a consonant: "quý", "quá"
    elif lower[start] == "i" and lower[:start] == "g" and lower[start + 1 : start + 2] in _VOWELS:
        start += 1  # "gi" before another vowel is a consonant: "giữa", "giá"; but "gìn"
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    if start == end or lower[end:] not in _CODAS:
        return word
    position = _tone_position(lower, start, end, has_coda=end < len(lower))
    letters[position] = _JOIN_TONE[(letters[position], tone)]
    return "".join(letters)


@lru_cache(maxsize=131072)
def _retone_token(token: str) -> str:
    """A whitespace-delimited token ("hoà,", "(thuỷ") with its syllables re-toned; cached, since
    a text repeats its words and the vocabulary of news is small."""
    return _TONED_WORD.sub(lambda match: _retone_word(match.group()), token)


def canonical_tones(text: str) -> str:
    """NFC ``text`` with every Vietnamese syllable's tone mark in the one canonical place.

    Works token by token (split on single spaces, which keeps every other character in place),
    so the regex runs once per distinct token rather than over the whole text.
    """
    return " ".join(map(_retone_token, text.split(" ")))


# --- whitespace and invisible characters ------------------------------------------------------

# regex substitutions: a character class scan is much faster than str.translate with a dict
# C0 controls but tab, newline and carriage return, DEL, lone surrogates and the noncharacters
# U+FFFE/U+FFFF: lxml refuses a string holding any of them ("All strings must be XML
# compatible"), and none of them is text. Form feed and vertical tab are whitespace to HTML
# and to str.split, so they become a space and the words on either side stay apart.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_CONTROL_SPACES = frozenset("\x0b\x0c")
# explicit bidirectional embeddings, overrides and isolates: in a one-line label (a title, an
# author) they only serve to make the text read differently from what it is (U+202E turns
# "gpj.exe" around); the implicit marks LRM/RLM are harmless and kept
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
MAX_TITLE_CHARS = 500  # a headline is one sentence, far shorter; Atom entries and mail subjects need a bound
_ELLIPSIS = "…"
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
_ODD_SPACES = re.compile("[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\u0085]")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?")
# every character one of the four passes above would change ("\r" starts every line break they
# rewrite): text without any, most of it (the clean stage's HTML text has its whitespace folded
# already), skips them for one scan
_ANY_ODD_CHARACTER = re.compile(
    "["
    + "".join(pattern.pattern[1:-1] for pattern in (_CONTROLS, _INVISIBLE, _ODD_SPACES))
    + "\r\u2028\u2029\u0085]"
)


def strip_controls(text: str) -> str:
    """``text`` without the characters no XML parser, database column or reader wants.

    Applied to a page as soon as it is decoded (before lxml parses it) and to every text
    that reaches the pipeline, so one stray form feed costs a space, not the article.
    """
    return _CONTROLS.sub(_control_replacement, text)


def _control_replacement(match: re.Match[str]) -> str:
    return " " if match.group() in _CONTROL_SPACES else ""


def clean_label(text: str) -> str:
    """A one-line label (title, author, section) without control or bidirectional control characters."""
    return _BIDI_CONTROLS.sub("", strip_controls(text))


def cap_title(title: str, limit: int = MAX_TITLE_CHARS) -> tuple[str, bool]:
    """``title`` cut to at most ``limit`` characters (at a word boundary, ending in "…"), and whether it was cut.

    A page can put megabytes in its ``<title>``; the title travels into tables, Atom
    entries and alert subjects, which must stay readable and small.
    """
    if len(title) <= limit:
        return title, False
    head = title[: limit - len(_ELLIPSIS)]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + _ELLIPSIS, True


def normalize_text(text: str) -> str:
    """One canonical spelling of the same text, whatever site or editor produced it.

    NFC, canonical tone placement, HTML entities left in the text decoded, control and
    zero-width characters dropped, odd spaces made plain, spaces folded; lines are kept, and
    runs of blank lines become one blank line so paragraph breaks stay "\\n\\n".
    """
    if "&" in text:
        text = _ENTITY.sub(lambda match: html.unescape(match.group()), text)
    if _ANY_ODD_CHARACTER.search(text):
        text = strip_controls(text)  # after the entities: "&#12;" is a form feed too
        text = _LINE_BREAKS.sub("\n", _ODD_SPACES.sub(" ", _INVISIBLE.sub("", text)))
    # One pass over the lines places the tone marks and folds the spaces together: the regex
    # passes it replaces (" {2,}", " *\n *", "\n{3,}") each cost as much as this on Vietnamese text.
    # map/filter keep the per-token loop in C (the cached _retone_token is a C callable).
    lines: list[str] = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        if line := " ".join(map(_retone_token, filter(None, line.split(" ")))):
            lines.append(line)
        elif lines and lines[-1]:
            lines.append("")
    return "\n".join(lines).strip()


# --- match keys for relevance and slugs --------------------------------------------------------


# Punctuation outside ASCII (dashes, curly quotes, ellipsis) becomes a space first, so that
# "Quân đội–Công an" stays two phrases; NFD + ASCII encoding then drops the diacritics, and one
# C-speed byte map keeps letters and digits and turns every other ASCII byte into a space.
_NON_ASCII_PUNCT = re.compile(r"[^\x00-\x7f\w\u0300-\u036f]+")
_KEY_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))


def match_key(text: str) -> str:
    """Diacritic-free, lower-case, punctuation-free form for matching: "Nghị định 03/2019/NĐ-CP"
    -> "nghi dinh 03 2019 nd cp". Slugs ("nghi-dinh-03-2019-nd-cp"), NFD input and either tone
    placement all give the same key, so theme terms match however the source spelled them.
    """
    undotted = text.replace("đ", "d").replace("Đ", "D")
    spaced = _NON_ASCII_PUNCT.sub(" ", undotted)
    data = unicodedata.normalize("NFD", spaced).encode("ascii", "ignore")
    return " ".join(data.lower().translate(_KEY_BYTES).decode("ascii").split())


@lru_cache(maxsize=16)
def text_key(text: str) -> str:
    """``match_key`` of an article's whole text, remembered for the last few texts: the relevance
    and dedup stages both need it for the same text, one right after the other."""
    return match_key(text)
