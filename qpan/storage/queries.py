"""Read-side queries shared by the CLI, exports and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from qpan.storage import search
from qpan.storage.models import Article, CrawlRun


@dataclass(frozen=True)
class ArticleFilter:
    include_irrelevant: bool = False
    include_seeds: bool = True
    since: datetime | None = None
    sources: tuple[str, ...] = ()
    search: str | None = None
    limit: int | None = 50


def articles_query(flt: ArticleFilter, session: Session) -> Select[tuple[Article]]:
    """Newest first: by published date, then by when it was fetched (undated articles sort by fetch)."""
    newest = func.coalesce(Article.published, Article.fetched_at)
    query = select(Article).order_by(newest.desc(), Article.id.desc())
    if not flt.include_irrelevant:
        query = query.where(Article.relevant.is_(True))
    if not flt.include_seeds:
        query = query.where(Article.seed_name.is_(None))
    if flt.since is not None:
        query = query.where(newest >= flt.since)
    if flt.sources:
        query = query.where(Article.source.in_(flt.sources))
    if flt.search:
        condition = search.search_condition(session, flt.search, flt.limit)
        query = query.where(condition if condition is not None else false())
    if flt.limit:
        query = query.limit(flt.limit)
    return query


def list_articles(session: Session, flt: ArticleFilter) -> list[Article]:
    return list(session.scalars(articles_query(flt, session)).unique())


def recent_runs(session: Session, limit: int) -> list[CrawlRun]:
    query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
    return list(session.scalars(query))
