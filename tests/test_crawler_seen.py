"""The seen-URL filter: stored or seen canonical URLs are not requested, checked in batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import event

from qpan.crawler import meta
from qpan.crawler.middlewares.seen import SeenUrlFilter
from qpan.storage.db import Database
from qpan.storage.models import SeenUrl
from qpan.storage.worker import DatabaseWorker
from support.store import insert_article


@pytest.fixture
def database(sqlite_database: Database) -> Database:
    return sqlite_database


def article(url: str) -> Request:
    return Request(url, meta={meta.SOURCE: "s", meta.KIND: meta.ARTICLE})


def make_filter(database: Database) -> SeenUrlFilter:
    crawler = get_crawler()
    crawler.stats.open_spider()
    return SeenUrlFilter(database, crawler.stats, DatabaseWorker())


def kept_urls(seen: SeenUrlFilter, requests: list[Request]) -> list[str]:
    return [request.url for request in asyncio.run(seen.filter(requests))]


def test_stored_and_seen_urls_are_not_requested_again(database: Database) -> None:
    insert_article(database, url="http://s.vn/a-1.html", canonical_url="http://s.vn/a-1.html")
    with database.session() as session:
        session.add(SeenUrl(canonical_url="http://s.vn/b-2.html", outcome="not_article"))
    seen = make_filter(database)
    kept = kept_urls(
        seen,
        [
            article("http://s.vn/a-1.html?utm_source=facebook"),
            article("http://m.s.vn/b-2.html"),
            article("http://s.vn/c-3.html#comments"),
            article("http://s.vn/c-3.html?utm_medium=rss"),
            article("http://s.vn/d-4.html"),
        ]
    )
    assert kept == ["http://s.vn/c-3.html#comments", "http://s.vn/d-4.html"]
    assert seen.stats.get_value("qpan/source/s/skipped_seen") == 3
    assert kept_urls(seen, [article("http://s.vn/d-4.html/")]) == []


def test_links_are_checked_in_growing_batches_one_query_per_table_each(database: Database) -> None:
    """A sitemap's 200 links cost four checks (16, 32, 64, then the 88 left), not 200: the
    first checks are small so that downloads start after a few links, the later ones large."""
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    seen = make_filter(database)

    async def output() -> AsyncIterator[Any]:
        yield Request("http://s.vn/feed.rss", meta={meta.SOURCE: "s", meta.KIND: meta.FEED})
        for number in range(200):
            yield article(f"http://s.vn/bai-{number}.html")
        yield {"not": "a request"}

    async def collect() -> list[Any]:
        return [entry async for entry in seen.process_spider_output(None, output())]  # type: ignore[arg-type]

    results = asyncio.run(collect())
    assert len(results) == 202
    selects = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    assert [sql.count("?") for sql in selects] == [16, 16, 32, 32, 64, 64, 88, 88]


def test_dropped_pages_and_redirecting_links_are_remembered(database: Database) -> None:
    from scrapy.http import HtmlResponse

    from qpan.pipelines.drops import Dropped

    seen = make_filter(database)
    item = {"url": "http://s.vn/gioi-thieu.html?utm_source=x", "canonical_url": "http://s.vn/gioi-thieu.html"}
    seen.item_dropped(item, None, Dropped("not_article"), None)  # type: ignore[arg-type]
    request = article("http://s.vn/bai-moi-5.html")
    request.meta["redirect_urls"] = ["http://s.vn/tin-cu-5.html"]
    seen.process_spider_input(HtmlResponse("http://s.vn/bai-moi-5.html", body=b"<html></html>", request=request))
    asyncio.run(seen.spider_closed(None))  # type: ignore[arg-type]
    with database.session() as session:
        rows = {row.canonical_url: row.outcome for row in session.query(SeenUrl)}
    assert rows == {"http://s.vn/gioi-thieu.html": "not_article", "http://s.vn/tin-cu-5.html": "redirect"}
    again = kept_urls(make_filter(database), [article("http://s.vn/tin-cu-5.html"), article("http://s.vn/gioi-thieu.html")])
    assert again == []
