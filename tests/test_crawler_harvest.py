"""Parsers behind the spider: feeds, sitemaps, links, dates, retry delays, run figures."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

from scrapy.http import HtmlResponse

from qpan.crawler.harvest.dates import cutoff, from_w3c, is_recent
from qpan.crawler.harvest.feeds import feed_entries, looks_like_feed
from qpan.crawler.harvest.links import article_links, feed_links, next_page, search_url, unwrap_link
from qpan.crawler.harvest.sitemaps import SitemapStream
from qpan.crawler.middlewares.retry import backoff_delay, retry_after_seconds
from qpan.crawler.summary import figures_from_stats, run_status

RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>http://s.vn/a-123456.html</link><pubDate>Fri, 16 Jul 2021 09:15:00 +0700</pubDate></item>
<item><title>b</title><link>/b-234567.html</link></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>c</title><link rel="alternate" href="http://s.vn/c-345678.html"/><updated>2024-03-20T08:15:00+07:00</updated></entry></feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://s.vn/"><title>t</title></channel>
<item rdf:about="http://s.vn/d-456789.html"><title>d</title><link>http://s.vn/d-456789.html</link></item></rdf:RDF>"""
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://s.vn/s1.xml</loc><lastmod>2024-03-20</lastmod></sitemap></sitemapindex>"""
NEWS = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>http://s.vn/tin/e.htm</loc><news:news><news:publication_date>2024-03-20T08:15:00+07:00</news:publication_date>
</news:news></url><url><loc>http://s.vn/chuyen-muc</loc><lastmod>2024-03-01</lastmod></url></urlset>"""


def test_feed_formats_give_links_and_dates() -> None:
    rss = feed_entries(RSS, "http://s.vn/rss.xml")
    assert [entry.url for entry in rss] == ["http://s.vn/a-123456.html", "http://s.vn/b-234567.html"]
    assert rss[0].published == datetime(2021, 7, 16, 2, 15, tzinfo=UTC)
    assert rss[1].published is None
    assert feed_entries(ATOM, "http://s.vn/atom")[0].url == "http://s.vn/c-345678.html"
    assert feed_entries(RDF, "http://s.vn/rdf")[0].url == "http://s.vn/d-456789.html"
    assert all(looks_like_feed(body) for body in (RSS, ATOM, RDF))
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>rss</body></html>")


def test_sitemap_index_news_dates_and_gzip() -> None:
    index = SitemapStream(gzip.compress(INDEX), "http://s.vn/sitemap.xml", 10_000)
    assert index.root == "sitemapindex" and [entry.url for entry in index] == ["http://s.vn/s1.xml"]
    news = SitemapStream(NEWS, "http://s.vn/s1.xml", 10_000)
    entries = list(news)
    assert news.root == "urlset"
    assert [entry.url for entry in entries if entry.news] == ["http://s.vn/tin/e.htm"]
    assert entries[0].published == datetime(2024, 3, 20, 1, 15, tzinfo=UTC)
    assert SitemapStream(b"<html>not a sitemap", "http://s.vn/x", 10_000).root not in {"urlset", "sitemapindex"}


def test_since_cutoff_keeps_undated_entries() -> None:
    now = datetime(2024, 3, 30, tzinfo=UTC)
    limit = cutoff(7, now)
    assert is_recent(now - timedelta(days=1), limit)
    assert not is_recent(now - timedelta(days=8), limit)
    assert is_recent(None, limit)
    assert cutoff(0) is None
    assert from_w3c("2024-03-20") == datetime(2024, 3, 19, 17, tzinfo=UTC)


def _page(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url, body=body.encode("utf-8"), encoding="utf-8")


def test_listing_links_pagination_and_feed_links() -> None:
    page = _page(
        "http://s.vn/tin-tuc",
        '<link rel="alternate" type="application/rss+xml" href="/rss/home.rss">'
        '<a href="/bai-viet/x-post12.html?utm_source=a#c">x</a><a href="http://other.vn/y-post13.html">y</a>'
        '<a href="/chuyen-muc">c</a><a href="/tin-tuc/trang-2.html">2</a><a href="/rss/thoi-su.rss">RSS</a>',
    )
    assert article_links(page, r"-post\d+\.html$", ["s.vn"]) == ["http://s.vn/bai-viet/x-post12.html?utm_source=a"]
    assert next_page(page) == "http://s.vn/tin-tuc/trang-2.html"
    assert feed_links(page) == ["http://s.vn/rss/home.rss", "http://s.vn/rss/thoi-su.rss"]
    second = _page("http://s.vn/tin-tuc/trang-2.html", '<a href="/tin-tuc/trang-3.html">Trang sau</a>')
    assert next_page(second) == "http://s.vn/tin-tuc/trang-3.html"
    assert next_page(_page("http://s.vn/tin-tuc/trang-9.html", '<a href="/tin-tuc/trang-8.html">8</a>')) is None


def test_search_templates_and_wrapped_links() -> None:
    assert search_url("http://s.vn/tim?q={query}", "Nghị định 03") == "http://s.vn/tim?q=Ngh%E1%BB%8B+%C4%91%E1%BB%8Bnh+03"
    assert search_url("http://s.vn/tim-kiem/{query}.htm", "a b") == "http://s.vn/tim-kiem/a%20b.htm"
    wrapped = "http://www.bing.com/news/apiclick.aspx?ref=FexRss&url=https%3a%2f%2fs.vn%2fa-1.html&c=1"
    assert unwrap_link(wrapped) == "https://s.vn/a-1.html"
    assert unwrap_link("http://s.vn/a-1.html?x=1") == "http://s.vn/a-1.html?x=1"


def test_retry_after_and_backoff() -> None:
    assert retry_after_seconds(b"20") == 20.0
    now = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 01 Jan 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds(b"soon") is None
    assert backoff_delay(1, 1.0, 60) == 1.0
    assert backoff_delay(3, 1.0, 60) == 4.0
    assert backoff_delay(1, 1.0, 60, retry_after=20) == 20
    assert backoff_delay(1, 1.0, 10, retry_after=3600) == 10


def test_figures_and_run_status_from_stats() -> None:
    stats = {
        "qpan/source/a/fetched": 3, "qpan/source/a/extracted": 3, "qpan/source/a/new": 2,
        "qpan/source/a/dropped/empty": 1, "qpan/source/a/reached": 1,
        "qpan/source/b/errors": 2, "qpan/source/b/error_text": "connection refused for http://x",
    }
    a, b = figures_from_stats(stats, ["a", "b"])
    assert (a.fetched, a.new, a.dropped, a.reached) == (3, 2, {"empty": 1}, True)
    assert (b.errors, b.reached, b.error_text) == (2, False, "connection refused for http://x")
    assert run_status([a, b], "finished") == "partial"
    assert run_status([a], "finished") == "ok"
    assert run_status([b], "finished") == "failed"
    assert run_status([a], "shutdown") == "interrupted"


def test_download_failures_read_as_one_short_line() -> None:
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, DownloadTimeoutError
    from twisted.internet import error

    from qpan.crawler.middlewares.accounting import describe_failure

    assert describe_failure(DownloadConnectionRefusedError("111: Connection refused.")) == "connection refused"
    assert describe_failure(error.ConnectionRefusedError()) == "connection refused"
    assert describe_failure(CannotResolveHostError("no such host")) == "DNS lookup failed"
    assert describe_failure(DownloadTimeoutError("took longer than 30 s")) == "timed out"
    assert describe_failure(ValueError("bad\nthing")) == "ValueError: bad thing"
