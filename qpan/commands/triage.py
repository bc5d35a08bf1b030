"""``qpan triage``: analysts' verdicts and the scorer's precision against them; ``triage mark`` records one."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from qpan.commands.options import FormatOption
from qpan.context import AppContext
from qpan.output import Format, emit, local_iso, print_json, stderr_console

COLUMNS = ["article_id", "verdict", "scorer", "at", "who", "note", "title"]

app = typer.Typer(help="Analysts' verdicts on articles; `triage mark ID VERDICT` records one.")


class Verdict(StrEnum):
    """The verdicts of ``qpan.storage.triage``, spelled here so that ``--help`` needs no SQLAlchemy."""

    relevant = "relevant"
    not_relevant = "not_relevant"
    read = "read"


@app.callback(invoke_without_command=True)
def triage(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, metavar="N", help="At most N verdicts (0: all).")] = 50,
    fmt: FormatOption = Format.table,
) -> None:
    """List the current verdicts, newest first, and the scorer's precision against them.

    Example: qpan triage --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from qpan.storage.triage import current_verdicts, triage_summary

    context: AppContext = ctx.obj
    with context.ready_database().session() as session:
        rows: list[dict[str, Any]] = [
            {
                "article_id": row.article_id,
                "verdict": row.verdict,
                "scorer": "relevant" if row.article.relevant else "not relevant",
                "relevance": round(row.article.relevance, 4),
                "at": local_iso(row.created_at),
                "who": row.who,
                "note": row.note,
                "title": row.article.title,
            }
            for row in current_verdicts(session, limit or None)
        ]
        summary = triage_summary(session)
    if fmt is Format.json:
        print_json({"summary": summary.as_dict(), "verdicts": rows})
        return
    emit(rows, COLUMNS, fmt, title=None if rows else "no verdicts yet")
    stderr_console().print(summary.line(), markup=False, soft_wrap=True)


@app.command("mark")
def mark(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(metavar="ID", help="Article id (see `qpan articles`).")],
    verdict: Annotated[Verdict, typer.Argument(metavar="relevant|not_relevant|read", case_sensitive=False)],
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT", help="Why, in a few words.")] = None,
    who: Annotated[str | None, typer.Option("--by", metavar="NAME", help="Who judged it.")] = None,
) -> None:
    """Record a verdict on one article (the scorer's own verdict is kept as it is).

    Example: qpan triage mark 42 not_relevant --note "a crime report, no coordination"
    """
    from qpan.storage.triage import record_verdict

    context: AppContext = ctx.obj
    with context.ready_database().session() as session:
        row = record_verdict(session, article_id, verdict.value, note, who)
        stderr_console().print(f"article {row.article_id}: {row.verdict}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="triage", short_help="Analysts' verdicts and the scorer's precision.")
