"""Large sitemaps are read as a stream; XML with entity declarations is read safely, with a reason.

The end-to-end tests crawl a local site whose sitemap lists 80,000 articles (7.5 MB, inside
the default page limit), every other one dated outside ``since_days``. Time figures live in
benchmarks/sitemap.py; here only order and content are asserted, with deadlines as hang guards.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import XmlResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from qpan.crawler import meta
from qpan.crawler.harvest.feeds import declares_entities, feed_entries, looks_like_feed
from qpan.crawler.harvest.sitemaps import UNPACKED_OVERSIZED, SitemapError, SitemapStream
from qpan.crawler.spiders import news
from qpan.crawler.spiders.news import NewsSpider
from qpan.stats import stat_key
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import CrawlRun, RunSource
from support.cli import qpan_process
from support.sitemapsite import SitemapSite, sitemap_body, sitemap_site
from support.sitemapsite import crawl_config as site_config

ARTICLES = 80_000
RECENT = ARTICLES // 2  # the even-numbered ones
ENTITY_SITEMAP = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY a "http://s.vn/laugh"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&b;</loc></url><url><loc>&secret;</loc></url>
<url><loc>http://s.vn/bai-1.html</loc></url></urlset>"""
ENTITY_FEED = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&b; &secret;</title><link>http://s.vn/bai-1.html</link></item></channel></rss>"""


@pytest.fixture(scope="module")
def body() -> bytes:
    """The 80,000-URL sitemap (7.5 MB), built once: building it costs more than reading it."""
    return sitemap_body("http://s.vn", ARTICLES)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_entries_come_before_the_sitemap_is_read(body: bytes, gzipped: bool) -> None:
    sitemap = SitemapStream(gzip.compress(body) if gzipped else body, "http://s.vn/sitemap.xml", len(body))
    entries = iter(sitemap)
    first = next(entries)
    assert first.url == "http://s.vn/bai-viet-0.html" and first.published is not None
    assert sitemap.bytes_read < len(body) // 20
    assert 1 + sum(1 for _ in entries) == ARTICLES and sitemap.bytes_read == len(body)


