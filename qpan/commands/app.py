"""The Typer app: the root options and every command module's ``register``."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Annotated

import typer

from qpan import __version__
from qpan.commands import COMMAND_MODULES
from qpan.context import AppContext

app = typer.Typer(
    name="qpan",
    help="Watch Vietnamese news for Bộ Công an / Bộ Quốc phòng coordination (Nghị định 03/2019/NĐ-CP).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class LogLevel(StrEnum):
    debug = "DEBUG"
    info = "INFO"
    warning = "WARNING"
    error = "ERROR"


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, log_file: str | None) -> None:
    """One log level for qpan, Scrapy and the crawls the scheduler starts (they read the environment)."""
    os.environ["QPAN_LOG_LEVEL"] = level
    if log_file:
        os.environ["QPAN_LOG_FILE"] = os.path.abspath(log_file)
    logging.basicConfig(level=level, format=LOG_FORMAT, filename=log_file)
    # the level on the handler too: Scrapy gives its own loggers DEBUG, and their records reach the
    # root's handler whatever the root logger's level
    for handler in logging.root.handlers:
        handler.setLevel(level)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"qpan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        str | None,
        typer.Option("--config", "-c", metavar="PATH", help="Config file (default: $QPAN_CONFIG, then ./qpan.toml)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log lines: -v info, -vv debug (Scrapy too).")
    ] = 0,
    log_level: Annotated[
        LogLevel | None,
        typer.Option("--log-level", metavar="LEVEL", case_sensitive=False, help="DEBUG, INFO, WARNING or ERROR."),
    ] = None,
    log_file: Annotated[
        str | None, typer.Option("--log-file", metavar="FILE", help="Write log lines to FILE, not stderr.")
    ] = None,
) -> None:
    level = log_level or (LogLevel.debug if verbose > 1 else LogLevel.info if verbose else None)
    if level is not None or log_file:
        configure_logging((level or LogLevel.warning).value, log_file)
    ctx.obj = AppContext(config_path=config)
    ctx.call_on_close(ctx.obj.close)


for _module in COMMAND_MODULES:
    _module.register(app)
