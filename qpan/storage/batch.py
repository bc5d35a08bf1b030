"""Articles waiting to be written, shared by the dedup and store stages of one crawl.

Writing each article in its own transaction would spend most of the pipeline's time on
commits (an fsync each on SQLite); a batch writes up to ``size`` articles per transaction, with
a handful of statements for all of them (``store_articles``), and is flushed when full, when
its oldest article has waited ``max_wait`` seconds, when the spider closes (also after
SIGTERM/SIGINT, which Scrapy turns into a graceful close), and when the dedup stage meets an
article that may match one still in the batch — so every dedup decision is made against the
database alone and always points at a stored id.
In a crawl every call runs on the crawl's serial database thread (``storage.worker``), so
the reactor never waits for a commit or a lock, and nothing else touches the batch.

A failed batch is retried once (another process may have stored the same canonical URL:
the retry updates instead of inserting), then written one article per transaction, so one
bad article costs only itself; each article is all or nothing. An article that still fails
(a full disk) is counted as not stored, which fails the run (``stats.record_not_stored``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from qpan import defaults
from qpan.pipelines.dedup import compare, decode_signature
from qpan.stats import Stats, record_not_stored, stat_key
from qpan.storage.articles import store_articles
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database, describe_database_error
from qpan.storage.worker import ReactorStats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredArticle:
    item: Any
    article_id: int
    inserted: bool


class ArticleBatch:
    """See the module docstring; ``stats`` receives ``qpan/source/<name>/new`` and, for an
    article not stored, its source's error and ``dropped/not_stored``."""

    def __init__(
        self,
        database: Database,
        *,
        size: int = defaults.QPAN_STORE_BATCH_SIZE,
        max_wait: float = defaults.QPAN_STORE_MAX_WAIT,
        run_id: int | None = None,
        stats: Stats | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.size = size
        self.max_wait = max_wait
        self.run_id = run_id
        self.stats = stats
        self.clock = clock
        self._items: list[Any] = []
        self._urls: set[str] = set()
        self._hashes: set[str] = set()
        self._bands: dict[tuple[int, int], list[Any]] = {}
        self._oldest: float | None = None
        self.inserted = 0  # rows this batch inserted (not updated) so far
        self.not_stored = 0  # articles given up after the one-by-one retry

    def __len__(self) -> int:
        return len(self._items)

    def holds_match_for(self, item: Any, story_window: timedelta | None = None) -> bool:
        """True if a waiting article has the item's canonical URL or text hash, or is similar
        enough to matter (a duplicate, the same story or perhaps an excerpt) and would be among
        the lookup's candidates: it shares a band key, or both are relevant and were published
        within ``story_window`` of each other (the lookup's date window, which finds another
        report of a meeting that shares no band key). Articles on one theme share a band now and
        then without being alike; flushing for those would make batches needlessly small. What
        is left is not needless: a 2,000-page crawl (``benchmarks/crawl.py``) flushed early 11-14
        times, each time for another report of a story still waiting, whose cluster depends on it."""
        if item.get("canonical_url") in self._urls or item.get("content_hash") in self._hashes:
            return True
        mine = decode_signature(item.get("minhash"))
        if mine is None:
            return False
        waiting = {id(o): o for key in item.get("band_keys") or () for o in self._bands.get(key, ())}
        published = item.get("published")
        if story_window is not None and item.get("relevant") and published is not None:
            for other in self._items:
                when = other.get("published")
                if other.get("relevant") and when is not None and abs(when - published) <= story_window:
                    waiting[id(other)] = other
        for other in waiting.values():
            theirs = decode_signature(other.get("minhash"))
            if theirs is not None and compare(*mine, *theirs).related:
                return True
        return False

    def queue(self, item: Any) -> None:
        """Take the item; it is written by the next flush. The dedup stage queues each article in
        the same step as its verdict, so the next article's verdict already sees it."""
        self._items.append(item)
        self._urls.add(item["canonical_url"])
        self._hashes.add(item["content_hash"])
        for key in item.get("band_keys") or ():
            self._bands.setdefault(key, []).append(item)
        if self._oldest is None:
            self._oldest = self.clock()

    def due(self) -> bool:
        """Full, or its oldest article has waited ``max_wait``."""
        oldest = self._oldest
        return oldest is not None and (len(self._items) >= self.size or self.clock() - oldest >= self.max_wait)

    def flush_if_due(self) -> list[StoredArticle]:
        """Flush when due; else store nothing."""
        return self.flush() if self.due() else []

    def flush(self) -> list[StoredArticle]:
        items = self._items
        self._items, self._oldest = [], None
        self._urls, self._hashes, self._bands = set(), set(), {}
        if not items:
            return []
        try:
            stored = self._write(items)
        except SQLAlchemyError as exc:
            logger.warning(
                "storing a batch of %d articles failed (%s); storing them one by one",
                len(items), describe_database_error(exc),
            )
            stored = []
            for item in items:
                try:
                    stored.extend(self._write([item]))
                except SQLAlchemyError as item_exc:
                    self._failed(item, item_exc)
        self.inserted += sum(entry.inserted for entry in stored)
        self._count(stored)
        return stored

    def _write(self, items: list[Any]) -> list[StoredArticle]:
        """All items in one transaction, retried once after an IntegrityError: another process
        inserted one of the canonical URLs meanwhile, and the retry updates its row instead."""
        try:
            return self._transaction(items)
        except IntegrityError:
            return self._transaction(items)

    def _transaction(self, items: list[Any]) -> list[StoredArticle]:
        with self.database.session() as session:
            written = store_articles(session, items, self.run_id)
        return [
            StoredArticle(item, article_id, inserted)
            for item, (article_id, inserted) in zip(items, written, strict=True)
        ]

    def _failed(self, item: Any, exc: SQLAlchemyError) -> None:
        """An article that could not be stored (a full disk, a broken row) fails the run."""
        text = describe_database_error(exc)
        self.not_stored += 1
        # one ERROR line for the first; the count and that error end up on the run and its sources
        level = logging.ERROR if self.not_stored == 1 else logging.INFO
        logger.log(level, "could not store %s: %s", item.get("canonical_url"), text)
        if self.stats is not None:
            record_not_stored(self.stats, item.get("source"), text, first=self.not_stored == 1)

    def _count(self, stored: list[StoredArticle]) -> None:
        if self.stats is None:
            return
        for entry in stored:
            if entry.inserted and entry.item.get("duplicate_of") is None:
                self.stats.inc_value(stat_key(entry.item.get("source"), "new"))


_ATTRIBUTE = "_qpan_article_batch"


def crawler_batch(crawler: Crawler) -> ArticleBatch:
    """The one batch of a crawler, shared by its dedup and store stages (created by whichever
    asks first), on the crawler's shared database handle."""
    batch: ArticleBatch | None = getattr(crawler, _ATTRIBUTE, None)
    if batch is None:
        settings = crawler.settings
        batch = ArticleBatch(
            crawler_database(crawler),
            size=settings.getint("QPAN_STORE_BATCH_SIZE", defaults.QPAN_STORE_BATCH_SIZE),
            max_wait=settings.getfloat("QPAN_STORE_MAX_WAIT", defaults.QPAN_STORE_MAX_WAIT),
            run_id=settings.get("QPAN_RUN_ID", defaults.QPAN_RUN_ID),
            stats=ReactorStats(crawler.stats),
        )
        setattr(crawler, _ATTRIBUTE, batch)
    return batch
