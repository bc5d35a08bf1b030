"""``qpan demo --db FILE`` never writes over the user's files and never creates folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.cli import run_qpan

USER_CONFIG = '[database]\nurl = "sqlite:///mine.db"\n'


def test_demo_db_leaves_the_folder_config_alone(tmp_path: Path) -> None:
    (tmp_path / "qpan.toml").write_text(USER_CONFIG, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")} | {"COLUMNS": "400"}
    done = subprocess.run(
        [sys.executable, "-m", "qpan", "demo", "--db", "demo.db"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "qpan.toml").read_text(encoding="utf-8") == USER_CONFIG
    demo_config = tmp_path / "demo.db.qpan.toml"
    assert "demo.db" in demo_config.read_text(encoding="utf-8")
    assert f"--config {demo_config}" in done.stdout


def test_demo_db_in_a_missing_folder_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "nonexist" / "x.db"
    result = run_qpan(capsys, "demo", "--db", str(target))
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and "does not exist" in result.stderr
    assert not target.parent.exists()


def test_demo_db_refuses_an_existing_demo_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    mine = tmp_path / "x.db.qpan.toml"
    mine.write_text(USER_CONFIG, encoding="utf-8")
    result = run_qpan(capsys, "demo", "--db", str(tmp_path / "x.db"))
    assert result.code == 2 and "already exists" in result.stderr
    assert mine.read_text(encoding="utf-8") == USER_CONFIG
    assert not (tmp_path / "x.db").exists()
