"""A crawl whose articles cannot be stored fails honestly: exit code 1, the run ``failed`` with
the count and the first error, the sources' errors, a health alert — and what was stored
before (the seeds) is intact.

The full disk is SQLite's own: every connection of the crawl process gets
``PRAGMA max_page_count`` at the database's current size (through a ``sitecustomize`` on its
PYTHONPATH, so qpan runs unmodified), and any write that needs a new page fails with
SQLITE_FULL, "database or disk is full" — the error a full disk gives.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_config

from qpan.demo import LocalWeb
from support.cli import run_qpan
from support.receivers import webhook_server

pytestmark = pytest.mark.slow

FULL = "OperationalError: database or disk is full"  # SQLITE_FULL, as a full disk reports it
FULL_DISK = """\
import os
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "connect")
def _full_disk(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA max_page_count = " + os.environ["FULL_DISK_MAX_PAGES"])
"""


def crawl_on_full_disk(config: Path, hooks: Path, *args: str) -> subprocess.CompletedProcess[str]:
    pages = sqlite3.connect(config.parent / "qpan.db").execute("PRAGMA page_count").fetchone()[0]
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    env.update(PYTHONPATH=str(hooks), FULL_DISK_MAX_PAGES=str(pages))
    return subprocess.run(
        [sys.executable, "-m", "qpan", "--config", str(config), "crawl", "--quiet", *args],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def stored_rows(config: Path) -> set[tuple[str, ...]]:
    """Every stored article (here the seeds) with its text, search entry and band keys."""
    database = sqlite3.connect(config.parent / "qpan.db")
    query = (
        "SELECT a.id, a.canonical_url, a.text, (SELECT group_concat(key) FROM dedup_bands WHERE article_id = a.id),"
        " (SELECT count(*) FROM article_search WHERE rowid = a.id) FROM articles a"
    )
    rows = set(database.execute(query).fetchall())
    database.close()
    return rows


def test_articles_not_stored_fail_the_run(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FULL_DISK, encoding="utf-8")
    with webhook_server() as hook:
        config = write_config(tmp_path, fixture_web, alerts={"urls": [hook.url]})
        shutil.copyfile(initialised_database, tmp_path / "qpan.db")
        before = stored_rows(config)
        result = crawl_on_full_disk(config, hooks, "--source", "tinbiengioi", "--source", "baodiaphuong")
        alerts = list(hook.payloads)

    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    runs = json.loads(run_qpan(capsys, "--config", str(config), "runs", "--format", "json").stdout)
    run = runs[0]
    assert run["status"] == "failed"
    lost = {source["source"]: source["dropped"].get("not_stored", 0) for source in run["per_source"]}
    assert lost["tinbiengioi"] > 0 and lost["baodiaphuong"] > 0
    count = sum(lost.values())
    assert run["error"] == f"{count} article(s) could not be stored; first error: {FULL}"
    assert f"run {run['id']}: {run['error']}" in result.stderr
    for source in run["per_source"]:
        assert source["errors"] >= source["dropped"]["not_stored"]
        assert source["error"] == f"article not stored: {FULL}"
    sources = json.loads(run_qpan(capsys, "--config", str(config), "sources", "--format", "json").stdout)
    last_errors = {entry["name"]: entry.get("last_error") for entry in sources}
    assert last_errors["tinbiengioi"] == f"article not stored: {FULL}"
    assert {alert["title"] for alert in alerts} == {
        f"qpan: {lost['baodiaphuong']} article(s) of baodiaphuong not stored",
        f"qpan: {lost['tinbiengioi']} article(s) of tinbiengioi not stored",
    }

    after = stored_rows(config)
    assert len(before) == 5 and before <= after  # the seeds, with their search entries and band keys
    for source in run["per_source"]:  # each article extracted is stored, dropped, or counted as not stored
        stored = sum(row[1].startswith(fixture_web.url(source["source"])) for row in after)
        assert stored == source["extracted"] - sum(source["dropped"].values())
    database = sqlite3.connect(config.parent / "qpan.db")
    assert database.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
