"""Theme profile: robust matching, legal anchors, requirements, explanations and [topic] overrides."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from qpan.config import ConfigError, TopicConfig
from qpan.pipelines.normalize import fold
from qpan.pipelines.relevance import THEME_FILE, ThemeProfile

RELEVANT = (
    "Ngày 20/3, Bộ Chỉ huy Quân sự tỉnh và Công an tỉnh tổ chức Hội nghị giao ban thực hiện Nghị định "
    "số 03/2019/NĐ-CP về phối hợp giữa Bộ Công an và Bộ Quốc phòng. Hai lực lượng đã phối hợp bảo vệ "
    "an ninh quốc gia, bảo đảm trật tự, an toàn xã hội và thực hiện nhiệm vụ quốc phòng. Lực lượng Quân sự "
    "và Công an các cấp tiếp tục phối hợp chặt chẽ, xây dựng thế trận quốc phòng toàn dân."
)
TITLE = "Giao ban thực hiện Nghị định 03 giữa Quân sự và Công an tỉnh"


@pytest.fixture(scope="module")
def profile() -> ThemeProfile:
    return ThemeProfile.load(None)


def test_relevant_article_scores_high_with_terms(profile: ThemeProfile) -> None:
    result = profile.score(TITLE, RELEVANT)
    assert result.relevant and result.score >= 0.9
    assert result.matched_terms["Nghị định 03/2019/NĐ-CP"] == 1
    assert result.matched_terms["Bộ Chỉ huy Quân sự"] == 1
    assert result.matched_terms["phối hợp"] >= 3
    assert result.missing == ()
    assert result.explain().startswith("relevant: score ")


def test_score_is_the_same_without_diacritics_in_nfd_and_other_tone_placement(profile: ThemeProfile) -> None:
    base = profile.score(TITLE, RELEVANT)
    for title, text in [
        (fold(TITLE), fold(RELEVANT)),
        (TITLE.upper(), RELEVANT.upper()),
        (unicodedata.normalize("NFD", TITLE), unicodedata.normalize("NFD", RELEVANT)),
        (TITLE, RELEVANT.replace("hóa", "hoá").replace("Quân sự", "quân sự")),
    ]:
        other = profile.score(title, text)
        assert other.score == base.score
        assert sum(other.matched_terms.values()) == sum(base.matched_terms.values())


def test_slug_title_matches_the_anchor(profile: ThemeProfile) -> None:
    result = profile.score("giao-ban-nghi-dinh-03-2019-nd-cp-cong-an-quan-su", "")
    assert result.matched_terms["Nghị định 03/2019/NĐ-CP"] == 1
    assert result.groups["anchor"] == 1.0


def test_title_counts_more_than_body(profile: ThemeProfile) -> None:
    text = "Bộ Công an và Bộ Quốc phòng phối hợp."
    in_body = profile.score("", text)
    in_title = profile.score(text, "")
    assert in_title.score > in_body.score


@pytest.mark.parametrize(
    "text",
    [
        "Nghị định 03/2016/NĐ-CP quy định chi tiết Luật Dân quân tự vệ. Nghị định số 03 giao Bộ Quốc phòng "
        "và Công an phối hợp.",
        "Theo Nghị định số 03/2021/NĐ-CP, Cảnh sát giao thông thuộc Công an kiểm tra bảo hiểm; Quân đội phối hợp.",
        "Nghị định 31/2019/NĐ-CP và Nghị định 030 không liên quan; Công an, Quân đội phối hợp.",
    ],
)
def test_other_decrees_numbered_03_are_not_the_anchor(profile: ThemeProfile, text: str) -> None:
    result = profile.score("", text)
    assert result.groups["anchor"] == 0.0
    assert not any(term.startswith("Nghị định 03/2019") for term in result.matched_terms)


def test_other_decree_is_named_in_the_explanation(profile: ThemeProfile) -> None:
    result = profile.score("", "Nghị định 03/2016/NĐ-CP về dân quân. Nghị định số 03 có hiệu lực.")
    assert "Nghị định 03/2016 (another document)" in result.explain()


def test_bare_citation_counts_when_no_other_year_is_cited(profile: ThemeProfile) -> None:
    result = profile.score("", "Công an và Quân sự tỉnh thực hiện Nghị định số 03 của Chính phủ.")
    assert result.matched_terms["Nghị định 03/2019/NĐ-CP (cited without year)"] == 1


@pytest.mark.parametrize(
    ("text", "missing_side"),
    [
        ("Công an tỉnh phối hợp với Viện kiểm sát, Công an huyện bắt giữ nhóm trộm cắp. " * 3, "Quân đội"),
        ("Bộ Chỉ huy Quân sự tỉnh phối hợp huấn luyện dân quân, Quân đội giao ban công tác quân sự. " * 3, "Công an"),
    ],
)
def test_one_sided_news_scores_low_and_says_which_side_is_missing(
    profile: ThemeProfile, text: str, missing_side: str
) -> None:
    result = profile.score("", text)
    assert not result.relevant and result.score <= profile.gate_cap
    assert result.missing and missing_side in result.missing[0]
    assert "missing: none of" in result.explain()


def test_two_sides_without_coordination_are_capped(profile: ThemeProfile) -> None:
    text = "Câu lạc bộ Công an Hà Nội thắng Quân đội 2-1. Công an nhân dân, Quân đội nhân dân cổ vũ. " * 3
    result = profile.score("Công an Hà Nội thắng đội Quân đội", text)
    assert result.score <= profile.gate_cap
    assert "phối hợp" in result.missing[0]


def test_ignore_phrases_hide_look_alikes(profile: ThemeProfile) -> None:
    result = profile.score("", "Tạo công ăn việc làm, bảo đảm thi công an toàn cho hai bộ phận.")
    assert result.matched_terms == {}
    assert result.explain().endswith("no theme term found.")


def test_empty_article(profile: ThemeProfile) -> None:
    result = profile.score("", "")
    assert result.score == 0.0 and not result.relevant and result.matched_terms == {}


def test_as_dict_has_the_item_fields(profile: ThemeProfile) -> None:
    data = profile.score(TITLE, RELEVANT).as_dict()
    assert set(data) == {"relevance", "relevant", "matched_terms", "explanation"}


# --- [topic] overrides -----------------------------------------------------------------------


def test_topic_threshold_is_used(profile: ThemeProfile) -> None:
    strict = ThemeProfile.load(TopicConfig(threshold=1.0))
    text = "Quân sự và Công an tỉnh phối hợp giao ban, hai lực lượng phối hợp. " * 2
    assert strict.threshold == 1.0
    assert not strict.score("", text).relevant


def test_topic_terms_reweight_add_and_remove() -> None:
    topic = TopicConfig(terms={"phoi hop": 0, "coordination:Hiệp đồng": 2.0, "military:Dân quân": 1.0, "ANTT": 1})
    custom = ThemeProfile.load(topic)
    text = "Công an và Dân quân hiệp đồng bảo đảm ANTT, phối hợp."
    result = custom.score("", text)
    assert "phối hợp" not in result.matched_terms
    assert result.matched_terms["Hiệp đồng"] == 1 and result.matched_terms["Dân quân"] == 1
    assert custom.terms["antt"].group == custom.default_group
    assert "Dân quân" not in ThemeProfile.load(None).score("", text).matched_terms


def test_topic_term_override_keeps_existing_group() -> None:
    custom = ThemeProfile.load(TopicConfig(terms={"BIEN PHONG": 3.0}))
    term = custom.terms["bien phong"]
    assert (term.group, term.weight, term.display) == ("military", 3.0, "Biên phòng")


def test_topic_profile_file_replaces_the_default(tmp_path: Path) -> None:
    other = tmp_path / "fire.toml"
    other.write_text(
        """
        [groups.fire]
        saturation = 2.0
        [groups.fire.terms]
        "phòng cháy" = 1.0
        "chữa cháy" = 1.0
        [[components]]
        name = "fire"
        groups = ["fire"]
        weight = 1.0
        """,
        encoding="utf-8",
    )
    custom = ThemeProfile.load(TopicConfig(profile=str(other), threshold=0.4))
    assert custom.score("", "Diễn tập phòng cháy, chữa cháy").relevant
    assert not custom.score("", THEME_FILE.read_text(encoding="utf-8")[:500]).relevant


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read theme profile"),
        ("not = [valid", "not valid TOML"),
        ("[groups.a]\nsaturation = 1\n", "missing key 'components'"),
        ('[groups.a]\n[[components]]\nname="x"\ngroups=["b"]\nweight=1\n', "unknown group 'b'"),
        ('[groups.a]\nsaturation = 0\n[[components]]\nname="x"\ngroups=["a"]\nweight=1\n', "must be > 0"),
    ],
)
def test_bad_profile_is_one_config_error(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "profile.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        ThemeProfile.load(TopicConfig(profile=str(path)))
    assert "\n" not in str(caught.value) and "topic.profile" in str(caught.value)


@pytest.mark.parametrize(
    ("terms", "message"),
    [({"nosuch:term": 1.0}, "unknown group"), ({"x": -1.0}, ">= 0"), ({"--": 1.0}, "no letters")],
)
def test_bad_topic_terms_are_config_errors(terms: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ThemeProfile.load(TopicConfig(terms=terms))
