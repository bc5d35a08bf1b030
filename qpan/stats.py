"""The per-source figures vocabulary that the crawler, the pipeline stages and storage share.

Every stage counts into Scrapy's stats under ``qpan/source/<name>/<figure>``; the run summary
reads them back by the same key, so the key is built in one place only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

# The figures a run shows per source and in total (`qpan runs`, the web view's runs page).
RUN_FIGURES = ("fetched", "extracted", "relevant", "new", "duplicates", "errors")


class Stats(Protocol):
    """The part of Scrapy's stats collector that qpan's components use."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...

    def set_value(self, key: str, value: Any) -> None: ...


class MemoryStats:
    """Scrapy's stats-collector calls the stages make, kept in memory when there is no crawler."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.values: dict[str, Any] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.counts[key] += count

    def set_value(self, key: str, value: Any) -> None:
        self.values[key] = value


class PointedFigures(Protocol):
    extracted: int
    skipped_seen: int
    not_modified: int


def stat_key(source: str | None, name: str) -> str:
    """``qpan/source/<name>/<figure>``: the per-source stats key of the run summary."""
    return f"qpan/source/{source}/{name}"


NOT_STORED = "not_stored"  # the drop reason of an article that could not be stored
FIRST_STORE_ERROR = "qpan/first_store_error"  # the run's first such error, one line


def record_error(stats: Stats, source: str | None, text: str) -> None:
    """One error of a source: counted, and its one-line text kept for ``qpan sources`` and
    ``qpan runs`` (the latest wins). Every stage that gives up on something of a source — a failed
    download, a limit that stopped a sitemap or feed, an article not stored — reports it here."""
    stats.inc_value(stat_key(source, "errors"))
    stats.set_value(stat_key(source, "error_text"), text)


def record_not_stored(stats: Stats, source: str | None, text: str, *, first: bool) -> None:
    """An article that could not be stored: an error of its source, counted among its drops as
    ``not_stored``, which fails the run (``first`` keeps the run's first error text)."""
    record_error(stats, source, f"article not stored: {text}")
    stats.inc_value(stat_key(source, f"dropped/{NOT_STORED}"))
    if first:
        stats.set_value(FIRST_STORE_ERROR, text)


def yielded_articles(figures: PointedFigures) -> bool:
    """Did the source point at any article, new or already known, or say its feeds were unchanged?

    A quiet source in an incremental crawl extracts nothing new yet is healthy; one whose
    feeds and listings lead nowhere (stale URLs, changed markup) is not.
    """
    return figures.extracted > 0 or figures.skipped_seen > 0 or figures.not_modified > 0
