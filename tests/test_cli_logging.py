"""``-v``, ``--log-level`` and ``--log-file`` reach Scrapy's log, so a user can see why a source yields nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_config

from qpan.demo import LocalWeb
from support.cli import qpan_process

pytestmark = pytest.mark.slow


def test_log_level_and_file_reach_the_crawl(tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path) -> None:
    config = write_config(tmp_path, fixture_web, sources=[s for s in fixture_web.sources() if s["name"] == "timkiem"])
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    quiet = qpan_process(config, "crawl", "--quiet")
    assert "Spider opened" not in quiet.stderr

    log = tmp_path / "crawl.log"
    logged = qpan_process(config, "--log-level", "info", "--log-file", str(log), "crawl", "--quiet")
    assert logged.returncode == 0, logged.stderr
    assert log.read_text(encoding="utf-8").count("Spider opened") == 1, "one handler writes each line"
    assert "Spider opened" not in logged.stderr

    verbose = qpan_process(config, "-v", "crawl", "--quiet", "--format", "json")
    assert verbose.stderr.count("INFO scrapy.core.engine: Spider opened") == 1
    assert " DEBUG " not in verbose.stderr, "-v is INFO: Scrapy's DEBUG lines stay out"
    summary = json.loads(verbose.stdout)  # `--format json`: the summary alone on stdout, logs beside it
    assert summary["status"] == "ok" and summary["exit_code"] == 0
    assert [row["source"] for row in summary["sources"]] == ["timkiem"] and summary["sources"][0]["reached"]


def test_crawls_started_for_a_verbose_scheduler_inherit_the_level(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    """The scheduler's crawl children get no options, only the environment the root options set."""
    config = write_config(tmp_path, fixture_web, sources=[s for s in fixture_web.sources() if s["name"] == "timkiem"])
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    child = subprocess.run(
        [sys.executable, "-m", "qpan", "--config", str(config), "crawl", "--quiet"],
        cwd=tmp_path, env={**env, "QPAN_LOG_LEVEL": "INFO"}, capture_output=True, text=True, timeout=120, check=False,
    )
    assert "Spider opened" in child.stderr
