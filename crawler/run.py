"""One crawl run, start to finish: the run row, the Scrapy process, the outcome.

``qpan crawl``, the scheduler's launcher and ``qpan demo`` all come through
``run_crawl``. Scrapy's reactor cannot be restarted, so this runs once per process
(the scheduler starts a fresh process per run). SIGINT/SIGTERM, once the run row exists,
stop the crawl through ``CrawlStopper`` (not Scrapy's handlers, which ignore a signal
during start-up): what was stored stays stored, and the run is marked ``interrupted``.

The outcome is judged from the crawl's own stats, not from what it managed to write: on a
full disk the figures may not reach the database, yet the run must still end ``failed``
with exit code 1 when an article could not be stored.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

# Scrapy's HTTP handler first: its deprecated-class shims call inspect.stack(), which matches
# each frame of the stack against every loaded module; imported here rather than by the engine,
# the stack is shallower and SQLAlchemy's modules are not loaded yet: 30 ms less start-up.
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from sqlalchemy.exc import SQLAlchemyError

from qpan import interrupt, workers
from qpan.config import Config
from qpan.crawler.middlewares.dryrun import PLANNED_STAT
from qpan.crawler.prestart import prestart_page_workers
from qpan.crawler.registry import select_sources
from qpan.crawler.spiders.news import NewsSpider
from qpan.crawler.stopper import CrawlStopper
from qpan.crawler.summary import SourceFigures, figures_from_stats, not_stored_error, run_status
from qpan.errors import UserError
from qpan.garbage import tune_for_throughput
from qpan.stats import stat_key
from qpan.storage.db import Database, describe_database_error
from qpan.storage.migrate import require_current_schema
from qpan.storage.models import CrawlRun, SourceHealth, utcnow
from qpan.storage.runs import mark_dead_runs

EXIT_INTERRUPTED = interrupt.EXIT_INTERRUPTED
SHUTDOWN = "shutdown"  # Scrapy's finish reason for a stopped crawl
SETTINGS_MODULE = "qpan.crawler.settings"


class ScaleOutUnavailable(UserError):
    """Falling back to a private frontier would silently fetch every page once per machine."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("redis_url is set but scrapy-redis is not installed: pip install 'qpan[scale]'")


def require_scale_out(redis_url: str) -> None:
    """Checked when a crawl starts, before its run row: inside Scrapy the same failures are
    pages of tracebacks. The settings name the scheduler by its path only."""
    try:
        scale = import_module("qpan.crawler.scale")
    except ImportError:
        raise ScaleOutUnavailable() from None
    scale.require_reachable(redis_url)


def crawl_settings(
    config: Config,
    *,
    sources: list[str] | None = None,
    since_days: int | None = None,
    progress: bool = False,
) -> Settings:
    """The project settings plus this run's choices, at command-line priority; the add-on
    (``crawler/addon.py``) turns ``config`` into the rest when the crawler is created."""
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    choices: dict[str, Any] = {"QPAN_CONFIG": config, "QPAN_SOURCE_NAMES": sources or [], "QPAN_PROGRESS": progress}
    if since_days is not None:
        choices["QPAN_SINCE_DAYS"] = since_days
    settings.setdict(choices, priority="cmdline")
    return settings


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


def _run_spider(settings: Settings, **spider_args: Any) -> dict[str, Any]:
    """Run the news spider to the end; returns its stats, with Scrapy's ``finish_reason``
    ("shutdown" if stopped, absent if it never ran)."""
    # Scrapy's own root handler only where qpan's command line has not set one up (``-v``,
    # ``--log-level``, ``--log-file``): with both, every line was written twice.
    settings.set("LOG_INSTALL_ROOT_HANDLER", not logging.root.handlers, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    stopper = CrawlStopper(crawler)
    process.crawl(crawler, **spider_args)
    with interrupt.stopping_with(stopper.request):
        if interrupt.requested():  # during start-up: the reactor is not started at all
            return {"finish_reason": SHUTDOWN}
        tune_for_throughput()
        process.start(install_signal_handlers=False)
    try:
        stats = dict(crawler.stats.get_stats()) if crawler.stats else {}
    except RuntimeError:  # Scrapy sets the stats when the crawl starts: this one never did
        stats = {}
    if interrupt.requested():
        stats.setdefault("finish_reason", SHUTDOWN)
    return stats


def _record_outcome(database: Database, run_id: int, status: str, error: str | None) -> str | None:
    """Close the run row; returns why it could not be written (then the run stays ``running``
    until the next crawl on this host marks it ``died``)."""
    try:
        with database.session() as session:
            row = session.get(CrawlRun, run_id)
            if row is not None:
                row.status, row.finished_at, row.error = status, utcnow(), error
    except SQLAlchemyError as exc:
        return f"the run's outcome could not be recorded: {describe_database_error(exc)}"
    return None


def run_crawl(
    config: Config,
    *,
    sources: list[str] | None = None,
    since_days: int | None = None,
    trigger: str = "cli",
    progress: bool = True,
) -> RunResult:
    """Crawl ``sources`` (default: every enabled source) once and record the run."""
    selected = select_sources(config, sources)  # an unknown name fails before anything starts
    database = require_current_schema(Database(config.database.url))
    if config.crawl.redis_url:
        require_scale_out(config.crawl.redis_url)
    settings = crawl_settings(config, sources=sources, since_days=since_days, progress=progress)
    host = socket.gethostname()
    # From the run row on, Ctrl-C no longer raises: the run is stopped and recorded instead.
    with interrupt.stopping_with(interrupt.record_only):
        with database.session() as session:
            mark_dead_runs(session, host)
            run = CrawlRun(trigger=trigger, pid=os.getpid(), host=host, status="running")
            session.add(run)
            session.flush()
            run_id = run.id
        settings.set("QPAN_RUN_ID", run_id, priority="cmdline")
        error = None
        stats: dict[str, Any] = {}
        try:
            prestart_page_workers(config)
            stats = _run_spider(settings)
        except Exception as exc:  # recorded on the run row, then re-raised for the caller
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            reason = stats.get("finish_reason")
            figures = figures_from_stats(stats, sorted(source.name for source in selected)) if reason else []
            status = run_status(figures, reason) if reason else "failed"
            error = error or not_stored_error(figures, stats)
            if reason is None and error is None:
                error = "the crawl did not start (see the log above)"
            unrecorded = _record_outcome(database, run_id, status, error)
            database.dispose()
            workers.discard_prestarted()
    error = "; ".join(filter(None, [error, unrecorded])) or None
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
    select_sources(config, sources)
    require_current_schema(Database(config.database.url)).dispose()
    settings = crawl_settings(config, sources=sources, since_days=since_days)
    for name, changes in _DRY_RUN_OFF.items():
        settings.set(name, {**settings.getdict(name), **changes}, priority="cmdline")
    return list(_run_spider(settings).get(PLANNED_STAT, []))


@dataclass
class Discovery:
    """What ``qpan sources --discover`` found, and whether the site answered at all."""

    found: dict[str, Any]
    reached: bool
    error: str | None


def run_discovery(config: Config, name: str) -> Discovery:
    """Discover one source's feeds and sitemaps now; returns (and records) what was found."""
    select_sources(config, [name])
    database = require_current_schema(Database(config.database.url))
    stats = _run_spider(crawl_settings(config, sources=[name]), mode="discover")
    with database.session() as session:
        health = session.get(SourceHealth, name)
        found = dict(health.discovered) if health and health.discovered else {}
    database.dispose()
    return Discovery(found, bool(stats.get(stat_key(name, "reached"))), stats.get(stat_key(name, "error_text")))
