"""The ``qpan`` command's entry point: signals first, then the app, then one line per error.

This module imports nothing heavy: the console script imports it before ``main`` runs, and
Ctrl-C must be handled from the first moment (:mod:`qpan.interrupt`), not after the seconds
the app's imports take. ``main`` is the only place that turns qpan's exceptions into exit
codes, so every command can raise and still end in one clear line: 2 for configuration
errors (Typer itself exits 2 on usage errors), 1 for everything else a user can cause,
130 for an interrupt, never a traceback.
"""

from __future__ import annotations

import os
import sys

from qpan import garbage, interrupt


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"qpan: {message}\n")
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


MAX_DRIVER_MESSAGE = 200


def _database_error(exc: Exception) -> str:
    """``database error (WHERE): what the driver said`` — the driver's words, never the SQL."""
    from sqlalchemy.exc import DBAPIError

    from qpan.context import AppContext

    said = _one_line(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else _one_line(exc)
    said = said.split(" [SQL: ")[0]
    if len(said) > MAX_DRIVER_MESSAGE:
        said = said[: MAX_DRIVER_MESSAGE - 1] + "…"
    where = AppContext.current.database_location() if AppContext.current else None
    return f"database error ({where}): {said}" if where else f"database error: {said}"


def _explain(exc: Exception) -> tuple[str, int] | None:
    """The one line and exit code for an error a user can cause; None for a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    from qpan.config import ConfigError
    from qpan.errors import UserError
    from qpan.storage.db import StorageError

    if isinstance(exc, ConfigError):
        return f"config error: {exc}", 2
    if isinstance(exc, UserError):
        return str(exc), exc.exit_code
    if isinstance(exc, StorageError):
        return f"database error: {exc}", 1
    if isinstance(exc, SQLAlchemyError):
        return _database_error(exc), 1
    if isinstance(exc, OSError):
        return _one_line(exc), 1
    return None


def _stdout_closed() -> bool:
    """Whether standard output's reader has gone: a pipe or socket with no reader polls as
    an error. Where poll cannot tell (no poll, no file descriptor), a broken pipe is taken
    for a closed stdout, the common case."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):
        return True
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in events)


def _run(argv: list[str] | None) -> None:
    with garbage.paused():  # the app's imports: nothing to collect (qpan/garbage.py)
        from qpan.commands.app import app

    try:
        app(args=argv, prog_name="qpan")
    except SystemExit:
        # Typer (like Click) answers a closed stdout with exit 1 after wrapping the streams in
        # its PacifyFlushWrapper; a closed pipe is the reader's choice, not an error.
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            raise BrokenPipeError from None
        raise


def main(argv: list[str] | None = None) -> None:
    try:
        with interrupt.installed():
            try:
                _run(argv)
            finally:
                sys.stdout.flush()  # a closed pipe shows here, inside the handlers, not at exit
    except KeyboardInterrupt:
        if not interrupt.requested():
            sys.stderr.write("qpan: interrupted\n")
        sys.exit(interrupt.EXIT_INTERRUPTED)
    except BrokenPipeError as exc:
        if not _stdout_closed():
            # another pipe broke (a page worker's, say): an error, which exit 0 would hide
            _fail(_one_line(exc), 1)
        # The reader (`head`, a pager) has had enough: end quietly, as `cat` does, with exit 0.
        # Python would flush stdout again at exit and fail, so it is pointed at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:
        explained = _explain(exc)
        if explained is None:
            raise
        _fail(*explained)
