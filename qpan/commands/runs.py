"""``qpan runs``: crawl-run history with per-source figures, and the next planned run."""

from __future__ import annotations

from typing import Annotated

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.output import Format, emit, stderr_console
from qpan.readmodel import RUN_FIGURES, run_row
from qpan.storage.queries import recent_runs

COLUMNS = ["id", "started_at", "status", "trigger", "sources", *RUN_FIGURES, "unreached"]


def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, metavar="N", help="At most N runs.")] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """Crawl-run history, newest first, with per-source figures."""
    app: AppContext = ctx.obj
    database = app.ready_database()
    with database.session() as session:
        rows = [run_row(run) for run in recent_runs(session, limit)]
    emit(rows, COLUMNS, fmt, title=None if rows else "no crawl runs yet")
    if fmt is Format.table:
        from qpan.scheduler.service import next_run_times

        planned = next_run_times(database)
        console = stderr_console()
        if planned:
            for job, when in planned:
                console.print(f"next planned run: {when:%Y-%m-%d %H:%M %Z} ({job})")
        else:
            console.print("no run planned: start `qpan scheduler` to crawl on a schedule")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs)
