"""Scrapy's log messages, less the two it builds for every page when nothing would show them.

For each response Scrapy builds a "Crawled (200) <GET ...>" message, and for each item a
"Scraped from <200 ...>" one, both at DEBUG, then a log record for each, which the handlers
of a crawl at qpan's default level (WARNING) throw away: about 4,000 records for a 2,000-page
crawl, some 25 µs a page on the reactor's thread. At DEBUG (``qpan -vv``) they are built as
Scrapy builds them.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.logformatter import LogFormatter, LogFormatterResult


class CrawlLogFormatter(LogFormatter):
    def __init__(self, debug: bool) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlLogFormatter:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        number = logging.getLevelName(level.upper()) if isinstance(level, str) else level
        return cls(debug=not isinstance(number, int) or number <= logging.DEBUG)

    def crawled(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().crawled(*args, **kwargs) if self.debug else None

    def scraped(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]
        return super().scraped(*args, **kwargs) if self.debug else None
