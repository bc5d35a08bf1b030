"""Storing articles: update by canonical URL, all-or-nothing writes, batching and flushing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qpan.pipelines.stages.dedup import DedupStage
from qpan.pipelines.stages.store import StoreStage
from qpan.stats import MemoryStats
from qpan.storage import articles, search
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from qpan.storage.models import DedupBand
from support.articles import article_item, by_url, count_rows, seed_texts, sqlite_database

TEXTS = list(seed_texts().values())
URL = "https://bao.example.vn/hoi-nghi-123.html"


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return sqlite_database(tmp_path)


def stages(
    database: Database, stats: MemoryStats | None = None, size: int = 100, max_wait: float = 10
) -> tuple[DedupStage, StoreStage]:
    batch = ArticleBatch(database, stats=stats, size=size, max_wait=max_wait)
    return DedupStage(database, batch, stats), StoreStage(batch)


def matches(database: Database, words: str) -> int:
    with database.session() as session:
        return search.match_count(session, words)


def test_same_canonical_url_updates_the_article(database: Database) -> None:
    stats = MemoryStats()
    dedup, store = stages(database, stats)
    store.process(dedup.process(article_item(TEXTS[0], URL, source="bao", title="Bản đầu qxfirst")))
    store.close()
    first = by_url(database, URL)
    with database.session() as session:
        first_bands = set(session.execute(select(DedupBand.band, DedupBand.key)).all())

    store.process(dedup.process(article_item(TEXTS[1], URL, source="bao", title="Bản sửa qxsecond")))
    store.close()

    assert count_rows(database) == {"articles": 1, "bands": 32, "search": 1}
    updated = by_url(database, URL)
    assert updated.id == first.id
    assert updated.title == "Bản sửa qxsecond" and updated.text == TEXTS[1]
    assert (matches(database, "qxfirst"), matches(database, "qxsecond")) == (0, 1)
    with database.session() as session:
        assert set(session.execute(select(DedupBand.band, DedupBand.key)).all()) != first_bands
    assert stats.counts["qpan/source/bao/new"] == 1
    assert stats.counts["qpan/source/bao/duplicates"] == 1  # the second visit was not new


def test_failure_midway_leaves_nothing_behind(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_index(*_args: object) -> None:
        raise RuntimeError("disk full while indexing")

    monkeypatch.setattr(articles.search, "index_articles", broken_index)
    dedup, _ = stages(database)
    item = dedup.process(article_item(TEXTS[0], URL))
    with pytest.raises(RuntimeError), database.session() as session:
        articles.store_article(session, item)  # the row and its bands were flushed before the failure
    assert count_rows(database) == {"articles": 0, "bands": 0, "search": 0}


def test_a_bad_article_costs_only_itself(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    stats = MemoryStats()
    dedup, store = stages(database, stats)
    items = [dedup.process(article_item(body, f"https://bao.example.vn/{n}.html", source="bao"))
             for n, body in enumerate(TEXTS[:3])]
    items[1]["band_keys"] = [(0, 1), (0, 1)]  # the same (article, band) twice: a primary-key violation
    for item in items:
        store.process(item)
    store.close()
    assert count_rows(database) == {"articles": 2, "bands": 64, "search": 2}
    with pytest.raises(Exception, match="No row was found"):
        by_url(database, "https://bao.example.vn/1.html")
    assert stats.counts["qpan/source/bao/errors"] == 1
    assert stats.counts["qpan/source/bao/dropped/not_stored"] == 1  # which fails the run
    assert stats.values["qpan/first_store_error"].startswith("IntegrityError: ")
    assert stats.counts["qpan/source/bao/new"] == 2


def test_batch_waits_in_memory_until_full_or_closed(database: Database) -> None:
    dedup, store = stages(database, size=3, max_wait=3600)
    for n, body in enumerate(TEXTS[:2]):
        store.process(dedup.process(article_item(body, f"https://a.example.vn/{n}.html")))
    assert count_rows(database)["articles"] == 0
    store.process(dedup.process(article_item(TEXTS[2], "https://a.example.vn/2.html")))
    assert count_rows(database)["articles"] == 3  # full: written
    store.process(dedup.process(article_item(TEXTS[3], "https://a.example.vn/3.html")))
    assert count_rows(database)["articles"] == 3
    store.close()
    assert count_rows(database) == {"articles": 4, "bands": 4 * 32, "search": 4}


def test_batch_is_flushed_when_its_oldest_article_has_waited(database: Database) -> None:
    now = [0.0]
    batch = ArticleBatch(database, size=100, max_wait=5, clock=lambda: now[0])
    dedup, store = DedupStage(database, batch), StoreStage(batch)
    store.process(dedup.process(article_item(TEXTS[0], "https://a.example.vn/0.html")))
    now[0] = 4.0
    store.process(dedup.process(article_item(TEXTS[1], "https://a.example.vn/1.html")))
    assert count_rows(database)["articles"] == 0
    now[0] = 5.0
    store.process(dedup.process(article_item(TEXTS[2], "https://a.example.vn/2.html")))
    assert count_rows(database)["articles"] == 3
