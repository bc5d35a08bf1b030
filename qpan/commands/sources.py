"""``qpan sources``: the source registry with each source's health; ``--discover NAME`` looks for feeds
now; ``--check [NAME]...`` is the live canary (``crawler/check.py``)."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.crawler.registry import all_sources
from qpan.crawler.urls import redact_text
from qpan.errors import NotInitialised, UserError
from qpan.output import Format, emit, stderr_console
from qpan.storage.models import SourceHealth

COLUMNS = [
    "name", "title", "enabled", "starts", "verified", "last_success", "last_articles", "consecutive_failures",
    "last_error",
]


CHECK_COLUMNS = ["source", "verdict", "reason", "reached", "links", "samples_complete", "samples_dated"]


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
    if source.prime:
        parts.append("cookie primed")
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


def check_rows(app: AppContext, names: list[str] | None) -> list[dict[str, Any]]:
    """Run the live check; each row is the full result plus the table's summary columns."""
    from qpan.commands.extract import extract_page
    from qpan.crawler.check import check_sources
    from qpan.crawler.registry import select_sources, theme_queries
    from qpan.pipelines.chain import Chain

    selected = select_sources(app.config, names)
    chain, lock = Chain(app.config), threading.Lock()

    def examine(body: bytes, url: str, source: Any, encoding: str | None) -> Any:
        with lock:  # one chain for every source's thread; its stages keep counters
            return extract_page(chain, body, url, source, encoding)

    queries = theme_queries(app.config)
    stderr_console().print(f"checking {len(selected)} source(s) live…", soft_wrap=True, markup=False)
    results = check_sources(app.config, selected, examine, query=queries[0] if queries else None)
    rows = []
    for result in results:
        total = len(result.samples)
        rows.append(
            {
                **result.as_dict(),
                "links": ", ".join(
                    f"{point.kind} {'✗' if point.error else point.links}" for point in result.entry_points
                ),
                "samples_complete": f"{sum(sample.complete for sample in result.samples)}/{total}",
                "samples_dated": f"{sum(sample.dated for sample in result.samples)}/{total}",
            }
        )
    return rows


def sources(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="NAME", show_default=False, help="With --check: check only these sources."),
    ] = None,
    fmt: FormatOption = Format.table,
    discover: Annotated[
        str | None,
        typer.Option("--discover", metavar="NAME", help="Discover NAME's feeds and sitemaps now and show them."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Check each source live: entry points, links, sample articles, a verdict; exit 1 if one is broken.",
        ),
    ] = False,
) -> None:
    """The source registry (shipped + qpan.toml) and each source's health.

    Example: qpan sources --check qdnd cand --format json
    """
    app: AppContext = ctx.obj
    if names and not check:
        raise UserError("source names go with --check (qpan sources --check NAME...)")
    if check:
        rows = check_rows(app, names)
        emit(rows, CHECK_COLUMNS, fmt)
        raise typer.Exit(1 if any(row["verdict"] == "broken" for row in rows) else 0)
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
