"""Do not download an article whose canonical URL is already stored or seen.

A spider middleware rather than a downloader one, because here the requests a page
yields arrive together: they are checked in batches with one indexed ``IN`` query
against ``articles.canonical_url`` and ``seen_urls`` instead of one query per URL.
Requests within one run are also deduplicated by canonical URL (Scrapy's own filter
only sees exact URLs, not ``?utm_source=`` or ``m.`` variants).

It also writes ``seen_urls``: pages the pipeline dropped (not an article, empty...), article
links that answered "gone" (404, 410), and links that redirected to an article page, so none
is fetched again on the next run. Server errors (5xx) are not remembered: they are retried.

The lookups run on the crawl's lookup thread and the writes on its serial thread
(``storage.worker``): the reactor never waits for the database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from qpan.crawler import meta
from qpan.crawler.registry import sources_from_settings
from qpan.crawler.urls import canonicalize_url
from qpan.stats import stat_key
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database, describe_database_error
from qpan.storage.models import Article, SeenUrl, utcnow
from qpan.storage.upsert import upsert
from qpan.storage.worker import DatabaseWorker, crawler_worker

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
#: The first check of a response's links: the downloads start after a few links, not after the
#: whole first sitemap (500 links took 0.2 s to harvest); each later check doubles, up to BATCH_SIZE.
FIRST_BATCH = 16
GONE = {404, 410}


class SeenUrlFilter:
    def __init__(
        self,
        database: Database,
        stats: StatsCollector,
        worker: DatabaseWorker,
        keep_query: dict[str, list[str]] | None = None,
    ) -> None:
        self.database = database
        self.stats = stats
        self.worker = worker
        self.keep_query = keep_query or {}
        self.requested: set[str] = set()
        self.outcomes: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenUrlFilter:
        sources = sources_from_settings(crawler.settings.getlist("QPAN_SOURCES"))
        keep_query = {source.name: source.keep_query for source in sources if source.keep_query}
        middleware = cls(crawler_database(crawler), crawler.stats, crawler_worker(crawler), keep_query)
        crawler.signals.connect(middleware.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(middleware.response_received, signal=signals.response_received)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def key(self, url: str, source: str | None) -> str:
        """The canonical URL, keeping the query parameters that identify the source's articles."""
        return canonicalize_url(url, self.keep_query.get(source or "", ()))

    def remember(self, url: str, outcome: str, source: str | None) -> None:
        """Record ``url`` as seen (written in batches, and at the end of the crawl)."""
        self.outcomes[self.key(url, source)] = outcome
        if len(self.outcomes) >= BATCH_SIZE:
            self.worker.submit(self.write, self.take())

    def take(self) -> dict[str, str]:
        outcomes, self.outcomes = self.outcomes, {}
        return outcomes

    def write(self, outcomes: dict[str, str]) -> None:
        if not outcomes:
            return
        now = utcnow()
        rows = [{"canonical_url": url, "outcome": outcome, "seen_at": now} for url, outcome in outcomes.items()]
        with self.database.session() as session:
            upsert(session, SeenUrl, rows, key="canonical_url")

    def item_dropped(self, item: Any, response: Response, exception: BaseException, spider: Spider) -> None:
        outcome = getattr(exception, "category", "dropped")
        for url in {item.get("url"), item.get("canonical_url")} - {None}:
            self.remember(url, outcome, item.get("source"))

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if response.status in GONE and request.meta.get(meta.KIND) == meta.ARTICLE:
            self.remember(request.url, f"http_{response.status}", request.meta.get(meta.SOURCE))

    async def spider_closed(self, spider: Spider) -> None:
        try:
            await self.worker.serial(self.write, self.take())
        except SQLAlchemyError as exc:  # a full disk: these pages are fetched again next run
            logger.warning("seen URLs not recorded: %s", describe_database_error(exc))

    def process_spider_input(self, response: Response) -> None:
        """An article reached through redirects: its old links need not be followed again."""
        if response.meta.get(meta.KIND) == meta.ARTICLE and response.status == 200:
            for url in response.meta.get("redirect_urls", []):
                self.remember(url, "redirect", response.meta.get(meta.SOURCE))

    def known(self, canonical_urls: Iterable[str]) -> set[str]:
        """Which of these canonical URLs are stored articles or recorded as seen."""
        wanted = list(set(canonical_urls))
        if not wanted:
            return set()
        with self.database.session() as session:
            stored = session.scalars(select(Article.canonical_url).where(Article.canonical_url.in_(wanted)))
            seen = session.scalars(select(SeenUrl.canonical_url).where(SeenUrl.canonical_url.in_(wanted)))
            return {*stored, *seen}

    async def filter(self, requests: list[Request]) -> list[Request]:
        """The requests still worth downloading, in their original order."""
        keyed = [(self.key(request.url, request.meta.get(meta.SOURCE)), request) for request in requests]
        known = await self.worker.lookup(self.known, [key for key, _ in keyed if key not in self.requested])
        kept = []
        for key, request in keyed:
            if key in known or key in self.requested:
                self.stats.inc_value(stat_key(request.meta[meta.SOURCE], "skipped_seen"))
                continue
            self.requested.add(key)
            kept.append(request)
        return kept

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        batch: list[Request] = []
        size = FIRST_BATCH
        async for entry in result:
            if isinstance(entry, Request) and entry.meta.get(meta.KIND) == meta.ARTICLE:
                batch.append(entry)
                if len(batch) >= size:
                    for request in await self.filter(batch):
                        yield request
                    batch, size = [], min(size * 2, BATCH_SIZE)
            else:
                yield entry
        for request in await self.filter(batch):
            yield request
