"""The local news web itself: what the crawler tests and `qpan demo` rely on."""

from __future__ import annotations

import gzip
import re
import socket
import struct
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import FIXTURE_WEB, write_config

from qpan.config import load_config
from qpan.demo import DEMO_SITES, LocalWeb
from qpan.demo.content import ContentError, load_site
from qpan.demo.render import encode_text
from qpan.timezone import VIETNAM


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """One request, redirects not followed, error statuses returned rather than raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def links(body: bytes) -> list[str]:
    return re.findall(r"<(?:link|loc)>([^<]+)</(?:link|loc)>", body.decode("utf-8"))


def test_feed_conditional_requests_give_304_until_something_changes(fixture_web: LocalWeb) -> None:
    feed = fixture_web.url("tinbiengioi") + "/rss/tin-moi.rss"
    status, headers, body = get(feed)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(feed, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(feed, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert get(feed, {"If-None-Match": '"something-else"'})[0] == 200

    fixture_web.add_article("tinbiengioi", {"id": 150, "title": "Tin mới", "published": "-0d", "in": ["rss"]})
    status, new_headers, new_body = get(feed, {"If-None-Match": headers["ETag"]})
    assert status == 200 and new_headers["ETag"] != headers["ETag"]
    assert get(feed, {"If-Modified-Since": headers["Last-Modified"]})[0] == 200
    assert len(links(new_body)) == len(links(body)) + 1


def test_sitemap_index_points_to_a_plain_and_a_gzip_sitemap(fixture_web: LocalWeb) -> None:
    base = fixture_web.url("baodiaphuong")
    robots = get(base + "/robots.txt")[2].decode()
    assert f"Sitemap: {base}/sitemap.xml" in robots and "Disallow: /quan-tri/" in robots
    children = links(get(base + "/sitemap.xml")[2])
    assert [c.endswith(".gz") for c in children] == [False, True]
    status, headers, raw = get(children[1])
    assert status == 200 and raw[:2] == b"\x1f\x8b"
    assert get(children[1], {"If-None-Match": headers["ETag"]})[0] == 304
    tree = ET.fromstring(gzip.decompress(raw))
    lastmods = [e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}lastmod")]
    urls = links(get(children[0])[2]) + links(gzip.decompress(raw))
    assert len(urls) == len(fixture_web.articles("baodiaphuong")) and all(lastmods)


def test_search_matches_every_word_without_diacritics(fixture_web: LocalWeb) -> None:
    search = fixture_web.url("timkiem") + "/tim-kiem/rss?q="
    found = links(get(search + urllib.parse.quote("nghi dinh 03 dak lak"))[2])
    assert [u.rsplit("-", 1)[1] for u in found[1:]] == ["a401.html"]
    assert links(get(search + urllib.parse.quote("Nghị định 03/2019 pickleball"))[2])[1:] == []
    page = get(fixture_web.url("timkiem") + "/tim-kiem?q=" + urllib.parse.quote("bóng chuyền"))[2]
    assert "vô địch giải bóng chuyền" in page.decode()


def test_added_article_appears_in_feeds_sitemaps_listings_and_search(fixture_web: LocalWeb) -> None:
    article = {
        "id": 399,
        "title": "Gia Lai: Giao ban quân sự công an",
        "published": "-0d",
        "paragraphs": ["Hội nghị giao ban về phòng không nhân dân."],
    }
    for site in ("tinbiengioi", "baodiaphuong", "congantinh", "timkiem"):
        fixture_web.add_article(site, dict(article))
    path = fixture_web.articles("congantinh")[0].path
    assert path.endswith("-post399.html")
    assert fixture_web.url("congantinh") + path in get(fixture_web.url("congantinh") + "/tin-tuc")[2].decode()
    assert any(u.endswith("-399.html") for u in links(get(fixture_web.url("tinbiengioi") + "/rss/tin-moi.rss")[2]))
    sitemap = links(get(fixture_web.url("baodiaphuong") + "/sitemaps/bai-viet-1.xml")[2])
    assert sitemap[0].endswith("-399.htm")
    found = links(get(fixture_web.url("timkiem") + "/tim-kiem/rss?q=phong+khong+gia+lai")[2])
    assert found[1:] == [fixture_web.article_url("timkiem", 399)]


def test_set_route_breaks_a_feed_and_the_log_records_it(fixture_web: LocalWeb) -> None:
    feed = fixture_web.url("tinbiengioi") + "/rss/tin-moi.rss"
    fixture_web.set_route("tinbiengioi", "/rss/tin-moi.rss", status=500)
    assert get(feed)[0] == 500
    fixture_web.remove_route("tinbiengioi", "/rss/tin-moi.rss")
    assert get(feed, {"User-Agent": "qpan-test"})[0] == 200
    log = fixture_web.requests("tinbiengioi")
    assert [(r.path, r.method, r.status) for r in log] == [
        ("/rss/tin-moi.rss", "GET", 500),
        ("/rss/tin-moi.rss", "GET", 200),
    ]
    assert log[1].headers["user-agent"] == "qpan-test"


def test_windows_1258_page_really_is_cp1258(fixture_web: LocalWeb) -> None:
    status, headers, body = get(fixture_web.article_url("baodiaphuong", 202))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=windows-1258"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = unicodedata.normalize("NFC", body.decode("cp1258"))
    assert "Nghệ An: Sơ kết 5 năm phối hợp thực hiện Nghị định 03/2019/NĐ-CP" in text
    assert "&#" not in text


def test_wrong_charset_page_declares_latin1_but_is_utf8(fixture_web: LocalWeb) -> None:
    _, headers, body = get(fixture_web.article_url("baodiaphuong", 203))
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert '<meta charset="iso-8859-1">' in body.decode("utf-8")
    assert "Thanh Hóa: Nông dân phấn khởi" in body.decode("utf-8")


def test_redirect_chain_404_500_429_and_slow_routes(fixture_web: LocalWeb) -> None:
    base = fixture_web.url("tinbiengioi")
    status, headers, _ = get(base + "/tin-cu/bien-phong-cao-bang-106.html")
    assert status == 301
    status, headers, _ = get(headers["Location"])
    assert status == 302
    assert get(base + headers["Location"])[0] == 200
    assert get(fixture_web.article_url("tinbiengioi", 107))[0] == 404
    assert get(fixture_web.article_url("tinbiengioi", 110))[0] == 500
    status, headers, _ = get(fixture_web.article_url("tinbiengioi", 108))
    assert (status, headers["Retry-After"]) == (429, "1")
    assert get(fixture_web.article_url("tinbiengioi", 108))[0] == 200
    fixture_web.set_route("tinbiengioi", "/feeds/thoi-su.atom", delay=0.2, headers={"X-Test": "{base}"})
    status, headers, _ = get(base + "/feeds/thoi-su.atom")
    assert (status, headers["X-Test"]) == (200, base)


def test_listing_pages_hold_every_listed_article_once(fixture_web: LocalWeb) -> None:
    base = fixture_web.url("congantinh")
    pages = [base + "/tin-tuc", base + "/tin-tuc/trang-2.html", base + "/tin-tuc/trang-3.html"]
    found = [re.findall(r'href="([^"]+-post\d+\.html)"', get(p)[2].decode()) for p in pages]
    assert [len(f) for f in found] == [3, 3, 2]
    assert sorted(sum(found, [])) == sorted(base + a.path for a in fixture_web.articles("congantinh"))
    assert get(base + "/tin-tuc/trang-4.html")[0] == 404
    assert "Disallow: /luu-tru/" in get(base + "/robots.txt")[2].decode()


def test_metadata_shapes(fixture_web: LocalWeb) -> None:
    jsonld = get(fixture_web.article_url("tinbiengioi", 101))[2].decode()
    assert '"@type": "NewsArticle"' in jsonld and "article:published_time" in jsonld
    og_only = get(fixture_web.article_url("baodiaphuong", 201))[2].decode()
    assert "application/ld+json" not in og_only and "article:published_time" in og_only
    dateline_only = get(fixture_web.article_url("congantinh", 301))[2].decode()
    assert "application/ld+json" not in dateline_only and "og:" not in dateline_only
    assert "<time" not in dateline_only
    assert re.search(r"Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật, \d\d/\d\d/\d{4} \d\d:\d\d", dateline_only)
    home = get(fixture_web.url("tinbiengioi") + "/")[2].decode()
    assert 'rel="alternate" type="application/rss+xml"' in home


def test_sources_fill_in_bases_and_keep_search_placeholders(fixture_web: LocalWeb, tmp_path: Path) -> None:
    sources = {s["name"]: s for s in fixture_web.sources()}
    assert sources["timkiem"]["search"] == [fixture_web.url("timkiem") + "/tim-kiem?q={query}"]
    config = load_config(write_config(tmp_path, fixture_web, crawl={"since_days": 7}))
    assert [s.name for s in config.sources] == fixture_web.sites
    assert config.crawl.since_days == 7 and not config.crawl.shipped_sources


def test_relative_dates_keep_fixture_articles_recent(fixture_web: LocalWeb) -> None:
    now = datetime.now(VIETNAM)
    old = {
        a.id for site in fixture_web.sites for a in fixture_web.articles(site) if a.published < now - timedelta(days=20)
    }
    assert old == {"105", "206"}


def test_reset_restores_content_routes_and_log(fixture_web: LocalWeb) -> None:
    fixture_web.add_article("congantinh", {"id": 900, "title": "X", "published": "-0d"})
    fixture_web.set_route("congantinh", "/tin-tuc", status=503)
    assert get(fixture_web.url("congantinh") + "/tin-tuc")[0] == 503
    fixture_web.reset()
    assert fixture_web.requests("congantinh") == []
    assert get(fixture_web.url("congantinh") + "/tin-tuc")[0] == 200
    assert "900" not in {a.id for a in fixture_web.articles("congantinh")}


def test_cp1258_encoding_covers_every_vietnamese_letter() -> None:
    letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
    text = letters + letters.upper()
    assert unicodedata.normalize("NFC", encode_text(text, "cp1258").decode("cp1258")) == text


def test_bad_site_data_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text('name = "x"\n', encoding="utf-8")
    (tmp_path / "articles.toml").write_text(
        '[[articles]]\nid = 1\ntitle = "t"\npublished = "hôm qua"\n', encoding="utf-8"
    )
    with pytest.raises(ContentError, match="articles.toml: article 1: date 'hôm qua'"):
        load_site(tmp_path, datetime.now(VIETNAM))


@pytest.mark.parametrize("root", [FIXTURE_WEB, DEMO_SITES])
def test_every_site_serves_its_articles(root: Path) -> None:
    if not any(root.glob("*/site.toml")):
        pytest.skip(f"no sites under {root}")
    with LocalWeb.from_directory(root) as web:
        for site in web.sites:
            for article in web.articles(site):
                status, _, body = get(web.url(site) + article.path)
                assert status in (200, 301, 302, 404, 429, 500), (site, article.id)
                if status == 200:
                    assert encode_text(article.title, article.encoding) in body


def test_a_client_that_hangs_up_costs_no_traceback(fixture_web: LocalWeb, capsys: pytest.CaptureFixture[str]) -> None:
    """A crawl stopped mid-download hangs up on the server; the standard server printed a traceback
    for it into whatever test ran next in the same process."""
    host, port = urllib.parse.urlsplit(fixture_web.url("baodiaphuong")).netloc.split(":")
    path = fixture_web.articles("baodiaphuong")[0].path
    for _ in range(5):
        client = socket.create_connection((host, int(port)))
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        client.close()
    time.sleep(0.3)
    assert get(fixture_web.url("baodiaphuong") + path)[0] == 200  # still serving
    assert "Traceback" not in capsys.readouterr().err
