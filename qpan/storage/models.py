"""SQLAlchemy ORM models: the one schema that SQLite and PostgreSQL both run.

Schema changes go through Alembic (``pipelines/storage/migrations``); ``qpan init``
upgrades to head, so a user never runs a manual migration step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from qpan.stats import yielded_articles

SEED_SOURCE = "seeds"


def utcnow() -> datetime:
    return datetime.now(UTC)


class AwareDateTime(TypeDecorator[datetime]):
    """Timezone-aware on both backends: SQLite stores UTC and gives it back with its offset."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        return value.astimezone(UTC) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: AwareDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Article(Base):
    __tablename__ = "articles"
    # "newest first" everywhere means this expression; the index lets a listing stop after LIMIT rows
    __table_args__ = (
        Index("ix_articles_newest", func.coalesce(text("published"), text("fetched_at"))),
        # dedup's same-story window (migration 0008): the relevant originals in publication order,
        # with what the lookup reads of them, so the nearest ones are one short walk of this index
        # and no row is read. Its shape serves both planners. published leads: PostgreSQL leaves
        # out of the index conditions what the index's WHERE implies, so a leading relevant would
        # not bound the walk. Every column the lookup names is in it: SQLite (3.40) counts a
        # partial index as covering only then, and PostgreSQL reads it index-only. The WHERE, and
        # the lookup, say "relevant IS NOT false": as an equality, relevant made SQLite's planner
        # without statistics prefer ix_articles_relevant_source (relevant, published, ...) and
        # read every row; IS NOT is no index equality, so only this index matches the term.
        Index(
            "ix_articles_story_window", "published", "relevant", "duplicate_of_id", "id", "cluster", "minhash",
            sqlite_where=text("relevant IS NOT 0 AND duplicate_of_id IS NULL"),
            postgresql_where=text("relevant IS NOT false AND duplicate_of_id IS NULL"),
        ),
        # an article page lists the articles that duplicate it (migration 0005). Only duplicates are
        # indexed (migration 0008): with every original in it as NULL, SQLite's statistics (ANALYZE)
        # took "duplicate_of_id IS NULL", nine rows in ten, for a selective term and answered the
        # dedup window from this index, reading every original (a 13 ms check at 100,000 articles).
        Index(
            "ix_articles_duplicate_of_id", "duplicate_of_id",
            sqlite_where=text("duplicate_of_id IS NOT NULL"),
            postgresql_where=text("duplicate_of_id IS NOT NULL"),
        ),
        # the web view's default list (relevant, newest first) stops after a page instead of sorting
        # every relevant article; and its weekly chart is read from the index alone (migration 0005)
        Index("ix_articles_relevant_newest", "relevant", func.coalesce(text("published"), text("fetched_at"))),
        Index("ix_articles_relevant_source", "relevant", "published", "fetched_at", "source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    seed_name: Mapped[str | None] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[datetime | None] = mapped_column(index=True)
    author: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    raw_text: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    relevant: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    matched_terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    methods: Mapped[dict[str, Any]] = mapped_column(default=dict)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    cluster: Mapped[int | None] = mapped_column(Integer, index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    alerted_at: Mapped[datetime | None] = mapped_column()

    duplicate_of: Mapped[Article | None] = relationship(remote_side=[id], lazy="joined", join_depth=1)
    # oldest first, so the last is the current verdict; listings load them with one selectin query
    verdicts: Mapped[list[Triage]] = relationship(order_by="Triage.id", back_populates="article")

    @property
    def is_seed(self) -> bool:
        return self.source == SEED_SOURCE


class Triage(Base):
    """An analyst's verdict on an article, kept apart from the scorer's ``relevant``.

    Rows are only ever added (the newest per article is its current verdict), and the foreign
    key has no ON DELETE action, so neither a re-crawl (which updates the article row in place)
    nor a deletion can take an analyst's feedback away silently: it is the data the theme is
    tuned with later.
    """

    __tablename__ = "triage"
    __table_args__ = (CheckConstraint("verdict IN ('relevant', 'not_relevant', 'read')", name="ck_triage_verdict"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    who: Mapped[str | None] = mapped_column(String(100))

    article: Mapped[Article] = relationship(back_populates="verdicts")


class DedupBand(Base):
    """One LSH band key of an article's MinHash: candidates are found by indexed equality.

    The key index holds the article id too (migration 0008): a lookup reads the articles of a key
    from the index alone, newest first, without a visit to the table for each.
    """

    __tablename__ = "dedup_bands"
    __table_args__ = (Index("ix_dedup_bands_key", "band", "key", "article_id"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)


class SeenUrl(Base):
    """URLs fetched that did not become articles (dropped), so they are not fetched again."""

    __tablename__ = "seen_urls"

    canonical_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class HttpCache(Base):
    """Validators of feeds and sitemaps, for conditional requests (ETag / Last-Modified)."""

    __tablename__ = "http_cache"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(32), default="running")  # running ok partial failed timed_out died
    trigger: Mapped[str] = mapped_column(String(32), default="cli")  # cli scheduler demo
    pid: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)

    sources: Mapped[list[RunSource]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RunSource.source"
    )


class RunSource(Base):
    """Figures of one source in one run: what `qpan crawl` prints at the end and `qpan runs` lists."""

    __tablename__ = "run_sources"

    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    extracted: Mapped[int] = mapped_column(Integer, default=0)
    relevant: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    skipped_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # article links already known
    not_modified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # feeds/sitemaps answering 304
    dropped: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {reason: count}
    reached: Mapped[bool] = mapped_column(Boolean, default=False)
    error_text: Mapped[str | None] = mapped_column(Text)

    run: Mapped[CrawlRun] = relationship(back_populates="sources")

    @property
    def yielded_articles(self) -> bool:
        return yielded_articles(self)


class SourceHealth(Base):
    __tablename__ = "source_health"

    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    total_articles: Mapped[int] = mapped_column(Integer, default=0)
    last_articles: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_empty: Mapped[int] = mapped_column(Integer, default=0)
    alert_state: Mapped[str] = mapped_column(String(16), default="ok")  # ok | alerted
    discovered: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {feeds: [...], sitemaps: [...]}


class AlertDelivery(Base):
    """The outbox: one row per (message, channel), written before anything is sent."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("dedup_key", "channel", name="uq_alert_deliveries_key_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # article | health | test
    dedup_key: Mapped[str] = mapped_column(String(300))  # e.g. article:42, health:vnexpress:down:3
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))  # stable hash of the Apprise URL
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # see scheduler/outbox.py
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))  # of the message it first went out in
