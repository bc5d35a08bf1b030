"""Conditional requests for feeds and sitemaps (ETag / If-Modified-Since).

Validators come from the ``http_cache`` table. New validators seen on a 200 are written
only when the crawl finishes normally: after an interrupted run the feed is read in
full again, so entries whose articles were never fetched are not hidden behind a 304.
The lookup runs on the crawl's lookup thread and the write on its serial thread
(``storage.worker``): the reactor never waits for the database.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spiders import Spider
from scrapy.statscollectors import StatsCollector
from sqlalchemy.exc import SQLAlchemyError

from qpan.crawler import meta
from qpan.stats import stat_key
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database, describe_database_error
from qpan.storage.models import HttpCache, utcnow
from qpan.storage.upsert import upsert
from qpan.storage.worker import DatabaseWorker, crawler_worker

logger = logging.getLogger(__name__)


def _original_url(request: Request) -> str:
    return (request.meta.get("redirect_urls") or [request.url])[0]


class ConditionalRequests:
    def __init__(self, database: Database, stats: StatsCollector, worker: DatabaseWorker) -> None:
        self.database = database
        self.stats = stats
        self.worker = worker
        self.pending: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequests:
        middleware = cls(crawler_database(crawler), crawler.stats, crawler_worker(crawler))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        """(ETag, Last-Modified) stored for ``url``, if any."""
        with self.database.session() as session:
            cached = session.get(HttpCache, url)
            return None if cached is None else (cached.etag, cached.last_modified)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get(meta.CONDITIONAL) or request.meta.get("redirect_urls"):
            return
        cached = await self.worker.lookup(self.validators, request.url)
        if cached is None:
            return
        etag, modified = cached
        if etag:
            request.headers["If-None-Match"] = etag
        if modified:
            request.headers["If-Modified-Since"] = modified

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get(meta.CONDITIONAL):
            return response
        if response.status == 304:
            self.stats.inc_value(stat_key(request.meta[meta.SOURCE], "not_modified"))
        elif response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                self.pending[_original_url(request)] = (
                    etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None,
                )
        return response

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished" or not self.pending:
            return
        now = utcnow()
        rows = [
            {"url": url, "etag": etag, "last_modified": modified, "checked_at": now}
            for url, (etag, modified) in self.pending.items()
        ]
        self.pending = {}
        try:
            await self.worker.serial(self.write, rows)
        except SQLAlchemyError as exc:  # a full disk: these feeds are read in full next run
            logger.warning("feed validators not recorded: %s", describe_database_error(exc))

    def write(self, rows: list[dict[str, Any]]) -> None:
        with self.database.session() as session:
            upsert(session, HttpCache, rows, key="url")
