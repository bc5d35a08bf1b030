"""A batch of articles is written with a handful of statements, and leaves exactly the rows that
storing its articles one at a time leaves: ids in arrival order, band keys and search entries on
the right article, updates by canonical URL (also of a URL met twice in one batch), the clusters
the new articles join founded. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from qpan.items import ArticleItem
from qpan.pipelines.chain import MemoryStats
from qpan.pipelines.stages.dedup import DedupStage
from qpan.storage.articles import store_article, store_articles
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from qpan.storage.models import Article, DedupBand
from support.articles import (
    DEDUP_FIXTURES,
    MEETING_DAY,
    MEETING_SEED,
    article_item,
    by_url,
    count_rows,
    migrated,
    republications,
    seed_texts,
)
from support.services import fresh_postgres_database

SEEDS = seed_texts()
FETCHED = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    """Two empty migrated databases on one backend."""
    if request.param == "sqlite":
        pair = (migrated(f"sqlite:///{tmp_path / 'a.db'}"), migrated(f"sqlite:///{tmp_path / 'b.db'}"))
        yield pair
        for database in pair:
            database.dispose()
        return
    with fresh_postgres_database() as first, fresh_postgres_database() as second:
        pair = (migrated(first), migrated(second))
        yield pair
        for database in pair:
            database.dispose()


def item(body: str, url: str, n: int, **fields: Any) -> ArticleItem:
    return article_item(body, url, fetched_at=FETCHED + timedelta(seconds=n), **fields)


def history() -> list[ArticleItem]:
    """What is stored before the batch: the seeds, the meeting's with its date."""
    return [
        item(body, f"https://seed.example.vn/{name}.html", n, source="seeds", seed_name=name,
             published=MEETING_DAY if name == MEETING_SEED else None)
        for n, (name, body) in enumerate(SEEDS.items())
    ]


def news(count: int, start: int = 0) -> list[ArticleItem]:
    """Unrelated short articles, each its own text."""
    return [
        item(f"Tin {n}: xã {n * 7} khánh thành trường học, đường giao thông và trạm y tế mới số {n * 13}.",
             f"https://tin.example.vn/{n}.html", 100 + n, source="tin", relevant=False)
        for n in range(start, start + count)
    ]


def batch_items() -> list[ArticleItem]:
    """A realistic batch: new articles, a republication and another report of a stored story, a
    revisited page, a page met twice, an article without text (no band keys), a new seed."""
    names = list(SEEDS)
    meeting = SEEDS[MEETING_SEED]
    report = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
    return [
        *news(2),
        item(republications(meeting)["other_boilerplate"], "https://copy.example.vn/1.html", 50, source="copy"),
        item(report, "https://qdnd.example.vn/giao-ban.html", 51, source="qdnd", published=MEETING_DAY),
        item(SEEDS[names[2]] + "\n\nCập nhật lúc 18:00.", f"https://seed.example.vn/{names[1]}.html", 52),
        item("Bản đầu của một tin đang cập nhật.", "https://tin.example.vn/dang-cap-nhat.html", 53),
        *news(2, start=2),
        item("", "https://tin.example.vn/chi-co-anh.html", 54),
        item("Bản sau của tin đang cập nhật, thêm chi tiết.", "https://tin.example.vn/dang-cap-nhat.html", 55),
        item("Hạt giống mới về phối hợp tuần tra biên giới.", "seed:moi", 56, source="seeds", seed_name="moi"),
    ]


def judged(database: Database, items: list[ArticleItem]) -> list[ArticleItem]:
    """The items with the dedup stage's fields, judged against what ``database`` holds."""
    stage = DedupStage(database)
    return [stage.process(entry) for entry in items]


def rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    key = "rowid" if database.dialect == "sqlite" else "article_id"
    with database.engine.connect() as connection:
        return {
            "articles": [tuple(row) for row in connection.execute(select(Article.__table__).order_by(Article.id))],
            "bands": [tuple(row) for row in connection.execute(
                select(DedupBand.__table__).order_by(DedupBand.article_id, DedupBand.band))],
            "search": [tuple(row) for row in connection.execute(
                text(f"SELECT {key}, body FROM article_search ORDER BY {key}"))],
        }


def test_a_batch_leaves_the_rows_of_one_article_at_a_time(databases: tuple[Database, Database]) -> None:
    batched, one_by_one = databases
    for database in databases:
        with database.session() as session:
            store_articles(session, judged(database, history()))
    items = judged(batched, batch_items())
    with batched.session() as session:
        written = store_articles(session, copy.deepcopy(items))
    alone = []
    for entry in items:
        with one_by_one.session() as session:
            alone.append(store_article(session, entry))

    assert written == alone
    assert [inserted for _, inserted in written] == [True] * 4 + [False] + [True] * 4 + [False, True]
    assert rows(batched) == rows(one_by_one)
    seed = by_url(batched, f"https://seed.example.vn/{MEETING_SEED}.html")
    assert by_url(batched, "https://copy.example.vn/1.html").duplicate_of_id == seed.id
    assert by_url(batched, "https://qdnd.example.vn/giao-ban.html").cluster == seed.id == seed.cluster
    assert by_url(batched, "https://tin.example.vn/dang-cap-nhat.html").text.startswith("Bản sau")
    new_ids = [article_id for article_id, inserted in written if inserted]
    assert new_ids == sorted(new_ids)  # arrival order: "the earliest" original is the lowest id


def test_a_batch_takes_the_same_few_statements_at_any_size(databases: tuple[Database, Database]) -> None:
    """One lookup, one INSERT, one UPDATE, one cluster founding, one DELETE and one INSERT each
    for band keys and search entries: eight at most, where one at a time took five an article."""
    database, _ = databases
    with database.session() as session:
        store_articles(session, judged(database, [*history(), *news(3)]))
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = []
    # a URL met twice in one batch takes a second round of statements: here each is met once
    once = [entry for entry in batch_items() if not entry["text"].startswith("Bản sau")]
    for items in (once, [*once[2:4], *news(60, start=3)]):
        statements.clear()
        entries = judged(database, items)
        looked_up = len(statements)
        with database.session() as session:
            store_articles(session, entries)
        counts.append(len(statements) - looked_up)
    assert counts[0] <= 8 and counts[1] <= 8, statements


def test_a_bad_article_in_a_batch_costs_only_itself(databases: tuple[Database, Database]) -> None:
    """The batch fails as a whole (here on a band row's primary key), and is then written one
    article per transaction: the others are stored, the bad one counted as not stored."""
    database, _ = databases
    stats = MemoryStats()
    batch = ArticleBatch(database, stats=stats)
    items = judged(database, news(3))
    items[1]["band_keys"] = [(0, 1), (0, 1)]
    for entry in items:
        batch.queue(entry)
    stored = batch.flush()
    assert [entry.item["canonical_url"] for entry in stored] == [items[0]["canonical_url"], items[2]["canonical_url"]]
    assert count_rows(database) == {"articles": 2, "bands": 64, "search": 2}
    assert (batch.not_stored, stats.counts["qpan/source/tin/dropped/not_stored"]) == (1, 1)
    error = stats.values["qpan/first_store_error"]  # the driver's words: IntegrityError, UniqueViolation
    assert "unique" in error.lower() and "dedup_bands" in error
