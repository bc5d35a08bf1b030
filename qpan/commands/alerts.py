"""``qpan alerts``: the alert outbox; ``alerts test`` probes every channel, ``alerts send`` flushes.

Channels are Apprise URLs in ``[alerts] urls``; they are shown by hash and Apprise's privacy
rendering, never in clear, because they hold tokens and passwords.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qpan.commands.options import MAX_LIMIT, FormatOption
from qpan.context import AppContext
from qpan.errors import UserError
from qpan.output import Format, emit, stderr_console

if TYPE_CHECKING:
    from qpan.config import Config
    from qpan.storage.models import AlertDelivery

OUTBOX_COLUMNS = ["id", "kind", "status", "attempts", "channel", "subject", "created_at", "error"]
TEST_COLUMNS = ["channel", "url", "format", "result", "error"]

app = typer.Typer(
    help="The alert outbox; `alerts test` sends a test message to every channel.",
    short_help="The alert outbox; test and send alerts.",
)


class Status(StrEnum):
    """The outbox states (``qpan.scheduler.outbox``), spelled here so that ``--help`` needs no Apprise import."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    unknown = "unknown"


class NoChannels(UserError):
    exit_code = 2

    def __init__(self, config: Config) -> None:
        where = config.path or "qpan.toml"
        super().__init__(f"no alert channel configured: add Apprise URLs to [alerts] urls in {where}")


def _require_channels(config: Config) -> None:
    if not config.alerts.urls:
        raise NoChannels(config)


def _subject(delivery: AlertDelivery) -> str:
    from qpan.scheduler.digest import health_text

    if delivery.kind == "health":
        return health_text(delivery.payload)[0]
    return str(delivery.payload.get("title", ""))


def _outbox_row(delivery: AlertDelivery, labels: dict[str, str]) -> dict[str, Any]:
    given_up = delivery.status in {Status.failed, Status.unknown} and delivery.next_attempt_at is None
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "status": "gave up" if given_up else delivery.status,
        "attempts": delivery.attempts,
        "channel": labels.get(delivery.channel, delivery.channel),
        "channel_id": delivery.channel,
        "subject": _subject(delivery),
        "dedup_key": delivery.dedup_key,
        "article_id": delivery.article_id,
        "run_id": delivery.run_id,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
        "next_attempt_at": delivery.next_attempt_at,
        "error": delivery.last_error,
    }


@app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, metavar="N", help="At most N deliveries.")
    ] = 50,
    status: Annotated[
        Status | None, typer.Option("--status", metavar="STATE", help="Only deliveries in this state.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List the alert outbox, newest first (a delivery is one alert on one channel)."""
    if ctx.invoked_subcommand is not None:
        return
    from qpan.scheduler.channels import configured_channels
    from qpan.scheduler.outbox import recent_deliveries

    context: AppContext = ctx.obj
    labels = {channel.id: channel.label for channel in configured_channels(context.config)}
    with context.ready_database().session() as session:
        rows = [_outbox_row(d, labels) for d in recent_deliveries(session, limit, status)]
    emit(rows, OUTBOX_COLUMNS, fmt, title=None if rows else "the alert outbox is empty")


@app.command("test")
def test(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """Send one test message through every configured channel and report each result."""
    from qpan.scheduler.alerts import send_test

    config = ctx.obj.config
    _require_channels(config)
    results = send_test(config)
    rows = [
        {
            "channel": channel.id,
            "url": channel.label,
            "format": channel.body_format,
            "result": "ok" if outcome.ok else "failed",
            "error": outcome.error,
        }
        for channel, outcome in results
    ]
    emit(rows, TEST_COLUMNS, fmt)
    failed = sum(not outcome.ok for _, outcome in results)
    if failed:
        stderr_console().print(f"{failed} of {len(results)} channel(s) failed")
        raise typer.Exit(1)


@app.command("send")
def send(ctx: typer.Context) -> None:
    """Send pending and due failed alerts now, without crawling (exit 1 if a channel failed)."""
    from qpan.scheduler.alerts import dispatch

    context: AppContext = ctx.obj
    _require_channels(context.config)
    result = dispatch(context.ready_database(), context.config)
    stderr_console().print(result.summary())
    if result.messages_failed:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="alerts")
