"""``qpan extract``: one saved page through extraction, cleaning and relevance, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_qpan

PAGES = Path(__file__).with_name("pages")


@pytest.fixture(autouse=True)
def _no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QPAN_CONFIG", raising=False)


def test_saved_page_gives_article_json_with_methods(capsys: pytest.CaptureFixture[str]) -> None:
    page = next((PAGES / "vnexpress").glob("*.html"))
    result = run_qpan(capsys, "extract", str(page), "--url", "https://vnexpress.net/bai-viet-4329876.html")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["expected"]
    assert data["title"] == expected["title"]
    assert data["source"] == "vnexpress"
    assert data["published"] == expected["published"]
    assert data["relevant"] is True
    assert "Nghị định 03/2019/NĐ-CP" in data["matched_terms"]
    assert data["methods"]["title"]
    assert data["explanation"]


def test_unreadable_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run_qpan(capsys, "extract", str(tmp_path / "missing.html"), "--url", "https://example.vn/a.html")
    assert result.code == 1
    assert result.stderr.startswith("qpan: cannot read")
    assert len(result.stderr.strip().splitlines()) == 1


def test_page_without_article_text_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><nav>Trang chủ | Thời sự</nav></body></html>", encoding="utf-8")
    result = run_qpan(capsys, "extract", str(page), "--url", "https://example.vn/a.html")
    assert result.code == 1
    assert "no article kept" in result.stderr
