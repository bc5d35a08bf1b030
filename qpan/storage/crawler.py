"""The database handle shared by the spider, middlewares and extensions of one crawler.

One engine per crawler (not one per component) keeps SQLite's writers in one connection
pool, so the seen-URL filter, the HTTP cache and the run summary never wait on each other.

Its connections are closed when the engine stops: SQLite folds the WAL into the database file
when the last connection closes, and a crawl whose connections stayed open until the process
ended left up to 10,000 pages of it beside the file, which a plain copy of ``qpan.db`` misses.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.crawler import Crawler

from qpan.storage.db import SQLITE_STORE_CACHE_KIB, Database

_ATTRIBUTE = "_qpan_database"


def crawler_database(crawler: Crawler) -> Database:
    database: Database | None = getattr(crawler, _ATTRIBUTE, None)
    if database is None:
        database = Database(crawler.settings.get("QPAN_DATABASE_URL"), page_cache_kib=SQLITE_STORE_CACHE_KIB)
        crawler.signals.connect(database.dispose, signal=signals.engine_stopped)
        setattr(crawler, _ATTRIBUTE, database)
    return database
