"""``qpan runs``: crawl-run history with per-source figures, and the next planned run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qpan.commands.options import MAX_LIMIT, FormatOption
from qpan.context import AppContext
from qpan.output import Format, emit, local_label, stderr_console

if TYPE_CHECKING:
    from qpan.storage.models import CrawlRun

FIGURES = ("fetched", "extracted", "relevant", "new", "duplicates", "errors")
COLUMNS = ["id", "started_at", "status", "trigger", "sources", *FIGURES, "unreached"]


def run_row(run: CrawlRun) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": run.id,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "status": run.status,
        "trigger": run.trigger,
        "sources": len(run.sources),
        "error": run.error,
    }
    for figure in FIGURES:
        row[figure] = sum(getattr(s, figure) for s in run.sources)
    row["unreached"] = [s.source for s in run.sources if not s.reached]
    row["per_source"] = [
        {
            "source": s.source,
            **{figure: getattr(s, figure) for figure in FIGURES},
            "dropped": s.dropped,
            "reached": s.reached,
            "error": s.error_text,
        }
        for s in run.sources
    ]
    return row


def runs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, metavar="N", help="At most N runs.")
    ] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """Crawl-run history, newest first, with per-source figures."""
    from qpan.storage.queries import recent_runs

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
                console.print(f"next planned run: {local_label(when)} ({job})")
        else:
            console.print("no run planned: start `qpan scheduler` to crawl on a schedule")


def register(app: typer.Typer) -> None:
    app.command("runs", short_help='Crawl-run history and the next planned run.')(runs)
