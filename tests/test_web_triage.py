"""Triage from the CLI: verdicts, the scorer's precision, shown by ``qpan show``, exported with the
article JSON, kept through a re-crawl and a refused downgrade; ``qpan serve``'s start-up rules."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic import command

from qpan.storage.articles import store_article
from qpan.storage.db import Database
from qpan.storage.migrate import alembic_config, current_revision, upgrade
from qpan.storage.models import Article
from support.cli import run_qpan
from support.store import insert_article

URL = "https://baobackan.example/giao-ban-nghi-dinh-03-123.html"


@pytest.fixture
def database(sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The migrated SQLite database, which the in-process CLI reads too."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QPAN_CONFIG", raising=False)
    monkeypatch.setenv("QPAN_DATABASE_URL", sqlite_database.url)
    return sqlite_database


def _articles(database: Database) -> dict[str, int]:
    return {
        "alerted_noise": insert_article(database, title="Tin hình sự", text="Công an bắt giữ.", source="a",
                                        relevance=0.7, relevant=True, url=URL.replace("123", "1")),
        "good": insert_article(database, title="Giao ban Nghị định 03", text="Công an và Quân sự phối hợp.",
                               source="a", relevance=0.9, relevant=True, url=URL),
        "missed": insert_article(database, title="Phối hợp biên giới", text="Biên phòng, Công an.", source="b",
                                 relevance=0.3, relevant=False, url=URL.replace("123", "3")),
    }


def test_verdicts_and_precision(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _articles(database)
    with database.session() as session:
        session.get(Article, ids["alerted_noise"]).alerted_at = session.get(Article, ids["good"]).fetched_at
    for article, verdict in (("alerted_noise", "not_relevant"), ("good", "read"), ("good", "relevant"),
                             ("missed", "relevant")):
        result = run_qpan(capsys, "triage", "mark", str(ids[article]), verdict, "--note", "vì sao", "--by", "lan")
        assert result.code == 0, result.stderr
    result = run_qpan(capsys, "triage", "--format", "json")
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "verdicts": {"relevant": 2, "not_relevant": 1, "read": 0},
        "confirmed": 1, "rejected": 1, "missed": 1, "alerted_rejected": 1, "precision": 0.5,
    }
    assert [row["article_id"] for row in data["verdicts"]] == [ids["missed"], ids["good"], ids["alerted_noise"]]
    table = run_qpan(capsys, "triage")
    assert "scorer precision 50% (1 of 2 judged relevant); 1 alerted judged not relevant" in table.stderr
    assert run_qpan(capsys, "triage", "mark", "999", "read").code == 1
    assert run_qpan(capsys, "triage", "mark", str(ids["good"]), "maybe").code == 2


def test_show_articles_and_export_carry_the_verdict(
    database: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table's rows unwrapped, whatever terminal the tests run in
    ids = _articles(database)
    run_qpan(capsys, "triage", "mark", str(ids["good"]), "not_relevant", "--note", "trùng tin cũ")
    shown = run_qpan(capsys, "show", str(ids["good"]))
    assert re.search(r"triage\s+not_relevant, \d{4}-\d\d-\d\d \d\d:\d\d: trùng tin cũ", shown.stdout)
    table = run_qpan(capsys, "articles").stdout
    assert re.search(rf"│ {ids['good']} .*│ not_relevant │ Giao ban Nghị định 03", table)
    listed = {row["id"]: row for row in json.loads(run_qpan(capsys, "articles", "--format", "json").stdout)}
    assert listed[ids["good"]]["triage"]["verdict"] == "not_relevant"
    assert listed[ids["good"]]["relevant"] is True
    assert listed[ids["alerted_noise"]]["triage"] is None
    exported = [json.loads(line) for line in run_qpan(capsys, "export").stdout.splitlines()]
    assert {row["id"]: row["triage"] and row["triage"]["note"] for row in exported}[ids["good"]] == "trùng tin cũ"


def test_a_recrawl_keeps_the_verdict(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _articles(database)
    run_qpan(capsys, "triage", "mark", str(ids["good"]), "not_relevant")
    again = {"canonical_url": URL, "url": URL, "source": "a", "title": "Giao ban Nghị định 03 (cập nhật)",
             "text": "Công an và Quân sự phối hợp, cập nhật.", "content_hash": "f" * 64, "relevance": 0.95,
             "relevant": True}
    with database.session() as session:
        article_id, inserted = store_article(session, again)  # what the store stage runs for a crawled page
    assert (article_id, inserted) == (ids["good"], False)
    detail = json.loads(run_qpan(capsys, "show", str(ids["good"]), "--format", "json").stdout)
    assert detail["title"] == "Giao ban Nghị định 03 (cập nhật)" and detail["triage"]["verdict"] == "not_relevant"


def test_a_downgrade_refuses_to_drop_verdicts(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _articles(database)
    run_qpan(capsys, "triage", "mark", str(ids["good"]), "relevant")
    with pytest.raises(RuntimeError, match="analysts' verdicts"):
        command.downgrade(alembic_config(database), "0004")
    assert current_revision(database) == "0005"  # the triage table's revision: not dropped
    upgrade(database)
    assert json.loads(run_qpan(capsys, "triage", "-f", "json").stdout)["summary"]["verdicts"]["relevant"] == 1


def test_serve_refuses_a_public_address_without_a_token(database: Database, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "QPAN_WEB_TOKEN"}
    # a child process, so that a server started by mistake ends in a timeout instead of hanging the tests
    result = subprocess.run(
        [sys.executable, "-m", "qpan", "serve", "--host", "0.0.0.0", "--port", "0"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "qpan: serving on 0.0.0.0 (not loopback) needs a token: set [web] token in qpan.toml or $QPAN_WEB_TOKEN"
    ]


def test_serve_starts_on_loopback_and_answers(database: Database, tmp_path: Path) -> None:
    insert_article(database, title="Giao ban Nghị định 03", text="Công an.", source="a", relevance=0.9, relevant=True)
    env = {**os.environ, "QPAN_DATABASE_URL": database.url}
    with subprocess.Popen(
        [sys.executable, "-m", "qpan", "serve", "--port", "0"], cwd=tmp_path, env=env,
        stderr=subprocess.PIPE, text=True,
    ) as process:
        try:
            assert process.stderr is not None
            lines, found = [], None
            for line in process.stderr:  # the line saying where it serves, after any warning a library prints
                lines.append(line)
                found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", line)
                if found:
                    break
            assert found, lines
            page = httpx.get(found.group(1) + "articles", timeout=60)
            assert page.status_code == 200 and "Giao ban Nghị định 03" in page.text
        finally:
            process.terminate()
            process.wait(timeout=60)
