"""``qpan sources``: the source registry with each source's health; ``--discover NAME`` looks for feeds now."""

from __future__ import annotations

from typing import Annotated

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.errors import NotInitialised
from qpan.output import Format, emit, stderr_console
from qpan.readmodel import health_by_source, source_rows
from qpan.storage.models import SourceHealth

COLUMNS = [
    "name", "title", "enabled", "starts", "last_success", "last_articles", "consecutive_failures", "last_error",
]


def _health(app: AppContext) -> dict[str, SourceHealth]:
    """Each source's health record; none before ``qpan init`` (the registry still lists)."""
    try:
        database = app.ready_database()
    except NotInitialised as exc:
        stderr_console().print(f"no health records: {exc}", soft_wrap=True, markup=False)
        return {}
    with database.session() as session:
        return health_by_source(session)


def sources(
    ctx: typer.Context,
    fmt: FormatOption = Format.table,
    discover: Annotated[
        str | None,
        typer.Option("--discover", metavar="NAME", help="Discover NAME's feeds and sitemaps now and show them."),
    ] = None,
) -> None:
    """The source registry (shipped + qpan.toml) and each source's health."""
    app: AppContext = ctx.obj
    if discover is None:
        emit(source_rows(app.config, _health(app)), COLUMNS, fmt)
        return
    from qpan.crawler.run import run_discovery

    found = run_discovery(app.config, discover)
    rows = [
        {"source": discover, "kind": kind, "url": url}
        for kind in ("feeds", "sitemaps")
        for url in found.get(kind, [])
    ]
    emit(rows, ["source", "kind", "url"], fmt, title=None if rows else f"{discover}: no feed or sitemap found")


def register(app: typer.Typer) -> None:
    app.command("sources")(sources)
