"""Run the real ``qpan`` entry point in-process and capture what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from qpan.cli import main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_qpan(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    capsys.readouterr()
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def qpan_process(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``qpan --config CONFIG ARGS`` as a child process, as a user or the scheduler runs it.

    Crawls must run this way: Scrapy's reactor cannot be restarted inside one process.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    return subprocess.run(
        [sys.executable, "-m", "qpan", "--config", str(config), *args],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
