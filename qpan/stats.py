"""The per-source figures vocabulary that the crawler, the pipeline stages and storage share.

Every stage counts into Scrapy's stats under ``qpan/source/<name>/<figure>``; the run summary
reads them back by the same key, so the key is built in one place only.
"""

from __future__ import annotations

from typing import Any, Protocol


class Stats(Protocol):
    """The part of Scrapy's stats collector that qpan's components use."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...

    def set_value(self, key: str, value: Any) -> None: ...


class PointedFigures(Protocol):
    extracted: int
    skipped_seen: int
    not_modified: int


def stat_key(source: str | None, name: str) -> str:
    """``qpan/source/<name>/<figure>``: the per-source stats key of the run summary."""
    return f"qpan/source/{source}/{name}"


def yielded_articles(figures: PointedFigures) -> bool:
    """Did the source point at any article, new or already known, or say its feeds were unchanged?

    A quiet source in an incremental crawl extracts nothing new yet is healthy; one whose
    feeds and listings lead nowhere (stale URLs, changed markup) is not.
    """
    return figures.extracted > 0 or figures.skipped_seen > 0 or figures.not_modified > 0
