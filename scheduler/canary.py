"""The scheduled live check (``[schedule] check = "7d"``): a health alert when a source turns broken.

The check runs as ``qpan sources --check --format json`` in a child process, like the crawls: a
site that hangs must not hold the scheduler, and the job shares the crawls' single worker
thread, so a check never overlaps a crawl. What was last announced for a source is read back
from the outbox (its newest ``check:<source>:`` delivery), so a source that stays broken is
announced once, and once more when it works again, with no table of its own.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qpan.config import Config
from qpan.scheduler.alerts import dispatch, usable_channels
from qpan.scheduler.outbox import delivery_row, insert_ignoring_duplicates
from qpan.storage.db import Database
from qpan.storage.models import AlertDelivery, utcnow

log = logging.getLogger("qpan.scheduler")

BROKEN, FIXED = "broken", "fixed"


def check_command(config_path: str | None, sources: Sequence[str] = ()) -> list[str]:
    command = [sys.executable, "-P", "-m", "qpan"]
    if config_path:
        command += ["--config", config_path]
    return [*command, "sources", "--check", *sources, "--format", "json"]


def run_check(config_path: str | None, sources: Sequence[str], timeout: float) -> list[dict[str, Any]] | None:
    """The check's rows, or None (logged in one line) when the child gave no usable answer."""
    try:
        done = subprocess.run(
            check_command(config_path, sources), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        log.warning("live check still running after %.0fs: abandoned", timeout)
        return None
    try:
        rows = json.loads(done.stdout)
    except ValueError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        log.warning("live check failed (exit %s): %s", done.returncode, last)
        return None
    return rows if isinstance(rows, list) else None


def last_announced(session: Session, source: str) -> str | None:
    """``broken`` or ``fixed``: what the newest check alert for ``source`` said, if any."""
    key = session.scalar(
        select(AlertDelivery.dedup_key)
        .where(AlertDelivery.kind == "health", AlertDelivery.dedup_key.like(f"check:{source}:%"))
        .order_by(AlertDelivery.id.desc())
        .limit(1)
    )
    return key.split(":")[2] if key else None


def enqueue_check(session: Session, channel_ids: Sequence[str], rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Queue an alert for each source that turned broken, or stopped being broken, since the last one."""
    queued = []
    for row in rows:
        source, broken = row["source"], row["verdict"] == BROKEN
        announced = last_announced(session, source)
        if broken and announced != BROKEN:
            state = BROKEN
        elif not broken and announced == BROKEN:
            state = FIXED
        else:
            continue
        payload = {"source": source, "state": f"check_{state}", "verdict": row["verdict"], "reason": row["reason"]}
        key = f"check:{source}:{state}:{now.isoformat()}"
        queued += [delivery_row("health", key, channel, payload, now) for channel in channel_ids]
    return insert_ignoring_duplicates(session, queued)


class Canary:
    """The check job's state: where the config and database are, and how long a check may take."""

    def __init__(self, database: Database, config: Config, timeout: float) -> None:
        self.database = database
        self.config = config
        self.timeout = timeout

    def run(self, sources: Sequence[str] = ()) -> list[dict[str, Any]] | None:
        rows = run_check(self.config.path, sources, self.timeout)
        if rows is None:
            return None
        verdicts = [row["verdict"] for row in rows]
        broken = [row["source"] for row in rows if row["verdict"] == BROKEN]
        log.info(
            "live check: %d sources, %d ok, %d degraded, %d broken%s",
            len(rows), verdicts.count("ok"), verdicts.count("degraded"), len(broken),
            f" ({', '.join(broken)})" if broken else "",
        )
        channel_ids = [channel.id for channel in usable_channels(self.config)]
        if channel_ids:
            with self.database.session() as session:
                enqueue_check(session, channel_ids, rows, utcnow())
            dispatch(self.database, self.config)
        return rows
