"""``qpan sources``: the source registry with each source's health; ``--discover NAME`` looks for feeds
now; ``--check [NAME]...`` is the live canary (``crawler/check.py``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.errors import NotInitialised, UserError
from qpan.output import Format, emit, stderr_console

if TYPE_CHECKING:
    from qpan.config import Config
    from qpan.storage.models import SourceHealth

COLUMNS = [
    "name", "title", "enabled", "starts", "verified", "last_success", "last_articles", "consecutive_failures",
    "last_error",
]


CHECK_COLUMNS = ["source", "verdict", "reason", "reached", "links", "samples_complete", "samples_dated"]


def _health(app: AppContext) -> dict[str, SourceHealth]:
    """Each source's health record; none before ``qpan init`` (the registry still lists)."""
    try:
        database = app.ready_database()
    except NotInitialised as exc:
        stderr_console().print(f"no health records: {exc}", soft_wrap=True, markup=False)
        return {}
    with database.session() as session:
        from qpan.readmodel import health_by_source

        return health_by_source(session)


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

    Example: qpan sources --discover vnexpress; qpan sources --check qdnd cand --format json
    """
    app: AppContext = ctx.obj
    if names and not check:
        raise UserError("source names go with --check (qpan sources --check NAME...)")
    if check:
        rows = check_rows(app, names)
        emit(rows, CHECK_COLUMNS, fmt)
        raise typer.Exit(1 if any(row["verdict"] == "broken" for row in rows) else 0)
    if discover is None:
        from qpan.readmodel import source_rows

        emit(source_rows(app.config, _health(app)), COLUMNS, fmt)
        return
    from qpan.crawler.run import run_discovery

    config, name = _with_site(app.config, discover) if "://" in discover else (app.config, discover)
    result = run_discovery(config, name)
    if not result.reached:
        raise UserError(f"{name}: the site could not be reached ({result.error or 'no answer'})")
    rows = [
        {"source": name, "kind": kind, "url": url}
        for kind in ("feeds", "sitemaps")
        for url in result.found.get(kind, [])
    ]
    emit(rows, ["source", "kind", "url"], fmt, title=None if rows else f"{name}: no feed or sitemap found")


def _with_site(config: Config, url: str) -> tuple[Config, str]:
    """``--discover URL``: a bare-domain source for a site not in the registry, named by its host."""
    from qpan.config import SourceConfig

    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise typer.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--discover")
    name = parts.netloc.lower().replace(":", "-")
    site = SourceConfig(name=name, home=f"{parts.scheme}://{parts.netloc}/", discover=True)
    return config.model_copy(update={"sources": [*config.sources, site]}), name


def register(app: typer.Typer) -> None:
    app.command("sources", short_help="The source registry and each source's health.")(sources)
