"""The Typer app: the root options and every command module's ``register``."""

from __future__ import annotations

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
