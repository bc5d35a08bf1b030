"""Failures the retry middleware gives up on at once: a DNS answer, and anything while the crawl stops."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import CannotResolveHostError
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from qpan.crawler.middlewares.retry import RetryAfterMiddleware


def _middleware(engine_running: bool) -> RetryAfterMiddleware:
    crawler = get_crawler(Spider, {"RETRY_TIMES": 2, "QPAN_RETRY_BACKOFF": 0})
    crawler.spider = Spider.from_crawler(crawler, "test")
    crawler.engine = SimpleNamespace(running=engine_running)
    return RetryAfterMiddleware.from_crawler(crawler)


def _retry(middleware: RetryAfterMiddleware, exception: Exception) -> Request | None:
    return middleware.process_exception(Request("https://vnexpress.net/"), exception)


@pytest.mark.parametrize("exception", [DNSLookupError("vnexpress.net"), CannotResolveHostError("vnexpress.net")])
def test_a_failed_dns_lookup_is_not_retried(exception: Exception) -> None:
    assert _retry(_middleware(engine_running=True), exception) is None


def test_a_refused_connection_is_retried() -> None:
    retry = _retry(_middleware(engine_running=True), ConnectionRefusedError())
    assert retry is not None and retry.meta["retry_times"] == 1


def test_nothing_is_retried_while_the_crawl_stops() -> None:
    assert _retry(_middleware(engine_running=False), ConnectionRefusedError()) is None
