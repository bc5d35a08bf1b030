"""The crawl's page workers: the per-page CPU work (extraction; cleaning, relevance and the
fingerprint) runs in worker processes, on the cores the reactor does not use.

A crawl is CPU-bound in one process: Scrapy's machinery, the qpan stages and the database
thread all share one GIL, so the second core of a 2-core machine sat idle while the crawl ran
at a fifth of a bare spider's speed. The per-page work is a pure function of the page's bytes
and the crawl's settings, so it can run anywhere (``benchmarks/crawl.py`` has the figures).

* ``QPAN_PAGE_WORKERS`` processes (default: one per core beyond the first, so none on a
  single core, where the work runs inline as before). Each is ``python -m qpan.workers``,
  spawned before Scrapy builds the crawler (``prestart``: ``qpan crawl`` calls it before it even
  imports Scrapy, ``run_crawl`` for the scheduler and the demo), so that its imports run on the
  other core beside the crawl process's own; the crawler adopts them.
* A job is a module-level function and its arguments, pickled in one frame over the worker's
  stdin; the result (or the exception) comes back over its stdout. Both pipes are enlarged to
  hold a few dozen pages (``_enlarge_pipe``). The frames are read and
  written by the reactor's own event loop: ``concurrent.futures.ProcessPoolExecutor`` spends
  two threads per pool on this, and in a process whose GIL is the bottleneck those threads
  cost more than the pickling (measured: a fifth of the crawl process's CPU). A fresh
  interpreter, not a fork: the crawl process has threads, and a script that starts a crawl
  is never re-imported in the worker, as multiprocessing does with ``__main__``.
* The workers ignore SIGINT and SIGTERM: Ctrl-C reaches the whole process group, and so does
  the SIGTERM of the scheduler's time limit or of ``systemctl stop``; the crawl process shuts
  down gracefully, awaiting the pages still in the workers, before it ends them.
* A worker that dies (killed, out of memory) is logged once; its jobs and every later one run
  inline, in the crawl process, so no page is lost.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO

from qpan import defaults
from qpan.garbage import paused, tune_for_throughput

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: What every page worker imports at start, before its first page: extraction, cleaning,
#: relevance and the fingerprint, and tldextract, which extraction's check of a page's registrable
#: domain would otherwise import on a real site's first article (``qpan.crawler.urls``).
WORKER_MODULES = (
    "qpan.crawler.extraction",
    "qpan.pipelines.stages.prepare",
    "qpan.pipelines.stages.clean",
    "qpan.pipelines.stages.relevance",
    "qpan.pipelines.stages.fingerprint",
    "tldextract",
)
_FRAME = struct.Struct("<I")  # payload length
_ARGV_MARKER = "qpan-page-worker"
PIPE_BYTES = 1 << 20  # Linux's default pipe-max-size for an unprivileged process
_EXIT_POLL = 0.01  # seconds between checks that a worker that closed its output has exited


def default_processes() -> int:
    """One worker per core beyond the first (the reactor's); none on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, cores - 1)


class WorkerDied(Exception):
    """The worker process ended with jobs outstanding."""


class _Worker:
    """One worker process and its outstanding jobs, served by the event loop."""

    def __init__(
        self, process: subprocess.Popen[bytes], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.process = process
        self.writer = writer
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.reader = asyncio.ensure_future(self._read(reader))

    @classmethod
    async def attach(cls, process: subprocess.Popen[bytes]) -> _Worker:
        """Serve a started process's pipes from the running loop."""
        assert process.stdin is not None and process.stdout is not None
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=PIPE_BYTES, loop=loop)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), process.stdout)
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, process.stdin)
        return cls(process, reader, asyncio.StreamWriter(transport, protocol, None, loop))

    def send(self, job: int, function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.writer.write(_frame(job, function, args, kwargs))

    async def drain(self) -> None:
        await self.writer.drain()

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _FRAME.unpack(await stdout.readexactly(_FRAME.size))
                job, ok, value = pickle.loads(await stdout.readexactly(size))
                future = self.pending.pop(job, None)  # None: a warm-up, whose result nobody awaits
                if future is not None and not future.done():
                    future.set_result(value) if ok else future.set_exception(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        died = WorkerDied(f"page worker {self.process.pid} ended")
        for future in self.pending.values():
            if not future.done():
                future.set_exception(died)
        self.pending.clear()

    async def close(self) -> None:
        """Tell the worker to end (EOF on its stdin) once it has answered every job."""
        if not self.writer.is_closing():
            self.writer.close()
        await self.reader
        while self.process.poll() is None:  # it has closed its stdout: it is exiting
            await asyncio.sleep(_EXIT_POLL)


class PageWorkers:
    """Runs pure functions in worker processes; inline when there are none or they died."""

    def __init__(self, processes: int, log_level: str = "WARNING", log_file: str | None = None) -> None:
        self.processes = processes
        self.log_level = log_level
        self.log_file = log_file
        self._spawned: list[subprocess.Popen[bytes]] = []
        self._workers: list[_Worker] = []
        self._starting: asyncio.Task[None] | None = None
        self._jobs = itertools.count()
        self._dead = False
        self._warmups: list[tuple[str, tuple[Any, ...]]] = []
        self.adopted = False  # by a crawler (see ``prestart``)

    def warm(self, function: str, *args: Any) -> None:
        """Have every worker run ``function(*args)`` before its first job, result unused: the
        set-up a job caches (the prepare stage's theme profile and boilerplate rules, 0.15 s) is
        then done while the worker would wait for the first page anyway. Callable before the
        event loop runs; a worker spawned later runs it first."""
        self._warmups.append((function, args))
        for process in self._spawned:
            if process.stdin is not None and not process.stdin.closed:
                try:
                    process.stdin.write(_frame(-len(self._warmups), function, args, {}))
                    process.stdin.flush()
                except OSError:
                    pass  # the worker has died: its reader will say so once the loop serves it

    def spawn(self) -> None:
        """Start the processes now, before any event loop runs: a worker's imports take about
        as long as the crawl process's own, so spawned first thing they overlap instead of
        holding up the first pages."""
        if self._spawned or self._dead or self.processes <= 0:
            return
        command = [sys.executable, "-P", "-m", "qpan.workers", _ARGV_MARKER, self.log_level, self.log_file or ""]
        try:
            for _ in range(self.processes):
                process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                self._spawned.append(process)
                assert process.stdin is not None and process.stdout is not None
                for pipe in (process.stdin, process.stdout):
                    _enlarge_pipe(pipe.fileno())
                for number, (function, args) in enumerate(self._warmups, start=1):
                    process.stdin.write(_frame(-number, function, args, {}))
                process.stdin.flush()
        except OSError as exc:
            self._give_up(f"page workers could not start ({exc})")

    async def start(self) -> None:
        """Serve the workers' pipes from the running loop, spawning them first if need be."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._attach())
        await self._starting

    async def _attach(self) -> None:
        self.spawn()
        for process in self._spawned:
            self._workers.append(await _Worker.attach(process))

    async def run(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the least busy worker, or inline; its exceptions reach
        the caller. ``function`` is named by its import path ("package.module.name"), so the
        crawl process never imports what only the workers run (extraction, cleaning: 0.3 s)."""
        await self.start()
        live = [worker for worker in self._workers if not worker.reader.done()]
        if live:
            worker = min(live, key=lambda candidate: len(candidate.pending))
            job = next(self._jobs)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            worker.pending[job] = future
            try:
                worker.send(job, function, args, kwargs)
                await worker.drain()
                return await future
            except (WorkerDied, ConnectionError) as exc:
                worker.pending.pop(job, None)
                self._give_up(f"a page worker process died ({exc})")
        elif self._workers:
            self._give_up("the page worker processes died")
        return job_function(function)(*args, **kwargs)

    def _give_up(self, why: str) -> None:
        if not self._dead:
            self._dead = True
            logger.warning("%s; the crawl does the per-page work itself from now on", why)

    async def shutdown(self) -> None:
        """End the workers once the jobs given to them are answered."""
        workers, self._workers = self._workers, []
        for worker in workers:
            await worker.close()
        self.discard()

    def discard(self) -> None:
        """End processes spawned but never served (the crawl failed before its engine started):
        closing their stdin ends them."""
        spawned, self._spawned = self._spawned, []
        for process in spawned:
            if process.stdin is not None and not process.stdin.closed:
                with suppress(OSError):  # a killed worker: the warm-ups still buffered have nobody to read them
                    process.stdin.close()
            if process.stdout is not None:
                process.stdout.close()
            process.wait()


_ATTRIBUTE = "_qpan_page_workers"
_prestarted: PageWorkers | None = None


def prestart(processes: int | None, log_level: str, log_file: str | None) -> None:
    """Spawn this process's page workers ahead of its crawler (``qpan crawl`` and ``run_crawl``
    call it before Scrapy builds anything); the crawler adopts them if it asks for the same ones."""
    global _prestarted
    if _prestarted is None or _prestarted.adopted:
        _prestarted = PageWorkers(default_processes() if processes is None else processes, log_level, log_file)
        _prestarted.spawn()


def discard_prestarted() -> None:
    """End what is left of the prestarted workers once the crawl is over: all of them when no
    crawler adopted them or its engine never started (interrupted during start-up); nothing
    when the engine's end shut them down already."""
    global _prestarted
    workers, _prestarted = _prestarted, None
    if workers is not None:
        workers.discard()


def _adopt(processes: int, log_level: str, log_file: str | None) -> PageWorkers | None:
    global _prestarted
    workers = _prestarted
    if workers is None or workers.adopted:
        return None
    if (workers.processes, workers.log_level, workers.log_file) == (processes, log_level, log_file):
        workers.adopted = True
        return workers
    _prestarted = None
    workers.discard()
    return None


def crawler_page_workers(crawler: Crawler) -> PageWorkers:
    """The one set of page workers of a crawler (created by whichever component asks first, or
    adopted from ``prestart``), served from when the engine starts and ended when it has
    stopped, after every item."""
    from scrapy import signals  # not at the top: qpan's core does not import Scrapy for everyone

    workers: PageWorkers | None = getattr(crawler, _ATTRIBUTE, None)
    if workers is None:
        settings = crawler.settings
        processes = settings.get("QPAN_PAGE_WORKERS", defaults.QPAN_PAGE_WORKERS)
        count = default_processes() if processes is None else int(processes)
        level, log_file = settings.get("LOG_LEVEL", "WARNING"), settings.get("LOG_FILE")
        workers = _adopt(count, level, log_file) or PageWorkers(count, log_level=level, log_file=log_file)
        crawler.signals.connect(workers.start, signal=signals.engine_started)
        crawler.signals.connect(workers.shutdown, signal=signals.engine_stopped)
        setattr(crawler, _ATTRIBUTE, workers)
    return workers


@cache
def job_function(path: str) -> Callable[..., Any]:
    """The function an import path names."""
    module, _, name = path.rpartition(".")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def _frame(job: int, function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """A job as it goes down a worker's stdin: its length, then the pickle."""
    payload = pickle.dumps((job, function, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(payload)) + payload


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    return stream.read(_FRAME.unpack(header)[0])


def _portable(exc: Exception) -> Exception:
    """The exception itself if it survives pickling both ways, else its text in a RuntimeError
    (an exception class whose ``__init__`` takes other arguments than it stores does not)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The worker's loop: one job at a time until the crawl process closes its stdin."""
    while (frame := _read_frame(requests)) is not None:
        job, function, args, kwargs = pickle.loads(frame)
        try:
            result = job_function(function)(*args, **kwargs)
            payload = pickle.dumps((job, True, result), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # raised in the crawl process as if the job had run there
            payload = pickle.dumps((job, False, _portable(exc)), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            replies.write(_FRAME.pack(len(payload)) + payload)
            replies.flush()
        except BrokenPipeError:
            return  # the crawl process has gone (it was interrupted during start-up): nobody to answer


def _enlarge_pipe(fd: int) -> None:
    """Room for a few dozen pages in each direction: a default pipe (64 KiB) holds one or two
    40 KB pages, so the worker went idle whenever the reactor spent a few milliseconds elsewhere
    before refilling it, and the two processes took turns instead of working side by side."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over the system's pipe-max-size: the default pipe still works


def main(argv: list[str]) -> None:
    """``python -m qpan.workers qpan-page-worker LEVEL [LOGFILE]``: started by ``PageWorkers``."""
    if argv[:1] != [_ARGV_MARKER]:
        raise SystemExit("qpan.workers is started by a crawl, not by hand")
    level, log_file = argv[1], argv[2] or None
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_IGN)
    logging.basicConfig(level=level, filename=log_file, format="%(levelname)s %(name)s: %(message)s")
    with paused():  # until tune_for_throughput: no collection while the imports build (qpan/garbage.py)
        for name in WORKER_MODULES:
            importlib.import_module(name)
        tune_for_throughput()
    # the job frames own stdout: anything a job prints goes to stderr instead
    replies, sys.stdout = sys.stdout.buffer, sys.stderr
    serve(sys.stdin.buffer, replies)
    # Every answer is written and the crawl process waits for this exit: the interpreter's
    # teardown, which frees each of the worker's objects one by one (0.05 s), serves nobody.
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
