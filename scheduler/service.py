"""``qpan scheduler``: APScheduler 3 in the foreground, crawl jobs kept in the project's database.

Jobs live in a SQLAlchemy job store (table ``scheduler_jobs``) so a restart neither loses
nor doubles a run: a job whose trigger is unchanged keeps its stored next run time, and a
run missed while the service was down is run once (``coalesce``) if it is not older than
``schedule.misfire_grace``. All crawls go through one worker thread, so two runs never
overlap, also between the main job and per-source jobs. Jobs are stored by reference
(``qpan.scheduler.service:crawl_job``), which is why the running launcher is a module global.
"""

from __future__ import annotations

import logging
import pickle
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any, NamedTuple

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect, text

from qpan.config import Config, ConfigError, parse_duration
from qpan.scheduler.launcher import CrawlLauncher
from qpan.storage.db import Database, make_engine

if TYPE_CHECKING:
    from qpan.scheduler.canary import Canary

log = logging.getLogger("qpan.scheduler")

JOBS_TABLE = "scheduler_jobs"
MAIN_JOB = "crawl"
SOURCE_JOB_PREFIX = "crawl:"
JOB_FUNCTION = "qpan.scheduler.service:crawl_job"
CHECK_JOB = "check"
CHECK_FUNCTION = "qpan.scheduler.service:check_job"
# Before qpan installed as one package, stored jobs named the function without the qpan. prefix.
OLD_JOB_FUNCTIONS = frozenset({"scheduler.service:crawl_job"})

_launcher: CrawlLauncher | None = None
_canary: Canary | None = None


@dataclass(frozen=True)
class JobSpec:
    """A crawl job as the config asks for it: which sources, on which trigger."""

    id: str
    trigger: BaseTrigger
    sources: tuple[str, ...]
    function: str = JOB_FUNCTION

    @property
    def label(self) -> str:
        return job_label(self.id)


class NextRun(NamedTuple):
    job: str
    when: datetime


def job_label(job_id: str) -> str:
    if job_id == CHECK_JOB:
        return "live source check"
    return "all sources" if job_id == MAIN_JOB else f"source {job_id.removeprefix(SOURCE_JOB_PREFIX)}"


def make_trigger(every: str | None, cron: str | None) -> BaseTrigger | None:
    """``cron`` (a crontab line) wins over ``every`` (a duration such as 30m)."""
    if cron:
        return CronTrigger.from_crontab(cron)
    if every:
        return IntervalTrigger(seconds=parse_duration(every))
    return None


def job_specs(config: Config) -> list[JobSpec]:
    """The main job (every source without its own schedule) and one job per overridden source."""
    from qpan.crawler.registry import select_sources

    overrides = config.schedule.sources
    specs = []
    if overrides:
        select_sources(config, list(overrides))  # unknown names fail here, once, with the known ones
    for name, schedule in overrides.items():
        trigger = make_trigger(schedule.every, schedule.cron)
        if trigger is None:
            raise ConfigError(f"{config.path or 'config'}: schedule.sources.{name}: give `every` or `cron`")
        specs.append(JobSpec(SOURCE_JOB_PREFIX + name, trigger, (name,)))
    main = make_trigger(config.schedule.every, config.schedule.cron)
    if main is not None:
        rest = tuple(s.name for s in select_sources(config) if s.name not in overrides) if overrides else ()
        if not overrides or rest:
            specs.insert(0, JobSpec(MAIN_JOB, main, rest))
    if config.schedule.check:
        every = IntervalTrigger(seconds=parse_duration(config.schedule.check))
        specs.append(JobSpec(CHECK_JOB, every, (), CHECK_FUNCTION))
    return specs


def crawl_job(sources: Sequence[str] = ()) -> None:
    """The function every stored job calls: one crawl run through the service's launcher."""
    if _launcher is None:
        log.info("no scheduler service in this process: crawl job skipped")
        return
    _launcher.run(sources)


def check_job(sources: Sequence[str] = ()) -> None:
    """The stored check job: ``qpan sources --check`` and its health alerts (``scheduler/canary.py``)."""
    if _canary is None or (_launcher is not None and _launcher.stopping):
        log.info("no scheduler service running here: live check skipped")
        return
    _canary.run(sources)


