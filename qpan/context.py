"""What every command is handed: the config (loaded once, lazily) and the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from qpan.config import Config, load_config
from qpan.errors import NotInitialised, UserError
from qpan.pipelines.storage.db import Database


@dataclass
class AppContext:
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def database(self) -> Database:
        if self._database is None:
            self._database = Database(self.config.database.url)
        return self._database

    def ready_database(self) -> Database:
        """The database, checked to be initialised and migrated (for every command but ``init``)."""
        return require_current_schema(self.database())


def require_current_schema(database: Database) -> Database:
    """Refuse to read or write a database that ``qpan init`` has not brought to the newest schema."""
    from qpan.pipelines.storage.migrate import current_revision, head_revision

    if database.file_missing():
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    current = current_revision(database)
    if current is None:
        raise NotInitialised(database.engine.url.render_as_string(hide_password=True))
    if current != head_revision(database):
        raise UserError(f"database schema {current} is older than this qpan: run `qpan init` to migrate it")
    return database
