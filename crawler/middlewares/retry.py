"""Retries with exponential backoff that honour ``Retry-After`` (429 / 503).

Scrapy's RetryMiddleware re-queues at once; a site that says "come back in 20 s"
should get its 20 s. The wait is capped (``QPAN_RETRY_MAX_DELAY``) so one stubborn
site cannot hold a run hostage.

Two failures are never retried. A failed DNS lookup: the resolver has already given its
answer (offline, each retry of the 22 shipped sources' start URLs only added waiting to a
crawl that could reach nothing). And anything once the crawl is being stopped (Ctrl-C,
SIGTERM): a retry would start another download the shutdown has to wait for.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_status_message
from twisted.internet.error import DNSLookupError

NOT_RETRIED = (DNSLookupError, CannotResolveHostError)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or HTTP date), None if absent/bad."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """``base * 2**(attempt-1)``, or what Retry-After asks if longer; never above ``cap``."""
    delay = base * 2 ** max(attempt - 1, 0)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


class RetryAfterMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff = settings.getfloat("QPAN_RETRY_BACKOFF", 1.0)
        self.max_delay = settings.getfloat("QPAN_RETRY_MAX_DELAY", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        engine = self.crawler.engine
        if not engine.running:  # the crawl is stopping
            return None
        return super()._retry(request, reason)

    async def _wait_then(self, retry: Request, retry_after: float | None) -> Request:
        delay = backoff_delay(retry.meta.get("retry_times", 1), self.backoff, self.max_delay, retry_after)
        if delay > 0:
            await asyncio.sleep(delay)
        return retry

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        return await self._wait_then(retry, retry_after_seconds(response.headers.get("Retry-After")))

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if (
            request.meta.get("dont_retry", False)
            or not isinstance(exception, self.exceptions_to_retry)
            or isinstance(exception, NOT_RETRIED)
        ):
            return None
        retry = self._retry(request, exception)
        return None if retry is None else await self._wait_then(retry, None)
