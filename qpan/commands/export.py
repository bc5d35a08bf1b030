"""``qpan export``: relevant articles as JSON Lines, CSV or an Atom feed, to stdout or a file."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from qpan.commands.options import SinceOption, SourceOption
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import stderr_console

if TYPE_CHECKING:
    from qpan.storage.db import Database


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    atom = "atom"


def _write_rows(rows: list[dict[str, Any]], fmt: ExportFormat, stream: IO[str]) -> None:
    if fmt is ExportFormat.jsonl:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    from qpan.readmodel import write_articles_csv

    write_articles_csv(rows, stream)


def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", metavar="jsonl|csv|atom", help="jsonl, csv or atom.")
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to this file, not stdout.")
    ] = None,
    since: SinceOption = None,
    source: SourceOption = None,
    include_seeds: Annotated[bool, typer.Option("--include-seeds", help="Also export the seed articles.")] = False,
) -> None:
    """Export relevant articles (newest first); `--format atom` is the alerts' Atom feed.

    Example: qpan export --format csv --since 2025-01-01 -o 2025.csv
    """
    from qpan.readmodel import article_json
    from qpan.storage.queries import ArticleFilter, articles_query

    app: AppContext = ctx.obj
    database = app.ready_database()
    if fmt is ExportFormat.atom:
        if since or source or include_seeds:
            raise AtomFilters()
        count = _export_feed(database, output)
    else:
        flt = ArticleFilter(since=since, sources=tuple(source or ()), include_seeds=include_seeds, limit=None)
        with database.session() as session:
            rows = [article_json(a) for a in session.scalars(articles_query(flt, session)).unique()]
        count = len(rows)
        if output:
            with output.open("w", encoding="utf-8", newline="") as stream:
                _write_rows(rows, fmt, stream)
        else:
            _write_rows(rows, fmt, sys.stdout)
    if output:
        stderr_console().print(f"exported {count} articles to {output}")


class AtomFilters(UserError):
    exit_code = 2

    def __init__(self) -> None:
        super().__init__("--format atom writes the alerts' feed as it is; --since, --source and --include-seeds "
                         "apply to jsonl and csv")


def _export_feed(database: Database, output: Path | None) -> int:
    """The same feed, through the same functions, as ``[alerts] atom_path`` gets after every run."""
    from qpan.scheduler.atom import feed_articles, write_atom, write_feed_file

    if output:
        return write_feed_file(database, output)
    with database.session() as session:
        articles = feed_articles(session)
        write_atom(articles, sys.stdout.buffer)
    return len(articles)


def register(app: typer.Typer) -> None:
    app.command("export", short_help='Export relevant articles as JSONL, CSV or Atom.')(export)
