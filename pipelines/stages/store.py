"""Store stage: hands articles to the crawl's batch, which writes them in transactions.

The batch is flushed when full, when its oldest article has waited long enough, and at
``close_spider`` — Scrapy's engine calls it on a normal end and on the graceful shutdown it
starts for SIGTERM/SIGINT — so an article that reached this stage is not lost with the
process. Counting ``qpan/source/<name>/new`` happens at the flush, when it is known whether
the row was inserted (a concurrent process may have stored the same URL first).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from qpan.storage.batch import ArticleBatch, crawler_batch


class StoreStage:
    def __init__(self, batch: ArticleBatch) -> None:
        self.batch = batch

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreStage:
        return cls(crawler_batch(crawler))

    def process_item(self, item: Any, spider: object = None) -> Any:
        self.batch.add(item)
        return item

    def close_spider(self, spider: object = None) -> None:
        self.batch.flush()
