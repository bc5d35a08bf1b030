"""Per-source outcome accounting: which sources answered, and the last error of each.

Placed on the engine side of retry and redirect, so it sees each request's final
outcome once. Errors become the ``qpan/source/<name>/errors`` count and a one-line
``error_text`` for the run summary and the health record, never a traceback.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from qpan.crawler import meta
from qpan.stats import Stats, stat_key

_ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


def describe_failure(exception: BaseException) -> str:
    """A one-line, human description of a download failure (Scrapy's and Twisted's types)."""
    if isinstance(exception, net_error.DNSLookupError | CannotResolveHostError):
        return "DNS lookup failed"
    if isinstance(exception, net_error.ConnectionRefusedError | DownloadConnectionRefusedError):
        return "connection refused"
    if isinstance(exception, net_error.TimeoutError | net_error.TCPTimedOutError | DownloadTimeoutError):
        return "timed out"
    if isinstance(exception, ResponseDataLossError):
        return "response cut short"
    if isinstance(
        exception, ResponseNeverReceived | ResponseFailed | net_error.ConnectionLost | DownloadFailedError
    ):
        return "connection lost before a complete response"
    text = " ".join(str(exception).split())
    return f"{type(exception).__name__}: {text}" if text else type(exception).__name__


class _QuietRobotsErrors(logging.Filter):
    """Scrapy logs a failed robots.txt download with a traceback; the same failure is
    accounted to the source when its own request fails, so it is demoted to one INFO line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def record_source_error(stats: Stats, source: str, text: str) -> None:
    """Count an error against ``source`` and keep its one-line text for the summary and health.

    The one path for every source error: failed downloads here, and what the spider finds
    wrong in a body it did get (a sitemap over the size limit, a feed declaring entities).
    """
    stats.inc_value(stat_key(source, "errors"))
    stats.set_value(stat_key(source, "error_text"), text)


class SourceAccounting:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceAccounting:
        robots_logger = logging.getLogger(_ROBOTS_LOGGER)
        if not any(isinstance(f, _QuietRobotsErrors) for f in robots_logger.filters):
            robots_logger.addFilter(_QuietRobotsErrors())
        return cls(crawler.stats)

    def record_error(self, source: str, text: str) -> None:
        record_source_error(self.stats, source, text)

    def process_response(self, request: Request, response: Response) -> Response:
        name = request.meta.get(meta.SOURCE)
        if name is None:
            return response
        if response.status >= 400:
            if request.meta.get(meta.PROBE):
                return response
            self.record_error(name, f"HTTP {response.status} for {response.url}")
            return response
        self.stats.set_value(stat_key(name, "reached"), 1)
        if request.meta.get(meta.KIND) == meta.ARTICLE:
            self.stats.inc_value(stat_key(name, "fetched"))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        name = request.meta.get(meta.SOURCE)
        if name is None or request.meta.get(meta.PROBE) or isinstance(exception, IgnoreRequest):
            return
        self.record_error(name, f"{describe_failure(exception)} for {request.url}")
