"""Rendering of listings as a Rich table, one JSON array, or CSV, and of the article JSON.

JSON and CSV go to stdout and nothing else does, so ``qpan articles --format json | jq``
always parses; progress and messages go to stderr.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from qpan.timezone import VIETNAM

if TYPE_CHECKING:  # Rich loads when something is printed, not for `qpan --version`
    from rich.console import Console


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


PIPED_WIDTH = 160


def stdout_console() -> Console:
    """Rich's 80-column guess for a pipe squeezes tables; a file or pager gets wide rows instead."""
    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPED_WIDTH
    return Console(soft_wrap=False, highlight=False, width=width)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def local_iso(value: datetime | None) -> str | None:
    """ISO 8601 in Vietnam's offset: the instant is unchanged, the reading is the reader's."""
    return value.astimezone(VIETNAM).isoformat() if value is not None else None


def local_label(value: datetime) -> str:
    """A time in a table or message: Vietnam time, minutes, and the offset said, "2026-11-23 18:17 +07:00"."""
    local = value.astimezone(VIETNAM)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def plain(value: Any) -> Any:
    """A value as JSON carries it: datetimes in Vietnam's offset, the rest as they are."""
    if isinstance(value, datetime):
        return local_iso(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_label(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}×{count}" for key, count in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def emit(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: str | Format = Format.table,
    *,
    title: str | None = None,
) -> None:
    """Print ``rows``; the table shows ``columns``, JSON carries every key of each row."""
    fmt = Format(fmt)
    if fmt is Format.json:
        json.dump([{k: plain(v) for k, v in row.items()} for row in rows], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                json.dumps(plain(row.get(c)), ensure_ascii=False)
                if isinstance(row.get(c), dict | list)
                else plain(row.get(c)) if row.get(c) is not None else ""
                for c in columns
            )
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(c))) for c in columns))
    stdout_console().print(table)


def item_json(item: Mapping[str, Any]) -> dict[str, Any]:
    """The article JSON of an item that was never stored (``qpan extract``)."""
    published = item.get("published")
    fetched = item.get("fetched_at")
    return {
        "id": None,
        "url": item.get("url"),
        "canonical_url": item.get("canonical_url"),
        "source": item.get("source"),
        "title": item.get("title"),
        "published": local_iso(published) if isinstance(published, datetime) else published,
        "author": item.get("author"),
        "section": item.get("section"),
        "language": item.get("language"),
        "text": item.get("text"),
        "relevance": round(float(item.get("relevance") or 0.0), 4),
        "relevant": bool(item.get("relevant")),
        "matched_terms": item.get("matched_terms") or {},
        "duplicate_of": item.get("duplicate_of"),
        "cluster": item.get("cluster"),
        "fetched_at": local_iso(fetched) if isinstance(fetched, datetime) else fetched,
        "truncated": bool(item.get("truncated")),
        "explanation": item.get("explanation"),
        "methods": item.get("methods") or {},
    }


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=plain)
    sys.stdout.write("\n")
