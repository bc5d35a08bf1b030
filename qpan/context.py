"""What every command is handed: the config (loaded once, lazily) and the database."""

from __future__ import annotations

from dataclasses import dataclass, field

from qpan.config import Config, load_config
from qpan.storage.db import Database


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
        from qpan.storage.migrate import require_current_schema  # Alembic: only for commands that need it

        return require_current_schema(self.database())

