"""Live crawl progress on stderr (rich), only for a person watching a terminal.

Off when stderr is not a TTY (cron, the scheduler, tests, pipes) or ``--quiet``
(QPAN_PROGRESS false), so logs stay clean where nobody reads a spinner.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

from qpan import defaults

REFRESH_SECONDS = 0.5


def describe(stats: dict[str, object]) -> str:
    """One status line from the run's stats."""

    def total(figure: str) -> int:
        return sum(
            int(value)  # type: ignore[call-overload]
            for key, value in stats.items()
            if key.startswith("qpan/source/") and key.endswith(f"/{figure}")
        )

    pages = stats.get("response_received_count", 0)
    return f"{pages} pages, {total('fetched')} articles, {total('new')} new, {total('errors')} errors"


class Progress:
    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.progress = RichProgress(
            SpinnerColumn(),
            TextColumn("crawling: {task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task_id = self.progress.add_task("starting", total=None)
        self.loop = task.LoopingCall(self.refresh)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("QPAN_PROGRESS", defaults.QPAN_PROGRESS) or not sys.stderr.isatty():
            raise NotConfigured
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def refresh(self) -> None:
        self.progress.update(self.task_id, description=describe(self.stats.get_stats()))

    def spider_opened(self, spider: Spider) -> None:
        self.progress.start()
        self.loop.start(REFRESH_SECONDS)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop.running:
            self.loop.stop()
        self.progress.stop()
