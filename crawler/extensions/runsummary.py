"""At spider close: the run's per-source figures into ``run_sources`` and ``source_health``.

The figures are the contract's ``qpan/source/<name>/...`` stats, counted where each is
known (responses and errors by ``SourceAccounting``, drops/relevant/new by the stages).
When ``scrapy crawl`` runs without ``qpan crawl`` (no QPAN_RUN_ID), the extension opens
and closes a run row of its own. The writes run on the crawl's serial database thread
(``storage.worker``), after the store stage's final flush, whose counts they record. A write
that fails (a full disk) is one log line: ``qpan crawl`` judges the run from the stats.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from qpan import defaults
from qpan.crawler.summary import SourceFigures, figures_from_stats, not_stored_error, run_status
from qpan.stats import stat_key, yielded_articles
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database, describe_database_error
from qpan.storage.migrate import current_revision
from qpan.storage.models import CrawlRun, RunSource, SourceHealth, utcnow
from qpan.storage.upsert import insert_missing
from qpan.storage.worker import DatabaseWorker, crawler_worker

logger = logging.getLogger(__name__)


def locked_health(session: Session, source: str) -> SourceHealth:
    """The source's health row, created if missing and locked until commit.

    Two crawls sharing a PostgreSQL database may close at the same moment: the insert that
    ignores conflicts cannot fail on the other's new row, and the row lock keeps one run's
    counters from overwriting the other's (SQLite serialises writers by itself).
    """
    blank = {"runs": 0, "total_articles": 0, "last_articles": 0, "consecutive_failures": 0, "consecutive_empty": 0}
    insert_missing(session, SourceHealth, {"source": source, **blank, "alert_state": "ok", "discovered": {}}, "source")
    return session.get(SourceHealth, source, with_for_update=True, populate_existing=True)


def record_figures(
    session: Session, run_id: int, figures: list[SourceFigures], discovered: dict[str, dict[str, Any]]
) -> None:
    """Store one run's figures and roll them into each source's health record."""
    now = utcnow()
    for figure in sorted(figures, key=lambda figure: figure.source):  # one lock order for every process
        session.merge(RunSource(run_id=run_id, **figure.as_row()))
        health = locked_health(session, figure.source)
        health.last_run_at = now
        health.runs += 1
        health.last_articles = figure.new
        health.total_articles += figure.new
        if figure.reached:
            health.last_success_at = now
            health.consecutive_failures = 0
            health.consecutive_empty = 0 if yielded_articles(figure) else health.consecutive_empty + 1
        else:
            health.consecutive_failures += 1
        if figure.error_text:
            health.last_error_at = now
            health.last_error = figure.error_text
        session.add(health)
    record_discoveries(session, discovered)


def record_discoveries(session: Session, discovered: dict[str, dict[str, Any]]) -> None:
    """What discovery found per source, shown by ``qpan sources --discover NAME``."""
    for name, found in discovered.items():
        locked_health(session, name).discovered = found


class RunSummary:
    def __init__(self, crawler: Crawler, database: Database, worker: DatabaseWorker) -> None:
        self.crawler = crawler
        self.database = database
        self.worker = worker
        self.run_id: int | None = crawler.settings.get("QPAN_RUN_ID", defaults.QPAN_RUN_ID)
        self.own_run = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        extension = cls(crawler, crawler_database(crawler), crawler_worker(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "discover_only", False) or self.run_id is not None:
            return
        self.run_id = await self.worker.serial(self.open_run)
        self.own_run = self.run_id is not None

    def open_run(self) -> int | None:
        if current_revision(self.database) is None:
            return None
        with self.database.session() as session:
            run = CrawlRun(trigger="scrapy", pid=os.getpid())
            session.add(run)
            session.flush()
            return run.id

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        names = list(getattr(spider, "sources", {}))
        discovered = {
            name: stats[stat_key(name, "discovered")]
            for name in names
            if stat_key(name, "discovered") in stats
        }
        try:
            if getattr(spider, "discover_only", False):
                await self.worker.serial(self.record_discoveries, discovered)
            elif self.run_id is not None:
                figures = figures_from_stats(stats, names)
                error = not_stored_error(figures, stats)
                await self.worker.serial(self.record, self.run_id, figures, discovered, error, reason)
        except SQLAlchemyError as exc:
            logger.error("run %s: figures not recorded: %s", self.run_id, describe_database_error(exc))

    def record_discoveries(self, discovered: dict[str, dict[str, Any]]) -> None:
        with self.database.session() as session:
            record_discoveries(session, discovered)

    def record(
        self,
        run_id: int,
        figures: list[SourceFigures],
        discovered: dict[str, dict[str, Any]],
        error: str | None,
        reason: str,
    ) -> None:
        with self.database.session() as session:
            record_figures(session, run_id, figures, discovered)
            if self.own_run:
                run = session.get(CrawlRun, run_id)
                if run is not None:
                    run.status, run.error, run.finished_at = run_status(figures, reason), error, utcnow()
