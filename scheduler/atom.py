"""Atom feed of relevant articles (feedgen), so any feed reader can subscribe to qpan's finds.

The same writer serves the feed rewritten after every run (``alerts.atom_path``) and
``qpan export --format atom``. A file is replaced atomically: a reader polling it never
sees half a feed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from feedgen.feed import FeedGenerator
from sqlalchemy import select
from sqlalchemy.orm import Session

from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article

FEED_ID = "urn:qpan:relevant-articles"
FEED_TITLE = "qpan: Bộ Công an – Bộ Quốc phòng phối hợp (Nghị định 03/2019/NĐ-CP)"
FEED_ENTRIES = 100
SUMMARY_CHARS = 600
FILE_MODE = 0o644  # a feed is meant to be read, e.g. by the web server that publishes it


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def build_feed(articles: Iterable[Article], title: str = FEED_TITLE, link: str | None = None) -> bytes:
    """The Atom document (UTF-8 bytes) for these articles, in the order given."""
    feed = FeedGenerator()
    feed.id(FEED_ID)
    feed.title(title)
    feed.language("vi")
    feed.generator("qpan")
    if link:
        feed.link(href=link, rel="self")
    newest: datetime | None = None
    for article in articles:
        url = article.canonical_url or article.url
        updated = article.fetched_at or article.published or datetime.now(UTC)
        newest = updated if newest is None or updated > newest else newest
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(article.title or url)
        entry.link(href=url, rel="alternate")
        entry.updated(updated)
        if article.published:
            entry.published(article.published)
        if article.author:
            entry.author({"name": article.author})
        entry.category(term=article.source, label=article.source)
        if article.text:
            entry.summary(_summary(article.text))
    feed.updated(newest or datetime.now(UTC))
    return feed.atom_str(pretty=True, encoding="UTF-8")


def write_atom(
    articles: Iterable[Article], target: str | os.PathLike[str] | IO[bytes] | IO[str], title: str = FEED_TITLE
) -> None:
    """Write the feed to a path (atomically replaced) or to an open binary or text stream."""
    document = build_feed(articles, title=title)
    if isinstance(target, str | os.PathLike):
        path = Path(target)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(document)
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    elif hasattr(target, "encoding"):
        target.write(document.decode("utf-8"))  # type: ignore[arg-type]
    else:
        target.write(document)  # type: ignore[arg-type]


def feed_articles(session: Session, limit: int = FEED_ENTRIES) -> list[Article]:
    """The newest relevant, non-duplicate crawled articles (seeds are the baseline, not news)."""
    query = (
        select(Article)
        .where(Article.relevant.is_(True), Article.duplicate_of_id.is_(None), Article.source != SEED_SOURCE)
        .order_by(Article.fetched_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def write_feed_file(database: Database, path: str | os.PathLike[str]) -> int:
    """Rewrite the feed file from the database; returns the number of entries."""
    with database.session() as session:
        articles = feed_articles(session)
        write_atom(articles, path)
    return len(articles)
