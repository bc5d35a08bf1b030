"""What every command is handed: the config (loaded once, lazily) and the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # pydantic and SQLAlchemy load when a command reads them, not for `qpan --help`
    from qpan.config import Config
    from qpan.storage.db import Database


@dataclass
class AppContext:
    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)
    # The context of the running command, so that the CLI's error line can name the database.
    current: ClassVar[AppContext | None] = None

    def __post_init__(self) -> None:
        AppContext.current = self

    @property
    def config(self) -> Config:
        from qpan.config import load_config

        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def database(self) -> Database:
        from qpan.storage.db import Database

        if self._database is None:
            self._database = Database(self.config.database.url)
        return self._database

    def close(self) -> None:
        """Close the database's connections when the command ends: SQLite folds its WAL back
        into the file only when the last connection closes, which interpreter exit does not do."""
        if self._database is not None:
            self._database.dispose()

    def ready_database(self) -> Database:
        """The database, checked to be initialised and migrated (for every command but ``init``)."""
        from qpan.storage.migrate import require_current_schema  # Alembic: only for commands that need it

        return require_current_schema(self.database())

    def database_location(self) -> str | None:
        """The database file on disk (or the server URL without password), if the config loaded."""
        from qpan.storage.db import describe_location

        return describe_location(self._config.database.url) if self._config is not None else None
