"""``qpan db check|vacuum|backup``: the database chores an operator expects to find.

SQLite gets them natively (``PRAGMA integrity_check``, ``VACUUM``, the online backup API,
which copies a consistent snapshot while a crawl may be writing). PostgreSQL has its own
well-known tools for backups, so ``backup`` says which one instead of imitating it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import stderr_console

if TYPE_CHECKING:
    from qpan.storage.db import Database

app = typer.Typer(
    help="Database chores: integrity check, compaction, online backup.",
    short_help="Check, compact or back up the database.",
    no_args_is_help=True,
)


class NotSqlite(UserError):
    exit_code = 2


def _sqlite_file(database: Database) -> Path | None:
    """The SQLite file behind ``database``; None for a server database."""
    if database.dialect != "sqlite":
        return None
    return Path(database.engine.url.database or "").expanduser().resolve()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


@app.command("check", short_help="Integrity check (exit 1 on a problem).")
def check(ctx: typer.Context) -> None:
    """Check the database: its schema is this qpan's and, for SQLite, the file is intact.

    Example: qpan db check
    """
    from sqlalchemy import text

    context: AppContext = ctx.obj
    database = context.ready_database()
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            problems = [row[0] for row in connection.execute(text("PRAGMA integrity_check"))]
        else:
            connection.execute(text("SELECT 1"))
            problems = ["ok"]
    console = stderr_console()
    if problems != ["ok"]:
        for problem in problems:
            console.print(problem, markup=False)
        raise UserError(f"database {context.database_location()}: {len(problems)} integrity problem(s)")
    # soft_wrap: a long path stays on one line, whole for copying (and for the tests' check)
    console.print(f"database {context.database_location()}: ok", markup=False, soft_wrap=True)


@app.command("vacuum", short_help="Compact the database and its search index.")
def vacuum(ctx: typer.Context) -> None:
    """Give the space of deleted rows back and merge the search index (no crawl should be running).

    Example: qpan db vacuum
    """
    from sqlalchemy import text

    context: AppContext = ctx.obj
    database = context.ready_database()
    path = _sqlite_file(database)
    before = _size(path) if path else None
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if path is not None:
            connection.execute(text("INSERT INTO article_search(article_search) VALUES ('optimize')"))
            connection.execute(text("VACUUM"))
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            connection.execute(text("VACUUM ANALYZE"))
    after = f": {before / 1e6:.1f} MB → {_size(path) / 1e6:.1f} MB" if path and before is not None else ""
    stderr_console().print(f"database {context.database_location()} compacted{after}", markup=False)


@app.command("backup", short_help="Online backup of a SQLite database to FILE.")
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(metavar="FILE", help="The backup file to create (must not exist).")],
) -> None:
    """Copy the database to FILE while it may be in use (SQLite's online backup API).

    Example: qpan db backup /var/backups/qpan-$(date +%F).db
    """
    context: AppContext = ctx.obj
    database = context.database()
    path = _sqlite_file(database)
    if path is None:
        where = database.engine.url.render_as_string(hide_password=True)
        raise NotSqlite(f"{where} is a PostgreSQL database: back it up with pg_dump -Fc, e.g. "
                        f"pg_dump -Fc -f qpan.dump '{where.replace('postgresql+psycopg', 'postgresql')}'")
    context.ready_database()
    if target.exists():
        raise UserError(f"{target} already exists: the backup writes only a new file")
    if not target.parent.is_dir():
        raise UserError(f"{target}: directory {target.parent} does not exist")
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    stderr_console().print(f"backed up {path} to {target} ({_size(target) / 1e6:.1f} MB)", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="db")
