"""``qpan show ID``: one article with why it matched, what it duplicates, and its text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from qpan.commands.options import MAX_ID, RecordFormat, RecordFormatOption
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import local_iso, print_json, stdout_console
from qpan.timezone import VIETNAM

if TYPE_CHECKING:
    from rich.table import Table

    from qpan.storage.models import Article


def _verdict(article: Article) -> str:
    """The analysts' current verdict, e.g. "not_relevant by lan, 2026-12-01 09:30: a crime report"."""
    if not article.verdicts:
        return "not judged yet (`qpan triage mark ID VERDICT`)"
    row = article.verdicts[-1]
    by = f" by {row.who}" if row.who else ""
    note = f": {row.note}" if row.note else ""
    return f"{row.verdict}{by}, {row.created_at.astimezone(VIETNAM):%Y-%m-%d %H:%M}{note}"


def _metadata_table(article: Article) -> Table:
    from rich.table import Table

    from qpan.readmodel import duplicate_label

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    label = duplicate_label(article)
    rows = [
        ("id", str(article.id)),
        ("title", article.title),
        ("source", article.source + (f" (seed {article.seed_name})" if article.seed_name else "")),
        ("url", article.url),
        ("canonical", article.canonical_url),
        ("published", local_iso(article.published) or "unknown"),
        ("author", article.author or ""),
        ("fetched", local_iso(article.fetched_at) or ""),
        ("relevance", f"{article.relevance:.2f} ({'relevant' if article.relevant else 'not relevant'})"),
        ("matched", ", ".join(f"{t} ×{n}" for t, n in (article.matched_terms or {}).items()) or "nothing"),
        ("duplicate of", "—" if label is None else str(label)),
        ("cluster", "—" if article.cluster is None else str(article.cluster)),
        ("triage", _verdict(article)),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def show(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id (see `qpan articles`).")],
    fmt: RecordFormatOption = RecordFormat.table,
) -> None:
    """One article: metadata, relevance with the matched terms, duplicate links, text.

    Example: qpan show 12 --format json
    """
    from rich.panel import Panel

    from qpan.pipelines.relevance import ThemeProfile
    from qpan.readmodel import article_detail
    from qpan.storage.models import Article

    app: AppContext = ctx.obj
    database = app.ready_database()
    with database.session() as session:
        article = session.get(Article, article_id) if 0 < article_id <= MAX_ID else None
        if article is None:
            raise UserError(f"no article with id {article_id}")
        data = article_detail(session, article, ThemeProfile.load(app.config.topic))
        if fmt is RecordFormat.json:
            print_json(data)
            return
        console = stdout_console()
        console.print(_metadata_table(article))
        console.print(f"why: {data['explanation']}", markup=False)
        for heading, members in (("republished as", data["duplicates"]), ("same story", data["cluster_members"])):
            if members:
                console.print(f"[bold]{heading}[/bold]")
                for member in members:
                    console.print(f"  #{member['id']} [{member['source']}] {member['title']}", markup=False)
        console.print(Panel(article.text or "(no text)", title=article.title, title_align="left"))


def register(app: typer.Typer) -> None:
    app.command("show", short_help="One article: why relevant, duplicates, text.")(show)
