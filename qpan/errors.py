"""Errors a user can cause; the CLI turns each into one line and an exit code."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; ``exit_code`` is what the process returns."""

    exit_code = 1


class NotInitialised(UserError):
    def __init__(self, url: str) -> None:
        super().__init__(f"database {url} is not initialised: run `qpan init` first")
