"""Bring a database to the newest schema with Alembic, the way ``qpan init`` does.

Only ``upgrade`` needs Alembic (about 0.4 s of imports). Every other command only checks
the schema before it reads: the revision the database is at is one row of
``alembic_version``, and the revisions this qpan knows are read from the migration files,
so that check costs no Alembic import.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from qpan.errors import NotInitialised, UserError
from qpan.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
_REVISION = re.compile(r"""^revision\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"""^down_revision\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class NewerSchema(UserError):
    """The database was migrated by a newer qpan: this one must not read, write or "migrate" it."""

    def __init__(self, database: Database, revision: str) -> None:
        where = database.engine.url.render_as_string(hide_password=True)
        super().__init__(
            f"database {where} has schema {revision}, which is NEWER than this qpan knows: upgrade qpan"
        )


def alembic_config(database: Database) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def known_revisions() -> tuple[frozenset[str], str]:
    """(every revision this qpan ships, the head), read from the migration files."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found:
            revisions.add(found.group(1))
            parents.update(_DOWN_REVISION.findall(source))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return frozenset(revisions), heads.pop()


def upgrade(database: Database) -> tuple[str | None, str]:
    """Upgrade to head; returns (revision before, revision after)."""
    from alembic import command

    config = alembic_config(database)
    before = current_revision(database)
    if before is not None and before not in known_revisions()[0]:
        raise NewerSchema(database, before)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, known_revisions()[1]


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def head_revision(database: Database) -> str:
    return known_revisions()[1]


def require_current_schema(database: Database) -> Database:
    """Refuse to read or write a database that ``qpan init`` has not brought to the newest schema."""
    if database.file_missing():
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    current = current_revision(database)
    if current is None:
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    known, head = known_revisions()
    if current != head:
        if current not in known:
            raise NewerSchema(database, current)
        raise UserError(f"database schema {current} is older than this qpan: run `qpan init` to migrate it")
    return database


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate filter: tables not described by the models are left alone.

    The full-text tables are created by hand per backend; ``scheduler_jobs`` belongs to
    APScheduler's job store, which creates it itself.
    """
    if type_ == "table" and name is not None:
        return not name.startswith("article_search") and name != "scheduler_jobs"
    if type_ == "index" and name is not None:
        return not name.startswith("ix_article_search")
    return True
