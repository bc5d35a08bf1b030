"""Bring a database to the newest schema with Alembic, the way ``qpan init`` does."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from qpan.errors import NotInitialised, UserError
from qpan.storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database: Database) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


class NewerSchema(UserError):
    """The database was migrated by a newer qpan: this one must not read, write or "migrate" it."""

    def __init__(self, database: Database, revision: str) -> None:
        where = database.engine.url.render_as_string(hide_password=True)
        super().__init__(
            f"database {where} has schema {revision}, which is NEWER than this qpan knows: upgrade qpan"
        )


def _known_revisions(config: AlembicConfig) -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def upgrade(database: Database) -> tuple[str | None, str]:
    """Upgrade to head; returns (revision before, revision after)."""
    config = alembic_config(database)
    with database.engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        if before is not None and before not in _known_revisions(config):
            raise NewerSchema(database, before)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    head = ScriptDirectory.from_config(config).get_current_head()
    return before, head or ""


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(database: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def require_current_schema(database: Database) -> Database:
    """Refuse to read or write a database that ``qpan init`` has not brought to the newest schema."""
    if database.file_missing():
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    current = current_revision(database)
    if current is None:
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    if current != head_revision(database):
        if current not in _known_revisions(alembic_config(database)):
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
