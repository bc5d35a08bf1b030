"""Per-source outcome accounting: which sources answered, and the last error of each.

``SourceAccounting`` sits on the engine side of retry and redirect, so it sees each
request's final outcome once. Errors become the ``qpan/source/<name>/errors`` count and a
one-line ``error_text`` for the run summary and the health record, never a traceback
(``qpan.stats.record_error``).

A source stopped by a limit is an error of that source too, with the limit named, wherever
the limit acts: a body over ``max_page_bytes`` (the download handler, here), a compressed
body over it once unpacked (Scrapy's decompression middleware, which drops the response
before this middleware: the spider's errback hands it to ``account_ignored``), a sitemap or
feed whose parsing fails, e.g. a ``.xml.gz`` over the limit (``CallbackErrors``), and a link
beyond ``DEPTH_LIMIT`` (``SourceDepthLimit``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.statscollectors import StatsCollector
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import error as net_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from qpan.crawler import meta
from qpan.crawler.harvest.sitemaps import UNPACKED_OVERSIZED
from qpan.stats import record_error, stat_key

logger = logging.getLogger(__name__)

_ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"
OVERSIZED = "larger than the size limit (crawl.max_page_bytes)"


def unpacked_oversized(exception: BaseException) -> bool:
    """A gzip (or deflate, brotli, zstd) body that grew over the limit while being unpacked:
    raised by Scrapy's gunzip, or its decompression middleware's IgnoreRequest caused by it."""
    return isinstance(exception, _DecompressionMaxSizeExceeded) or isinstance(
        exception.__cause__, _DecompressionMaxSizeExceeded
    )


def describe_failure(exception: BaseException) -> str:
    """A one-line, human description of a download failure (Scrapy's and Twisted's types)."""
    if unpacked_oversized(exception):
        return UNPACKED_OVERSIZED
    if isinstance(exception, DownloadCancelledError) and "max size" in str(exception):
        return OVERSIZED
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


class SourceAccounting:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceAccounting:
        robots_logger = logging.getLogger(_ROBOTS_LOGGER)
        if not any(isinstance(f, _QuietRobotsErrors) for f in robots_logger.filters):
            robots_logger.addFilter(_QuietRobotsErrors())
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        name = request.meta.get(meta.SOURCE)
        if name is None:
            return response
        if response.status >= 400:
            if request.meta.get(meta.PROBE):
                return response
            record_error(self.stats, name, f"HTTP {response.status} for {response.url}")
            return response
        self.stats.set_value(stat_key(name, "reached"), 1)
        if request.meta.get(meta.KIND) == meta.ARTICLE:
            self.stats.inc_value(stat_key(name, "fetched"))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        name = request.meta.get(meta.SOURCE)
        if name is None or request.meta.get(meta.PROBE) or isinstance(exception, IgnoreRequest):
            return
        record_error(self.stats, name, f"{describe_failure(exception)} for {request.url}")


def account_ignored(stats: StatsCollector, request: Request, exception: BaseException) -> None:
    """For a request errback: a response dropped after the downloader because it was over the
    size limit once unpacked (robots.txt and offsite drops are not errors)."""
    name = request.meta.get(meta.SOURCE)
    if name is not None and unpacked_oversized(exception):
        record_error(stats, name, f"{UNPACKED_OVERSIZED} for {request.url}")


class CallbackErrors:
    """A spider callback that fails (a sitemap over the size limit once unpacked, a page no
    parser expected) is an error of its source, one line, instead of a traceback that leaves
    the run ``ok``; the traceback stays available at DEBUG."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackErrors:
        return cls(crawler.stats)

    def process_spider_exception(self, response: Response, exception: Exception) -> Iterable[Any] | None:
        name = response.meta.get(meta.SOURCE)
        if name is None or isinstance(exception, HttpError | IgnoreRequest):  # accounted as responses
            return None
        text = f"{describe_failure(exception)} in {response.url}"
        logger.warning("%s: %s", name, text)
        logger.debug("the callback's traceback", exc_info=exception)
        record_error(self.stats, name, text)
        return []


class SourceDepthLimit(DepthMiddleware):
    """Scrapy's depth limit, which drops a link silently; here the source hears of it."""

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        processed = super().get_processed_request(request, response)
        name = request.meta.get(meta.SOURCE)
        if processed is None and name is not None:
            record_error(self.stats, name, f"depth limit ({self.maxdepth}) reached: {request.url} not followed")
        return processed
