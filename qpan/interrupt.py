"""Ctrl-C and SIGTERM for the whole process: one "stopping…" line at once, then a stop that fits the moment.

The CLI installs the handler before it imports anything heavy, so an interrupt during the
seconds of start-up imports ends the same way as any other: no traceback, exit 130. Outside a
crawl the first signal raises ``KeyboardInterrupt``. A crawl hands over a ``stop`` callable
while it runs (:func:`stopping_with`); the signal then calls ``stop(force)`` instead of
raising, so the run row, the store's last batch and the per-source figures are written
before the process ends. The second signal passes ``force=True``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130

Stopper = Callable[[bool], None]

_FIRST = "qpan: stopping… (press Ctrl-C again to stop at once)\n".encode()
_AGAIN = b"qpan: stopping now\n"


class Interrupted(KeyboardInterrupt):
    """What the first signal raises outside a crawl: a ``KeyboardInterrupt`` to every handler.

    A subclass because CPython (3.11) marks a bare ``KeyboardInterrupt`` that leaves code run by
    ``exec`` (dataclasses and namedtuples build their methods that way while a module imports)
    as unhandled, and ``python -m qpan`` then ends by killing itself with SIGINT instead of
    exiting 130, although ``main`` caught it. The mark is set for that exact class only.
    """


class _State:
    signals = 0
    stopper: Stopper | None = None


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _State.signals += 1
    # os.write, not print: a signal handler may interrupt a print to the same stream.
    os.write(2, _FIRST if _State.signals == 1 else _AGAIN)
    if _State.stopper is None:
        raise Interrupted
    _State.stopper(_State.signals > 1)


@contextmanager
def installed() -> Iterator[None]:
    """Handle SIGINT and SIGTERM while the block runs (the scheduler and web server install their own).

    The previous handlers come back afterwards: ``main`` also runs inside test processes.
    """
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    _State.signals = 0
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def requested() -> bool:
    """True once a stop was asked for (and announced) in this process."""
    return _State.signals > 0


@contextmanager
def stopping_with(stopper: Stopper) -> Iterator[None]:
    """While the block runs, a signal calls ``stopper(force)`` instead of raising ``KeyboardInterrupt``."""
    previous, _State.stopper = _State.stopper, stopper
    try:
        yield
    finally:
        _State.stopper = previous


def record_only(force: bool) -> None:
    """A stopper for a short section that must not be cut: the request is only remembered."""
