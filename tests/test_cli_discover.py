"""``qpan sources --discover`` is a read-only probe: a crawl after it finds what a crawl without it finds."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from conftest import write_config
from sqlalchemy import func, select

from qpan.demo import LocalWeb
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article, CrawlRun, HttpCache
from support.cli import qpan_process

pytestmark = pytest.mark.slow

HOME_WITH_FEEDS = (
    '<html><head><link rel="alternate" type="application/rss+xml" href="/rss/tin-moi.rss">'
    '<link rel="alternate" type="application/atom+xml" href="/feeds/thoi-su.atom"></head><body></body></html>'
)


def _stored(folder: Path) -> dict[str, int]:
    database = Database(f"sqlite:///{folder / 'qpan.db'}")
    with database.session() as session:
        rows = session.execute(
            select(Article.source, func.count()).where(Article.source != SEED_SOURCE).group_by(Article.source)
        ).all()
    database.dispose()
    return dict(rows)


def test_crawl_after_discover_stores_what_a_plain_crawl_stores(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    fixture_web.set_route(
        "tinbiengioi", "/", body=HOME_WITH_FEEDS, headers={"Content-Type": "text/html; charset=utf-8"}
    )
    bare = [
        {"name": "tinbiengioi", "home": f"{fixture_web.url('tinbiengioi')}/"},
        {"name": "baodiaphuong", "home": f"{fixture_web.url('baodiaphuong')}/", "discover": True},
    ]
    plain, probed = tmp_path / "plain", tmp_path / "probed"
    plain.mkdir()
    probed.mkdir()
    plain_config = write_config(plain, fixture_web, sources=bare)
    probed_config = write_config(probed, fixture_web, sources=bare)
    for folder in (plain, probed):
        shutil.copyfile(initialised_database, folder / "qpan.db")

    for name in ("tinbiengioi", "baodiaphuong"):
        found = qpan_process(probed_config, "sources", "--discover", name, "--format", "json")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout), f"discovery found nothing for {name}"
    crawled = [qpan_process(config, "crawl", "--quiet") for config in (plain_config, probed_config)]
    for result in crawled:
        assert result.returncode in (0, 1), result.stderr

    without, after = _stored(plain), _stored(probed)
    assert without["tinbiengioi"] > 0 and without["baodiaphuong"] > 0
    assert after == without


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("home", ["http://127.0.0.1:{port}/", "http://qpan-test.invalid/"])
def test_discover_of_an_unreachable_site_says_so(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path, home: str
) -> None:
    config = write_config(tmp_path, fixture_web, sources=[{"name": "gone", "home": home.format(port=_closed_port())}])
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    found = qpan_process(config, "sources", "--discover", "gone")
    assert found.returncode == 1
    assert found.stderr.strip().splitlines() == [found.stderr.strip()]
    assert found.stderr.startswith("qpan: gone: the site could not be reached (")


def test_discover_a_site_by_its_url(tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path) -> None:
    base = fixture_web.url("baodiaphuong")
    config = write_config(tmp_path, fixture_web)
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    found = qpan_process(config, "sources", "--discover", f"{base}/tin-tuc", "--format", "json")
    assert found.returncode == 0, found.stderr
    assert {(row["kind"], row["url"]) for row in json.loads(found.stdout)} == {("sitemaps", f"{base}/sitemap.xml")}


def test_dry_run_lists_requests_and_fetches_no_article(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    feeds_only = [s for s in fixture_web.sources() if s["name"] == "tinbiengioi"]
    config = write_config(tmp_path, fixture_web, sources=feeds_only)
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    dry = qpan_process(config, "crawl", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    kinds = {row["kind"] for row in planned}
    assert {"feed", "article"} <= kinds
    article_urls = {row["url"] for row in planned if row["kind"] == "article"}
    assert fixture_web.article_url("tinbiengioi", "101") in article_urls
    requested = {record.path for record in fixture_web.requests("tinbiengioi")}
    assert not any(path.endswith(".html") for path in requested), "an article page was fetched"
    assert _stored(tmp_path) == {}
    database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 0
        assert session.scalar(select(func.count()).select_from(HttpCache)) == 0
    database.dispose()

    crawl = qpan_process(config, "crawl", "--quiet")
    assert crawl.returncode in (0, 1) and _stored(tmp_path).get("tinbiengioi", 0) > 0
