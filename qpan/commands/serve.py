"""``qpan serve``: the web view and JSON API over the configured database."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from qpan.context import AppContext
from qpan.errors import UserError

TOKEN_ENV = "QPAN_WEB_TOKEN"


class TokenRequired(UserError):
    exit_code = 2

    def __init__(self, host: str) -> None:
        super().__init__(
            f"serving on {host} (not loopback) needs a token: set [web] token in qpan.toml or ${TOKEN_ENV}"
        )


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option("--host", metavar="HOST", help="Address to listen on (default: [web] host or 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", "-p", min=0, max=65535, metavar="PORT", help="Port (default 8765).")
    ] = None,
) -> None:
    """Serve the web view: overview, articles with triage, sources, runs, JSON API, Atom feed.

    Example: qpan serve --port 8765   (then open http://127.0.0.1:8765/)
    """
    from qpan.web.security import is_loopback  # the web stack loads only for this command

    app: AppContext = ctx.obj
    config = app.config
    host = host or config.web.host
    token = os.environ.get(TOKEN_ENV) or config.web.token
    if not token and not is_loopback(host):
        raise TokenRequired(host)
    database = app.ready_database()
    from qpan.web.server import serve as run_server

    run_server(config, database, host, config.web.port if port is None else port, token)


def register(app: typer.Typer) -> None:
    app.command("serve", short_help="Serve the web view and JSON API over the database.")(serve)
