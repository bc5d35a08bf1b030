"""Store stage: writes the crawl's article batch when it is due.

The dedup stage queues each article in the batch in the same step as its verdict (so the next
verdict sees it); this stage flushes the batch when it is full or its oldest article has waited
long enough, and at ``close_spider`` — Scrapy's engine awaits it on a normal end and on the
graceful shutdown it starts for SIGTERM/SIGINT — so an article that reached this stage is not
lost with the process. Both run on the crawl's serial database thread, never on the reactor.
Counting ``qpan/source/<name>/new`` happens at the flush, when it is known whether the row was
inserted (a concurrent process may have stored the same URL first).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from qpan.storage.batch import ArticleBatch, crawler_batch
from qpan.storage.worker import DatabaseWorker, crawler_worker


class StoreStage:
    def __init__(self, batch: ArticleBatch, worker: DatabaseWorker | None = None) -> None:
        self.batch = batch
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreStage:
        return cls(crawler_batch(crawler), crawler_worker(crawler))

    def process(self, item: Any) -> Any:
        """The stage itself, synchronous (the seed loader's chain runs it inline)."""
        self.batch.flush_if_due()
        return item

    def close(self) -> None:
        self.batch.flush()

    async def process_item(self, item: Any, spider: object = None) -> Any:
        """Goes to the database thread only when the batch is due (a glance from here: the next
        item looks again), not for every item: each trip costs the reactor's thread a wake-up."""
        assert self.worker is not None, "a crawl's stage is built by from_crawler"
        if self.batch.due():
            await self.worker.serial(self.process, item)
        return item

    async def close_spider(self, spider: object = None) -> None:
        assert self.worker is not None, "a crawl's stage is built by from_crawler"
        await self.worker.serial(self.close)
