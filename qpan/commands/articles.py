"""``qpan articles``: stored articles, newest first; relevant ones unless ``--all``."""

from __future__ import annotations

from typing import Annotated

import typer

from qpan.commands.options import MAX_LIMIT, FormatOption, SinceOption, SourceOption
from qpan.context import AppContext
from qpan.output import Format, emit

TABLE_COLUMNS = ["id", "published", "source", "relevance", "duplicate_of", "triage", "title"]


def articles(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include articles below the relevance threshold.")] = False,
    since: SinceOption = None,
    source: SourceOption = None,
    search: Annotated[
        str | None, typer.Option("--search", metavar="TEXT", help="Full-text search; diacritics optional.")
    ] = None,
    include_seeds: Annotated[
        bool, typer.Option("--include-seeds", help="Also list the seed articles (the dedup baseline).")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, max=MAX_LIMIT, metavar="N", help="At most N articles (0: no limit).")
    ] = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """List stored articles, newest first; the seeds only with --include-seeds.

    Example: qpan articles --search "nghi dinh 03" --since 30d --format json
    """
    from qpan.readmodel import article_json
    from qpan.storage.queries import ArticleFilter, list_articles

    app: AppContext = ctx.obj
    database = app.ready_database()
    flt = ArticleFilter(
        include_irrelevant=all_, since=since, sources=tuple(source or ()), search=search, limit=limit or None,
        include_seeds=include_seeds,
    )
    with database.session() as session:
        found = list_articles(session, flt)
        rows = [article_json(article, with_text=fmt is not Format.table) for article in found]
    if fmt is Format.table:
        for row in rows:
            published = row["published"]  # ISO 8601 in Vietnam time: shown to the minute, offset kept
            row["published"] = f"{published[:10]} {published[11:16]} {published[-6:]}" if published else ""
            row["triage"] = row["triage"]["verdict"] if row["triage"] else ""
    columns = TABLE_COLUMNS if fmt is Format.table else [*TABLE_COLUMNS[:-1], "title", "url", "relevant", "cluster"]
    emit(rows, columns, fmt, title=None if rows else "no articles match")


def register(app: typer.Typer) -> None:
    app.command("articles", short_help="List stored articles, newest first.")(articles)
