"""``qpan runs``: crawl-run history with per-source figures, and the next planned run."""

from __future__ import annotations

from typing import Annotated

import typer

from qpan.commands.options import MAX_ID, MAX_LIMIT, FormatOption
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import Format, emit, local_label, stderr_console
from qpan.stats import RUN_FIGURES

COLUMNS = ["id", "started_at", "status", "trigger", "sources", *RUN_FIGURES, "unreached"]
SOURCE_COLUMNS = ["source", "reached", *RUN_FIGURES, "dropped", "error"]


def _one_run(app: AppContext, run_id: int, fmt: Format) -> None:
    """``qpan runs ID``: that run's per-source table (the JSON carries the run and its sources)."""
    from qpan.readmodel import run_row
    from qpan.storage.models import CrawlRun

    with app.ready_database().session() as session:
        run = session.get(CrawlRun, run_id) if 0 < run_id <= MAX_ID else None
        if run is None:
            raise UserError(f"no crawl run with id {run_id}")
        row = run_row(run)
    if fmt is not Format.table:
        emit(row["per_source"], SOURCE_COLUMNS, fmt)
        return
    title = f"run {row['id']}: {row['status']}, {row['trigger']}, started {local_label(row['started_at'])}"
    emit(row["per_source"], SOURCE_COLUMNS, fmt, title=title)
    if row["error"]:
        stderr_console().print(f"run {row['id']}: {row['error']}", soft_wrap=True, markup=False)


def runs(
    ctx: typer.Context,
    run_id: Annotated[
        int | None, typer.Argument(metavar="[ID]", help="One run: its per-source figures.", show_default=False)
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, metavar="N", help="At most N runs.")
    ] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """Crawl-run history, newest first; `qpan runs ID` shows one run source by source.

    Example: qpan runs --limit 5; qpan runs 12
    """
    from qpan.readmodel import run_row
    from qpan.storage.queries import recent_runs

    app: AppContext = ctx.obj
    if run_id is not None:
        _one_run(app, run_id, fmt)
        return
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
                console.print(f"next planned run: {local_label(when)} ({job})")
        else:
            console.print("no run planned: start `qpan scheduler` to crawl on a schedule")


def register(app: typer.Typer) -> None:
    app.command("runs", short_help='Crawl-run history and the next planned run.')(runs)
