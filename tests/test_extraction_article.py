"""extract_article behaviour that the saved pages do not pin down: selectors, fallbacks, sanity rules."""

from __future__ import annotations

import random
import re
from datetime import datetime

import lxml.html
import pytest

from qpan.config import Selectors
from qpan.crawler.extraction import extract_article, generic, guess_language, is_article_page, parse_html
from qpan.timezone import VIETNAM
from support.pages import page_cases

URL = "https://baoquocphong.vn/tin/phoi-hop-nghi-dinh-03-123.html"
PARAGRAPH = (
    "Bộ Công an và Bộ Quốc phòng phối hợp chặt chẽ trong bảo vệ an ninh quốc gia, bảo đảm trật tự, "
    "an toàn xã hội, đấu tranh phòng, chống tội phạm theo Nghị định số 03/2019/NĐ-CP của Chính phủ."
)


def page(head: str = "", body: str = "", paragraphs: int = 4) -> str:
    story = "".join(f"<p>{PARAGRAPH} Đoạn {i}.</p>" for i in range(paragraphs))
    return (
        f'<html lang="vi"><head><title>Tiêu đề bài - Báo Quốc phòng</title>{head}</head>'
        f'<body><nav><a href="/">Trang chủ</a></nav><h1>Tiêu đề bài</h1>{body}'
        f'<div class="content">{story}</div><div class="footer">Liên hệ</div></body></html>'
    )


def test_selectors_win_and_are_recorded() -> None:
    html = page(
        head='<meta property="og:title" content="Tiêu đề OG">',
        body='<h2 class="headline">Tiêu đề theo selector</h2><span class="by">Minh Anh</span>'
        '<span class="when">Thứ Hai, 20/03/2023 08:15</span><div class="story"><p>' + PARAGRAPH * 3 + "</p></div>",
    )
    selectors = Selectors(
        title="h2.headline::text", author="span.by", date="span.when::text", body="div.story", remove=["p.ad"]
    )
    item = extract_article(html, URL, source="qp", selectors=selectors)
    assert item["title"] == "Tiêu đề theo selector"
    assert item["author"] == "Minh Anh"
    assert item["published"] == datetime(2023, 3, 20, 8, 15, tzinfo=VIETNAM)
    assert item["body_html"].startswith('<div class="story">')
    assert item["methods"] == item["methods"] | {
        "title": "selector",
        "author": "selector",
        "published": "selector",
        "body_html": "selector",
    }


def test_unusable_selector_falls_back_to_metadata_and_generic() -> None:
    html = page(head='<meta property="og:title" content="Tiêu đề OG">')
    item = extract_article(html, URL, source="qp", selectors=Selectors(title="h5.none::text", body="div.none"))
    assert item["title"] == "Tiêu đề OG" and item["methods"]["title"] == "opengraph"
    assert item["methods"]["body_html"] == "generic" and "Đoạn 3" in item["body_html"]


def test_broken_jsonld_date_falls_through_to_next_method() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Tiêu đề JSON-LD",'
        ' "datePublished": "không rõ"}</script>'
        '<meta property="article:published_time" content="2024-12-26T15:30:00+07:00">'
    )
    item = extract_article(page(head=head), URL, source="qp")
    assert item["title"] == "Tiêu đề JSON-LD"
    assert item["published"] == datetime(2024, 12, 26, 15, 30, tzinfo=VIETNAM)
    assert item["methods"]["published"] == "opengraph"


def test_title_tag_loses_the_site_name() -> None:
    html = page().replace("<h1>Tiêu đề bài</h1>", "")
    item = extract_article(html, URL, source="qp")
    assert item["title"] == "Tiêu đề bài" and item["methods"]["title"] == "title"


def test_canonical_is_resolved_and_canonicalised() -> None:
    item = extract_article(page(head='<link rel="canonical" href="/tin/bai-123.html?utm_source=x">'), URL, source="qp")
    assert item["canonical_url"] == "https://baoquocphong.vn/tin/bai-123.html"


def test_insane_canonicals_are_ignored() -> None:
    for href in ("https://baoquocphong.vn/", "https://other-site.vn/tin/bai.html", "javascript:void(0)"):
        item = extract_article(page(head=f'<link rel="canonical" href="{href}">'), URL, source="qp")
        assert item["canonical_url"] == URL, href
        assert item["methods"]["canonical_url"] == "url"


def test_amp_url_without_canonical_is_still_canonicalised() -> None:
    item = extract_article(page(), "https://m.baoquocphong.vn/amp/tin/phoi-hop-123.html?utm_source=zalo", source="qp")
    assert item["canonical_url"] == "https://baoquocphong.vn/tin/phoi-hop-123.html"


