"""``qpan sources``: the source registry with each source's health; ``--discover NAME`` looks for feeds now."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.crawler.registry import all_sources
from qpan.crawler.urls import redact_text
from qpan.errors import NotInitialised
from qpan.output import Format, emit, stderr_console
from qpan.storage.models import SourceHealth

COLUMNS = [
    "name", "title", "enabled", "starts", "last_success", "last_articles", "consecutive_failures", "last_error",
]


def _starts(source: Any) -> str:
    """What the crawl starts from, e.g. "2 feeds, 1 sitemap, discover"."""
    parts = [
        f"{len(values)} {label}{'' if len(values) == 1 or label == 'search' else 's'}"
        for label, values in (
            ("feed", source.feeds), ("sitemap", source.sitemaps),
            ("listing", source.listings), ("search", source.search),
        )
        if values
    ]
    if source.discover:
        parts.append("discover")
    return ", ".join(parts)


def _health(app: AppContext) -> dict[str, SourceHealth]:
    """Each source's health record; none before ``qpan init`` (the registry still lists)."""
    try:
        database = app.ready_database()
    except NotInitialised as exc:
        stderr_console().print(f"no health records: {exc}", soft_wrap=True, markup=False)
        return {}
    with database.session() as session:
        return {row.source: row for row in session.query(SourceHealth).all()}


def _shown(source: Any) -> dict[str, Any]:
    """The registry entry as shown: a URL's password (HTTP basic auth) becomes ``***``."""
    data = source.model_dump(mode="json")
    if data["home"]:
        data["home"] = redact_text(data["home"])
    for key in ("feeds", "sitemaps", "listings", "search"):
        data[key] = [redact_text(url) for url in data[key]]
    return data


def source_rows(app: AppContext) -> list[dict[str, Any]]:
    health = _health(app)
    rows = []
    for source in all_sources(app.config):
        state = health.get(source.name)
        rows.append(
            {
                **_shown(source),
                "starts": _starts(source),
                "last_run": state.last_run_at if state else None,
                "last_success": state.last_success_at if state else None,
                "last_articles": state.last_articles if state else None,
                "total_articles": state.total_articles if state else None,
                "consecutive_failures": state.consecutive_failures if state else None,
                "consecutive_empty": state.consecutive_empty if state else None,
                "last_error": state.last_error if state else None,
                "discovered": state.discovered if state else {},
            }
        )
    return rows


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
        emit(source_rows(app), COLUMNS, fmt)
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
