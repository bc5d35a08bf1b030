"""Listings: JSON is one array on stdout, CSV has a header, search ignores diacritics."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from support.cli import run_qpan
from support.services import fresh_postgres_database
from support.store import insert_article

ARTICLES = [
    dict(
        title="Giao ban thực hiện Nghị định 03/2019/NĐ-CP tại Bắc Kạn",
        text="Bộ Chỉ huy Quân sự tỉnh và Công an tỉnh tổ chức hội nghị giao ban thực hiện Nghị định 03.",
        source="baobackan",
        published="2025-01-16T08:00:00+07:00",
        relevance=0.91,
        relevant=True,
        matched_terms={"Nghị định 03/2019/NĐ-CP": 1, "giao ban": 1},
    ),
    dict(
        title="Công an quận bắt giữ đối tượng trộm cắp",
        text="Công an quận Hoàn Kiếm bắt giữ hai đối tượng trộm cắp tài sản.",
        source="vnexpress",
        published="2025-02-01T10:30:00+07:00",
        relevance=0.12,
        relevant=False,
        matched_terms={"Công an": 1},
    ),
    dict(
        title="Hai lực lượng phối hợp bảo vệ an ninh biên giới",
        text="Bộ đội Biên phòng và lực lượng Công an phối hợp tuần tra, kiểm soát đường biên; Quốc phòng và an ninh.",
        source="bienphong",
        published="2025-03-05T07:00:00+07:00",
        relevance=0.77,
        relevant=True,
        matched_terms={"phối hợp": 1, "Biên phòng": 1},
    ),
]


def _prepare(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    for article in ARTICLES:
        insert_article(database, **article)
    return database


@pytest.fixture
def sqlite_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    monkeypatch.setenv("QPAN_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    database = _prepare(url)
    yield database
    database.dispose()


def test_json_is_one_array_with_article_fields(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "articles", "--all", "--format", "json")
    assert result.code == 0
    rows = json.loads(result.stdout)
    assert [row["title"] for row in rows] == [a["title"] for a in reversed(ARTICLES)]
    required = {
        "id", "url", "canonical_url", "source", "title", "published", "author", "text",
        "relevance", "relevant", "matched_terms", "duplicate_of", "cluster", "fetched_at",
    }
    for row in rows:
        assert required <= row.keys()
        assert row["published"].endswith("+00:00") or row["published"][-6] in "+-"
    assert rows[0]["matched_terms"] == {"phối hợp": 1, "Biên phòng": 1}


def test_relevant_only_by_default(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(run_qpan(capsys, "articles", "--format", "json").stdout)
    assert {row["source"] for row in rows} == {"baobackan", "bienphong"}


def test_csv_has_header_and_one_row_per_article(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "articles", "--all", "--format", "csv")
    reader = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(reader) == 3
    assert reader[-1]["title"] == ARTICLES[0]["title"]
    assert {"id", "published", "source", "relevance", "url"} <= set(reader[0])


def test_table_prints_vietnamese(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "articles", "--all")
    assert result.code == 0
    assert "Nghị định" in result.stdout or "Nghị" in result.stdout


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("nghi dinh 03", {"baobackan"}),
        ("Nghị định 03", {"baobackan"}),
        ("NGHỊ ĐỊNH", {"baobackan"}),
        ("bien phong", {"bienphong"}),
        ("trom cap", {"vnexpress"}),
        ("cong an", {"baobackan", "vnexpress", "bienphong"}),
        ("tàu ngầm", set()),
    ],
)
def test_search_with_and_without_diacritics(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], query: str, expected: set[str]
) -> None:
    rows = json.loads(run_qpan(capsys, "articles", "--all", "--search", query, "--format", "json").stdout)
    assert {row["source"] for row in rows} == expected


def test_filters_since_source_limit(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    since = json.loads(run_qpan(capsys, "articles", "--all", "--since", "2025-02-01", "--format", "json").stdout)
    assert {row["source"] for row in since} == {"vnexpress", "bienphong"}
    by_source = json.loads(run_qpan(capsys, "articles", "--all", "-s", "vnexpress", "--format", "json").stdout)
    assert [row["source"] for row in by_source] == ["vnexpress"]
    limited = json.loads(run_qpan(capsys, "articles", "--all", "--limit", "1", "--format", "json").stdout)
    assert len(limited) == 1


def test_show_prints_why_it_matched(sqlite_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "show", "1")
    assert result.code == 0
    assert "giao ban" in result.stdout
    assert "Bắc Kạn" in result.stdout
    border = run_qpan(capsys, "show", "3")
    assert "2025-03-05T07:00:00+07:00" in border.stdout, "dates read in Vietnam time, as the article JSON gives them"
    missing = run_qpan(capsys, "show", "999")
    assert missing.code == 1
    assert missing.stderr.strip() == "qpan: no article with id 999"


def test_listing_while_a_writer_inserts(sqlite_db: Database, tmp_path: Path) -> None:
    """A crawl writing and the CLI reading at once never sees 'database is locked'."""
    stop = threading.Event()
    written: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                written.append(insert_article(sqlite_db, title=f"bài {n}", text="Công an " * 200, source="w"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        deadline = time.monotonic() + 4
        readers = 0
        while time.monotonic() < deadline or readers < 3:
            result = subprocess.run(
                [sys.executable, "-m", "qpan", "articles", "--all", "--format", "json", "--limit", "0"],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                timeout=60,
            )
            assert result.returncode == 0, result.stderr
            assert "locked" not in result.stderr
            json.loads(result.stdout)
            readers += 1
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert len(written) > 10


@pytest.mark.postgres
def test_search_on_postgresql(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_postgres_database() as url:
        database = _prepare(url)
        monkeypatch.setenv("QPAN_DATABASE_URL", url)
        try:
            for query, expected in [("nghi dinh 03", {"baobackan"}), ("Biên phòng", {"bienphong"})]:
                rows = json.loads(run_qpan(capsys, "articles", "--all", "--search", query, "--format", "json").stdout)
                assert {row["source"] for row in rows} == expected
        finally:
            database.dispose()
