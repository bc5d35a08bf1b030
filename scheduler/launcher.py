"""One scheduled crawl run: ``qpan crawl`` in a child process, with a time limit.

A child process because Scrapy's reactor cannot be restarted in one process and a crawl
that crashes or hangs must not take the scheduler down. The child gets its own session
(process group), so a Ctrl-C meant for the scheduler does not reach it directly: the
scheduler decides when to stop it (SIGTERM: Scrapy's graceful shutdown, which keeps what
was stored; SIGKILL after a grace). The child records its run row with its pid; that is
how the launcher finds the run afterwards to mark it ``timed_out`` and log its figures.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from qpan.storage.db import Database
from qpan.storage.models import AlertDelivery, CrawlRun, utcnow
from qpan.storage.runs import mark_died

log = logging.getLogger("qpan.scheduler")

FIGURES = ("fetched", "extracted", "relevant", "new", "duplicates", "errors")
POLL_SECONDS = 0.5
TRIGGER = "scheduler"


@dataclass
class RunOutcome:
    """What one launched run came to, as logged in its one line."""

    run_id: int | None
    status: str
    exit_code: int | None
    seconds: float
    figures: dict[str, int] = field(default_factory=dict)
    sources: int = 0
    unreached: list[str] = field(default_factory=list)
    alerts: dict[str, int] = field(default_factory=dict)

    def line(self, sources: Sequence[str]) -> str:
        scope = ", ".join(sources) if sources else "all sources"
        run = f"run {self.run_id}" if self.run_id is not None else "run (no row)"
        figures = ", ".join(f"{name} {self.figures.get(name, 0)}" for name in FIGURES)
        text = (
            f"{run} [{scope}] {self.status} in {self.seconds:.1f}s (exit {self.exit_code}): "
            f"{self.sources} sources, {figures}"
        )
        if self.alerts:
            text += f"; alerts queued {sum(self.alerts.values())}, sent {self.alerts.get('sent', 0)}"
        return text + (f"; not reached: {', '.join(self.unreached)}" if self.unreached else "")


class CrawlLauncher:
    """Starts crawl children one at a time and stops them on timeout or shutdown."""

    def __init__(self, database: Database, config_path: str | None, timeout: float, kill_grace: float = 20.0) -> None:
        self.database = database
        self.config_path = config_path
        self.timeout = timeout
        self.kill_grace = kill_grace
        self._stopping = threading.Event()
        self._stop_at: float | None = None
        self._idle = threading.Event()
        self._idle.set()

    def command(self, sources: Sequence[str]) -> list[str]:
        """``python -P -m qpan [--config PATH] crawl --quiet [--source NAME]...`` with this interpreter
        (``-P``: the working directory is not put on ``sys.path``, so a folder named like one of
        qpan's packages there cannot shadow the installed qpan)."""
        command = [sys.executable, "-P", "-m", "qpan"]
        if self.config_path:
            command += ["--config", self.config_path]
        command += ["crawl", "--quiet"]
        for source in sources:
            command += ["--source", source]
        return command

    def request_stop(self, grace: float) -> None:
        """Take no new run; let the running one finish within ``grace`` seconds, then stop it.

        A second request shortens the grace to nothing (the impatient second Ctrl-C).
        """
        now = time.monotonic()
        self._stop_at = now if self._stopping.is_set() else now + grace
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wait_idle(self, seconds: float) -> bool:
        """Wait until no run is in progress; False if one still is after ``seconds``."""
        return self._idle.wait(seconds)

    def run(self, sources: Sequence[str] = ()) -> RunOutcome | None:
        """One crawl run now, unless stopping; logs its one line and returns the outcome."""
        if self.stopping:
            log.info("stopping: scheduled run not started")
            return None
        self._idle.clear()
        try:
            outcome = self._launch(list(sources))
        finally:
            self._idle.set()
        log.info("%s", outcome.line(sources))
        return outcome

    def _launch(self, sources: list[str]) -> RunOutcome:
        started_at = utcnow() - timedelta(seconds=1)
        started = time.monotonic()
        child = subprocess.Popen(
            self.command(sources), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        stopped = self._supervise(child, started + self.timeout)
        seconds = time.monotonic() - started
        return self._record(child, started_at, stopped, seconds)

    def _supervise(self, child: subprocess.Popen[bytes], deadline: float) -> str | None:
        """Wait for the child; stop it at the deadline or the stop grace. Returns why it was stopped."""
        while True:
            try:
                child.wait(timeout=POLL_SECONDS)
                return None
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now >= deadline:
                log.warning("crawl (pid %d) exceeded the %.0fs time limit: stopping it", child.pid, self.timeout)
                self._terminate(child)
                return "timed_out"
            if self._stop_at is not None and now >= self._stop_at:
                log.warning("crawl (pid %d) still running at the end of the shutdown grace: stopping it", child.pid)
                self._terminate(child)
                return "interrupted"

    def _terminate(self, child: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the child's process group (Scrapy shuts down cleanly), SIGKILL after the grace."""
        for sig, wait in ((signal.SIGTERM, self.kill_grace), (signal.SIGKILL, None)):
            try:
                os.killpg(child.pid, sig)
            except ProcessLookupError:
                return
            try:
                child.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                log.warning("crawl (pid %d) ignored SIGTERM for %.0fs: killing it", child.pid, self.kill_grace)

    def _record(
        self, child: subprocess.Popen[bytes], started_at: datetime, stopped: str | None, seconds: float
    ) -> RunOutcome:
        """Find the child's run row; mark it as the scheduler's, and as stopped if we stopped it."""
        with self.database.session() as session:
            run = session.scalars(
                select(CrawlRun)
                .where(CrawlRun.pid == child.pid, CrawlRun.started_at >= started_at)
                .order_by(CrawlRun.id.desc())
                .limit(1)
            ).first()
            if run is None and stopped:
                run = CrawlRun(trigger=TRIGGER, pid=child.pid, started_at=started_at, status=stopped)
                session.add(run)
            if run is None:
                return RunOutcome(None, "failed", child.returncode, seconds)
            run.trigger = TRIGGER
            if run.status == "running" and not stopped:
                mark_died(run, f"the crawl process ended (exit code {child.returncode}) without recording its outcome")
            if stopped:
                run.status = stopped
                run.finished_at = run.finished_at or utcnow()
                limit = f"time limit of {self.timeout:.0f}s" if stopped == "timed_out" else "scheduler shutdown"
                run.error = f"stopped by the scheduler ({limit})"
            session.flush()
            figures = {name: sum(getattr(source, name) for source in run.sources) for name in FIGURES}
            unreached = [source.source for source in run.sources if not source.reached]
            counts = session.execute(
                select(AlertDelivery.status, func.count())
                .where(AlertDelivery.run_id == run.id)
                .group_by(AlertDelivery.status)
            )
            alerts = {status: count for status, count in counts}
            return RunOutcome(
                run.id, run.status, child.returncode, seconds, figures, len(run.sources), unreached, alerts
            )
