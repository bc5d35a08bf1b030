"""``qpan sources``: the source registry with each source's health; ``--discover NAME`` looks for feeds now."""

from __future__ import annotations

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
    from qpan.storage.models import SourceHealth

    try:
        database = app.ready_database()
    except NotInitialised as exc:
        stderr_console().print(f"no health records: {exc}", soft_wrap=True, markup=False)
        return {}
    with database.session() as session:
        return {row.source: row for row in session.query(SourceHealth).all()}


def source_rows(app: AppContext) -> list[dict[str, Any]]:
    from qpan.crawler.registry import all_sources

    health = _health(app)
    rows = []
    for source in all_sources(app.config):
        state = health.get(source.name)
        rows.append(
            {
                **source.model_dump(mode="json"),
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
        typer.Option(
            "--discover", metavar="NAME|URL", help="Find NAME's (or a site's) feeds and sitemaps now and list them."
        ),
    ] = None,
) -> None:
    """The source registry (shipped + qpan.toml) and each source's health.

    Example: qpan sources --discover vnexpress
    """
    app: AppContext = ctx.obj
    if discover is None:
        emit(source_rows(app), COLUMNS, fmt)
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
