"""Option types shared by several commands, so each is spelled and parsed one way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from qpan.output import Format
from qpan.timezone import VIETNAM

MAX_ID = 2**63 - 1  # the largest integer either backend stores; a larger id cannot exist
MAX_LIMIT = 2**31 - 1

FormatOption = Annotated[
    Format, typer.Option("--format", "-f", metavar="table|json|csv", help="Output format.", case_sensitive=False)
]


class RecordFormat(StrEnum):
    """One record (an article, a run summary) is a table or one JSON object: no CSV."""

    table = "table"
    json = "json"


RecordFormatOption = Annotated[
    RecordFormat,
    typer.Option("--format", "-f", metavar="table|json", case_sensitive=False, help="Output format (one record)."),
]


def parse_since(text: str) -> datetime:
    """``--since`` as a date (2025-01-31), a datetime (ISO 8601), or an age (7d, 12h)."""
    text = text.strip()
    units = {"d": "days", "h": "hours", "w": "weeks"}
    if text[:-1].isdigit() and text[-1:] in units:
        try:
            return datetime.now(VIETNAM) - timedelta(**{units[text[-1]]: int(text[:-1])})
        except OverflowError:
            raise typer.BadParameter(f"{text!r} reaches back before the year 1") from None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (2025-01-31), datetime or age (7d, 12h)") from None
    if len(text) == 10:
        moment = datetime.combine(date.fromisoformat(text), time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=VIETNAM)


SinceOption = Annotated[
    datetime | None,
    typer.Option(
        "--since",
        parser=parse_since,
        metavar="DATE",
        help="Only articles published (or fetched, if undated) since DATE: 2025-01-31, ISO datetime, or 7d.",
    ),
]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", "-s", metavar="NAME", help="Only this source (repeatable).")
]
