"""Migrations build, from an empty database, exactly the schema the ORM models describe."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from scrapy.utils.test import get_crawler
from sqlalchemy import inspect

from qpan.pipelines.dedup import fingerprint
from qpan.pipelines.stages.dedup import STORY_WINDOW
from qpan.storage.articles import lookup
from qpan.storage.batch import ArticleBatch
from qpan.storage.crawler import crawler_database
from qpan.storage.db import Database
from qpan.storage.migrate import alembic_config, current_revision, head_revision, include_name, upgrade
from qpan.storage.models import Base
from support.articles import MEETING_DAY, MEETING_SEED, article_item, count_rows, seed_texts
from support.services import fresh_postgres_database

TABLES = {
    "articles",
    "dedup_bands",
    "seen_urls",
    "http_cache",
    "crawl_runs",
    "run_sources",
    "source_health",
    "alert_deliveries",
    "article_search",
}


def check_schema(database: Database) -> None:
    assert current_revision(database) is None
    before, after = upgrade(database)
    assert before is None
    assert after == head_revision(database)
    assert set(inspect(database.engine).get_table_names()) >= TABLES
    with database.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": include_name}), Base.metadata
        )
    assert diff == []
    assert upgrade(database) == (after, after)


def test_sqlite_from_empty(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    check_schema(database)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        # a crawl's band-key index outgrows 1,000-page checkpoints
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() >= 10_000


def test_only_a_crawls_database_keeps_a_large_page_cache(tmp_path: Path) -> None:
    """The band-key index outgrows SQLite's 2 MiB cache in a crawl; a reader (``qpan serve``'s
    pooled connections) keeps the default, or each would fill its own large cache over time."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    crawl = crawler_database(get_crawler(settings_dict={"QPAN_DATABASE_URL": url}))
    reader = Database(url)
    try:
        with crawl.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() <= -32 * 1024
        with reader.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() > -32 * 1024
    finally:
        crawl.dispose()
        reader.dispose()


@pytest.mark.postgres
def test_postgresql_from_empty() -> None:
    with fresh_postgres_database() as url:
        database = Database(url)
        try:
            check_schema(database)
        finally:
            database.dispose()


def _indexes(database: Database, table: str) -> dict[str, tuple[list[str], bool]]:
    """Each index of ``table``: its columns, and whether it is partial."""
    return {
        index["name"]: (index["column_names"], any(key.endswith("_where") for key in index["dialect_options"]))
        for index in inspect(database.engine).get_indexes(table)
        if index["name"] and all(index["column_names"])  # expression indexes are not reflected on SQLite
    }


BEFORE_0008 = {
    "ix_dedup_bands_key": (["band", "key"], False),
    "ix_articles_relevant_published": (["relevant", "published"], False),
    "ix_articles_duplicate_of_id": (["duplicate_of_id"], False),
}
AFTER_0008 = {
    "ix_dedup_bands_key": (["band", "key", "article_id"], False),
    "ix_articles_story_window": (["published", "relevant", "duplicate_of_id", "id", "cluster", "minhash"], True),
    "ix_articles_duplicate_of_id": (["duplicate_of_id"], True),
}


def _dedup_indexes(database: Database) -> dict[str, tuple[list[str], bool]]:
    found = _indexes(database, "articles") | _indexes(database, "dedup_bands")
    return {name: found[name] for name in BEFORE_0008.keys() | AFTER_0008.keys() if name in found}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_0008_dedup_lookup_indexes_up_and_down(backend: str, tmp_path: Path) -> None:
    """0008 rebuilds the band key index with the article id, adds the story window's partial index
    in place of (relevant, published) and keeps only duplicates in the duplicate_of_id index; the
    downgrade puts 0007's indexes back. The stored articles and bands are untouched both ways, and
    the lookup finds an article through both arms after the upgrade."""
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'q.db'}"
        if backend == "postgresql":
            url = stack.enter_context(fresh_postgres_database())
        database = Database(url)
        stack.callback(database.dispose)
        config = alembic_config(database)
        command.upgrade(config, "0007")
        text = seed_texts()[MEETING_SEED]
        fp = fingerprint(text)
        item = article_item(text, "https://a.example.vn/goc.html", published=MEETING_DAY, content_hash=fp.content_hash,
                            minhash=fp.to_bytes(), band_keys=fp.band_keys)
        batch = ArticleBatch(database)
        batch.queue(item)
        batch.flush()
        assert _dedup_indexes(database) == BEFORE_0008
        before = count_rows(database)

        assert upgrade(database) == ("0007", "0008")
        assert _dedup_indexes(database) == AFTER_0008
        assert count_rows(database) == before
        window = (MEETING_DAY - STORY_WINDOW, MEETING_DAY + STORY_WINDOW)
        with database.engine.connect() as connection:
            by_band = lookup(connection, "https://b.example.vn/x.html", "0" * 64, fp.band_keys).candidates
            by_date = lookup(connection, "https://b.example.vn/x.html", "0" * 64, [], window).candidates
        assert [candidate.minhash for candidate in by_band + by_date] == [fp.to_bytes()] * 2

        command.downgrade(config, "0007")
        assert _dedup_indexes(database) == BEFORE_0008
        assert count_rows(database) == before
        assert upgrade(database) == ("0007", "0008")
