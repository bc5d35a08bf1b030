"""Migrations build, from an empty database, exactly the schema the ORM models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from qpan.storage.db import Database
from qpan.storage.migrate import current_revision, head_revision, include_name, upgrade
from qpan.storage.models import Base
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


@pytest.mark.postgres
def test_postgresql_from_empty() -> None:
    with fresh_postgres_database() as url:
        database = Database(url)
        try:
            check_schema(database)
        finally:
            database.dispose()
