"""The crawl's page workers, spawned before Scrapy is imported.

A page worker takes about half a second to import extraction, cleaning and relevance, about as
long as the crawl process takes to import Scrapy and build its crawler. Spawned first thing, by
``qpan crawl`` as soon as it has its config (and by ``run_crawl`` for the scheduler and the demo),
the two start-ups run side by side on two cores, and the worker is ready for the first page
instead of half a second after it; the crawler adopts it (``qpan.workers.prestart``).
"""

from __future__ import annotations

from qpan import workers
from qpan.config import Config
from qpan.crawler import settings


def prestart_page_workers(config: Config) -> None:
    """Spawn the workers the crawl of ``config`` will ask for, with the crawl's log settings."""
    workers.prestart(config.crawl.page_workers, settings.LOG_LEVEL, settings.LOG_FILE)
