"""Engine and session factory, and the one place that knows SQLite needs special care.

SQLite is the default store and is read by the CLI while a crawl writes to it: WAL lets
readers run beside the writer, the busy timeout makes a second writer wait instead of
failing, and foreign keys are off in SQLite unless asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from qpan.config import ConfigError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A crawl's commits rewrite random pages of the band-key index, which outgrows SQLite's default
# 2 MiB page cache after a few thousand articles: every commit then read its pages back, and a
# checkpoint every 1,000 WAL pages copied them again. With 32 MiB and a checkpoint every 10,000
# pages (about 40 MiB of WAL) a 20,000-article run's batch writes cost 0.78-0.86 ms of CPU an
# article instead of 0.99-1.04 (benchmarks/pipeline.py). Only the handles that store articles ask
# for the larger cache (``Database(url, page_cache_kib=...)``): each connection of a long-running
# reader such as ``qpan serve`` would otherwise fill its own 32 MiB over time.
SQLITE_STORE_CACHE_KIB = 32 * 1024
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


class StorageError(Exception):
    """A database problem the user can fix (bad URL, unreachable server, unwritable file)."""


def describe_database_error(exc: BaseException) -> str:
    """The driver's own message on one line ("OperationalError: database or disk is full"),
    without the SQL statement and parameters SQLAlchemy adds to its exception text."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def _sqlite_pragmas(page_cache_kib: int | None) -> Callable[[Any, Any], None]:
    """The connect hook: WAL, busy timeout, foreign keys (see module docstring), checkpoints and
    cache sized for a crawl's writes (see ``SQLITE_STORE_CACHE_KIB``)."""

    def configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        if page_cache_kib is not None:
            cursor.execute(f"PRAGMA cache_size = -{page_cache_kib}")
        cursor.close()

    return configure


def normalise_url(url: str) -> str:
    """Accept the user's spellings: bare ``postgresql://`` means psycopg 3 here."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"database URL {url!r} is not valid") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def describe_location(url: str) -> str:
    """Where the data lives, for an error line: a SQLite file's absolute path, else the URL sans password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        return str(Path(database.removeprefix("file:").split("?")[0]).expanduser().resolve())
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, page_cache_kib: int | None = None) -> Engine:
    """The engine for ``url``; a backend or driver that is not installed is a config error.
    ``page_cache_kib``: SQLite's page cache a connection (its default, 2 MiB, when None)."""
    url = normalise_url(url)
    parsed = make_url(url)
    try:
        return _engine(url, parsed, page_cache_kib)
    except NoSuchModuleError:
        where = parsed.render_as_string(hide_password=True)
        raise ConfigError(f"database URL {where}: qpan knows no database {parsed.drivername!r}") from None
    except ImportError as exc:
        where = parsed.render_as_string(hide_password=True)
        raise ConfigError(
            f"database URL {where}: its driver ({exc.name or exc}) is not installed; "
            "qpan supports sqlite:/// and postgresql+psycopg://"
        ) from None


def _engine(url: str, parsed: URL, page_cache_kib: int | None) -> Engine:
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(f"database directory {parent} does not exist")
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas(page_cache_kib))
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine plus its session factory; what every part of qpan is handed."""

    def __init__(self, url: str, *, page_cache_kib: int | None = None) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, page_cache_kib)
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
