"""Runs whose process died are closed as ``died``, and only when that is certain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from qpan.storage.models import CrawlRun
from qpan.storage.runs import mark_dead_runs
from support.alerting import migrated_database


def _finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_this_hosts_runs_with_a_vanished_process_are_marked_died(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    gone = _finished_pid()
    rows = {
        "killed here": CrawlRun(pid=gone, host="crawler-1", status="running"),
        "alive here": CrawlRun(pid=os.getpid(), host="crawler-1", status="running"),
        "other machine": CrawlRun(pid=gone, host="crawler-2", status="running"),
        "host unknown": CrawlRun(pid=gone, host=None, status="running"),
        "finished": CrawlRun(pid=gone, host="crawler-1", status="ok"),
    }
    with database.session() as session:
        session.add_all(rows.values())
        session.flush()
        ids = {name: run.id for name, run in rows.items()}
        assert mark_dead_runs(session, "crawler-1") == [ids["killed here"]]
    with database.session() as session:
        status = {run.id: (run.status, run.error, run.finished_at) for run in session.scalars(select(CrawlRun))}
    assert {name: status[ids[name]][0] for name in ids} == {
        "killed here": "died",
        "alive here": "running",
        "other machine": "running",
        "host unknown": "running",
        "finished": "ok",
    }
    _, error, finished_at = status[ids["killed here"]]
    assert f"process {gone} on crawler-1" in error and finished_at is not None