def sync_jobs(scheduler: BaseScheduler, specs: Sequence[JobSpec], misfire_grace: int) -> None:
    """Make the stored jobs match the config without touching the next run of unchanged ones."""
    wanted = {spec.id for spec in specs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            log.info("job %s removed (no longer in [schedule])", job.id)
            job.remove()
    options: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": misfire_grace}
    for spec in specs:
        stored = scheduler.get_job(spec.id)
        kwargs = {"sources": list(spec.sources)}
        if stored is not None and str(stored.trigger) == str(spec.trigger):
            scheduler.modify_job(spec.id, kwargs=kwargs, **options)
            continue
        first = datetime.now(scheduler.timezone) if isinstance(spec.trigger, IntervalTrigger) else None
        extra = {"next_run_time": first} if first else {}
        scheduler.add_job(
            spec.function,
            spec.trigger,
            id=spec.id,
            name=spec.label,
            kwargs=kwargs,
            replace_existing=True,
            **options,
            **extra,
        )
        log.info("job %s scheduled: %s", spec.id, spec.trigger)


def upgrade_stored_jobs(database: Database) -> list[str]:
    """Point jobs stored by an older qpan at today's function, keeping their trigger and next run.

    APScheduler would fail to import the old reference, log a traceback and drop the job; the
    stored state is APScheduler's own pickled dict, so only its ``func`` needs rewriting.
    """
    if not inspect(database.engine).has_table(JOBS_TABLE):
        return []
    upgraded = []
    with database.engine.begin() as connection:
        rows = connection.execute(text(f"SELECT id, job_state FROM {JOBS_TABLE}")).all()
        for job_id, blob in rows:
            state = pickle.loads(blob)
            if state.get("func") not in OLD_JOB_FUNCTIONS:
                continue
            state["func"] = JOB_FUNCTION
            connection.execute(
                text(f"UPDATE {JOBS_TABLE} SET job_state = :state WHERE id = :id"),
                {"state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL), "id": job_id},
            )
            upgraded.append(job_id)
    for job_id in upgraded:
        log.info("job %s stored by an older qpan: upgraded in place", job_id)
    return upgraded


def build_scheduler(database: Database) -> BlockingScheduler:
    """A blocking scheduler on one worker thread with its job store in the project database."""
    store = SQLAlchemyJobStore(engine=make_engine(database.url), tablename=JOBS_TABLE)
    return BlockingScheduler(jobstores={"default": store}, executors={"default": ThreadPoolExecutor(1)})


def _log_planned(scheduler: BaseScheduler) -> None:
    for job in scheduler.get_jobs():
        if job.next_run_time is not None:
            log.info("next run of %s: %s", job_label(job.id), job.next_run_time.isoformat(timespec="seconds"))


def serve(config: Config, database: Database, launcher: CrawlLauncher, grace: float) -> int:
    """Run until SIGTERM/SIGINT; then no new run, the running one gets ``grace`` seconds. Exit 0."""
    global _launcher, _canary
    specs = job_specs(config)
    misfire = int(parse_duration(config.schedule.misfire_grace))
    upgrade_stored_jobs(database)
    scheduler = build_scheduler(database)

    def on_start(_event: SchedulerEvent) -> None:
        sync_jobs(scheduler, specs, misfire)
        _log_planned(scheduler)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: no new run; a running crawl gets %.0fs to finish", signal.Signals(signum).name, grace)
        launcher.request_stop(grace)
        if scheduler.running:
            threading.Thread(target=scheduler.shutdown, kwargs={"wait": False}, daemon=True).start()

    scheduler.add_listener(on_start, EVENT_SCHEDULER_STARTED)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    _launcher = launcher
    from qpan.scheduler.canary import Canary  # Apprise loads for the service, not for `qpan runs`

    _canary = Canary(database, config, launcher.timeout)
    try:
        log.info("scheduler started: %s", "; ".join(f"{s.label}: {s.trigger}" for s in specs) or "no job")
        scheduler.start()
        while not launcher.wait_idle(1.0):
            pass
    finally:
        _launcher = _canary = None
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped")
    return 0


def next_run_times(database: Database) -> list[NextRun]:
    """Planned runs from the job store, soonest first; empty if the scheduler never ran here."""
    if not inspect(database.engine).has_table(JOBS_TABLE):
        return []
    with database.engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT id, next_run_time FROM {JOBS_TABLE} WHERE next_run_time IS NOT NULL ORDER BY next_run_time")
        ).all()
    return [NextRun(job_label(job_id), datetime.fromtimestamp(when).astimezone()) for job_id, when in rows]
