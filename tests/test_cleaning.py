"""Cleaning: site boilerplate goes, the story stays; bad bodies are dropped with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpan.pipelines.cleaning import BrokenHtml, clean_text, html_to_text
from qpan.pipelines.drops import Dropped
from qpan.pipelines.normalize import normalize_text
from qpan.pipelines.stages.clean import CleanStage, cut_text

SEEDS = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))

BOILERPLATE_LINES = [
    "Bình luận (0)",
    "Lên đầu trang",
    "Xem thêm",
    "Tìm kiếm",
    "Tin tức - Sự kiện",
    "Liên kết website",
    "Thời sự",
    "|",
    "Thứ Sáu, 16/07/2021 16:15",
    "12/04/2017",
    "Toàn cảnh hội nghị",
    "Toàn cảnh Hội nghị.",
    "Các đại biểu tại hội nghị",
    "Các đại biểu dự Hội nghị.",
    "Thứ trưởng Bộ Công an Trần Quốc Tỏ phát biểu tại Hội nghị.",
    "Thứ trưởng Bộ Quốc phòng Nguyễn Tân Cương phát biểu tại Hội nghị.",
    "Các đại biểu dự hội nghị trực tuyến tại điểm cầu tỉnh Bắc Kạn.",
    "Ảnh: Hồng Thái/TTXVN",
    "Các đại biểu dự Hội nghị. Ảnh Việt Hưng.",
    "Các cá nhân nhận giấy khen của Bộ Chỉ huy Quân sự tỉnh.",
    "Phương Hà",
    "Việt Hưng",
    "Hồng Thái",
]


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n") if line.strip()}


def test_seed_boilerplate_removed_and_content_kept() -> None:
    assert len(SEEDS) == 5
    removed_everywhere: set[str] = set()
    for seed in SEEDS:
        raw = normalize_text(seed.read_text(encoding="utf-8"))
        cleaned = clean_text(raw)
        removed = _lines(raw) - _lines(cleaned)
        removed_everywhere |= removed
        kept = _lines(cleaned)
        long_lines = {line for line in _lines(raw) if len(line) > 200}
        assert long_lines <= kept, f"{seed.name}: a paragraph of the story was removed"
        assert all(len(line) < 200 for line in removed), f"{seed.name}: removed {removed}"
        assert "\n\n" in cleaned
    assert set(BOILERPLATE_LINES) == removed_everywhere


def test_seed_titles_and_short_content_lines_survive() -> None:
    texts = {seed.name[:3]: clean_text(seed.read_text(encoding="utf-8")) for seed in SEEDS}
    assert texts["000"].startswith("Bộ Công an - Bộ Quốc phòng phối hợp hiệu quả trong bảo vệ ANTT")
    assert "Đồng chí Đinh Quang Tuyên, Ủy viên Ban Thường vụ Tỉnh ủy" in texts["001"]
    assert "Hậu Giang" in _lines(texts["004"])
    assert texts["004"].endswith("được biểu dương, khen thưởng./.")


@pytest.mark.parametrize(
    "line",
    [
        "Theo kế hoạch, hội nghị kéo dài hai ngày.",
        "Ảnh hưởng của bão số 3 rất lớn.",
        "Các đại biểu thảo luận về khó khăn. Hội nghị thống nhất nhiều giải pháp.",
        "Tin tức về hội nghị được đăng tải rộng rãi.",
    ],
)
def test_sentences_that_resemble_boilerplate_are_kept(line: str) -> None:
    text = f"Đoạn mở đầu của bài viết về hội nghị.\n\n{line}\n\nĐoạn kết thúc của bài viết, có dấu chấm."
    assert line in clean_text(text)


def test_author_repeated_as_a_line_is_removed() -> None:
    text = "Đoạn nội dung thứ nhất của bài.\n\nTheo Nguyễn Văn An\n\nĐoạn nội dung thứ hai của bài."
    assert "Nguyễn Văn An" not in clean_text(text, author="Nguyễn Văn An")


HTML = """
<div class="detail-content">
  <script>var tracking = 1;</script><style>p { color: red }</style>
  <div class="social-share"><a href="#">Facebook</a> <a href="#">Zalo</a></div>
  <p class="author">Hồng Thái</p>
  <p>Sáng 20/3, tỉnh   Hậu Giang tổ chức
     Hội nghị giao ban&nbsp;giữa Bộ Chỉ huy Quân sự và Công an tỉnh.</p>
  <figure><img src="a.jpg"><figcaption>Các đại biểu dự hội nghị.</figcaption></figure>
  <table class="image"><tr><td class="image-caption">Chủ tịch UBND tỉnh phát biểu</td></tr></table>
  <div class="PhotoCMS_Caption"><p>Quang cảnh buổi lễ</p></div>
  <p>Dòng một<br>Dòng hai</p>
  <div class="box"><h3>Tin liên quan</h3><ul><li><a href="/1">Bài liên quan A</a></li>
    <li><a href="/2">Bài liên quan B</a></li></ul></div>
  <div id="adsbox" class="qc">Quảng cáo sữa</div>
  <form><input name="q"> Tìm kiếm</form>
  <p>Đoạn cuối về hoà bình, thuỷ lợi.</p><!-- a comment -->
  <p>Bình luận (0)</p>