def test_a_sitemap_larger_than_the_limit_once_decompressed_stops_with_a_reason() -> None:
    body = sitemap_body("http://s.vn", 20_000)
    sitemap = SitemapStream(gzip.compress(body), "http://s.vn/sitemap.xml.gz", len(body) // 2)
    assert sitemap.root == "urlset"
    with pytest.raises(SitemapError, match="larger than"):
        sum(1 for _ in sitemap)
    assert SitemapStream(gzip.compress(body)[:5000], "http://s.vn/s.xml.gz", len(body)).error is None
    cut = SitemapStream(gzip.compress(body)[:50_000], "http://s.vn/s.xml.gz", len(body))
    with pytest.raises(SitemapError, match="not valid gzip"):
        sum(1 for _ in cut)


def test_entity_declarations_are_reported_and_never_expanded() -> None:
    sitemap = SitemapStream(ENTITY_SITEMAP, "http://s.vn/sitemap.xml", 100_000)
    assert sitemap.root == "urlset" and sitemap.declares_entities
    assert [entry.url for entry in sitemap] == ["http://s.vn/bai-1.html"]
    assert looks_like_feed(ENTITY_FEED) and declares_entities(ENTITY_FEED)
    [entry] = feed_entries(ENTITY_FEED, "http://s.vn/rss")
    assert entry.url == "http://s.vn/bai-1.html"
    plain = b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd"><rss/>'
    assert looks_like_feed(plain) and not declares_entities(plain)
    assert not looks_like_feed(b"<!DOCTYPE html><html><body>rss</body></html>")


# -- end to end: `qpan crawl` in a subprocess against the local site -------------------------------


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database without the seeds: these crawls store nothing relevant."""
    path = tmp_path_factory.mktemp("init") / "qpan.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    return path


def crawl_config(tmp_path: Path, initialised: Path, site: SitemapSite, sitemap: str, cap: int) -> Path:
    shutil.copyfile(initialised, tmp_path / "qpan.db")
    config = tmp_path / "qpan.toml"
    config.write_text(site_config(site, tmp_path / "qpan.db", sitemap, cap), encoding="utf-8")
    return config


def last_run(tmp_path: Path) -> tuple[CrawlRun, RunSource]:
    database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")
    with database.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        figures = session.scalars(select(RunSource).where(RunSource.run_id == run.id)).one()
        session.expunge_all()
    database.dispose()
    return run, figures


@pytest.mark.slow
def test_the_cap_and_the_date_filter_apply_as_the_sitemap_streams(tmp_path: Path, initialised: Path) -> None:
    """The plain sitemap here, the gzipped one in the SIGTERM test: both formats end to end."""
    cap = 40
    with sitemap_site(ARTICLES) as site:
        config = crawl_config(tmp_path, initialised, site, "/sitemap.xml", cap)
        result = qpan_process(config, "crawl", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # In sitemap order: the first `cap` recent entries; nothing dated outside since_days.
    assert sorted(site.articles()) == list(range(0, 2 * cap, 2))
    run, figures = last_run(tmp_path)
    assert run.status == "ok" and figures.fetched == cap and figures.errors == 0
    assert figures.dropped["sitemaps_capped"] == 1


@pytest.mark.slow
def test_sigterm_while_the_sitemap_is_read_stops_the_crawl(tmp_path: Path, initialised: Path) -> None:
    with sitemap_site(ARTICLES) as site:
        config = crawl_config(tmp_path, initialised, site, "/sitemap.xml.gz", cap=ARTICLES)
        env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
        crawl = subprocess.Popen(
            [sys.executable, "-m", "qpan", "--config", str(config), "crawl", "--quiet"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60  # a hang guard, not a measurement
        while not site.articles():
            assert time.monotonic() < deadline and crawl.poll() is None, "no article request"
            time.sleep(0.02)
        crawl.send_signal(signal.SIGTERM)
        stdout, stderr = crawl.communicate(timeout=60)
    assert "Traceback" not in stdout + stderr, stderr
    assert crawl.returncode == 130
    run, figures = last_run(tmp_path)
    assert run.status == "interrupted"
    # SIGTERM went out with the first article request, and the spider had not read the sitemap
    # to its end by then: it stopped reading it, and says so in the run's figures.
    assert figures.dropped["sitemaps_interrupted"] == 1
    assert 0 < len(site.articles()) < RECENT


# -- the spider's callback, driven directly: what it has read when it yields ----------------------


class RecordedStreams(list[SitemapStream]):
    """Every SitemapStream the spider opens, so a test can ask how far it has read."""

    def open(self, body: bytes, base_url: str, max_size: int) -> SitemapStream:
        self.append(SitemapStream(body, base_url, max_size))
        return self[-1]


@pytest.fixture
def streams(monkeypatch: pytest.MonkeyPatch) -> RecordedStreams:
    recorded = RecordedStreams()
    monkeypatch.setattr(news, "SitemapStream", recorded.open)
    return recorded


def sitemap_spider(tmp_path: Path, since_days: int = 30, max_size: int = 64 * 1024 * 1024) -> NewsSpider:
    source = {"name": "lonsitemap", "sitemaps": ["http://s.vn/sitemap.xml"], "article_pattern": r"/bai-[\w-]+\.html$"}
    settings = {
        "QPAN_SOURCES": [source],
        "QPAN_SINCE_DAYS": since_days,
        "QPAN_DATABASE_URL": f"sqlite:///{tmp_path / 'qpan.db'}",
        "DOWNLOAD_MAXSIZE": max_size,
        "QPAN_MAX_SITEMAP_URLS": ARTICLES,
    }
    crawler = get_crawler(NewsSpider, settings)
    spider = NewsSpider.from_crawler(crawler)
    spider.configure(crawler)  # what spider_opened does in a crawl
    crawler.spider, crawler.crawling = spider, True
    return spider


def sitemap_response(body: bytes, url: str = "http://s.vn/sitemap.xml", kind: str = meta.SITEMAP) -> XmlResponse:
    request = Request(url, meta={meta.SOURCE: "lonsitemap", meta.KIND: kind, meta.DEPTH: 0})
    return XmlResponse(url, body=body, request=request)


async def all_of(requests: AsyncIterator[Request]) -> list[str]:
    return [request.url async for request in requests]


def source_error(spider: NewsSpider) -> tuple[int, str | None]:
    stats = spider.crawler.stats
    return stats.get_value(stat_key("lonsitemap", "errors"), 0), stats.get_value(stat_key("lonsitemap", "error_text"))


def test_the_spider_yields_requests_before_it_has_read_the_sitemap(
    tmp_path: Path, streams: RecordedStreams, body: bytes
) -> None:
    spider = sitemap_spider(tmp_path, since_days=30)
    callback = spider.parse_sitemap(sitemap_response(body))

    first = asyncio.run(anext(callback))

    assert first.url == "http://s.vn/bai-viet-0.html"
    [stream] = streams
    assert stream.bytes_read < len(body) // 20


def test_the_spider_gives_the_event_loop_turns_while_it_reads(tmp_path: Path) -> None:
    """Every entry is too old to follow, so the callback yields nothing: only its own awaits
    let the reactor download, time out and hear a SIGTERM meanwhile."""
    spider = sitemap_spider(tmp_path, since_days=30)
    old = sitemap_body("http://s.vn", ARTICLES, now=datetime.now(UTC) - timedelta(days=400))
    turns = 0

    async def read() -> list[object]:
        return [request async for request in spider.parse_sitemap(sitemap_response(old))]

    async def count_turns(reading: asyncio.Task[list[object]]) -> None:
        nonlocal turns
        while not reading.done():
            turns += 1
            await asyncio.sleep(0)

    async def both() -> list[object]:
        reading = asyncio.create_task(read())
        await count_turns(reading)
        return await reading

    assert asyncio.run(both()) == []
    assert turns >= ARTICLES // news.SITEMAP_CHUNK - 1


def test_what_stopped_a_sitemap_or_feed_is_the_source_error(tmp_path: Path, body: bytes) -> None:
    spider = sitemap_spider(tmp_path, max_size=len(body) // 2)
    gzipped = sitemap_response(gzip.compress(body), "http://s.vn/sitemap.xml.gz")
    followed = asyncio.run(all_of(spider.parse_sitemap(gzipped)))
    assert 0 < len(followed) < RECENT
    assert source_error(spider) == (1, f"{UNPACKED_OVERSIZED}: {gzipped.url}")

    spider = sitemap_spider(tmp_path)
    assert asyncio.run(all_of(spider.parse_sitemap(sitemap_response(ENTITY_SITEMAP)))) == ["http://s.vn/bai-1.html"]
    assert source_error(spider) == (1, "sitemap declares XML entities (left unexpanded): http://s.vn/sitemap.xml")

    spider = sitemap_spider(tmp_path)
    feed = sitemap_response(ENTITY_FEED, "http://s.vn/rss.xml", meta.FEED)
    assert [request.url for request in spider.parse_feed(feed)] == ["http://s.vn/bai-1.html"]
    assert source_error(spider) == (1, "feed declares XML entities (left unexpanded): http://s.vn/rss.xml")
