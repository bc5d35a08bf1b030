"""The page workers (qpan/workers.py): jobs run in another process and come back as if run here;
a dead worker costs no job; Ctrl-C does not reach them; a crawl stores the same articles with
and without them."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from scrapy.utils.test import get_crawler
from sqlalchemy import select, text

from qpan import workers as workers_module
from qpan.demo import LocalWeb
from qpan.pipelines.normalize import search_document
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article
from qpan.workers import PageWorkers, crawler_page_workers, discard_prestarted, prestart
from support.cli import qpan_process

GETPID = "os.getpid"


class Unpicklable(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} and {second}")


def raise_unpicklable() -> None:
    raise Unpicklable("one", "two")


def touch(path: str) -> str:
    Path(path).touch()
    return path


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_job_runs_in_a_worker_and_its_result_and_exceptions_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # the worker imports this module's job
    async def scenario() -> tuple[int, int, str, str]:
        workers = PageWorkers(1)
        try:
            pid = await workers.run(GETPID)
            number = await workers.run("builtins.int", "42")
            with pytest.raises(ValueError, match="invalid literal") as raised:
                await workers.run("builtins.int", "x")
            with pytest.raises(RuntimeError, match="Unpicklable: one and two") as unpicklable:
                await workers.run(f"{__name__}.raise_unpicklable")
            return pid, number, str(raised.value), str(unpicklable.value)
        finally:
            await workers.shutdown()

    pid, number, _, _ = run(scenario())
    assert pid != os.getpid()
    assert number == 42


@pytest.mark.parametrize("spawned_first", [False, True])
def test_a_warm_up_runs_before_the_first_job_and_its_result_goes_nowhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spawned_first: bool
) -> None:
    """The prepare stage has each worker build its stages while no page has arrived yet."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    marks = [tmp_path / "one", tmp_path / "two"]
    workers = PageWorkers(1)
    if spawned_first:
        workers.spawn()
    for mark in marks:
        workers.warm(f"{__name__}.touch", str(mark))

    async def scenario() -> tuple[list[bool], list[int]]:
        try:
            first = await workers.run(GETPID)
            seen = [mark.exists() for mark in marks]  # jobs run in order: the warm-ups came first
            return seen, [first, *[await workers.run("builtins.int", str(n)) for n in range(3)]]
        finally:
            await workers.shutdown()

    seen, results = run(scenario())
    assert seen == [True, True]
    assert results[0] != os.getpid()
    assert results[1:] == [0, 1, 2]


def test_without_workers_the_job_runs_inline() -> None:
    async def scenario() -> int:
        workers = PageWorkers(0)
        try:
            return await workers.run(GETPID)
        finally:
            await workers.shutdown()

    assert run(scenario()) == os.getpid()


def test_a_killed_worker_costs_no_job_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[int]:
        workers = PageWorkers(1)
        try:
            pid = await workers.run(GETPID)
            os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.2)
            return [await workers.run(GETPID) for _ in range(3)]
        finally:
            await workers.shutdown()

    with caplog.at_level(logging.WARNING, logger="qpan.workers"):
        pids = run(scenario())
    assert pids == [os.getpid()] * 3
    assert [record.getMessage() for record in caplog.records].count(
        "the page worker processes died; the crawl does the per-page work itself from now on"
    ) == 1


def test_jobs_outstanding_when_a_worker_dies_run_inline() -> None:
    async def scenario() -> list[Any]:
        workers = PageWorkers(1)
        try:
            pid = await workers.run(GETPID)
            slow = asyncio.ensure_future(workers.run("time.sleep", 5))
            await asyncio.sleep(0.5)
            os.kill(pid, signal.SIGKILL)
            return [await asyncio.wait_for(slow, 10), await workers.run(GETPID)]
        finally:
            await workers.shutdown()

    assert run(scenario()) == [None, os.getpid()]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_workers_ignore_ctrl_c_and_sigterm(stop: signal.Signals) -> None:
    """Both reach the whole process group; the crawl process ends its workers itself."""

    async def scenario() -> tuple[int, int]:
        workers = PageWorkers(1)
        try:
            pid = await workers.run(GETPID)
            os.kill(pid, stop)
            await asyncio.sleep(0.3)
            return pid, await workers.run(GETPID)
        finally:
            await workers.shutdown()

    before, after = run(scenario())
    assert before == after != os.getpid()


def test_a_worker_killed_before_it_was_served_is_ended_without_an_error() -> None:
    """A stop during start-up: the warm-up written after the worker died stays buffered, and
    closing its pipe raised BrokenPipeError, which the CLI took for a closed stdout (exit 0)."""
    workers = PageWorkers(1)
    workers.spawn()
    [process] = workers._spawned
    process.kill()
    process.wait()
    workers.warm("os.getpid")
    workers.discard()


def test_shutdown_answers_every_job_first() -> None:
    async def scenario() -> list[Any]:
        workers = PageWorkers(1)
        jobs = [asyncio.ensure_future(workers.run("time.sleep", 0.1)) for _ in range(5)]
        await asyncio.sleep(0.05)
        await workers.shutdown()
        return [job.result() for job in jobs]

    assert run(scenario()) == [None] * 5


