"""normalize_text and match_key: one spelling for the same Vietnamese text."""

from __future__ import annotations

import unicodedata

import pytest

from qpan.pipelines.normalize import canonical_tones, fold, match_key, normalize_text


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("hoà", "hòa"),
        ("hòa", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("Uỷ ban", "Ủy ban"),
        ("HOÀ BÌNH", "HÒA BÌNH"),
        ("cụ thể hoá", "cụ thể hóa"),
        ("hoàng", "hoàng"),  # closed syllable: the mark is on the last vowel in both styles
        ("hoạch", "hoạch"),
        ("huỳnh", "huỳnh"),
        ("hoài", "hoài"),
        ("khuỷu", "khuỷu"),
    ],
)
def test_tone_mark_placement_is_canonical(variant: str, canonical: str) -> None:
    assert canonical_tones(variant) == canonical


@pytest.mark.parametrize(
    "word",
    [
        "quý",
        "quá",
        "quốc",
        "quyết",
        "quỳnh",
        "giữa",
        "gìn",
        "già",
        "giá",
        "giường",
        "gì",
        "người",
        "thuở",
        "thuế",
        "mùa",
        "ý",
        "yến",
        "Covid",
        "XIII",
        "ANTT",
    ],
)
def test_correct_words_are_left_alone(word: str) -> None:
    """ "qu" and "gi" are consonants: "quý" must not become "qúy", "giữa" must not change."""
    assert canonical_tones(word) == word


def test_both_placements_and_forms_normalise_to_one_string() -> None:
    old = "Hoà bình, thuỷ lợi, sức khoẻ"
    new = "Hòa bình, thủy lợi, sức khỏe"
    nfd = unicodedata.normalize("NFD", old)
    assert normalize_text(old) == normalize_text(new) == normalize_text(nfd) == new
    assert unicodedata.is_normalized("NFC", normalize_text(nfd))


def test_invisible_characters_entities_and_spaces() -> None:
    raw = "Bộ\u00a0Cô\u200bng an &amp; Bộ&nbsp;Quốc phòng\u2009 \t phối  hợp &#8220;giao ban&#8221;\ufeff"
    assert normalize_text(raw) == "Bộ Công an & Bộ Quốc phòng phối hợp “giao ban”"


def test_text_that_only_looks_like_an_entity_is_kept() -> None:
    assert normalize_text("R&D, AT&T, a & b") == "R&D, AT&T, a & b"


def test_paragraph_breaks_are_kept_and_folded() -> None:
    raw = "  Đoạn một.  \r\n\r\n\r\n\n   Đoạn hai,\ndòng hai. \u2028Đoạn ba.\n"
    assert normalize_text(raw) == "Đoạn một.\n\nĐoạn hai,\ndòng hai.\nĐoạn ba."


def test_empty_text() -> None:
    assert normalize_text("") == ""
    assert normalize_text(" \n\u200b\n ") == ""


def test_match_key_folds_case_marks_punctuation_and_slugs() -> None:
    expected = "nghi dinh 03 2019 nd cp"
    assert match_key("Nghị định 03/2019/NĐ-CP") == expected
    assert match_key("nghi-dinh-03-2019-nd-cp") == expected
    assert match_key(unicodedata.normalize("NFD", "NGHỊ ĐỊNH 03/2019/NĐ-CP")) == expected
    assert match_key("Quân đội–Công an “hoà”") == "quan doi cong an hoa"
    assert match_key("") == ""


def test_fold_keeps_its_behaviour() -> None:
    assert fold("Nghị định Số 03") == "nghi dinh so 03"
    assert fold("Đảng") == "dang"


def test_every_odd_character_is_still_handled() -> None:
    # normalize_text skips its four character passes when none of their characters occurs; the
    # passes, run unconditionally, must give the same text for every character of the BMP
    from qpan.pipelines import normalize

    def unconditionally(text: str) -> str:
        text = normalize.strip_controls(text)
        return normalize._LINE_BREAKS.sub("\n", normalize._ODD_SPACES.sub(" ", normalize._INVISIBLE.sub("", text)))

    for code in range(0x10000):
        text = f"a{chr(code)}b"
        assert normalize_text(text) == normalize_text(unconditionally(text)), hex(code)
