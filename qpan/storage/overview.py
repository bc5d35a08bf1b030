"""Aggregates for the web overview: relevant articles per day and source, run health, the outbox.

Each is one grouped query, so the overview's cost grows with the days and sources shown,
not with the number of stored articles.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from qpan.storage.models import SEED_SOURCE, AlertDelivery, Article, CrawlRun, RunSource
from qpan.timezone import VIETNAM

RUN_FIGURES = ("fetched", "new", "errors")


def _vietnam_day(session: Session, moment: ColumnElement[datetime]) -> ColumnElement[str]:
    """The calendar day of ``moment`` in Vietnam, as 'YYYY-MM-DD' (SQLite keeps UTC text, +07:00 has no DST)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(moment, "+7 hours")
    return func.to_char(func.timezone(str(VIETNAM), moment), "YYYY-MM-DD")


def relevant_per_day(session: Session, start: datetime) -> list[tuple[str, date, int]]:
    """(source, day, relevant articles) since ``start``, seeds left out, days in Vietnam time."""
    day = _vietnam_day(session, func.coalesce(Article.published, Article.fetched_at)).label("day")
    # spelled on the plain columns, not on coalesce(): so the planner reads the covering
    # (relevant, published, fetched_at, source) index instead of the table rows
    since = or_(Article.published >= start, and_(Article.published.is_(None), Article.fetched_at >= start))
    query = (
        select(Article.source, day, func.count())
        .where(Article.relevant.is_(True), Article.source != SEED_SOURCE, since)
        .group_by(Article.source, day)
    )
    return [(source, date.fromisoformat(text), count) for source, text, count in session.execute(query)]


@dataclass
class SourceRuns:
    """One source's figures over the last runs, oldest first (None: the source was not in that run)."""

    source: str
    reached: list[bool | None]
    figures: dict[str, list[int | None]]
    last_error: str | None


def run_health(session: Session, runs: int) -> list[SourceRuns]:
    """Each source's reached flag and figures in the last ``runs`` crawl runs."""
    run_ids = sorted(session.scalars(select(CrawlRun.id).order_by(CrawlRun.id.desc()).limit(runs)))
    position = {run_id: n for n, run_id in enumerate(run_ids)}
    found: dict[str, SourceRuns] = {}
    by_source: dict[str, list[RunSource]] = defaultdict(list)
    for row in session.scalars(select(RunSource).where(RunSource.run_id.in_(run_ids)).order_by(RunSource.run_id)):
        by_source[row.source].append(row)
    for source in sorted(by_source):
        entry = SourceRuns(
            source, [None] * len(run_ids), {name: [None] * len(run_ids) for name in RUN_FIGURES}, None
        )
        for row in by_source[source]:
            slot = position[row.run_id]
            entry.reached[slot] = row.reached
            for name in RUN_FIGURES:
                entry.figures[name][slot] = getattr(row, name)
            entry.last_error = row.error_text
        found[source] = entry
    return list(found.values())


def alert_counts(session: Session) -> dict[str, int]:
    """Deliveries in the outbox by status (pending, sending, sent, failed)."""
    query = select(AlertDelivery.status, func.count()).group_by(AlertDelivery.status)
    return {status: count for status, count in session.execute(query)}


def failing_alerts(session: Session, limit: int) -> list[AlertDelivery]:
    query = (
        select(AlertDelivery).where(AlertDelivery.status == "failed").order_by(AlertDelivery.id.desc()).limit(limit)
    )
    return list(session.scalars(query))


def article_counts(session: Session) -> tuple[int, int]:
    """(stored articles, relevant ones), seeds left out.

    Seeds are counted apart and taken off: they are five, while a ``source != 'seeds'`` condition
    would make each count read every article row instead of an index.
    """
    seeds = Article.source == SEED_SOURCE
    relevant = Article.relevant.is_(True)
    total = session.scalar(select(func.count()).select_from(Article)) or 0
    total -= session.scalar(select(func.count()).where(seeds)) or 0
    relevant_count = session.scalar(select(func.count()).where(relevant)) or 0
    relevant_count -= session.scalar(select(func.count()).where(seeds, relevant)) or 0
    return total, relevant_count


def new_relevant(session: Session, newer_than: int) -> int:
    """Relevant articles with an id above ``newer_than`` (seeds are loaded before any visit, so never)."""
    return session.scalar(select(func.count()).where(Article.relevant.is_(True), Article.id > newer_than)) or 0


def data_version(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever an article is stored or re-stored (both indexed lookups, no scan)."""
    return session.scalar(select(func.max(Article.id))) or 0, session.scalar(select(func.max(Article.fetched_at)))


def article_sources(session: Session) -> list[str]:
    """The sources that stored articles, for the list's filter (an index-only scan)."""
    return list(session.scalars(select(Article.source).distinct().order_by(Article.source)))
