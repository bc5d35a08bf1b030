"""``qpan crawl --dry-run``: every request a crawl would make, with article pages listed, not fetched.

Feeds, sitemaps, listing and search pages are fetched (the article links come from them); a
request for an article page is recorded and dropped here, before the download. The article
links already stored are not listed: the seen-URL filter drops them first, as in a crawl.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.statscollectors import StatsCollector

from qpan.crawler import meta

PLANNED_STAT = "qpan/dry_run/requests"


class DryRun:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.planned: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DryRun:
        middleware = cls(crawler.stats)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        kind = request.meta.get(meta.KIND) or "robots.txt"
        self.planned.append({"source": request.meta.get(meta.SOURCE), "kind": kind, "url": request.url})
        if kind == meta.ARTICLE:
            raise IgnoreRequest("dry run: article pages are listed, not fetched")

    def spider_closed(self) -> None:
        self.stats.set_value(PLANNED_STAT, self.planned)
