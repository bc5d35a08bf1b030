"""Per-source figures of a run, read from Scrapy stats (the contract's ``qpan/source/...`` keys).

Used by the run-summary extension (which stores them as ``RunSource`` rows) and kept
pure so the arithmetic is tested without a crawl.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from qpan.stats import FIRST_STORE_ERROR, NOT_STORED, stat_key

_STOPPED = {"shutdown": "interrupted", "closespider_timeout": "timed_out"}
COUNTS = ("fetched", "extracted", "relevant", "new", "duplicates", "errors", "skipped_seen", "not_modified")


@dataclass
class SourceFigures:
    source: str
    fetched: int = 0
    extracted: int = 0
    relevant: int = 0
    new: int = 0
    duplicates: int = 0
    errors: int = 0
    skipped_seen: int = 0
    not_modified: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    reached: bool = False
    error_text: str | None = None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def figures_from_stats(stats: dict[str, Any], sources: list[str]) -> list[SourceFigures]:
    """One :class:`SourceFigures` per source name, in the order given."""
    figures = []
    for name in sources:
        prefix = stat_key(name, "dropped/")
        dropped = {key.removeprefix(prefix): int(value) for key, value in stats.items() if key.startswith(prefix)}
        figures.append(
            SourceFigures(
                source=name,
                **{count: int(stats.get(stat_key(name, count), 0)) for count in COUNTS},
                dropped=dropped,
                reached=bool(stats.get(stat_key(name, "reached"))),
                error_text=stats.get(stat_key(name, "error_text")),
            )
        )
    return figures


def not_stored(figures: list[SourceFigures]) -> int:
    return sum(figure.dropped.get(NOT_STORED, 0) for figure in figures)


def run_status(figures: list[SourceFigures], reason: str) -> str:
    """ok: every source reached; partial: some; failed: none, or an article could not be stored
    (whatever else went well: its loss must not pass for success); interrupted/timed_out:
    stopped early."""
    if not_stored(figures):
        return "failed"
    if reason != "finished":
        return _STOPPED.get(reason, "failed")
    if not figures:
        return "ok"
    reached = sum(1 for figure in figures if figure.reached)
    if reached == len(figures):
        return "ok"
    return "partial" if reached else "failed"


def not_stored_error(figures: list[SourceFigures], stats: dict[str, Any]) -> str | None:
    """The run's error line when articles could not be stored: how many, and the first error."""
    count = not_stored(figures)
    if not count:
        return None
    return f"{count} article(s) could not be stored; first error: {stats.get(FIRST_STORE_ERROR)}"
