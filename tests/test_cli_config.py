"""``qpan config init`` writes a starter that loads; ``qpan config show`` tells values, origins, and no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.cli import run_qpan


@pytest.fixture
def folder(workdir: Path) -> Path:
    return workdir


def shown(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, object]]:
    result = run_qpan(capsys, *args, "config", "show", "--format", "json")
    assert result.code == 0, result.stderr
    return {row["key"]: row for row in json.loads(result.stdout)}


def test_init_writes_a_starter_that_loads_and_never_overwrites(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_qpan(capsys, "config", "init").code == 0
    starter = (folder / "qpan.toml").read_text(encoding="utf-8")
    assert "[alerts]" in starter and "since_days" in starter
    assert shown(capsys)["crawl.since_days"] == {"key": "crawl.since_days", "value": 30, "from": "default"}
    (folder / "qpan.toml").write_text("[crawl]\nsince_days = 7\n", encoding="utf-8")
    refused = run_qpan(capsys, "config", "init")
    assert refused.code == 1 and "already exists" in refused.stderr
    assert (folder / "qpan.toml").read_text(encoding="utf-8") == "[crawl]\nsince_days = 7\n"
    assert run_qpan(capsys, "config", "init", "--force").code == 0
    assert (folder / "qpan.toml").read_text(encoding="utf-8") == starter


def test_show_gives_origins_and_masks_secrets(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (folder / "qpan.toml").write_text(
        '[crawl]\nsince_days = 7\nredis_url = "redis://:r3dispass@cache:6379/2"\n'
        '[alerts]\nurls = ["tgram://123456:SECRETBOT/987", "mailtos://user:mailpass@gmail.com?to=a@example.org"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("QPAN_DATABASE_URL", "postgresql+psycopg://qpan:dbpass@db.example.org/qpan")
    rows = shown(capsys)
    assert rows["crawl.since_days"]["from"] == "file" and rows["crawl.since_days"]["value"] == 7
    assert rows["crawl.concurrent_requests"]["from"] == "default"
    assert rows["database.url"] == {
        "key": "database.url", "value": "postgresql+psycopg://qpan:***@db.example.org/qpan",
        "from": "env QPAN_DATABASE_URL",
    }
    assert rows["crawl.redis_url"]["value"] == "redis://:***@cache:6379/2"
    assert rows["alerts.urls"]["value"] == ["tgram://***", "mailtos://***"]
    text = run_qpan(capsys, "config", "show").stdout + json.dumps(rows)
    for secret in ("SECRETBOT", "mailpass", "dbpass", "r3dispass", "123456"):
        assert secret not in text
