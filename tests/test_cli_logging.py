"""``-v``, ``--log-level`` and ``--log-file`` reach Scrapy's log, so a user can see why a source yields nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from qpan.demo import LocalWeb
from tests.conftest import write_config
from tests.support.cli import qpan_process

pytestmark = pytest.mark.slow


def test_log_level_and_file_reach_the_crawl(tmp_path: Path, fixture_web: LocalWeb) -> None:
    config = write_config(tmp_path, fixture_web, sources=[s for s in fixture_web.sources() if s["name"] == "timkiem"])
    assert qpan_process(config, "init").returncode == 0
    quiet = qpan_process(config, "crawl", "--quiet")
    assert "Spider opened" not in quiet.stderr

    log = tmp_path / "crawl.log"
    logged = qpan_process(config, "--log-level", "info", "--log-file", str(log), "crawl", "--quiet")
    assert logged.returncode == 0, logged.stderr
    assert "Spider opened" in log.read_text(encoding="utf-8")
    assert "Spider opened" not in logged.stderr

    verbose = qpan_process(config, "-v", "crawl", "--quiet")
    assert "INFO scrapy.core.engine: Spider opened" in verbose.stderr