def test_a_crawler_adopts_the_workers_started_ahead_of_it() -> None:
    """``run_crawl`` spawns the workers before Scrapy builds the crawler, so their start-up
    overlaps the crawl process's own; the crawler must use those, not start others."""
    prestart(1, "WARNING", None)
    crawler = get_crawler(settings_dict={"QPAN_PAGE_WORKERS": 1, "LOG_LEVEL": "WARNING", "LOG_FILE": None})
    workers = crawler_page_workers(crawler)
    spawned = [process.pid for process in workers._spawned]

    async def scenario() -> int:
        try:
            return await workers.run(GETPID)
        finally:
            await workers.shutdown()

    assert [run(scenario())] == spawned
    discard_prestarted()


def test_adopted_workers_whose_crawl_never_started_are_ended() -> None:
    """Ctrl-C while Scrapy starts: the engine never starts, so never stops to end them."""
    prestart(1, "WARNING", None)
    crawler = get_crawler(settings_dict={"QPAN_PAGE_WORKERS": 1, "LOG_LEVEL": "WARNING", "LOG_FILE": None})
    [process] = crawler_page_workers(crawler)._spawned
    discard_prestarted()
    assert process.poll() is not None


def test_workers_started_for_other_settings_are_ended_not_used() -> None:
    prestart(1, "DEBUG", None)
    ahead = workers_module._prestarted
    assert ahead is not None
    process = ahead._spawned[0]
    crawler = get_crawler(settings_dict={"QPAN_PAGE_WORKERS": 0, "LOG_LEVEL": "WARNING"})
    assert crawler_page_workers(crawler).processes == 0
    assert process.poll() is not None  # ended, not left behind
    assert workers_module._prestarted is None


def test_workers_no_crawler_adopted_are_ended() -> None:
    prestart(1, "WARNING", None)
    ahead = workers_module._prestarted
    assert ahead is not None
    process = ahead._spawned[0]
    discard_prestarted()
    assert process.poll() is not None


#: A fresh interpreter that has done what a page worker does before its first page.
WARMED_WORKER = (
    "import importlib, json, sys\n"
    "from qpan import workers\n"
    "from qpan.pipelines.stages import prepare\n"
    "for name in workers.WORKER_MODULES: importlib.import_module(name)\n"
    "prepare.warm(100000, json.dumps({}))\n"
)


def after_warm_up(script: str) -> str:
    """What ``script`` prints, run in a fresh interpreter after a page worker's imports and warm-up."""
    return subprocess.run(
        [sys.executable, "-c", WARMED_WORKER + script], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_worker_starts_without_the_database_layer() -> None:
    """A worker's imports and warm-up are on the way to the first page; SQLAlchemy and the ORM
    models (0.35-0.45 s) are the crawl process's business, not the per-page work's."""
    assert after_warm_up("print(sorted(name for name in sys.modules if name.split('.')[0] == 'sqlalchemy'))") == "[]"


def test_a_workers_first_page_imports_nothing_its_warm_up_could() -> None:
    """The worker imports and builds what a page needs while it waits for the first one; what the
    first page still had to import (numpy's random module for the MinHash permutations, tldextract
    for a real site's registrable domain) delayed it by 10-40 ms."""
    page = Path(__file__).with_name("pages") / "baochinhphu" / "meta_pubdate.html"
    first_page = (
        "before = set(sys.modules)\n"
        "from qpan.crawler.extraction import extract_article\n"
        f"body = open({str(page)!r}, 'rb').read()\n"
        "item = extract_article(body, 'https://baochinhphu.vn/a-1.htm', source='baochinhphu')\n"
        "prepared = prepare.prepare(dict(item), 100000, json.dumps({}))\n"
        "assert prepared.fields['minhash'] and prepared.fields['text']\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    assert after_warm_up(first_page) == "[]"


def test_a_worker_pipe_holds_many_pages() -> None:
    """With the default 64 KiB pipe a 40 KB page filled it, and the worker idled whenever the
    reactor was busy elsewhere (``qpan.workers._enlarge_pipe``)."""
    fcntl = pytest.importorskip("fcntl")
    if not hasattr(fcntl, "F_GETPIPE_SZ"):
        pytest.skip("pipe sizes are a Linux feature")
    workers = PageWorkers(1)
    workers.spawn()
    try:
        process = workers._spawned[0]
        assert process.stdin is not None and process.stdout is not None
        for pipe in (process.stdin, process.stdout):
            assert fcntl.fcntl(pipe.fileno(), fcntl.F_GETPIPE_SZ) >= 25 * 40_000
    finally:
        workers.discard()


def stored(config: Path) -> dict[str, tuple[Any, ...]]:
    """Each article's columns that the page workers compute, and its search index entry."""
    database = Database(f"sqlite:///{config.parent / 'qpan.db'}")
    columns = ("title", "published", "author", "text", "raw_text", "relevance", "content_hash", "minhash")
    with database.session() as session:
        index = dict(session.execute(text("SELECT rowid, body FROM article_search")).all())
        rows = {
            article.canonical_url: (*(getattr(article, column) for column in columns), index[article.id])
            for article in session.scalars(select(Article).where(Article.source != SEED_SOURCE))
        }
    database.dispose()
    return rows


@pytest.mark.slow
def test_a_crawl_stores_the_same_articles_with_and_without_page_workers(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    results = {}
    for workers in (0, 1):
        folder = tmp_path / f"workers-{workers}"
        folder.mkdir()
        config = write_config(folder, fixture_web, crawl={"page_workers": workers})
        (folder / "qpan.db").write_bytes(initialised_database.read_bytes())
        result = qpan_process(config, "crawl", "--quiet")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        results[workers] = stored(config)
    assert len(results[1]) == 23
    assert results[1] == results[0]
    for row in results[1].values():  # the search entry a worker folded is the title's and text's words
        assert row[-1] == search_document(row[0], row[3])
