"""``qpan extract``: one saved page through extraction, cleaning and relevance, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qpan.demo import LocalWeb
from support.cli import run_qpan

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


def test_fetch_extracts_a_live_page(capsys: pytest.CaptureFixture[str], fixture_web: LocalWeb) -> None:
    article = next(a for a in fixture_web.articles("tinbiengioi") if str(a.id) == "101")  # a plain 200 page
    live = fixture_web.article_url("tinbiengioi", article.id)
    result = run_qpan(capsys, "extract", "--fetch", live)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["url"] == live and data["title"] == article.title and data["text"]
    assert any("qpan/" in record.headers.get("user-agent", "") for record in fixture_web.requests("tinbiengioi"))


@pytest.mark.parametrize(
    "args", [["--fetch", "http://127.0.0.1:1/x.html"], ["--fetch", "http://127.0.0.1:1/", "x.html"], ["x.html"]]
)
def test_fetch_failures_and_misuse_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    result = run_qpan(capsys, "extract", *args)
    assert result.code in (1, 2) and "Traceback" not in result.stderr
