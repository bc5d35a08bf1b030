"""The alert outbox: a row per (message, channel) written before anything is sent.

Why an outbox: a crawl can die between storing an article and sending its alert. Rows are
derived from the database state (relevant, non-duplicate, never-alerted articles), not from
what one process remembers, so the next run finds whatever the dead one left behind. The
unique (dedup_key, channel) constraint makes a second enqueue of the same article a no-op.

Lifecycle of a row: ``pending`` → ``sending`` (claimed, with a lease) → ``sent``, ``failed``
or ``unknown`` (the channel took the message but gave no answer in time: it may have
arrived). Failed and unknown rows are retried once ``next_attempt_at`` has passed
(exponential backoff) until ``attempts`` reaches ``alerts.max_attempts``; then
``next_attempt_at`` is cleared and the row stays as it is (given up). A ``sending`` row whose
lease ran out belongs to a process that died mid-send and is retried like a failed one.

A row keeps the idempotency key of the first message it went out in, and its retries are
that same message again (the same rows, the same key), so a receiver that got the first
copy can recognise the second. A row turns ``sent`` once; a late settle never overwrites it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from qpan.storage.models import SEED_SOURCE, AlertDelivery, Article
from qpan.storage.upsert import dialect_insert

PENDING, SENDING, SENT, FAILED, UNKNOWN = "pending", "sending", "sent", "failed", "unknown"
RETRIED = (FAILED, UNKNOWN, SENDING)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
SENDING_LEASE = timedelta(minutes=15)
_INSERT_BATCH = 200
_ERROR_CHARS = 1000


@dataclass(frozen=True)
class Claimed:
    """A delivery this process has claimed and must now send and settle."""

    id: int
    kind: str
    channel: str
    payload: dict[str, Any]
    article_id: int | None
    attempts: int
    key: str | None


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 1, 2, 4 … minutes, at most 6 h."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def insert_ignoring_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows; a (dedup_key, channel) already present is skipped. Returns rows added."""
    added = 0
    for start in range(0, len(rows), _INSERT_BATCH):
        statement = (
            dialect_insert(session, AlertDelivery)
            .values(list(rows[start : start + _INSERT_BATCH]))
            .on_conflict_do_nothing(index_elements=["dedup_key", "channel"])
            .returning(AlertDelivery.id)
        )
        added += len(session.execute(statement).all())  # rowcount is -1 here on psycopg
    return added


def delivery_row(
    kind: str, dedup_key: str, channel: str, payload: dict[str, Any], now: datetime, **extra: Any
) -> dict[str, Any]:
    """Every column of a new pending row, explicitly (bulk inserts skip ORM defaults)."""
    return {
        "kind": kind,
        "dedup_key": dedup_key,
        "channel": channel,
        "payload": payload,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
        "article_id": extra.get("article_id"),
        "run_id": extra.get("run_id"),
    }


def article_payload(article: Article) -> dict[str, Any]:
    """What an alert shows of an article, frozen at enqueue time."""
    return {
        "title": article.title,
        "source": article.source,
        "published": article.published.isoformat() if article.published else None,
        "score": round(float(article.relevance), 3),
        "url": article.canonical_url or article.url,
    }


def alertable_articles(session: Session) -> list[Article]:
    """New relevant non-duplicate crawled articles never alerted on any channel yet."""
    query = (
        select(Article)
        .where(
            Article.relevant.is_(True),
            Article.duplicate_of_id.is_(None),
            Article.source != SEED_SOURCE,
            Article.seed_name.is_(None),
            Article.alerted_at.is_(None),
        )
        .order_by(Article.published.desc().nulls_last(), Article.id)
    )
    return list(session.scalars(query))


def enqueue_articles(session: Session, channel_ids: Iterable[str], run_id: int | None, now: datetime) -> int:
    """One pending row per alertable article and channel that does not have one yet."""
    channel_ids = list(channel_ids)
    rows = [
        delivery_row(
            "article",
            f"article:{article.id}",
            channel,
            article_payload(article),
            now,
            article_id=article.id,
            run_id=run_id,
        )
        for article in alertable_articles(session)
        for channel in channel_ids
    ]
    return insert_ignoring_duplicates(session, rows)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        AlertDelivery.status == PENDING,
        and_(AlertDelivery.status.in_(RETRIED), AlertDelivery.next_attempt_at <= now),
    )


def claim_due(session: Session, channel_ids: Iterable[str], now: datetime) -> list[Claimed]:
    """Claim every due row of these channels; a row another process claimed first is skipped.

    Each claim re-checks the due condition in its own UPDATE, so two dispatchers running at
    once (a scheduled run and a manual ``qpan crawl``) never both send the same row.
    """
    candidates = session.scalars(
        select(AlertDelivery.id)
        .where(AlertDelivery.channel.in_(list(channel_ids)), _due(now))
        .order_by(AlertDelivery.id)
    ).all()
    claimed_ids = []
    for delivery_id in candidates:
        result = session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, _due(now))
            .values(status=SENDING, attempts=AlertDelivery.attempts + 1, next_attempt_at=now + SENDING_LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed_ids.append(delivery_id)
    rows = session.scalars(select(AlertDelivery).where(AlertDelivery.id.in_(claimed_ids)).order_by(AlertDelivery.id))
    return [
        Claimed(r.id, r.kind, r.channel, dict(r.payload), r.article_id, r.attempts, r.idempotency_key) for r in rows
    ]


def assign_key(session: Session, deliveries: Sequence[Claimed], key: str) -> None:
    """Record the key a message goes out with, before sending: a crash mid-send keeps it too."""
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_([d.id for d in deliveries]), AlertDelivery.idempotency_key.is_(None))
        .values(idempotency_key=key)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, deliveries: Sequence[Claimed], now: datetime) -> None:
    """Settle sent rows, and stamp their articles' ``alerted_at`` (first successful delivery)."""
    ids = [d.id for d in deliveries]
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(ids), AlertDelivery.status != SENT)
        .values(status=SENT, sent_at=now, next_attempt_at=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    article_ids = [d.article_id for d in deliveries if d.article_id is not None]
    if article_ids:
        session.execute(
            update(Article)
            .where(Article.id.in_(article_ids), Article.alerted_at.is_(None))
            .values(alerted_at=now)
            .execution_options(synchronize_session=False)
        )


def mark_failed(
    session: Session,
    deliveries: Sequence[Claimed],
    error: str,
    now: datetime,
    max_attempts: int,
    status: str = FAILED,
) -> int:
    """Settle failed (or ``unknown``) rows with backoff; returns how many were given up for good."""
    given_up = 0
    for delivery in deliveries:
        final = delivery.attempts >= max_attempts
        given_up += final
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery.id, AlertDelivery.status != SENT)
            .values(
                status=status,
                last_error=error[:_ERROR_CHARS],
                next_attempt_at=None if final else now + backoff(delivery.attempts),
            )
            .execution_options(synchronize_session=False)
        )
    return given_up


def recent_deliveries(session: Session, limit: int, status: str | None = None) -> list[AlertDelivery]:
    """The newest outbox rows, for ``qpan alerts``."""
    query = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(limit)
    if status:
        query = query.where(AlertDelivery.status == status)
    return list(session.scalars(query))
