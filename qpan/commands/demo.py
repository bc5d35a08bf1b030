"""``qpan demo``: serve the bundled local news web, crawl it twice, show what qpan found."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qpan.output import stdout_console


def demo(
    db: Annotated[Path | None, typer.Option("--db", metavar="FILE", help="Crawl into this SQLite file (kept).")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary database to explore it.")] = False,
) -> None:
    """Offline: serve the bundled local news web, crawl it into a fresh database, show results."""
    from qpan.demo.walkthrough import run_demo

    raise typer.Exit(run_demo(db.resolve() if db else None, keep, stdout_console()))


def register(app: typer.Typer) -> None:
    app.command("demo", short_help='Offline demo on a bundled local news web.')(demo)
