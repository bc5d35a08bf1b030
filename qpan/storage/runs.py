"""Crawl-run rows whose process died: a run killed with SIGKILL, by the OOM killer or a crash
never records its outcome, and would otherwise stay ``running`` in ``qpan runs`` forever."""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from qpan.storage.models import CrawlRun, utcnow

DIED = "died"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def mark_died(run: CrawlRun, why: str) -> None:
    """Close a run whose process ended without recording its outcome (SIGKILL, the OOM killer, a crash)."""
    run.status = DIED
    run.finished_at = run.finished_at or utcnow()
    run.error = why


def mark_dead_runs(session: Session, host: str) -> list[int]:
    """Runs of this machine left ``running`` by a process that no longer exists; returns their ids.

    Only this host's rows are judged, because a pid means nothing on another machine sharing
    the database. A pid reused by an unrelated process keeps its row ``running``: a stale row
    is better than calling a live run dead.
    """
    dead = [
        run
        for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.host == host))
        if run.pid is None or not _alive(run.pid)
    ]
    for run in dead:
        mark_died(run, f"process {run.pid} on {host} ended without recording the run's outcome (killed?)")
    return [run.id for run in dead]
