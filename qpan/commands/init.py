"""``qpan init``: create or migrate the database and load the seed baseline; safe to repeat."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import stderr_console

if TYPE_CHECKING:
    from qpan.storage.db import Database


class ForeignDatabase(UserError):
    exit_code = 2


def _refuse_foreign(database: Database) -> None:
    """A database with tables but no qpan schema is someone else's: qpan does not add its tables to it."""
    from sqlalchemy import inspect

    with database.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    if tables and "alembic_version" not in tables:
        where = database.engine.url.render_as_string(hide_password=True)
        raise ForeignDatabase(
            f"database {where} has {len(tables)} other table(s) and no qpan schema: "
            "not initialising it (use another database, or --force to add qpan's tables)"
        )


def init(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Add qpan's tables even to a database that holds other tables.")
    ] = False,
) -> None:
    """Create or migrate the database, then load seeds/ as the dedup baseline; safe to repeat.

    Example: qpan init
    """
    from qpan.pipelines.relevance import ThemeProfile
    from qpan.pipelines.seeding import load_seeds  # the chain imports Scrapy: only when needed
    from qpan.storage.migrate import upgrade  # Alembic loads for init only

    app: AppContext = ctx.obj
    ThemeProfile.load(app.config.topic)  # a broken profile stops here, not between the schema and the seeds
    database = app.database()
    if not force:
        _refuse_foreign(database)
    before, after = upgrade(database)
    added = load_seeds(database, app.config)
    console = stderr_console()
    where = database.engine.url.render_as_string(hide_password=True)
    if before is None:
        console.print(f"created database {where} (schema {after})")
    elif before != after:
        console.print(f"migrated database {where} from schema {before} to {after}")
    else:
        console.print(f"database {where} is up to date (schema {after})")
    console.print(f"seeds: {added} loaded" if added else "seeds: already loaded")


def register(app: typer.Typer) -> None:
    app.command("init", short_help='Create or migrate the database; load the seeds.')(init)
