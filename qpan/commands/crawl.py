"""``qpan crawl``: one crawl run now, a per-source summary at the end, exit 0 only if every source answered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qpan import garbage
from qpan.commands.options import RecordFormat, RecordFormatOption, SourceOption
from qpan.context import AppContext
from qpan.output import Format, emit, print_json, stderr_console

if TYPE_CHECKING:
    from qpan.crawler.run import RunResult

COLUMNS = ["source", "reached", "fetched", "extracted", "relevant", "new", "duplicates", "dropped", "errors"]


def summary_rows(result: RunResult) -> list[dict[str, object]]:
    return [
        {
            "source": figure.source,
            "reached": figure.reached,
            "fetched": figure.fetched,
            "extracted": figure.extracted,
            "relevant": figure.relevant,
            "new": figure.new,
            "duplicates": figure.duplicates,
            "dropped": figure.dropped_total,
            "dropped_by_reason": figure.dropped,
            "errors": figure.errors,
            "error": figure.error_text,
        }
        for figure in result.sources
    ]


def after_run(app: AppContext, result: RunResult) -> None:
    """Hook run after every CLI crawl: queue and send the run's alerts (outbox)."""
    from qpan.scheduler.alerts import dispatch_after_run

    alerts = dispatch_after_run(app.ready_database(), app.config, result.run_id)
    if alerts.channels:
        stderr_console().print(alerts.summary())


def _since_in_range(value: int | None) -> int | None:
    """The config's bound on ``since_days``, checked while parsing so that it is a usage error."""
    from qpan.config import MAX_SINCE_DAYS

    if value is not None and value > MAX_SINCE_DAYS:
        raise typer.BadParameter(f"{value} is more than {MAX_SINCE_DAYS} days (a century)")
    return value


def crawl(
    ctx: typer.Context,
    source: SourceOption = None,
    since: Annotated[
        int | None,
        typer.Option(
            "--since", min=0, callback=_since_in_range, metavar="DAYS",
            help="Skip feed/sitemap entries older than DAYS (0: no limit).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    fmt: RecordFormatOption = RecordFormat.table,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the requests a crawl would make; fetch no article, store nothing.")
    ] = False,
) -> None:
    """One crawl run now; prints fetched/extracted/relevant/new/duplicates/dropped/errors per source.

    Example: qpan crawl --source baobackan --since 7; qpan crawl --dry-run --format json
    """
    app: AppContext = ctx.obj
    if dry_run:
        from qpan.crawler.run import run_dry  # Scrapy and Twisted load only when a crawl runs

        planned = run_dry(app.config, sources=source, since_days=since)
        emit(planned, ["source", "kind", "url"], fmt, title=f"dry run: {len(planned)} requests, no article fetched")
        return
    # no garbage collection during start-up; the crawl sets its own before the first page (qpan/garbage.py)
    with garbage.paused():
        from qpan.crawler.prestart import prestart_page_workers

        prestart_page_workers(app.config)  # before Scrapy's imports, to overlap the workers' own
        from qpan.crawler.run import run_crawl

        result = run_crawl(app.config, sources=source, since_days=since, trigger="cli", progress=not quiet)
    if fmt is RecordFormat.json:
        print_json({
            "run_id": result.run_id, "status": result.status, "exit_code": result.exit_code,
            "error": result.error, "sources": summary_rows(result),
        })
    else:
        emit(summary_rows(result), COLUMNS, Format.table, title=f"crawl run {result.run_id}: {result.status}")
    console = stderr_console()
    for figure in result.sources:
        if figure.error_text:
            state = "not reached" if not figure.reached else f"{figure.errors} error(s), last"
            console.print(f"{figure.source}: {state}: {figure.error_text}", soft_wrap=True, markup=False)
    if result.error:
        console.print(f"run {result.run_id}: {result.error}", soft_wrap=True, markup=False)
    unreached = [figure.source for figure in result.sources if not figure.reached]
    if unreached:
        console.print(f"not reached: {', '.join(unreached)}", soft_wrap=True, markup=False)
    if result.status != "interrupted":  # a stopped run exits now; the outbox sends its alerts next time
        after_run(app, result)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("crawl", short_help='Crawl the sources once now, with a summary.')(crawl)
