"""``qpan sources --check``: the live canary, against scripted local sites.

Five sources, one of each kind a real registry turns into: healthy (its feed behind a primed
cookie), moved (the home page 301s to another host), feedless (the feed URL now serves an
HTML page; the listing still works), empty (pages without one article link) and
broken-extraction (links to pages with neither a title nor a body).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config

from qpan import __version__
from qpan.cli import main
from qpan.timezone import VIETNAM
from support.cli import run_qpan
from support.scriptedweb import (
    RSS,
    ScriptedWeb,
    article_page,
    listing_page,
    long_paragraphs,
    rss_feed,
    scripted_web,
)

COOKIE = "session=primed"
SITES = ("healthy", "moved", "feedless", "empty", "broken")


def _article_body(n: int) -> list[str]:
    return long_paragraphs(f"tuần tra biên giới {n}") + long_paragraphs(f"phòng chống tội phạm {n}")


def _build(web: ScriptedWeb) -> None:
    when = datetime.now(VIETNAM) - timedelta(days=2)
    healthy = web["healthy"]
    healthy.route("/rss", "", status=302, headers={"Location": "{base}/rss", "Set-Cookie": f"{COOKIE}; Path=/"})
    items = [(f"{healthy.base}/tin/bai-{n}-10000{n}.html", f"Tin {n}", when) for n in (1, 2, 3, 4)]
    healthy.route("/rss/home.rss", rss_feed(items), content_type=RSS, cookie=COOKIE)
    healthy.route("/", listing_page([url for url, _, _ in items]))
    healthy.route_once(items[0][0].removeprefix(healthy.base), "", status=429, headers={"Retry-After": "1"})
    for n, (url, title, _) in enumerate(items, 1):
        healthy.route(url.removeprefix(healthy.base), article_page(title, when, _article_body(n)))
    healthy.source = {
        "home": f"{healthy.base}/", "prime": [f"{healthy.base}/rss"], "feeds": [f"{healthy.base}/rss/home.rss"],
        "article_pattern": "-\\d{5,}\\.html$", "verified": "2026-11-30 scripted",
    }

    moved = web["moved"]
    moved.route("/", "", status=301, headers={"Location": f"{healthy.base}/"})
    moved.source = {"home": f"{moved.base}/", "listings": [f"{moved.base}/tin"], "article_pattern": "-\\d{5,}\\.html$"}

    feedless = web["feedless"]
    links = [f"{feedless.base}/tin/bai-{n}-20000{n}.html" for n in (1, 2)]
    feedless.route("/rss/home.rss", listing_page([]))  # a redesign: the old feed URL is an HTML page now
    feedless.route("/tin", listing_page(links))
    for n, url in enumerate(links, 1):
        feedless.route(url.removeprefix(feedless.base), article_page(f"Bài {n}", when, _article_body(n)))
    feedless.source = {
        "home": f"{feedless.base}/tin", "feeds": [f"{feedless.base}/rss/home.rss"],
        "listings": [f"{feedless.base}/tin"], "article_pattern": "-\\d{5,}\\.html$",
    }

    empty = web["empty"]
    empty.route("/", listing_page([f"{empty.base}/gioi-thieu", f"{empty.base}/lien-he"]))
    empty.route("/tin", listing_page([]))
    empty.source = {"home": f"{empty.base}/", "listings": [f"{empty.base}/tin"], "article_pattern": "-\\d{5,}\\.html$"}

    broken = web["broken"]
    links = [f"{broken.base}/tin/bai-{n}-30000{n}.html" for n in (1, 2, 3, 4)]
    broken.route("/tin", listing_page(links))
    for url in links:  # a script-rendered page: nothing to extract without a browser
        broken.route(url.removeprefix(broken.base), '<!doctype html><html><body><div id="app"></div></body></html>')
    broken.source = {
        "home": f"{broken.base}/tin", "listings": [f"{broken.base}/tin"], "article_pattern": "-\\d{5,}\\.html$",
    }


def items_path(web: ScriptedWeb, n: int) -> str:
    return f"/tin/bai-{n}-10000{n}.html"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedWeb, Path]]:
    folder = tmp_path_factory.mktemp("check")
    with scripted_web(*SITES) as web:
        _build(web)
        yield web, write_config(folder, web)


def check(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    result = run_qpan(capsys, "--config", str(config), "sources", "--check", *args, "--format", "json")
    assert "Traceback" not in result.stderr
    return result.code, {row["source"]: row for row in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def all_rows(checked: tuple[ScriptedWeb, Path]) -> tuple[int, dict[str, dict[str, Any]]]:
    """One check of all five sources for the module (capsys is per test, so output is redirected here)."""
    out, err = io.StringIO(), io.StringIO()
    config = checked[1]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--config", str(config), "sources", "--check", "--format", "json"])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    assert "Traceback" not in err.getvalue()
    return code, {row["source"]: row for row in json.loads(out.getvalue())}


def test_a_healthy_source_is_ok_with_its_primed_feed(checked: tuple[ScriptedWeb, Path], all_rows: Any) -> None:
    web, _ = checked
    code, rows = all_rows
    row = rows["healthy"]
    assert row["verdict"] == "ok", row["reason"]
    assert row["reason"] == "4 article links, 3 of 3 samples complete"
    assert {point["kind"]: point["links"] for point in row["entry_points"]} == {"prime": 0, "home": 4, "feed": 4}
    assert [(s["title"], s["dated"], s["body_chars"] >= 400) for s in row["samples"]] == [(True, True, True)] * 3
    feed_hits = web["healthy"].requested("/rss/home.rss")
    assert [hit.status for hit in feed_hits] == [200] and COOKIE in feed_hits[0].cookie
    assert len(web["healthy"].requested("/rss")) == 1
    first = web["healthy"].requested(items_path(web, 1))
    assert [hit.status for hit in first] == [429, 200], "a 429 is retried once, after its Retry-After"
    assert all(hit.agent.startswith(f"qpan/{__version__} (+") for hit in web["healthy"].hits)


def test_a_moved_source_is_broken_and_says_where_it_went(checked: tuple[ScriptedWeb, Path], all_rows: Any) -> None:
    web, _ = checked
    _, rows = all_rows
    row = rows["moved"]
    assert row["verdict"] == "broken"
    assert row["reason"] == f"moved: redirects to {web['healthy'].base}/, outside the source's domains"
    assert row["moved_to"] == f"{web['healthy'].base}/" and row["samples"] == []
    assert not web["moved"].requested("/tin"), "a moved source's other URLs are not worth asking"


def test_a_source_whose_feed_is_gone_is_degraded(all_rows: Any, checked: tuple[ScriptedWeb, Path]) -> None:
    web, _ = checked
    _, rows = all_rows
    row = rows["feedless"]
    assert row["verdict"] == "degraded"
    assert row["reason"] == f"feed {web['feedless'].base}/rss/home.rss: not a feed"
    assert row["samples_complete"] == "2/2"


def test_a_source_without_article_links_is_broken(all_rows: Any) -> None:
    _, rows = all_rows
    assert (rows["empty"]["verdict"], rows["empty"]["reason"]) == ("broken", "no article links on any entry point")
    assert rows["empty"]["reached"] is True


def test_a_source_whose_articles_extract_empty_is_broken(all_rows: Any) -> None:
    _, rows = all_rows
    row = rows["broken"]
    first = row["samples"][0]
    assert row["verdict"] == "broken"
    assert row["reason"] == f"0 of 3 sample articles had a title and a body (first: {first['url']}: {first['error']})"
    assert all(sample["error"] for sample in row["samples"]), "the cleaner's reason is reported per sample"


def test_exit_code_is_one_only_when_a_source_is_broken(
    checked: tuple[ScriptedWeb, Path], all_rows: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _, config = checked
    assert all_rows[0] == 1
    code, rows = check(capsys, config, "healthy", "feedless")
    assert code == 0 and set(rows) == {"healthy", "feedless"}


def test_the_table_names_each_verdict(
    checked: tuple[ScriptedWeb, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, config = checked
    monkeypatch.setenv("COLUMNS", "250")  # one line a row, whatever the terminal
    result = run_qpan(capsys, "--config", str(config), "sources", "--check", "empty", "moved")
    assert result.code == 1
    assert "no article links on any entry point" in result.stdout and "moved: redirects to" in result.stdout


def test_robots_timeouts_size_cap_bad_bodies_and_unknown_names_end_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with scripted_web("closed", "slow", "huge", "gzip") as web:
        web["closed"].route("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
        web["closed"].source = {"home": f"{web['closed'].base}/", "listings": [f"{web['closed'].base}/tin"]}
        web["slow"].route("/", listing_page([]), delay=3)
        web["slow"].source = {"home": f"{web['slow'].base}/"}
        web["huge"].route("/", listing_page([f"{web['huge'].base}/tin/bai-{n}-4000{n}.html" for n in range(50)]))
        web["huge"].source = {"home": f"{web['huge'].base}/"}
        web["gzip"].route("/", listing_page([f"{web['gzip'].base}/tin/bai-{n}-6000{n}.html" for n in (1, 2)]))
        web["gzip"].route("/sitemap.xml.gz", b"\x1f\x8b\x08 cut short", content_type="application/x-gzip")
        web["gzip"].source = {"home": f"{web['gzip'].base}/", "sitemaps": [f"{web['gzip'].base}/sitemap.xml.gz"]}
        config = write_config(tmp_path, web, crawl={"download_timeout": 1, "max_page_bytes": 1024})
        code, rows = check(capsys, config)
        assert code == 1
        assert rows["closed"]["reason"] == f"not reached (home {web['closed'].base}/: disallowed by robots.txt)"
        assert [hit.target for hit in web["closed"].hits] == ["/robots.txt"]
        assert rows["slow"]["reason"] == f"not reached (home {web['slow'].base}/: timed out)"
        assert rows["huge"]["reason"] == f"not reached (home {web['huge'].base}/: larger than 1024 bytes)"
        points = {point["kind"]: point for point in rows["gzip"]["entry_points"]}
        assert points["home"]["links"] == 2 and "while decompressing" in points["sitemap"]["error"]
        result = run_qpan(capsys, "--config", str(config), "sources", "--check", "nope")
        assert result.code == 2 and "unknown source 'nope'" in result.stderr and "Traceback" not in result.stderr
        result = run_qpan(capsys, "--config", str(config), "sources", "closed")
        assert result.code == 1 and result.stderr.count("\n") == 1 and "--check" in result.stderr
