"""The garbage collector's settings for a crawl's processes.

A crawl allocates thousands of objects a page (responses, Deferreds, lxml proxies, items) and
frees nearly all of them by reference counting; CPython's default thresholds (700, 10, 10) still
ran a young-generation collection every few pages and, every hundred of those, a full one that
walks every live object: Scrapy's, SQLAlchemy's, the frontier's queued requests. In a
2,000-page crawl (``benchmarks/crawl.py``) that was 0.8 s of the crawl process's CPU, 13 % of it,
for next to no garbage. A larger young generation makes the collections rare, and freezing what
start-up built (modules, classes, settings, the theme profile) keeps it out of every later walk.
Reference cycles are still collected, only in larger rounds.
"""

from __future__ import annotations

import gc

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
