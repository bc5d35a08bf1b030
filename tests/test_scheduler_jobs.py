"""Scheduler jobs: built from [schedule], kept in the database, unchanged across restarts."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from qpan.config import ConfigError, config_from_dict
from qpan.crawler.registry import UnknownSource
from qpan.scheduler.service import (
    JOB_FUNCTION,
    JOBS_TABLE,
    JobSpec,
    job_specs,
    make_trigger,
    next_run_times,
    sync_jobs,
    upgrade_stored_jobs,
)
from support.alerting import migrated_database, paused_scheduler

SOURCES = [{"name": name, "feeds": [f"http://127.0.0.1:9/{name}.rss"]} for name in ("alpha", "beta", "gamma")]


def _config(schedule: dict[str, object]) -> object:
    return config_from_dict({"crawl": {"shipped_sources": False}, "sources": SOURCES, "schedule": schedule})


def test_every_and_cron_and_per_source_overrides() -> None:
    specs = job_specs(_config({"every": "30m", "sources": {"beta": {"cron": "*/5 * * * *"}}}))
    assert [(spec.id, spec.sources) for spec in specs] == [("crawl", ("alpha", "gamma")), ("crawl:beta", ("beta",))]
    assert str(specs[0].trigger) == "interval[0:30:00]"
    assert "minute='*/5'" in str(specs[1].trigger)
    [cron_only] = job_specs(_config({"cron": "0 6 * * *"}))
    assert cron_only.sources == () and "hour='6'" in str(cron_only.trigger)


def test_unknown_override_source_and_override_without_trigger_are_user_errors() -> None:
    with pytest.raises(UnknownSource, match="nosuch"):
        job_specs(_config({"sources": {"nosuch": {"every": "1h"}}}))
    with pytest.raises(ConfigError, match="schedule.sources.beta"):
        job_specs(_config({"sources": {"beta": {}}}))


def test_restart_keeps_the_stored_next_run_and_a_changed_trigger_replaces_it(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    assert next_run_times(database) == []
    hourly = [JobSpec("crawl", make_trigger("1h", None), ())]
    with paused_scheduler(database) as scheduler:
        sync_jobs(scheduler, hourly, misfire_grace=600)
        planned = scheduler.get_job("crawl").next_run_time
        scheduler.modify_job("crawl", next_run_time=planned + timedelta(minutes=17))
    [(label, first)] = next_run_times(database)
    assert label == "all sources" and first == planned + timedelta(minutes=17)

    with paused_scheduler(database) as scheduler:
        sync_jobs(scheduler, hourly, misfire_grace=300)
        job = scheduler.get_job("crawl")
        assert job.next_run_time == first and job.misfire_grace_time == 300
        assert (job.max_instances, job.coalesce) == (1, True)

    daily = [
        JobSpec("crawl", make_trigger(None, "0 6 * * *"), ()),
        JobSpec("crawl:beta", make_trigger("2h", None), ("beta",)),
    ]
    with paused_scheduler(database) as scheduler:
        sync_jobs(scheduler, daily, misfire_grace=300)
        assert scheduler.get_job("crawl").next_run_time.hour == 6
        assert scheduler.get_job("crawl:beta").kwargs == {"sources": ["beta"]}
    assert sorted(label for label, _ in next_run_times(database)) == ["all sources", "source beta"]

    with paused_scheduler(database) as scheduler:
        sync_jobs(scheduler, daily[1:], misfire_grace=300)
        assert [job.id for job in scheduler.get_jobs()] == ["crawl:beta"]


def test_a_job_stored_before_the_qpan_namespace_is_upgraded_with_its_next_run(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    with paused_scheduler(database) as scheduler:
        sync_jobs(scheduler, [JobSpec("crawl", make_trigger("1h", None), ())], misfire_grace=600)
        planned = scheduler.get_job("crawl").next_run_time + timedelta(minutes=17)
        scheduler.modify_job("crawl", next_run_time=planned)
    with database.engine.begin() as connection:
        state = pickle.loads(connection.execute(text(f"SELECT job_state FROM {JOBS_TABLE}")).scalar_one())
        state["func"] = "scheduler.service:crawl_job"
        connection.execute(text(f"UPDATE {JOBS_TABLE} SET job_state = :s"), {"s": pickle.dumps(state)})

    assert upgrade_stored_jobs(database) == ["crawl"]
    assert upgrade_stored_jobs(database) == []
    with paused_scheduler(database) as scheduler:
        job = scheduler.get_job("crawl")
        assert job is not None and job.func_ref == JOB_FUNCTION and job.next_run_time == planned
