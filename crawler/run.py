"""One crawl run, start to finish: the run row, the Scrapy process, the outcome.

``qpan crawl``, the scheduler's launcher and ``qpan demo`` all come through
``run_crawl``. Scrapy's reactor cannot be restarted, so this runs once per process
(the scheduler starts a fresh process per run). SIGINT/SIGTERM, once the run row exists,
stop the crawl through ``CrawlStopper`` (not Scrapy's handlers, which ignore a signal
during start-up): what was stored stays stored, and the run is marked ``interrupted``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import CrawlerProcess
from sqlalchemy import select

from qpan import interrupt
from qpan.config import Config
from qpan.crawler.middlewares.dryrun import PLANNED_STAT
from qpan.crawler.registry import select_sources
from qpan.crawler.settings import build_settings
from qpan.crawler.spiders.news import NewsSpider
from qpan.crawler.stopper import CrawlStopper
from qpan.crawler.summary import SourceFigures, run_status
from qpan.stats import stat_key
from qpan.storage.db import Database
from qpan.storage.migrate import require_current_schema
from qpan.storage.models import CrawlRun, RunSource, SourceHealth, utcnow
from qpan.storage.runs import mark_dead_runs

EXIT_INTERRUPTED = interrupt.EXIT_INTERRUPTED
SHUTDOWN = "shutdown"  # Scrapy's finish reason for a stopped crawl


@dataclass
class RunResult:
    run_id: int
    status: str  # ok | partial | failed | interrupted | timed_out | died
    sources: list[SourceFigures] = field(default_factory=list)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 when every source was reached (DESIGN), 130 when interrupted, else 1."""
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        return 0 if self.status == "ok" else 1


def _run_spider(settings: dict[str, Any], **spider_args: Any) -> str | None:
    """Run the news spider to the end; returns Scrapy's finish reason (None if it never ran)."""
    return _spider_stats(settings, **spider_args).get("finish_reason")


def _spider_stats(settings: dict[str, Any], **spider_args: Any) -> dict[str, Any]:
    """Run the news spider to the end; returns its stats (``finish_reason`` "shutdown" if stopped)."""
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    stopper = CrawlStopper(crawler)
    process.crawl(crawler, **spider_args)
    with interrupt.stopping_with(stopper.request):
        if interrupt.requested():  # during start-up: the reactor is not started at all
            return {"finish_reason": SHUTDOWN}
        process.start(install_signal_handlers=False)
    stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    if interrupt.requested():
        stats.setdefault("finish_reason", SHUTDOWN)
    return stats


def _figures(database: Database, run_id: int) -> list[SourceFigures]:
    with database.session() as session:
        rows = session.scalars(select(RunSource).where(RunSource.run_id == run_id).order_by(RunSource.source))
        return [
            SourceFigures(
                source=row.source, fetched=row.fetched, extracted=row.extracted, relevant=row.relevant,
                new=row.new, duplicates=row.duplicates, errors=row.errors, skipped_seen=row.skipped_seen,
                not_modified=row.not_modified, dropped=dict(row.dropped or {}),
                reached=row.reached, error_text=row.error_text,
            )
            for row in rows
        ]


def run_crawl(
    config: Config,
    *,
    sources: list[str] | None = None,
    since_days: int | None = None,
    trigger: str = "cli",
    progress: bool = True,
) -> RunResult:
    """Crawl ``sources`` (default: every enabled source) once and record the run."""
    selected = select_sources(config, sources)
    database = require_current_schema(Database(config.database.url))
    # Settings first: a setting the user can get wrong (an unreachable Redis) fails before a run row exists.
    settings = build_settings(config, since_days=since_days, sources=selected, progress=progress)
    host = socket.gethostname()
    # From the run row on, Ctrl-C no longer raises: the run is stopped and recorded instead.
    with interrupt.stopping_with(interrupt.record_only):
        with database.session() as session:
            mark_dead_runs(session, host)
            run = CrawlRun(trigger=trigger, pid=os.getpid(), host=host, status="running")
            session.add(run)
            session.flush()
            run_id = run.id
        settings["QPAN_RUN_ID"] = run_id
        error = None
        try:
            reason = _run_spider(settings)
        except Exception as exc:  # recorded on the run row, then re-raised for the caller
            reason, error = None, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            figures = _figures(database, run_id)
            status = run_status(figures, reason) if reason else "failed"
            if reason is None and error is None:
                error = "the crawl did not start (see the log above)"
            with database.session() as session:
                row = session.get(CrawlRun, run_id)
                if row is not None:
                    row.status, row.finished_at, row.error = status, utcnow(), error
            database.dispose()
    return RunResult(run_id=run_id, status=status, sources=figures, error=error)


# A dry run fetches the start pages but writes nothing: no run row or figures, no validators.
_DRY_RUN_OFF = {
    "EXTENSIONS": {"qpan.crawler.extensions.runsummary.RunSummary": None},
    "DOWNLOADER_MIDDLEWARES": {
        "qpan.crawler.middlewares.conditional.ConditionalRequests": None,
        "qpan.crawler.middlewares.dryrun.DryRun": 50,  # after DomainGuard: only requests a crawl would send
    },
}


def run_dry(config: Config, *, sources: list[str] | None = None, since_days: int | None = None) -> list[dict[str, Any]]:
    """The requests a crawl would make (source, kind, url); article pages are listed, not fetched."""
    selected = select_sources(config, sources)
    require_current_schema(Database(config.database.url)).dispose()
    settings = build_settings(config, since_days=since_days, sources=selected, progress=False)
    for name, changes in _DRY_RUN_OFF.items():
        settings[name] = {**settings[name], **changes}
    return list(_spider_stats(settings).get(PLANNED_STAT, []))


@dataclass
class Discovery:
    """What ``qpan sources --discover`` found, and whether the site answered at all."""

    found: dict[str, Any]
    reached: bool
    error: str | None


def run_discovery(config: Config, name: str) -> Discovery:
    """Discover one source's feeds and sitemaps now; returns (and records) what was found."""
    selected = select_sources(config, [name])
    database = require_current_schema(Database(config.database.url))
    settings = build_settings(config, sources=selected, progress=False)
    stats = _spider_stats(settings, mode="discover")
    with database.session() as session:
        health = session.get(SourceHealth, name)
        found = dict(health.discovered) if health and health.discovered else {}
    database.dispose()
    return Discovery(found, bool(stats.get(stat_key(name, "reached"))), stats.get(stat_key(name, "error_text")))
