"""The database handle shared by the spider, middlewares and extensions of one crawler.

One engine per crawler (not one per component) keeps SQLite's writers in one connection
pool, so the seen-URL filter, the HTTP cache and the run summary never wait on each other.
"""

from __future__ import annotations

from scrapy.crawler import Crawler

from qpan.storage.db import SQLITE_STORE_CACHE_KIB, Database

_ATTRIBUTE = "_qpan_database"


def crawler_database(crawler: Crawler) -> Database:
    database: Database | None = getattr(crawler, _ATTRIBUTE, None)
    if database is None:
        database = Database(crawler.settings.get("QPAN_DATABASE_URL"), page_cache_kib=SQLITE_STORE_CACHE_KIB)
        setattr(crawler, _ATTRIBUTE, database)
    return database
