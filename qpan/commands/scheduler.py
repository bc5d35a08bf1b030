"""``qpan scheduler``: crawl on the ``[schedule]`` in the foreground, the way a service manager runs it."""

from __future__ import annotations

import logging
import time
from typing import Annotated

import typer

from qpan.context import AppContext

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%d %H:%M:%S UTC"  # logs stay in UTC, as journald and cron mail expect, and say so


def _duration(text: str) -> str:
    """Validate ``--grace`` while parsing, so a typo is a usage error (exit 2)."""
    from qpan.config import parse_duration

    try:
        parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return text


def _configure_logging() -> None:
    """One stream on stderr (journald, cron mail); APScheduler's own chatter only when it matters."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, datefmt=LOG_DATE_FORMAT)
    for handler in logging.getLogger().handlers:
        if handler.formatter is not None:
            handler.formatter.converter = time.gmtime
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def scheduler(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run the main crawl job once now (with the time limit) and exit.")
    ] = False,
    grace: Annotated[
        str,
        typer.Option(
            "--grace",
            metavar="DURATION",
            callback=_duration,
            help="On SIGTERM/SIGINT, how long a running crawl may go on before it is stopped.",
        ),
    ] = "1m",
) -> None:
    """Run crawls on the [schedule] until stopped (SIGTERM/SIGINT); each run is a `qpan crawl` child."""
    from qpan.config import parse_duration
    from qpan.scheduler.launcher import CrawlLauncher
    from qpan.scheduler.service import MAIN_JOB, job_specs, serve

    app: AppContext = ctx.obj
    config = app.config
    grace_seconds = parse_duration(grace)
    database = app.ready_database()
    launcher = CrawlLauncher(database, config.path, timeout=parse_duration(config.schedule.timeout))
    _configure_logging()
    if once:
        main = next((spec for spec in job_specs(config) if spec.id == MAIN_JOB), None)
        outcome = launcher.run(main.sources if main else ())
        raise typer.Exit(0 if outcome is not None and outcome.exit_code == 0 else 1)
    raise typer.Exit(serve(config, database, launcher, grace_seconds))


def register(app: typer.Typer) -> None:
    app.command("scheduler", short_help='Crawl on the [schedule] until stopped.')(scheduler)
