"""Source-health alerts: one when a source has been bad for N runs in a row, one when it recovers.

A source is *bad* in a run when it was not reached or led to no article at all, new or
already known (``RunSource.yielded_articles``): a source with nothing new is quiet, not bad.
The streak is read from the ``run_sources`` history, so it is right whoever ran the crawls;
``SourceHealth.alert_state`` (``ok`` | ``alerted``) remembers what was announced, which is
what keeps a source that stays down from raising an alert every run.

Articles that could not be stored (a full disk) are lost to every later run, so they are
announced at once, in the run they happened, without waiting for a streak: one alert per
source and run, naming the count and the error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qpan.scheduler.outbox import delivery_row, insert_ignoring_duplicates
from qpan.stats import NOT_STORED
from qpan.storage.models import RunSource, SourceHealth

OK, ALERTED = "ok", "alerted"


def is_bad(figures: RunSource) -> bool:
    return not figures.reached or not figures.yielded_articles


def recent_figures(session: Session, source: str, up_to_run: int, runs: int) -> list[RunSource]:
    """The source's figures in its last ``runs`` runs up to ``up_to_run``, newest first."""
    query = (
        select(RunSource)
        .where(RunSource.source == source, RunSource.run_id <= up_to_run)
        .order_by(RunSource.run_id.desc())
        .limit(runs)
    )
    return list(session.scalars(query))


def _payload(source: str, state: str, runs: int, latest: RunSource) -> dict[str, Any]:
    error = None if latest.reached else (latest.error_text or "not reached")
    return {"source": source, "state": state, "runs": runs, "error": error, "run_id": latest.run_id}


def _not_stored_payload(figures: RunSource, count: int) -> dict[str, Any]:
    return {
        "source": figures.source, "state": NOT_STORED, "runs": 1, "count": count,
        "error": figures.error_text, "run_id": figures.run_id,
    }


def enqueue_health(session: Session, channel_ids: Iterable[str], run_id: int, after_runs: int, now: datetime) -> int:
    """Check every source of run ``run_id``; queue a down or recovered alert where the state flips,
    and a not-stored alert for a source whose articles could not be stored."""
    channel_ids = list(channel_ids)
    rows = []
    for figures in session.scalars(select(RunSource).where(RunSource.run_id == run_id)):
        lost = (figures.dropped or {}).get(NOT_STORED, 0)
        if lost:
            key = f"health:{figures.source}:{NOT_STORED}:{run_id}"
            payload = _not_stored_payload(figures, lost)
            rows += [delivery_row("health", key, channel, payload, now, run_id=run_id) for channel in channel_ids]
        health = session.get(SourceHealth, figures.source)
        if health is None:
            health = SourceHealth(source=figures.source)
            session.add(health)
        history = recent_figures(session, figures.source, run_id, after_runs)
        down = len(history) == after_runs and all(is_bad(f) for f in history)
        if down and health.alert_state != ALERTED:
            health.alert_state, state = ALERTED, "down"
        elif not is_bad(figures) and health.alert_state == ALERTED:
            health.alert_state, state = OK, "recovered"
        else:
            continue
        payload = _payload(figures.source, state, after_runs, figures)
        key = f"health:{figures.source}:{state}:{run_id}"
        rows += [delivery_row("health", key, channel, payload, now, run_id=run_id) for channel in channel_ids]
    return insert_ignoring_duplicates(session, rows)
