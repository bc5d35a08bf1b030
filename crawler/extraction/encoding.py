"""Bytes to text for Vietnamese pages, including the ones that lie about their charset.

Order of trust: a byte-order mark; then the bytes themselves when they are valid UTF-8
(a page declared iso-8859-1 / windows-1252 whose bytes are UTF-8 is UTF-8: real
single-byte Vietnamese text practically never validates as UTF-8); otherwise every
plausible reading (the HTTP header, the `<meta>` charset, UTF-8 with broken bytes,
windows-1252, windows-1258, and the TCVN3 and VNI font encodings) is decoded and scored by how many of its words are
well-formed Vietnamese syllables, the declared one winning ties. Legacy results are NFC
because windows-1258 writes tone marks as combining characters.
"""

from __future__ import annotations

import codecs
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path

from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

_TABLES = Path(__file__).with_name("data") / "legacy_encodings.toml"
_SAMPLE = 60_000
_CONVINCING = 0.9  # a reading this clean is not beaten by trying the rest
# Readings tried after the declared ones when the bytes are not clean UTF-8: UTF-8 with a
# few broken bytes, Western, Vietnamese windows-1258, then the two font encodings.
_FALLBACKS = ("utf-8", "cp1252", "cp1258", "tcvn3", "vni")
_TAGS = re.compile(r"<(?:script|style)\b.*?</(?:script|style)>|<[^>]*>", re.S | re.I)
_PUNCTUATION = "\"'.,;:!?()[]{}“”‘’…-–—/|*"
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
    r"(?:[aăâeêioôơuưy]{1,3})"
    r"(?:ch|nh|ng|[cmnpt])?"
)
_ABBREVIATION = re.compile(r"[A-ZĐ]{2,6}")
_VOWEL_BASES = "aeiouyơưAEIOUYƠƯ"
_UPPER_BASES = "AĂÂEÊIOÔƠUƯY"


@cache
def _tables() -> dict[str, dict[str, str]]:
    return tomllib.loads(_TABLES.read_text(encoding="utf-8"))


@cache
def _tcvn3_translation() -> dict[int, str]:
    return str.maketrans(_tables()["tcvn3"])


@cache
def _vni_parts() -> tuple[dict[int, str], re.Pattern[str], dict[str, str]]:
    table = _tables()["vni"]
    marks = {k: v for k, v in table.items() if all(unicodedata.combining(ch) for ch in v)}
    singles = {k: v for k, v in table.items() if k not in marks}
    pattern = re.compile(f"(?<=[{_VOWEL_BASES}])[{''.join(marks)}]")
    return str.maketrans(singles), pattern, marks


def _upper_pair(match: re.Match[str]) -> str:
    """TCVN3 capitals: base capital + lower-case toned letter of the same base ("Aả" -> "Ả")."""
    capital, toned = match.group(1), match.group(2)
    stripped = "".join(c for c in unicodedata.normalize("NFD", toned) if c not in _TONES)
    if unicodedata.normalize("NFC", stripped).upper() == capital:
        return toned.upper()
    return match.group(0)


_TCVN3_UPPER = re.compile(f"([{_UPPER_BASES}])([ạ-ỹàáâãèéêìíòóôõùúýăĩũơư])")


def _decode_tcvn3(body: bytes) -> str:
    text = body.decode("latin-1").translate(_tcvn3_translation())
    return _TCVN3_UPPER.sub(_upper_pair, text)


def _decode_vni(body: bytes) -> str:
    singles, marks_pattern, marks = _vni_parts()
    text = body.decode("latin-1").translate(singles)
    return unicodedata.normalize("NFC", marks_pattern.sub(lambda m: marks[m.group(0)], text))


def _codec(name: str) -> Callable[[bytes], str]:
    return lambda body: unicodedata.normalize("NFC", body.decode(name, errors="replace"))


_LEGACY: dict[str, Callable[[bytes], str]] = {
    "tcvn3": _decode_tcvn3,
    "vni": _decode_vni,
}


@lru_cache(maxsize=8192)
def _syllable_ok(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(ch in _TONES for ch in decomposed) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    return _SYLLABLE.fullmatch(base) is not None


def vietnamese_score(text: str) -> float:
    """How Vietnamese a text reads: (good - 2*bad) / words, over words with non-ASCII characters.

    Mojibake and wrong legacy tables produce words that cannot be a syllable ("NghÞ",
    "Quèc", "Vieät") or hold symbols inside a word ("CÃ´ng", "C«ng"), which this punishes,
    as it does U+FFFD from bytes that did not decode. Abbreviations ("NĐ-CP") are neither.
    """
    good = bad = 0
    # a page repeats its words: judge each distinct token once, weighted by its count
    for token, count in Counter(_TAGS.sub(" ", text).split()).items():
        if token.isascii():
            continue
        word = token.strip(_PUNCTUATION)
        if word.isascii():
            continue
        if word.isalpha():  # letters only, so no digits: a syllable, an abbreviation or mojibake
            if _ABBREVIATION.fullmatch(word):
                continue
            if _syllable_ok(word):
                good += count
                continue
        elif any(map(str.isdigit, word)):
            continue
        bad += count
    bad += text.count("\ufffd")
    return (good - 2 * bad) / max(1, good + bad)


def normalize_label(label: str | None) -> str | None:
    """A charset label as Python knows it (WHATWG aliases: iso-8859-1 means windows-1252)."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _LEGACY:
        return label
    return resolve_encoding(label)


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def plain_utf8(body: bytes) -> str | None:
    """The text of bytes that are plain UTF-8 (valid, no byte-order mark), which is what
    :func:`decode_html` returns for them; None for any other bytes."""
    return None if body.startswith(codecs.BOM_UTF8) else _utf8(body)


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """Decode a page to text; returns (text, encoding used).

    ``declared`` is the HTTP Content-Type charset (or None). The `<meta>` charset is read
    from the bytes here.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), normalize_label(bom_encoding) or "utf-8"
    text = _utf8(body)
    if text is not None:
        return text, "utf-8"
    candidates: list[str] = []
    for label in (declared, html_body_declared_encoding(body[:4096]), *_FALLBACKS):
        name = normalize_label(label)
        if name and name not in candidates:
            candidates.append(name)
    best: tuple[float, str, str] | None = None
    for name in candidates:
        try:
            decoder = _LEGACY.get(name) or _codec(name)
            decoded = decoder(body)
        except LookupError:
            continue
        score = vietnamese_score(decoded[:_SAMPLE])
        if best is None or score > best[0]:
            best = (score, decoded, name)
        if score >= _CONVINCING:
            break
    assert best is not None, "windows-1252 is always a candidate"
    return best[1], _display_name(best[2])


def _display_name(name: str) -> str:
    return {"cp1258": "windows-1258", "cp1252": "windows-1252", "utf_8": "utf-8"}.get(name, name)
