"""At spider close: the run's per-source figures into ``run_sources`` and ``source_health``.

The figures are the contract's ``qpan/source/<name>/...`` stats, counted where each is
known (responses and errors by ``SourceAccounting``, drops/relevant/new by the stages).
When ``scrapy crawl`` runs without ``qpan crawl`` (no QPAN_RUN_ID), the extension opens
and closes a run row of its own.
"""

from __future__ import annotations

import os
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy.orm import Session

from qpan import defaults
from qpan.crawler.summary import SourceFigures, figures_from_stats, run_status
from qpan.stats import stat_key, yielded_articles
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database
from qpan.storage.migrate import current_revision
from qpan.storage.models import CrawlRun, RunSource, SourceHealth, utcnow
from qpan.storage.upsert import insert_missing


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
    def __init__(self, crawler: Crawler, database: Database) -> None:
        self.crawler = crawler
        self.database = database
        self.run_id: int | None = crawler.settings.get("QPAN_RUN_ID", defaults.QPAN_RUN_ID)
        self.own_run = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunSummary:
        extension = cls(crawler, crawler_database(crawler))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        if getattr(spider, "discover_only", False):
            return
        if self.run_id is not None or current_revision(self.database) is None:
            return
        with self.database.session() as session:
            run = CrawlRun(trigger="scrapy", pid=os.getpid())
            session.add(run)
            session.flush()
            self.run_id = run.id
        self.own_run = True

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        names = list(getattr(spider, "sources", {}))
        discovered = {
            name: stats[stat_key(name, "discovered")]
            for name in names
            if stat_key(name, "discovered") in stats
        }
        if getattr(spider, "discover_only", False):
            with self.database.session() as session:
                record_discoveries(session, discovered)
            return
        if self.run_id is None:
            return
        figures = figures_from_stats(stats, names)
        with self.database.session() as session:
            record_figures(session, self.run_id, figures, discovered)
            if self.own_run:
                run = session.get(CrawlRun, self.run_id)
                if run is not None:
                    run.status = run_status(figures, reason)
                    run.finished_at = utcnow()
