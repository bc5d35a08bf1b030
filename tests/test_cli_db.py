"""``qpan db check|vacuum|backup`` on a real database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from support.cli import run_qpan
from support.services import fresh_postgres_database


@pytest.fixture
def project(initialised_workdir: Path) -> Path:
    return initialised_workdir


def test_check_and_vacuum(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checked = run_qpan(capsys, "db", "check")
    assert checked.code == 0 and checked.stderr.strip().endswith("qpan.db: ok")
    assert run_qpan(capsys, "db", "vacuum").code == 0
    assert run_qpan(capsys, "articles", "--include-seeds", "--format", "csv").stdout.count("\n") == 6


def test_backup_is_a_working_copy(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = project / "copy.db"
    assert run_qpan(capsys, "db", "backup", str(target)).code == 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = run_qpan(capsys, "db", "backup", str(target))
    assert again.code == 1 and "already exists" in again.stderr


@pytest.mark.postgres
def test_postgres_backup_points_to_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with fresh_postgres_database() as url:
        monkeypatch.setenv("QPAN_DATABASE_URL", url)
        result = run_qpan(capsys, "db", "backup", "x.db")
    assert result.code == 2 and "pg_dump" in result.stderr
    assert not (tmp_path / "x.db").exists()
