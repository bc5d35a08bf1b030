"""Ctrl-C at any moment of ``qpan crawl``: one "stopping…" line, no traceback, exit 130, the run recorded.

Each test runs a real ``qpan crawl`` process and sends SIGINT at a moment it can observe:
while the process is still importing, once the run row exists (Scrapy still starting),
and while a download is in flight. The slow page answers only after far longer than the
tests wait, so a crawl that waited for it would fail the deadline.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_config

from qpan.demo import LocalWeb

pytestmark = pytest.mark.slow

SLOW_FEED = "/rss/tin-moi.rss"
SLOW_SECONDS = 120
DEADLINE = 60
SITES = ("tinbiengioi", "congantinh")  # the slow feed's site, and one whose article pages show progress


def _start(tmp_path: Path, web: LocalWeb, initialised_database: Path) -> tuple[subprocess.Popen[str], Path]:
    web.set_route("tinbiengioi", SLOW_FEED, delay=SLOW_SECONDS)
    config = write_config(tmp_path, web, sources=[s for s in web.sources() if s["name"] in SITES])
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    child = subprocess.Popen(
        [sys.executable, "-m", "qpan", "--config", str(config), "crawl", "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return child, tmp_path / "qpan.db"


def _wait_for(condition: Callable[[], bool], child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert child.poll() is None, "the crawl ended before the moment to interrupt it"
        assert time.monotonic() < deadline, "the moment to interrupt never came"
        time.sleep(0.05)


def _runs(db: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT id, status FROM crawl_runs ORDER BY id").fetchall()


def _run_row_exists(db: Path) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return bool(_runs(db))
        except sqlite3.OperationalError:  # the writer holds the lock a moment
            return False

    return check


def _finish(child: subprocess.Popen[str], signals: int = 1) -> tuple[int, str]:
    for _ in range(signals):
        child.send_signal(signal.SIGINT)
        time.sleep(0.2)
    _, stderr = child.communicate(timeout=DEADLINE)
    assert "Traceback" not in stderr and "Unhandled error" not in stderr, stderr
    assert stderr.startswith("qpan: stopping…"), stderr
    return child.returncode, stderr


def test_interrupt_while_importing(tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path) -> None:
    child, db = _start(tmp_path, fixture_web, initialised_database)
    time.sleep(0.3)
    code, _ = _finish(child)
    assert code == 130
    assert _runs(db) == []


INTERRUPTED_IN_EXEC = """
import os, signal
from qpan import cli

def _run(argv):
    exec("os.kill(os.getpid(), signal.SIGINT)\\nwhile True: pass", {"os": os, "signal": signal})

cli._run = _run
cli.main([])
"""


def test_interrupt_inside_code_run_by_exec_still_exits_130(tmp_path: Path) -> None:
    """Imports run code through ``exec`` (dataclasses, namedtuples): an interrupt landing there
    once made ``python -m qpan`` kill itself with SIGINT (exit -2) instead of exiting 130."""
    (tmp_path / "interrupted_in_exec.py").write_text(INTERRUPTED_IN_EXEC, encoding="utf-8")
    child = subprocess.run(
        [sys.executable, "-m", "interrupted_in_exec"], cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE
    )
    assert child.returncode == 130, child.stderr
    assert child.stderr.startswith("qpan: stopping…"), child.stderr


def _articles_fetched(web: LocalWeb) -> Callable[[], bool]:
    """Article pages answered: the crawl is under way, and the slow feed (a start URL) in flight.

    The web records a request once it has answered it, so the slow feed itself never shows.
    """
    return lambda: any(record.path.startswith("/bai-viet/") for record in web.requests("congantinh"))


@pytest.mark.parametrize("moment", ["run row written, Scrapy starting", "mid-crawl, a download in flight"])
def test_interrupt_records_the_run(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path, moment: str
) -> None:
    child, db = _start(tmp_path, fixture_web, initialised_database)
    mid_crawl = moment.startswith("mid-crawl")
    _wait_for(_articles_fetched(fixture_web) if mid_crawl else _run_row_exists(db), child)
    code, _ = _finish(child)
    assert code == 130
    assert _runs(db) == [(1, "interrupted")]
    if mid_crawl:  # the spider closed properly: every source's figures were written
        with sqlite3.connect(db) as connection:
            recorded = connection.execute("SELECT count(*) FROM run_sources WHERE run_id = 1").fetchone()[0]
        assert recorded == len(SITES)


def test_second_interrupt_stops_at_once(tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path) -> None:
    child, db = _start(tmp_path, fixture_web, initialised_database)
    _wait_for(_articles_fetched(fixture_web), child)
    code, stderr = _finish(child, signals=2)
    assert code == 130
    assert "qpan: stopping now" in stderr
    assert _runs(db) == [(1, "interrupted")]
