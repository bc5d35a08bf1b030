"""Read-side queries shared by the CLI, exports and alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

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
    until: datetime | None = None
    min_relevance: float | None = None
    hide_duplicates: bool = False
    older_than: int | None = None  # an article id: only what comes after it in the list (a stable next page)


def articles_query(flt: ArticleFilter, session: Session) -> Select[tuple[Article]]:
    """Newest first: by published date, then by when it was fetched (undated articles sort by fetch).

    Pages continue from an article (``older_than``) rather than from an offset, so a page's
    link keeps showing the same articles while new ones arrive at the top.
    """
    newest = func.coalesce(Article.published, Article.fetched_at)
    query = select(Article).order_by(newest.desc(), Article.id.desc()).options(selectinload(Article.verdicts))
    if not flt.include_irrelevant:
        query = query.where(Article.relevant.is_(True))
    if not flt.include_seeds:
        query = query.where(Article.seed_name.is_(None))
    if flt.since is not None:
        query = query.where(newest >= flt.since)
    if flt.until is not None:
        query = query.where(newest < flt.until)
    if flt.sources:
        query = query.where(Article.source.in_(flt.sources))
    if flt.min_relevance is not None:
        query = query.where(Article.relevance >= flt.min_relevance)
    if flt.hide_duplicates:
        query = query.where(Article.duplicate_of_id.is_(None))
    if flt.older_than is not None:
        mark = select(func.coalesce(Article.published, Article.fetched_at)).where(Article.id == flt.older_than)
        mark_value = mark.scalar_subquery()
        query = query.where(or_(newest < mark_value, and_(newest == mark_value, Article.id < flt.older_than)))
    if flt.search:
        condition = search.search_condition(session, flt.search, flt.limit)
        query = query.where(condition if condition is not None else false())
    if flt.limit:
        query = query.limit(flt.limit)
    return query


def list_articles(session: Session, flt: ArticleFilter) -> list[Article]:
    return list(session.scalars(articles_query(flt, session)).unique())


def related_articles(session: Session, article: Article) -> tuple[list[Article], list[Article]]:
    """Articles that duplicate this one, and the other members of its cluster."""
    duplicates = list(session.scalars(select(Article).where(Article.duplicate_of_id == article.id)))
    cluster: list[Article] = []
    if article.cluster is not None:
        same_story = or_(Article.cluster == article.cluster, Article.id == article.cluster)
        cluster = list(session.scalars(select(Article).where(same_story, Article.id != article.id)))
    return duplicates, cluster


def recent_runs(session: Session, limit: int) -> list[CrawlRun]:
    query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
    return list(session.scalars(query))
