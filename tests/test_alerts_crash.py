"""Crash safety: a process killed (SIGKILL) between storing articles and sending their alerts.

The next run must send what the dead one left behind, exactly once. The killed process is
a real child process, so nothing survives in memory: only what reached the database.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import write_config
from sqlalchemy import select

from qpan.defaults import QPAN_STORE_MAX_WAIT
from qpan.demo import LocalWeb
from qpan.scheduler.alerts import dispatch, dispatch_after_run
from qpan.storage.models import CrawlRun, utcnow
from support.alerting import (
    VIETNAMESE_TITLES,
    alert_config,
    alertable_titles,
    deliveries,
    migrated_database,
    new_run,
    store_relevant,
    wait_for,
)
from support.receivers import webhook_server

ROOT = Path(__file__).resolve().parents[1]


def _killed_child(database_url: str, hook_url: str, run_id: int, step: str) -> int:
    """Run one outbox step in a child process that then SIGKILLs itself; returns its exit code."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from qpan.storage.db import Database
        from qpan.storage.models import utcnow
        from qpan.config import config_from_dict
        from qpan.scheduler.alerts import enqueue_after_run
        from qpan.scheduler.outbox import claim_due
        from qpan.scheduler.channels import channel_id
        database = Database({database_url!r})
        config = config_from_dict({{"alerts": {{"urls": [{hook_url!r}]}}}})
        enqueue_after_run(database, config, {run_id})
        if {step!r} == "claimed":
            with database.session() as session:
                claim_due(session, [channel_id({hook_url!r})], utcnow())
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT / "tests", timeout=60).returncode


def test_articles_stored_without_outbox_rows_are_sent_by_the_next_run(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    dead_run = new_run(database)
    store_relevant(database, dead_run, VIETNAMESE_TITLES)
    assert deliveries(database) == []
    with webhook_server() as hook:
        config = alert_config([hook.url])
        dispatch_after_run(database, config, new_run(database))
        dispatch_after_run(database, config, new_run(database))
    assert len(hook.payloads) == 1
    assert all(title in hook.payloads[0]["message"] for title in VIETNAMESE_TITLES)


def test_killed_after_enqueue_before_sending(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:2])
    with webhook_server() as hook:
        code = _killed_child(database.url, hook.url, run_id, "enqueued")
        assert code == -signal.SIGKILL
        assert hook.payloads == []
        assert {row.status for row in deliveries(database)} == {"pending"}
        config = alert_config([hook.url])
        dispatch_after_run(database, config, new_run(database))
        dispatch_after_run(database, config, new_run(database))
    assert len(hook.payloads) == 1
    assert all(title in hook.payloads[0]["message"] for title in VIETNAMESE_TITLES[:2])
    assert [(row.status, row.attempts) for row in deliveries(database)] == [("sent", 1), ("sent", 1)]


def test_killed_while_sending_is_retried_once_its_claim_expires(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    with webhook_server() as hook:
        assert _killed_child(database.url, hook.url, run_id, "claimed") == -signal.SIGKILL
        config = alert_config([hook.url])
        while_claimed = dispatch(database, config)
        expired = dispatch(database, config, now=utcnow() + timedelta(minutes=30))
        dispatch(database, config, now=utcnow() + timedelta(hours=2))
    assert while_claimed.messages_sent == 0
    assert expired.messages_sent == 1
    assert len(hook.payloads) == 1
    assert [(row.status, row.attempts) for row in deliveries(database)] == [("sent", 2)]


@pytest.mark.slow
def test_a_real_crawl_killed_after_storing_is_alerted_once_by_the_next_run(
    tmp_path: Path, fixture_web: LocalWeb
) -> None:
    """``qpan crawl`` SIGKILLed after its store flushed articles, while a site hangs: no alert went out.

    The store writes in batches, flushed when an article arrives after the oldest waiting one
    has waited ``QPAN_STORE_MAX_WAIT``: the listing answers after that wait (so its articles
    trigger a flush), and its second page then hangs until the kill.
    """
    database = migrated_database(tmp_path)
    fixture_web.set_route("congantinh", "/tin-tuc", delay=QPAN_STORE_MAX_WAIT + 1)
    fixture_web.set_route("congantinh", "/tin-tuc/trang-2.html", delay=120)
    with webhook_server() as hook:
        config = str(write_config(tmp_path, fixture_web, alerts={"urls": [hook.url]}))
        sites = ["--source", "baodiaphuong", "--source", "congantinh"]
        crawl = [sys.executable, "-m", "qpan", "--config", config, "crawl", "--quiet", *sites]
        child = subprocess.Popen(crawl, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: alertable_titles(database), 60, "relevant articles stored by the crawl")
            child.kill()
        finally:
            child.wait(timeout=30)
        stored_by_killed_run = alertable_titles(database)
        assert deliveries(database) == [] and hook.payloads == []

        fixture_web.remove_route("congantinh", "/tin-tuc")
        fixture_web.remove_route("congantinh", "/tin-tuc/trang-2.html")
        subprocess.run(crawl, cwd=tmp_path, stdout=subprocess.DEVNULL, timeout=120)
        dispatch(database, alert_config([hook.url]), now=utcnow() + timedelta(hours=1))

    with database.session() as session:
        killed_run, next_run = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert (killed_run.status, next_run.status) == ("died", "ok"), "the killed run is not left 'running'"
        assert f"process {child.pid}" in (killed_run.error or "")
    messages = "\n".join(payload["message"] for payload in hook.payloads)
    assert stored_by_killed_run and set(stored_by_killed_run) <= set(alertable_titles(database))
    for title in alertable_titles(database):
        assert messages.count(title) == 1, title
