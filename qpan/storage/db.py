"""Engine and session factory, and the one place that knows SQLite needs special care.

SQLite is the default store and is read by the CLI while a crawl writes to it: WAL lets
readers run beside the writer, the busy timeout makes a second writer wait instead of
failing, and foreign keys are off in SQLite unless asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


class StorageError(Exception):
    """A database problem the user can fix (bad URL, unreachable server, unwritable file)."""


def describe_database_error(exc: BaseException) -> str:
    """The driver's own message on one line ("OperationalError: database or disk is full"),
    without the SQL statement and parameters SQLAlchemy adds to its exception text."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite-only: WAL, busy timeout, foreign keys (see module docstring).
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def normalise_url(url: str) -> str:
    """Accept the user's spellings: bare ``postgresql://`` means psycopg 3 here."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"database URL {url!r} is not valid") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(f"database directory {parent} does not exist")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine plus its session factory; what every part of qpan is handed."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def file_missing(self) -> bool:
        """True for a SQLite URL whose file does not exist yet (reading it would create it empty)."""
        parsed = make_url(self.url)
        database = parsed.database
        if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return False
        return not database.startswith("file:") and not Path(database).expanduser().exists()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
