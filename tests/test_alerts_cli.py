"""``qpan alerts test|send`` and the outbox listing, through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qpan.scheduler.alerts import enqueue_after_run
from support.alerting import VIETNAMESE_TITLES, alert_config, migrated_database, new_run, store_relevant
from support.cli import run_qpan
from support.receivers import free_port, smtp_server, webhook_server


def _config(tmp_path: Path, urls: list[str]) -> str:
    path = tmp_path / "qpan.toml"
    database = f"sqlite:///{tmp_path / 'qpan.db'}"
    path.write_text(f"[database]\nurl = {json.dumps(database)}\n[alerts]\nurls = {json.dumps(urls)}\n", "utf-8")
    return str(path)


def test_alerts_test_reports_each_channel_and_fails_if_one_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down = f"json://127.0.0.1:{free_port()}/hook"
    with webhook_server() as hook, smtp_server() as mailbox:
        config = _config(tmp_path, [hook.url, mailbox.url, down, "nosuchservice://x"])
        result = run_qpan(capsys, "--config", config, "alerts", "test", "--format", "json")
    assert result.code == 1
    rows = json.loads(result.stdout)
    assert [row["result"] for row in rows] == ["ok", "ok", "failed", "failed"]
    assert "Connection" in rows[2]["error"] and "not a valid Apprise URL" in rows[3]["error"]
    assert [row["format"] for row in rows[:2]] == ["text", "html"]
    assert len(hook.payloads) == 1 and "Bộ Quốc phòng" in hook.payloads[0]["message"]
    assert len(mailbox.messages) == 1 and "thông báo thử" in mailbox.messages[0]["subject"]


def test_alerts_test_succeeds_when_every_channel_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with webhook_server() as hook:
        result = run_qpan(capsys, "--config", _config(tmp_path, [hook.url]), "alerts", "test")
    assert result.code == 0 and "ok" in result.stdout
    assert hook.url.split("//")[1].split("/")[0] in result.stdout


def test_no_channel_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "--config", _config(tmp_path, []), "alerts", "test")
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and "no alert channel configured" in result.stderr


def test_secrets_never_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "S3cr3tPassw0rd"
    url = f"mailto://qpan:{secret}@127.0.0.1:{free_port()}?from=qpan@example.org&to=a@example.org"
    result = run_qpan(capsys, "--config", _config(tmp_path, [url]), "alerts", "test")
    assert result.code == 1 and secret not in result.stdout + result.stderr


def test_send_flushes_the_outbox_and_the_listing_shows_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = migrated_database(tmp_path)
    store_relevant(database, new_run(database), VIETNAMESE_TITLES[:2])
    down = f"json://127.0.0.1:{free_port()}/hook"
    config = _config(tmp_path, [down])
    enqueue_after_run(database, alert_config([down]), new_run(database))
    assert run_qpan(capsys, "--config", config, "alerts", "send").code == 1
    listing = run_qpan(capsys, "--config", config, "alerts", "--format", "json")
    rows = json.loads(listing.stdout)
    assert sorted(row["subject"] for row in rows) == sorted(VIETNAMESE_TITLES[:2])
    assert {(row["status"], row["attempts"]) for row in rows} == {("failed", 1)}
    assert all("127.0.0.1" in row["channel"] and "Connection" in row["error"] for row in rows)
