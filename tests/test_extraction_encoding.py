"""Decoding: lying charsets, windows-1258, TCVN3 and VNI never become mojibake."""

from __future__ import annotations

import unicodedata

import pytest

from qpan.crawler.extraction.encoding import decode_html, plain_utf8, vietnamese_score

TEXT = (
    "Bộ Công an và Bộ Quốc phòng phối hợp bảo vệ an ninh quốc gia theo Nghị định số 03/2019/NĐ-CP, người dân Việt Nam"
)


def page(body: str, charset: str | None = None) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return f"<html><head>{meta}</head><body><p>{body}</p></body></html>"


def cp1258(text: str) -> bytes:
    """windows-1258 writes most tones as combining marks after the base letter."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tones = "".join(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
            out += (base + tones).encode("cp1258")
    return out


def test_plain_utf8() -> None:
    text, used = decode_html(page(TEXT, "utf-8").encode(), "utf-8")
    assert TEXT in text and used == "utf-8"


@pytest.mark.parametrize("declared", ["iso-8859-1", "windows-1252", "windows-1258"])
def test_utf8_bytes_declared_single_byte(declared: str) -> None:
    text, used = decode_html(page(TEXT, declared).encode(), declared)
    assert TEXT in text and used == "utf-8"


def test_bom_wins() -> None:
    text, used = decode_html(b"\xef\xbb\xbf" + page(TEXT).encode(), "iso-8859-1")
    assert TEXT in text and used == "utf-8"


@pytest.mark.parametrize("declared", ["windows-1258", None, "iso-8859-1", "utf-8"])
def test_windows_1258_is_nfc(declared: str | None) -> None:
    text, used = decode_html(cp1258(page(TEXT, "windows-1258")), declared)
    assert used == "windows-1258"
    assert TEXT in text
    assert text == unicodedata.normalize("NFC", text)


def test_tcvn3_font_encoding() -> None:
    tcvn3 = "<p>Bé C«ng an vµ Bé Quèc phßng phèi hîp b¶o vÖ an ninh quèc gia, NghÞ ®Þnh sè 03/2019/N§-CP. ViÖt Nam</p>"
    text, used = decode_html(tcvn3.encode("latin-1"), None)
    assert used == "tcvn3"
    assert "Bộ Công an và Bộ Quốc phòng phối hợp bảo vệ an ninh quốc gia, Nghị định số 03/2019/NĐ-CP. Việt Nam" in text


def test_tcvn3_capitals_written_as_pairs() -> None:
    text, _ = decode_html("<p>Uñy ban nh©n d©n tØnh, ¢Êp B¾c, C«ng an</p>".encode("latin-1"), None)
    assert "Ủy ban nhân dân tỉnh, Ấp Bắc, Công an" in text


def test_vni_font_encoding() -> None:
    vni = (
        "<p>Boä Coâng an vaø Boä Quoác phoøng phoái hôïp baûo veä an ninh, Nghò ñònh soá 03, ngöôøi daân Vieät Nam</p>"
    )
    text, used = decode_html(vni.encode("latin-1"), "iso-8859-1")
    assert used == "vni"
    assert "Bộ Công an và Bộ Quốc phòng phối hợp bảo vệ an ninh, Nghị định số 03, người dân Việt Nam" in text


def test_western_page_stays_western() -> None:
    text, used = decode_html(page("Le café est très bon à Paris, où les garçons", "iso-8859-1").encode("cp1252"), None)
    assert "Le café est très bon à Paris, où les garçons" in text and used == "windows-1252"


def test_mostly_utf8_with_a_broken_byte_is_still_utf8() -> None:
    body = page(TEXT * 20).encode() + b"\xff"
    text, used = decode_html(body, None)
    assert used == "utf-8" and TEXT in text


def test_score_punishes_mojibake() -> None:
    assert vietnamese_score(TEXT) > 0.9
    assert vietnamese_score(TEXT.encode().decode("latin-1")) < 0
    assert vietnamese_score("Bé C«ng an vµ Bé Quèc phßng NghÞ ®Þnh") < 0


UTF8 = page(TEXT).encode("utf-8")


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        (UTF8, True),
        (page(TEXT, "windows-1258").encode("utf-8"), True),
        (b"\xef\xbb\xbf" + UTF8, False),  # decode_html drops the byte-order mark
        (b"\xff\xfe" + page(TEXT).encode("utf-16-le"), False),
        (UTF8[:-30] + b"\xe1" + UTF8[-30:], False),  # one broken byte
        (page("Ho\xe0ng").encode("cp1252"), False),
    ],
)
def test_plain_utf8_is_the_text_decode_html_reads(body: bytes, plain: bool) -> None:
    # extract_article parses these bytes in place of the decoded text: they must be that text
    text = plain_utf8(body)
    assert (text is not None) == plain
    assert text is None or text == decode_html(body, "iso-8859-1")[0]
