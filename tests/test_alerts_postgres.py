"""The outbox and the job store on PostgreSQL: same once-per-channel and restart behaviour as SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from qpan.scheduler.alerts import dispatch, dispatch_after_run, enqueue_after_run
from qpan.scheduler.service import JobSpec, make_trigger, next_run_times, sync_jobs
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import utcnow
from support.alerting import (
    VIETNAMESE_TITLES,
    alert_config,
    deliveries,
    new_run,
    paused_scheduler,
    store_relevant,
)
from support.receivers import webhook_server
from support.services import fresh_postgres_database

pytestmark = pytest.mark.postgres


def test_outbox_and_job_store_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        database = Database(url)
        upgrade(database)
        run_id = new_run(database, {"baoxyz": {"reached": False}})
        store_relevant(database, run_id, VIETNAMESE_TITLES)
        with webhook_server(fail_next=1) as hook:
            config = alert_config([hook.url], health_after_runs=1)
            first = dispatch_after_run(database, config, run_id)
            assert enqueue_after_run(database, config, run_id) == 0
            second = dispatch(database, config, now=utcnow() + timedelta(minutes=5))
        assert (first.messages_failed, first.messages_sent, second.messages_sent) == (1, 1, 1)
        assert len(hook.payloads) == 2
        assert {row.status for row in deliveries(database)} == {"sent"}

        with paused_scheduler(database) as scheduler:
            sync_jobs(scheduler, [JobSpec("crawl", make_trigger("1h", None), ())], misfire_grace=60)
        assert [label for label, _ in next_run_times(database)] == ["all sources"]
        database.dispose()
