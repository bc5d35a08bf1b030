"""Retries that return at once, with the wait put on the site's download slot.

Scrapy's RetryMiddleware re-queues at once and forgets what the site asked for. A site that
says "come back in 20 s" (``Retry-After`` on 429/503), or that keeps failing, should get its
pause, but sleeping here would keep the request in the downloader's active set and, a few
such sites at once, stall every source. So the retry is returned at once, like Scrapy's own,
and the pause becomes a hold on that site's slot (``SlotPoliteness.hold``): nothing goes to
that site before the time is up, and every other site goes on.

The pause is ``QPAN_RETRY_BACKOFF * 2**(attempt-1)``, or what Retry-After asks if longer,
never more than ``QPAN_RETRY_MAX_DELAY`` (so one stubborn site cannot hold a run hostage).

Two failures are never retried. A failed DNS lookup: the resolver has already given its
answer (offline, each retry of the shipped sources' start URLs only added waiting to a
crawl that could reach nothing). And anything once the crawl is being stopped (Ctrl-C,
SIGTERM): a retry would start another download the shutdown has to wait for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from twisted.internet.error import DNSLookupError

from qpan import defaults
from qpan.crawler.extensions.throttle import SlotPoliteness

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
    """Settings: ``QPAN_RETRY_BACKOFF``, ``QPAN_RETRY_MAX_DELAY`` and Scrapy's ``RETRY_*``."""

    backoff: float
    max_delay: float
    politeness: SlotPoliteness | None  # None when the extension is switched off: retries then just wait their turn

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        middleware = super().from_crawler(crawler)
        settings = crawler.settings
        middleware.backoff = settings.getfloat("QPAN_RETRY_BACKOFF", defaults.QPAN_RETRY_BACKOFF)
        middleware.max_delay = settings.getfloat("QPAN_RETRY_MAX_DELAY", defaults.QPAN_RETRY_MAX_DELAY)
        middleware.politeness = crawler.get_extension(SlotPoliteness)
        return middleware

    def _pause_site(self, request: Request, retry: Request | Response | None, retry_after: float | None) -> None:
        if self.politeness is None or not isinstance(retry, Request):
            return
        attempt = retry.meta.get("retry_times", 1)
        self.politeness.hold(request, backoff_delay(attempt, self.backoff, self.max_delay, retry_after))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        self._pause_site(request, result, retry_after_seconds(response.headers.get("Retry-After")))
        return result

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        if not self.crawler.engine.running:  # the crawl is stopping
            return None
        return super()._retry(request, reason)

    def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        if isinstance(exception, NOT_RETRIED):
            return None
        result = super().process_exception(request, exception)
        self._pause_site(request, result, None)
        return result
