"""INSERT … ON CONFLICT on both supported backends, for rows that concurrent crawls may both write.

A get-then-insert (``session.merge``, ``session.get(...) or Model(...)``) races when two
processes write the same key at once, as crawls sharing one PostgreSQL database do: the
second insert fails with a unique violation. SQLite and PostgreSQL both have ``ON CONFLICT``,
but SQLAlchemy builds it from each dialect's own ``insert``; this is where one is chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def dialect_insert(session: Session, model: type[Any]) -> Any:
    """The backend's own ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERTS:
        raise RuntimeError(f"qpan stores to SQLite or PostgreSQL, not {dialect}")
    return _INSERTS[dialect](model)


def upsert(session: Session, model: type[Any], rows: Sequence[dict[str, Any]], key: str) -> None:
    """Insert ``rows``; where ``key`` exists already, overwrite the other columns given."""
    if not rows:
        return
    statement = dialect_insert(session, model).values(list(rows))
    columns = [name for name in rows[0] if name != key]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[key], set_={name: statement.excluded[name] for name in columns}
        )
    )


def insert_missing(session: Session, model: type[Any], row: dict[str, Any], key: str) -> None:
    """Insert ``row`` unless a row with its ``key`` exists (then leave that row as it is)."""
    session.execute(dialect_insert(session, model).values(row).on_conflict_do_nothing(index_elements=[key]))