def test_trafilatura_is_the_last_resort() -> None:
    # every paragraph sits in a container the generic scorer discards as boilerplate
    story = "".join(f'<div class="related-box"><p>{PARAGRAPH} Đoạn {i}.</p></div>' for i in range(6))
    html = f"<html><body><article>{story}</article></body></html>"
    item = extract_article(html, URL, source="qp")
    assert item["methods"].get("body_html") == "trafilatura"
    assert "Đoạn 5" in item["body_html"]


def test_jsonld_article_body_before_trafilatura() -> None:
    body = "\\n".join(f"{PARAGRAPH} Đoạn {i}." for i in range(3))
    head = f'<script type="application/ld+json">{{"@type": "NewsArticle", "articleBody": "{body}"}}</script>'
    html = f"<html><head>{head}</head><body><div class='related'>x</div></body></html>"
    item = extract_article(html, URL, source="qp")
    assert item["methods"]["body_html"] == "jsonld" and item["body_html"].count("<p>") == 3


def test_empty_page_gives_an_empty_item_not_an_exception() -> None:
    for body in (b"", b"   ", b"\x00\x01\x02"):
        item = extract_article(body, URL, source="qp")
        assert item["body_html"] == "" and item["canonical_url"] == URL
        assert item["fetched_at"].tzinfo is not None


def test_language_from_markup_and_from_text() -> None:
    assert extract_article(page(), URL, source="qp")["language"] == "vi"
    wrong = extract_article(page().replace('lang="vi"', 'lang="en"'), URL, source="qp")
    assert wrong["language"] == "vi" and wrong["methods"]["language"] == "heuristic"
    assert guess_language("The Ministry of Public Security and the Ministry of National Defence met.") is None


def test_is_article_page() -> None:
    dated = page(head='<meta property="article:published_time" content="2024-12-26T15:30:00+07:00">')
    assert is_article_page(extract_article(dated, URL, source="qp"))
    listing = (
        "<html><body><h1>Thời sự</h1><ul>"
        + "".join(f'<li><a href="/a-{i}.html">Tin số {i} về hội nghị giao ban</a></li>' for i in range(30))
        + "</ul></body></html>"
    )
    assert not is_article_page(extract_article(listing, "https://baoquocphong.vn/thoi-su", source="qp"))


# The layout scans pre-select elements with XPath; each marker must still find its element.
@pytest.mark.parametrize(
    "byline",
    [
        '<span class="author-name">Minh Anh</span>',
        '<span id="tacgia">Minh Anh</span>',
        '<span itemprop="author">Minh Anh</span>',
        '<p style="text-align: right"><strong>Minh Anh</strong></p>',
        '<div align="right">Minh Anh</div>',
    ],
)
def test_the_byline_is_found_by_any_of_its_markers(byline: str) -> None:
    item = extract_article(page(body=f"<div class='content'><p>{PARAGRAPH}</p>{byline}</div>"), URL, source="qp")
    assert (item.get("author"), item["methods"].get("author")) == ("Minh Anh", "byline")


@pytest.mark.parametrize(
    ("dateline", "method"),
    [
        ('<span class="date">Thứ Hai, 20/03/2023 08:15</span>', "dateline"),
        ('<div id="ngay-dang">20/03/2023 08:15</div>', "dateline"),
        ("<time>20/03/2023 08:15</time>", "dateline"),
        ('<span itemprop="datePublished" content="2023-03-20T08:15:00+07:00">20/03</span>', "microdata"),
    ],
)
def test_the_date_is_found_by_any_of_its_markers(dateline: str, method: str) -> None:
    item = extract_article(page(body=dateline), URL, source="qp")
    assert item["published"] == datetime(2023, 3, 20, 8, 15, tzinfo=VIETNAM)
    assert item["methods"]["published"] == method


def test_the_dateline_after_the_headline_wins_over_the_one_in_the_top_bar() -> None:
    html = page(body='<span class="date">20/03/2023 08:15</span>').replace(
        "<body>", '<body><div class="top-date">Thứ Hai, 20/05/2024</div>'
    )
    assert extract_article(html, URL, source="qp")["published"] == datetime(2023, 3, 20, 8, 15, tzinfo=VIETNAM)


def test_a_block_marked_by_its_id_is_pruned() -> None:
    comments = "".join(f"<p>Bạn đọc {i}: {PARAGRAPH}</p>" for i in range(3))
    html = page().replace('<div class="footer">', f'<div id="binh-luan">{comments}</div><div class="footer">')
    item = extract_article(html, URL, source="qp")
    assert "Đoạn 3" in item["body_html"] and "Bạn đọc" not in item["body_html"]


