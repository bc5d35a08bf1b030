"""The ``qpan`` command: one Typer app, each command in its own module under ``qpan/commands``.

``main`` is the only place that turns qpan's exceptions into exit codes, so every command
can raise and still end in one clear line: 2 for configuration errors (Typer itself exits
2 on usage errors), 1 for everything else a user can cause, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from qpan import __version__
from qpan.commands import COMMAND_MODULES
from qpan.config import ConfigError
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.storage.db import StorageError

app = typer.Typer(
    name="qpan",
    help="Watch Vietnamese news for Bộ Công an / Bộ Quốc phòng coordination (Nghị định 03/2019/NĐ-CP).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
) -> None:
    ctx.obj = AppContext(config_path=config)


for _module in COMMAND_MODULES:
    _module.register(app)


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"qpan: {message}\n")
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="qpan")
    except ConfigError as exc:
        _fail(f"config error: {exc}", 2)
    except UserError as exc:
        _fail(str(exc), exc.exit_code)
    except StorageError as exc:
        _fail(f"database error: {exc}", 1)
    except OperationalError as exc:
        _fail(f"database error: {_one_line(exc.orig or exc)}", 1)
    except SQLAlchemyError as exc:
        _fail(f"database error: {_one_line(exc)}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except OSError as exc:
        _fail(_one_line(exc), 1)
