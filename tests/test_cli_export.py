"""Exports carry the relevant articles in each format, parseable by ordinary tools."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from support.cli import run_qpan
from support.store import insert_article

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    monkeypatch.setenv("QPAN_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    db = Database(url)
    upgrade(db)
    insert_article(
        db, title="Giao ban Nghị định 03 tại Hậu Giang", text="Hai lực lượng Quân sự và Công an phối hợp.",
        source="baohaugiang", relevant=True, relevance=0.9, published="2025-03-20T08:00:00+07:00",
    )
    insert_article(db, title="Bóng đá: kết quả vòng 5", text="Trận đấu kết thúc 2-1.", source="vnexpress")
    insert_article(
        db, title="Bộ Công an - Bộ Quốc phòng phối hợp", text="Seed.", source="seeds", seed_name="000_x",
        relevant=True, relevance=1.0,
    )
    return db


def test_jsonl_exports_relevant_non_seed_articles(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "export", "--format", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["title"] for row in rows] == ["Giao ban Nghị định 03 tại Hậu Giang"]
    assert rows[0]["published"] == "2025-03-20T08:00:00+07:00"


def test_csv_export_to_file(database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.csv"
    result = run_qpan(capsys, "export", "--format", "csv", "--output", str(target), "--include-seeds")
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {row["source"] for row in rows} == {"baohaugiang", "seeds"}
    assert "exported 2 articles" in result.stderr


def test_atom_export_is_a_feed(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "export", "--format", "atom")
    root = ET.fromstring(result.stdout.encode("utf-8"))
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert titles == ["Giao ban Nghị định 03 tại Hậu Giang"]


def test_atom_export_is_the_alerts_feed(database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qpan.scheduler.atom import write_feed_file

    original = insert_article(
        database, title="Hội nghị giao ban Công an và Quân sự tỉnh", text="Bản gốc.", source="baobackan",
        relevant=True, relevance=0.8,
    )
    insert_article(
        database, title="Đăng lại: Hội nghị giao ban", text="Bản gốc.", source="baotintuc", relevant=True,
        relevance=0.8, duplicate_of_id=original,
    )
    alerts_feed = tmp_path / "alerts.xml"
    write_feed_file(database, alerts_feed)
    exported = run_qpan(capsys, "export", "--format", "atom")
    assert exported.code == 0

    def entries(document: bytes) -> list[tuple[str | None, str | None]]:
        root = ET.fromstring(document)
        return [(e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}title")) for e in root.iter(f"{ATOM}entry")]

    assert entries(exported.stdout.encode("utf-8")) == entries(alerts_feed.read_bytes())
    assert len(entries(alerts_feed.read_bytes())) == 2


def test_atom_export_refuses_the_listing_filters(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_qpan(capsys, "export", "--format", "atom", "--since", "7d")
    assert result.code == 2 and "alerts' feed" in result.stderr