</div>
"""


def test_html_to_text_drops_chrome_and_keeps_paragraphs() -> None:
    text = clean_text(html_to_text(HTML))
    assert text == (
        "Sáng 20/3, tỉnh Hậu Giang tổ chức Hội nghị giao ban giữa Bộ Chỉ huy Quân sự và Công an tỉnh."
        "\n\nDòng một\n\nDòng hai\n\nĐoạn cuối về hòa bình, thủy lợi."
    )


def test_misleading_wrapper_class_does_not_take_the_story() -> None:
    story = "<p>" + "Nội dung bài viết về phối hợp giữa hai lực lượng. " * 30 + "</p>"
    text = html_to_text(f'<div class="content has-share">{story}<div class="share">Chia sẻ</div></div>')
    assert text.startswith("Nội dung bài viết") and "Chia sẻ" not in text


def test_broken_html_is_tolerated_or_rejected() -> None:
    assert html_to_text("<p>unclosed <b>bold <div>tail</p></i>") == "unclosed bold\n\ntail"
    with pytest.raises(BrokenHtml):
        html_to_text("\x00\x01\x02\x03" * 200)


# html_to_text walks lxml's tree; the text must stay the one the BeautifulSoup walk it replaced
# gave (every expected value below is what that version returned). Each case pins one rule the
# soup followed and a plain lxml walk would not.
_STORY = ("Đoạn văn bản thường của bài báo. " * 20)[:400]
_WRAPPER = ("Khung chia sẻ có nhiều chữ hơn. " * 30)[:600]  # marked "share", longer than 500 characters


def test_ruby_annotations_and_templates_are_not_text() -> None:
    assert html_to_text("<p>Hán<rt>han</rt> tự<rp>(</rp></p>") == "Hán tự"
    assert html_to_text("<p>Một</p><template><p>Hai</p></template>") == "Một"


def test_a_blank_string_counts_as_one_character_when_weighing_a_marked_wrapper() -> None:
    # 50 blank strings of 6 characters: counted as 1 each, the story is 1,050 characters and the
    # 600-character wrapper holds more than half of it, so it stays
    html = f"<p>{_STORY}</p>" + "<i></i>\n     " * 50 + f"<div class='share'>{_WRAPPER}</div>"
    assert html_to_text(html) == f"{_STORY}\n\n{_WRAPPER}".replace("  ", " ").strip()
    # so they do when a ruby annotation makes the length a walk over the strings
    html = f"<p>{_STORY}</p><ruby>a<rt>b</rt></ruby>" + "<i></i>\n     " * 50 + f"<div class='share'>{_WRAPPER}</div>"
    assert _WRAPPER.strip() in html_to_text(html)
    # inside <pre> they count whole: 1,300 characters, and the wrapper goes
    html = f"<p>{_STORY}</p><pre>" + "<i></i>\n     " * 50 + f"</pre><div class='share'>{_WRAPPER}</div>"
    assert html_to_text(html) == _STORY.strip()
    # also when the <pre> is around the wrapper: its 480 characters and 300 of blanks hold the story
    html = f"<p>{_STORY}</p><pre><div class='share'>{_WRAPPER[:480]}" + "<i></i>\n     " * 50 + "</div></pre>"
    assert "Khung chia sẻ" in html_to_text(html)


def test_a_removed_element_leaves_its_tail_a_string_of_its_own() -> None:
    # 251 blank strings around 250 removed scripts count 251 characters; merged into one they would
    # count 1, and the wrapper would then hold more than half of the text and stay
    html = f"<p>{_STORY}</p>" + "\n<script>x</script>\n" * 250 + f"<div class='share'>{_WRAPPER}</div>"
    assert html_to_text(html) == _STORY.strip()


def test_blanks_outside_any_element_count() -> None:
    # lxml's tree has no place for the 250 blank strings after </html>; the soup counted them
    html = f"<p>{_STORY}</p></html>" + "\n<!---->" * 250 + f"<div class='share'>{_WRAPPER}</div>"
    assert html_to_text(html) == _STORY.strip()
    assert html_to_text("<p>Một</p></html>\n<p>Hai</p>") == "Một\n\nHai"
    # the same before any element, after a stray end tag
    html = "</div>" + "\n<!---->" * 250 + f"<p>{_STORY}</p><div class='share'>{_WRAPPER}</div>"
    assert html_to_text(html) == _STORY.strip()


def test_a_second_byte_order_mark_is_dropped_too() -> None:
    # the soup dropped one and lxml the next; left in, it would hide the heading
    html = "Tin liên quan<ul><li><a href='/a'>Bài khác</a></li></ul><p>Nội dung.</p>"
    assert html_to_text("\ufeff\ufeff" + html) == html_to_text(html)


def test_deeply_nested_markup_keeps_its_text() -> None:
    html = "<p>" + "<b>" * 300 + "sâu" + "</b>" * 300 + "</p><p>sau</p>"
    assert html_to_text(html) == "sâu\n\nsau"


def test_attribute_words_are_split_as_html_defines_them() -> None:
    # rel is a word list on links only: "author me" marks a link as a byline, not a span
    html = "<p><a rel='author me' href='/a'>Tác giả A</a> <span rel='author me'>Tác giả B</span> <a rel='me'>C</a></p>"
    assert html_to_text(html) == "Tác giả B C"
    assert html_to_text("<p class=' x  share '>Chia sẻ</p><p class='sharex'>Giữ</p>") == "Giữ"


def test_a_comment_that_reads_like_a_related_heading_counts_as_one() -> None:
    html = f"<p>{_STORY}</p><div><!-- Tin liên quan --><a href='/x'>Một bài khác rất dài</a></div>"
    assert html_to_text(html) == _STORY.strip()


def test_a_related_box_with_two_headings_is_dropped_once() -> None:
    # the BeautifulSoup version raised AttributeError here (the second heading went with the first box)
    links = "".join(
        f"<h3>{h}</h3><ul><li><a href='/{i}'>{'Bài liên quan rất dài ' * 3}</a></li></ul>"
        for i, h in enumerate(["Tin liên quan", "Xem thêm"])
    )
    assert html_to_text(f"<p>{_STORY}</p><div>{links}</div><p>Sau</p>") == f"{_STORY.strip()}\n\nSau"


def test_stage_cleans_html_item() -> None:
    item = {"source": "s", "body_html": HTML, "author": None}
    out = CleanStage().process_item(item)
    assert out["text"].startswith("Sáng 20/3")
    assert "Bình luận (0)" in out["raw_text"] and "Bình luận (0)" not in out["text"]
    assert out["truncated"] is False


def test_stage_cleans_seed_raw_text() -> None:
    raw = SEEDS[0].read_text(encoding="utf-8")
    out = CleanStage().process_item({"source": "seeds", "raw_text": raw})
    assert "Lên đầu trang" not in out["text"] and "Lên đầu trang" in out["raw_text"]


@pytest.mark.parametrize(
    ("item", "category"),
    [
        ({"body_html": ""}, "empty"),
        ({"body_html": None, "raw_text": "  "}, "empty"),
        ({}, "empty"),
        ({"body_html": "<div><script>x()</script><img src=a.jpg></div>"}, "empty"),
        ({"body_html": "<p>Bình luận (0)</p><p>Lên đầu trang</p><p>Xem thêm</p><p>|</p>"}, "boilerplate_only"),
        ({"body_html": "\x00\x01\x02\x03\x04" * 100}, "broken_html"),
        ({"body_html": 12345}, "broken_html"),
    ],
)
def test_stage_drops_bad_input_with_counted_category(item: dict, category: str) -> None:
    stats = FakeStats()
    with pytest.raises(Dropped) as caught:
        CleanStage(stats=stats).process_item({"source": "site", **item})
    assert caught.value.category == category
    assert stats.values == {f"qpan/source/site/dropped/{category}": 1}


def test_huge_page_is_cut_at_the_limit_with_a_flag() -> None:
    paragraph = "<p>" + "Hai lực lượng phối hợp tuần tra, kiểm soát địa bàn biên giới. " * 20 + "</p>"
    body = "<div>" + paragraph * 3000 + "</div>"  # ~4 MB of HTML
    out = CleanStage(max_text_chars=5000).process_item({"source": "s", "body_html": body})
    assert out["truncated"] is True
    assert 2500 <= len(out["text"]) <= 5000
    assert out["text"].endswith("biên giới.")


def test_cut_text_prefers_paragraph_boundaries() -> None:
    text = "a" * 60 + "\n\n" + "b" * 60
    assert cut_text(text, 100) == "a" * 60
    assert cut_text("x" * 300, 100) == "x" * 100
