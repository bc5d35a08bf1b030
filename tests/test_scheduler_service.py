"""``qpan scheduler`` end to end: real ``qpan crawl`` children against the local fixture web.

Deadlines below only bound how long a broken scheduler can hang the suite; nothing asserts
on durations.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_config
from sqlalchemy import select

from qpan.demo import LocalWeb
from qpan.storage.db import Database
from qpan.storage.models import CrawlRun
from support.alerting import alertable_titles, migrated_database, wait_for
from support.receivers import webhook_server

ROOT = Path(__file__).resolve().parents[1]
SITES = ("baodiaphuong", "congantinh")  # the two quickest fixture sites: crawls stay short
SLOW_SITE, SLOW_PATH = "congantinh", "/tin-tuc"


def runs(database: Database) -> list[CrawlRun]:
    with database.session() as session:
        found = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        for run in found:
            _ = run.sources  # loaded while the session is open
        return found


@pytest.mark.slow
def test_scheduler_runs_crawls_one_at_a_time_and_stops_cleanly(tmp_path: Path, fixture_web: LocalWeb) -> None:
    with webhook_server() as hook:
        config = write_config(
            tmp_path,
            fixture_web,
            sources=[source for source in fixture_web.sources() if source["name"] in SITES],
            schedule={"every": "2s", "timeout": "2m"},
            alerts={"urls": [hook.url]},
        )
        database = migrated_database(tmp_path)
        log_path = tmp_path / "scheduler.log"
        with log_path.open("wb") as log:
            service = subprocess.Popen(
                [sys.executable, "-m", "qpan", "--config", str(config), "scheduler", "--grace", "2m"],
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(lambda: any(r.finished_at for r in runs(database)), 60, "a first scheduled crawl")
                fixture_web.set_route(SLOW_SITE, SLOW_PATH, delay=3)
                seen = max(run.id for run in runs(database))
                wait_for(lambda: any(r.id > seen for r in runs(database)), 60, "a second crawl")
                service.send_signal(signal.SIGTERM)
                code = service.wait(timeout=120)
            finally:
                if service.poll() is None:
                    service.kill()
    output = log_path.read_text("utf-8")
    assert code == 0, output

    all_runs = runs(database)
    assert len(all_runs) == 2 and all(run.trigger == "scheduler" for run in all_runs)
    first, second = all_runs
    assert first.finished_at is not None and first.finished_at <= second.started_at, "two crawls overlapped"
    assert second.status not in {"running", "interrupted", "timed_out"}, "SIGTERM did not let the crawl finish"
    assert second.finished_at is not None
    for run in all_runs:
        assert {source.source for source in run.sources} == set(SITES)
        assert any(source.reached for source in run.sources)
        assert f"run {run.id} [all sources]" in output
    assert "SIGTERM received" in output and "scheduler stopped" in output
    assert "alerts queued" in output and "Traceback" not in output

    titles = alertable_titles(database)
    assert titles, "the first crawl stored no relevant article"
    messages = "\n".join(payload["message"] for payload in hook.payloads)
    assert all(messages.count(title) == 1 for title in titles), messages


@pytest.mark.slow
def test_a_crawl_over_its_time_limit_is_stopped_and_marked_timed_out(tmp_path: Path, fixture_web: LocalWeb) -> None:
    config = write_config(tmp_path, fixture_web, schedule={"every": "1h", "timeout": "2s"})
    database = migrated_database(tmp_path)
    fixture_web.set_route(SLOW_SITE, SLOW_PATH, delay=60)
    once = [sys.executable, "-m", "qpan", "--config", str(config), "scheduler", "--once"]
    result = subprocess.run(once, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    [run] = runs(database)
    assert (run.status, run.trigger) == ("timed_out", "scheduler")
    assert run.finished_at is not None and "time limit of 2s" in (run.error or "")
    assert f"run {run.id} [all sources] timed_out" in result.stderr
