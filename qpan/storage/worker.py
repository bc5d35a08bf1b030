"""The crawl's database threads: the middlewares and pipelines query and write here, never on
the reactor thread.

With SQLite's 30 s busy timeout, one write waiting for another process's lock on the reactor
thread froze every download of the crawl. Scrapy's own media pipelines and scrapy-redis move
such work to a thread the same way; here the work goes to two threads of one crawl, each
running one job at a time in the order the jobs were given:

* ``serial`` — the dedup verdicts and every write (the article batch, seen URLs, feed
  validators, the run summary). One thread, so verdicts are reached in the order the items
  arrive and the article batch is only ever touched by it.
* ``lookup`` — the frontier's reads (which links are stored or seen, a feed's validators).
  Reads never wait for a writer (WAL on SQLite, MVCC on PostgreSQL), so new article requests
  keep being released while a write on ``serial`` waits for a lock.

The coroutines need a running asyncio loop: Scrapy's default reactor (asyncio) provides it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from scrapy import signals

from qpan.stats import Stats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseWorker:
    def __init__(self) -> None:
        self._serial = ThreadPoolExecutor(1, thread_name_prefix="qpan-db")
        self._lookup = ThreadPoolExecutor(1, thread_name_prefix="qpan-db-lookup")

    async def serial(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args, **kwargs)`` on the serial thread, after every job given before it."""
        return await asyncio.wrap_future(self._serial.submit(function, *args, **kwargs))

    async def lookup(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A read on the lookup thread, which no write can hold up."""
        return await asyncio.wrap_future(self._lookup.submit(function, *args, **kwargs))

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """A write nobody waits for (from a synchronous signal handler): queued on the serial
        thread, so a later awaited job (the flush at close) runs after it; failures are logged."""
        self._serial.submit(function, *args).add_done_callback(_log_failure)

    def shutdown(self) -> None:
        """Finish the queued jobs and end both threads."""
        self._serial.shutdown(wait=True)
        self._lookup.shutdown(wait=True)


class ReactorStats:
    """Scrapy's stats collector is not thread-safe (a count is read, added to and written back),
    so what the database threads count is applied on the reactor thread. It is queued before
    the job's own result, so a coroutine that awaited the job reads the stats it changed."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        _reactor().callFromThread(self.stats.inc_value, key, count, start)

    def set_value(self, key: str, value: Any) -> None:
        _reactor().callFromThread(self.stats.set_value, key, value)


def _reactor() -> Any:
    from twisted.internet import reactor  # the installed one; importing earlier would install the default

    return reactor


def _log_failure(future: Future[Any]) -> None:
    exception = future.exception()
    if exception is not None:
        logger.error("database write failed: %s: %s", type(exception).__name__, exception)


_ATTRIBUTE = "_qpan_database_worker"


def crawler_worker(crawler: Crawler) -> DatabaseWorker:
    """The one worker of a crawler (created by whichever component asks first), ended when
    the engine stops, after every ``close_spider`` and ``spider_closed`` job has been awaited."""
    worker: DatabaseWorker | None = getattr(crawler, _ATTRIBUTE, None)
    if worker is None:
        worker = DatabaseWorker()
        crawler.signals.connect(worker.shutdown, signal=signals.engine_stopped)
        setattr(crawler, _ATTRIBUTE, worker)
    return worker
