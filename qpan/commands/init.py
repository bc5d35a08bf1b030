"""``qpan init``: create or migrate the database and load the seed baseline; safe to repeat."""

from __future__ import annotations

import typer

from qpan.context import AppContext
from qpan.output import stderr_console


def init(ctx: typer.Context) -> None:
    """Create or migrate the database, then load seeds/ as the dedup baseline; safe to repeat.

    Example: qpan init
    """
    from qpan.pipelines.relevance import ThemeProfile
    from qpan.pipelines.seeding import load_seeds  # the chain imports Scrapy: only when needed
    from qpan.storage.migrate import upgrade  # Alembic loads for init only

    app: AppContext = ctx.obj
    ThemeProfile.load(app.config.topic)  # a broken profile stops here, not between the schema and the seeds
    database = app.database()
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
    app.command("init")(init)
