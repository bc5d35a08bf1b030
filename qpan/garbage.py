"""The garbage collector's settings for a crawl's processes.

A crawl allocates thousands of objects a page (responses, Deferreds, lxml proxies, items) and
frees nearly all of them by reference counting; CPython's default thresholds (700, 10, 10) still
ran a young-generation collection every few pages and, every hundred of those, a full one that
walks every live object: Scrapy's, SQLAlchemy's, the frontier's queued requests. In a
2,000-page crawl (``benchmarks/crawl.py``) that was 0.8 s of the crawl process's CPU, 13 % of it,
for next to no garbage. A larger young generation makes the collections rare, and freezing what
start-up built (modules, classes, settings, the theme profile) keeps it out of every later walk.
Reference cycles are still collected, only in larger rounds.

Start-up itself (the imports of Scrapy, SQLAlchemy and qpan, building the crawler) runs with no
collection at all: it only builds what lives as long as the process, yet as the heap grew the
default thresholds walked it again and again, a full collection each time it had grown by a
quarter: a fifth of the crawl process's import time, and of the page worker's.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Allocations between young-generation collections, and the two older generations' ratios.
THRESHOLDS = (50_000, 20, 10)


def tune_for_throughput() -> None:
    """Called once start-up is done, before the first page.

    No collection before the freeze: walking the crawl process's 137,000 start-up objects cost
    50-110 ms just before the first request, and found 10 unreachable ones to free (a 1-page
    crawl, measured); those few now stay frozen for the life of the process instead.
    """
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    """No collection while the block runs, unless ``tune_for_throughput`` ends the pause first
    (the crawl does, before its first page); the collector is as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
