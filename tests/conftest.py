"""Shared pytest fixtures. Each helper adds its own fixtures here; keep them small and additive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qpan.demo import LocalWeb
from qpan.demo.config import write_config as _write_config
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade

FIXTURE_WEB = Path(__file__).with_name("fixtureweb")


@pytest.fixture
def fixture_web() -> Iterator[LocalWeb]:
    """A started LocalWeb of tests/fixtureweb, fresh for every test (tests mutate it)."""
    with LocalWeb.from_directory(FIXTURE_WEB) as web:
        yield web


def write_config(tmp_path: Path, web: LocalWeb, **overrides: Any) -> Path:
    """qpan.toml in ``tmp_path`` for ``web``: SQLite in ``tmp_path``, only the web's sources.

    ``overrides`` are tables by name, e.g. ``crawl={"since_days": 7}``, ``alerts={"urls": [...]}``,
    ``sources=[...]`` (replaces ``web.sources()``).
    """
    database = f"sqlite:///{tmp_path / 'qpan.db'}"
    return _write_config(tmp_path / "qpan.toml", web, database, **overrides)


@pytest.fixture(scope="session")
def initialised_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``qpan init`` database (schema + seeds), made once per test process: copy it, never write it."""
    from support.cli import qpan_process

    folder = tmp_path_factory.mktemp("initialised")
    config = folder / "qpan.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{folder / "qpan.db"}"\n', encoding="utf-8")
    result = qpan_process(config, "init")
    assert result.returncode == 0, result.stderr
    return folder / "qpan.db"


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """A SQLite database in ``tmp_path`` at the newest schema, disposed of afterwards."""
    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder as the working directory, and no QPAN_* settings from the outside (CLI tests)."""
    for name in ("QPAN_CONFIG", "QPAN_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def initialised_workdir(workdir: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``workdir`` after ``qpan init``: ./qpan.db with the schema and the seeds."""
    from support.cli import run_qpan

    assert run_qpan(capsys, "init").code == 0
    return workdir
