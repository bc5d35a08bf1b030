"""End-to-end ``qpan crawl`` against the fixture web (tests/fixtureweb/README.md has the expected outcome).

Every crawl runs ``qpan`` in a subprocess: Scrapy's reactor cannot be restarted in one process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import write_config
from sqlalchemy import select

from qpan.crawler.urls import canonicalize_url
from qpan.demo import LocalWeb
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article, CrawlRun, RunSource, SourceHealth
from support.cli import qpan_process

pytestmark = pytest.mark.slow

# The README's "Stored (23)" list, by site.
STORED = {
    "tinbiengioi": {"101", "102", "103", "104", "106", "108", "109"},
    "baodiaphuong": {"201", "202", "203", "204", "205", "207", "208"},
    "congantinh": {"301", "302", "303", "304", "305", "307", "308"},
    "timkiem": {"401", "402"},
}
NEVER_REQUESTED = {"tinbiengioi": {"105"}, "baodiaphuong": {"206"}, "congantinh": {"306"}, "timkiem": {"403", "404"}}


def init_copy(initialised_database: Path, config: Path) -> None:
    shutil.copyfile(initialised_database, config.parent / "qpan.db")


def stored_articles(config: Path) -> list[Article]:
    database = Database(f"sqlite:///{config.parent / 'qpan.db'}")
    with database.session() as session:
        articles = list(session.scalars(select(Article).where(Article.source != SEED_SOURCE)))
    database.dispose()
    return articles


def run_figures(config: Path) -> dict[str, RunSource]:
    database = Database(f"sqlite:///{config.parent / 'qpan.db'}")
    with database.session() as session:
        last = session.scalars(select(RunSource.run_id).order_by(RunSource.run_id.desc())).first()
        rows = {row.source: row for row in session.scalars(select(RunSource).where(RunSource.run_id == last))}
    database.dispose()
    return rows


def article_paths(web: LocalWeb, site: str, ids: set[str]) -> set[str]:
    base = len(web.url(site))
    return {web.article_url(site, article_id)[base:] for article_id in ids}


def requested_paths(web: LocalWeb, site: str) -> set[str]:
    return {record.path for record in web.requests(site)}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def test_full_crawl_stores_exactly_the_expected_articles_then_recrawl_costs_nothing(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    config = write_config(tmp_path, fixture_web)
    init_copy(initialised_database, config)

    first = qpan_process(config, "crawl", "--quiet")
    assert_clean(first)
    assert first.returncode == 0, first.stdout + first.stderr
    # every connection closed: SQLite folded the WAL into qpan.db, so a plain copy of it is whole
    assert not (config.parent / "qpan.db-wal").exists()

    articles = stored_articles(config)
    expected = {
        canonicalize_url(fixture_web.article_url(site, article_id)): (site, article_id)
        for site, ids in STORED.items()
        for article_id in ids
    }
    assert {article.canonical_url for article in articles} == set(expected)
    served = {(site, a.id): a for site in STORED for a in fixture_web.articles(site)}
    for stored in articles:
        site, article_id = expected[stored.canonical_url]
        source_article = served[(site, article_id)]
        assert stored.source == site
        assert stored.title == source_article.title, stored.canonical_url
        assert stored.published == source_article.published, stored.canonical_url
        assert stored.url == fixture_web.article_url(site, article_id)

    for site, ids in NEVER_REQUESTED.items():
        assert not article_paths(fixture_web, site, ids) & requested_paths(fixture_web, site), site
    assert not any(path.startswith("/luu-tru/") for path in requested_paths(fixture_web, "congantinh"))

    figures = run_figures(config)
    assert figures["tinbiengioi"].errors == 2  # 107 is 404, 110 is 500 (after its retries)
    assert figures["tinbiengioi"].fetched == len(STORED["tinbiengioi"])
    assert all(row.reached for row in figures.values())
    assert sum(row.new + row.duplicates for row in figures.values()) == len(expected)

    fixture_web.clear_requests()
    second = qpan_process(config, "crawl", "--quiet")
    assert_clean(second)
    assert second.returncode == 0, second.stdout + second.stderr
    for site in STORED:
        every_article = {a.id for a in fixture_web.articles(site)}
        assert not article_paths(fixture_web, site, every_article) & requested_paths(fixture_web, site), site
    feeds = ("/rss", "/feeds", "/rdf")
    feed_answers = [r.status for r in fixture_web.requests("tinbiengioi") if r.path.startswith(feeds)]
    assert feed_answers == [304, 304, 304]
    assert [r.status for r in fixture_web.requests("baodiaphuong") if r.path == "/sitemap.xml"] == [304]
    assert len(stored_articles(config)) == len(expected)
    assert sum(row.fetched for row in run_figures(config).values()) == 0


def test_unreachable_and_forbidden_sources_are_one_line_each_and_the_others_are_stored(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    sources = {source["name"]: source for source in fixture_web.sources()}
    unreachable = {"name": "matketnoi", "feeds": [f"http://127.0.0.1:{closed_port()}/rss.xml"]}
    fixture_web.set_route("baodiaphuong", "/sitemap.xml", status=403)
    config = write_config(
        tmp_path, fixture_web, sources=[sources["congantinh"], sources["baodiaphuong"], unreachable]
    )
    init_copy(initialised_database, config)

    result = qpan_process(config, "crawl", "--quiet")
    assert_clean(result)
    assert result.returncode == 1
    assert "not reached: baodiaphuong, matketnoi" in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("matketnoi: not reached: connection refused") for line in lines), lines
    assert any(line.startswith("baodiaphuong: not reached: HTTP 403") for line in lines), lines

    assert {a.source for a in stored_articles(config)} == {"congantinh"}
    assert len(stored_articles(config)) == len(STORED["congantinh"]), result.stdout + result.stderr
    figures = run_figures(config)
    assert not figures["matketnoi"].reached and "connection refused" in figures["matketnoi"].error_text
    assert not figures["baodiaphuong"].reached and "HTTP 403" in figures["baodiaphuong"].error_text

    listing = qpan_process(config, "sources", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    health: dict[str, Any] = {row["name"]: row for row in json.loads(listing.stdout)}
    assert health["matketnoi"]["consecutive_failures"] == 1
    assert health["congantinh"]["consecutive_failures"] == 0
    assert health["congantinh"]["last_articles"] == figures["congantinh"].new > 0


def test_discovery_of_a_bare_domain_source(tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path) -> None:
    base = fixture_web.url("tinbiengioi")
    fixture_web.set_route(
        "tinbiengioi",
        "/",
        body='<html><head><link rel="alternate" type="application/rss+xml" href="/rss/tin-moi.rss">'
        '<link rel="alternate" type="application/atom+xml" href="/feeds/thoi-su.atom"></head><body></body></html>',
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    bare = [
        {"name": "tinbiengioi", "home": f"{base}/"},
        {"name": "baodiaphuong", "home": f"{fixture_web.url('baodiaphuong')}/", "discover": True},
    ]
    config = write_config(tmp_path, fixture_web, sources=bare)
    init_copy(initialised_database, config)

    found = qpan_process(config, "sources", "--discover", "tinbiengioi", "--format", "json")
    assert_clean(found)
    assert found.returncode == 0, found.stderr
    assert {(row["kind"], row["url"]) for row in json.loads(found.stdout)} == {
        ("feeds", f"{base}/rss/tin-moi.rss"),
        ("feeds", f"{base}/feeds/thoi-su.atom"),
    }
    assert not article_paths(fixture_web, "tinbiengioi", STORED["tinbiengioi"]) & requested_paths(
        fixture_web, "tinbiengioi"
    )

    crawl = qpan_process(config, "crawl", "--quiet", "--source", "baodiaphuong")
    assert_clean(crawl)
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    assert {a.source for a in stored_articles(config)} == {"baodiaphuong"}
    assert len(stored_articles(config)) == len(STORED["baodiaphuong"])
    database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")
    with database.session() as session:
        discovered = {row.source: row.discovered for row in session.scalars(select(SourceHealth))}
    database.dispose()
    assert discovered["baodiaphuong"]["sitemaps"] == [f"{fixture_web.url('baodiaphuong')}/sitemap.xml"]
    assert discovered["tinbiengioi"]["feeds"]


def test_unknown_source_name_is_a_usage_error(tmp_path: Path, fixture_web: LocalWeb) -> None:
    config = write_config(tmp_path, fixture_web)
    result = qpan_process(config, "crawl", "--source", "khongco")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "khongco" in result.stderr and "congantinh" in result.stderr


def test_sigterm_stops_gracefully_keeps_what_was_stored_and_marks_the_run(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    import signal
    import time

    sources = {source["name"]: source for source in fixture_web.sources()}
    config = write_config(tmp_path, fixture_web, sources=[sources["congantinh"]])
    init_copy(initialised_database, config)
    fixture_web.set_route("congantinh", "/tin-tuc/trang-2.html", delay=4)
    env = {key: value for key, value in os.environ.items() if not key.startswith("QPAN_")}
    crawl = subprocess.Popen(
        [sys.executable, "-m", "qpan", "--config", str(config), "crawl", "--quiet"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while "/tin-tuc/trang-2.html" not in requested_paths(fixture_web, "congantinh"):
        assert time.monotonic() < deadline and crawl.poll() is None
        time.sleep(0.1)
    crawl.send_signal(signal.SIGTERM)
    stdout, stderr = crawl.communicate(timeout=60)
    assert "Traceback" not in stdout + stderr, stderr
    assert crawl.returncode == 130
    assert "interrupted" in stdout
    stored = stored_articles(config)
    assert stored and {a.source for a in stored} == {"congantinh"}
    database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")
    with database.session() as session:
        assert [run.status for run in session.scalars(select(CrawlRun))] == ["interrupted"]
    database.dispose()