def test_pruning_judges_every_element_outside_a_doomed_block() -> None:
    """Inside a dropped block nothing needs a verdict; right after it, and among the elements
    marked by an id only, everything still does."""
    story = f'<div class="content"><p>{PARAGRAPH}</p><p id="lead">{PARAGRAPH}</p></div>'
    menu = '<div class="menu"><a class="item" href="/a">A</a><span id="inner-share">x</span></div>'
    body = lxml.html.document_fromstring(
        f'<html><body>{menu}<div class="social">Chia sẻ</div>{story}'
        '<div id="binh-luan"><p>Bạn đọc</p></div><div id="tin-lien-quan">Tin liên quan</div></body></html>'
    ).find("body")
    generic._prune(body)
    left = [(element.get("class"), element.get("id")) for element in body.iter() if element is not body]
    assert left == [("content", None), (None, None), (None, "lead")]


def test_the_site_name_from_opengraph_leaves_the_title() -> None:
    head = '<meta property="og:site_name" content="Nhịp Sống Mới">'
    html = page(head=head).replace("<h1>Tiêu đề bài</h1>", "")
    html = html.replace("<title>Tiêu đề bài - Báo Quốc phòng</title>", "<title>Tiêu đề bài | Nhịp Sống Mới</title>")
    item = extract_article(html, URL, source="qp")
    assert item["title"] == "Tiêu đề bài"


def _plain_guess(text: str) -> str | None:
    """guess_language as defined: the share of Vietnamese letters among all letters of the sample."""
    sample = text[:2000]
    letters = len(re.sub(r"[\W\d_]+", "", sample))
    vietnamese = len(re.findall(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", sample, re.I))
    return "vi" if letters >= 20 and vietnamese / letters >= 0.04 else None


@pytest.mark.parametrize(
    "text",
    [
        PARAGRAPH,
        PARAGRAPH.upper(),
        "The Ministry of Public Security and the Ministry of National Defence met in Hà Nội.",
        "ă" * 20 + " 1" * 490,  # few letters, all Vietnamese: 20 of 20
        "ă" * 19 + " 1" * 490,
        "ă" * 20 + "b" * 480,  # exactly the share
        "ă" * 20 + "b" * 481,  # just under it
        "Đ" * 25 + "." * 5000,
        "x" * 10 + "ơ" * 3,
    ],
)
def test_language_guess_shortcut_agrees_with_the_definition(text: str) -> None:
    assert guess_language(text) == _plain_guess(text)


def test_the_best_container_is_the_top_discounted_score_however_early_the_search_stops() -> None:
    # _best stops at the first candidate whose score cannot beat the best discounted score so far;
    # it must pick what a full look at the top eight picks
    rng = random.Random(3)
    links = ["", "<a href='/x'>liên kết</a>", "<a href='/x'>" + "liên kết dài " * 5 + "</a>"]
    for _ in range(300):
        blocks = "".join(
            f"<div>{'chữ ' * rng.randint(0, 30)}{rng.choice(links)}</div>" for _ in range(rng.randint(1, 12))
        )
        elements = list(lxml.html.fromstring(f"<div>{blocks}</div>"))
        scores = {element: rng.choice([rng.uniform(-30, 60), 10.0, 20.0]) for element in elements}
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:8]
        adjusted = [(e, s * (1 - generic.link_density(e))) for e, s in ranked]
        expected = max((pair for pair in adjusted if pair[1] > 0), key=lambda pair: pair[1], default=None)
        assert generic._best(scores) == expected


def test_a_long_caption_does_not_make_a_short_body_long_enough() -> None:
    # the generic body's text floor leaves captions out, as body_text does
    caption = "Ảnh minh hoạ: các đại biểu dự hội nghị giao ban tại hội trường lớn của tỉnh. " * 4
    html = (
        "<html><body><div class='content'><p>Một đoạn ngắn về hội nghị, chưa đủ dài.</p>"
        f"<figure><img src='/a.jpg'><figcaption>{caption}</figcaption></figure></div></body></html>"
    )
    item = extract_article(html, URL, source="qp")
    assert item["methods"].get("body_html") != "generic"


def test_the_generic_text_floor_is_never_above_the_body_text_length() -> None:
    # usable() trusts the floor instead of measuring body_text when it reaches MIN_BODY_CHARS
    rng = random.Random(11)
    for case in page_cases():
        if case.id.startswith("realpages/"):
            continue
        text = case.body.decode("utf-8", "replace")
        for piece in [text] + [text[start : start + 20000] for start in rng.sample(range(len(text)), 10)]:
            root = parse_html(piece)
            found = generic.extract_body(root) if root is not None else None
            if found is not None:
                assert found.text_floor <= len(generic.body_text(found.html.strip())), case.id
