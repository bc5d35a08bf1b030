"""The general rules the real pages called for, each on a minimal page or text of its own.

The real pages (tests/test_realpages.py) prove them on the sites; these prove each rule alone,
so a rule that stops working is named by the test that fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from scrapy.http import HtmlResponse

from qpan.crawler.extraction import extract_article
from qpan.crawler.extraction.dates import parse_date
from qpan.crawler.harvest.dates import from_numeric, numeric_month_first
from qpan.crawler.harvest.feeds import feed_entries
from qpan.crawler.harvest.links import article_links
from qpan.pipelines.cleaning import clean_text
from qpan.timezone import VIETNAM

STORY = (
    "Công an tỉnh và Bộ Chỉ huy Quân sự tỉnh tổ chức hội nghị giao ban, đánh giá kết quả phối hợp "
    "bảo đảm an ninh chính trị, trật tự an toàn xã hội trên địa bàn trong năm qua."
)


def article_page(head: str = "", after: str = "", site_name: str = "baomau.vn") -> str:
    paragraphs = "".join(f"<p>{STORY} Đoạn {i}.</p>" for i in range(4))
    return (
        f'<html lang="vi"><head><meta property="og:site_name" content="{site_name}">{head}</head>'
        f'<body><h1>Tiêu đề</h1><div class="detail-content">{paragraphs}{after}</div></body></html>'
    )


def test_entity_encoded_jsonld_strings_are_decoded() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        '"headline": "Chi&amp;#7871;n s&amp;#7921; &#273;&#7849;y gi&aacute; hoa",'
        ' "author": {"@type": "Person", "name": "Nh&#7853;t Xu&acirc;n"}}</script>'
    )
    item = extract_article(article_page(head), "https://baomau.vn/bai-123456.html", source="s")
    assert item["title"] == "Chiến sự đẩy giá hoa"
    assert item["methods"]["title"] == "jsonld"
    assert item["author"] == "Nhật Xuân"


def test_the_sites_own_name_is_not_the_author_and_the_signature_is() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle",'
        ' "author": {"@type": "Organization", "name": "BaoMau"}}</script>'
    )
    signature = '<p class="Normal" style="text-align:right;"><strong>Hà Thu</strong> <em>(tổng hợp)</em></p>'
    item = extract_article(article_page(head, signature), "https://baomau.vn/bai-123456.html", source="s")
    assert item["author"] == "Hà Thu"
    assert item["methods"]["author"] == "byline"


@pytest.mark.parametrize(
    ("written", "name"),
    [("Hà Thu (tổng hợp)", "Hà Thu"), ("Minh Anh (theo Reuters)", "Minh Anh"), ("Theo: Việt Hưng", "Việt Hưng")],
)
def test_a_note_after_the_authors_name_is_not_part_of_it(written: str, name: str) -> None:
    head = f'<meta name="author" content="{written}">'
    item = extract_article(article_page(head), "https://baomau.vn/bai-123456.html", source="s")
    assert item["author"] == name


def test_a_signature_with_a_note_leaves_the_text() -> None:
    text = f"{STORY}\n\nHà Thu (tổng hợp)"
    assert clean_text(text) == STORY
    assert clean_text(f"{STORY}\n\nHà Thu (tổng hợp)", author="Hà Thu") == STORY


def test_a_trailing_newsletter_box_is_cut_but_a_sentence_about_one_inside_the_story_stays() -> None:
    box = (
        "Tuổi Trẻ Online Newsletters\n\nĐăng ký ngay để nhận gói tin tức mới\n\n"
        "Tuổi Trẻ Online sẽ gởi đến bạn những tin tức nổi bật nhất"
    )
    assert clean_text(f"{STORY}\n\n{box}") == STORY
    inside = f"{STORY}\n\nĐăng ký nhận bản tin của sở để theo dõi lịch tiếp dân.\n\n" + "\n\n".join([STORY] * 4)
    assert clean_text(inside) == inside


def test_an_iso_date_with_a_space_before_its_offset() -> None:
    assert parse_date("2026-03-07T08:52:11.000 +07:00") == datetime(2026, 3, 7, 8, 52, 11, tzinfo=VIETNAM)
    eastern = timezone(timedelta(hours=-5))
    assert parse_date("2026-03-07 08:52:11 -0500") == datetime(2026, 3, 7, 8, 52, 11, tzinfo=eastern)


@pytest.mark.parametrize(
    ("dates", "month_first"),
    [
        (["9/5/2026 1:30:00 PM", "8/28/2026 12:49:00 PM"], True),  # a second number above 12: month first
        (["9/5/2026 13:30", "28/8/2026 12:49"], False),  # a first number above 12: day first
        (["9/5/2026 1:30:00 PM", "9/4/2026 8:05:00 PM"], True),  # undecided, 12-hour clock: the US pattern
        (["9/5/2026 13:30", "9/4/2026 20:05"], False),  # undecided, 24-hour clock: the Vietnamese habit
        (["8/28/2026 1:00 PM", "8/29/2026 1:00 PM", "13/8/2026 1:00 PM"], True),  # the majority decides
    ],
)
def test_the_feed_as_a_whole_decides_month_or_day_first(dates: list[str], month_first: bool) -> None:
    assert numeric_month_first(dates) is month_first


def test_numeric_feed_dates_are_vietnam_time_unless_a_zone_is_given() -> None:
    assert from_numeric("9/5/2026 1:30:00 PM", month_first=True) == datetime(2026, 9, 5, 13, 30, tzinfo=VIETNAM)
    assert from_numeric("9/5/2026 1:30:00 PM", month_first=False) == datetime(2026, 5, 9, 13, 30, tzinfo=VIETNAM)
    assert from_numeric("9/5/2026 06:30:00 +0000", month_first=True) == datetime(2026, 9, 5, 6, 30, tzinfo=UTC)
    assert from_numeric("hôm nay", month_first=True) is None


def test_a_feed_with_numeric_dates_gets_them_read() -> None:
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><link>https://s.vn/a-102260905122709839.htm</link><pubDate>9/5/2026 1:30:00 PM</pubDate></item>
<item><link>https://s.vn/b-102260828120002463.htm</link><pubDate>8/28/2026 12:49:00 PM</pubDate></item>
<item><link>https://s.vn/c-102260828120002464.htm</link><pubDate>Fri, 28 Aug 2026 05:00:00 +0000</pubDate></item>
</channel></rss>"""
    dates = [entry.published for entry in feed_entries(feed, "https://s.vn/rss")]
    assert dates == [
        datetime(2026, 9, 5, 13, 30, tzinfo=VIETNAM),
        datetime(2026, 8, 28, 12, 49, tzinfo=VIETNAM),
        datetime(2026, 8, 28, 5, 0, tzinfo=UTC),
    ]


def test_generic_link_harvest_skips_tag_pages() -> None:
    page = (
        '<a href="/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html">a</a>'
        '<a href="/gia-vang-tag14642850852768478603.html">tag</a>'
        '<a href="/xu-phat-giam-doc-d538952.html">b</a>'
    )
    response = HtmlResponse(url="https://s.vn/", body=page.encode(), encoding="utf-8")
    assert article_links(response, None, ["s.vn"]) == [
        "https://s.vn/co-phieu-flc-duoc-giao-dich-tro-lai-2495349.html",
        "https://s.vn/xu-phat-giam-doc-d538952.html",
    ]
