"""Scale-out (DESIGN: the same spiders on scrapy-redis, PostgreSQL as the shared store).

Two ``qpan crawl`` processes at once against the fixture web, one Redis and one PostgreSQL
database: each article is stored once and its page fetched once between them. The opt-in
stays opt-in: without ``redis_url`` a crawl needs neither scrapy-redis nor redis, and with
it but without them qpan says what to install in one line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import scrapy
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from test_crawler_e2e import STORED, article_paths, assert_clean, closed_port

from qpan.config import ConfigError, config_from_dict
from qpan.crawler import meta
from qpan.crawler.addon import computed_settings
from qpan.crawler.registry import select_sources
from qpan.crawler.urls import canonicalize_url
from qpan.demo import LocalWeb
from qpan.demo.config import write_config
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article, CrawlRun, RunSource
from support.cli import qpan_process
from support.services import fresh_postgres_database, fresh_redis_database

if TYPE_CHECKING:
    from qpan.crawler.scale import SharedScheduler

ARTICLE_DELAY = 1.0  # seconds per article page: long enough that the two crawls overlap
# Scrapy moves up to CONCURRENT_REQUESTS requests from the scheduler into its downloader at once;
# kept small so that neither process can take the whole fixture frontier before the other starts.
SHARED_CRAWL = {"concurrent_requests": 2}
MISSING_LINE = "qpan: redis_url is set but scrapy-redis is not installed: pip install 'qpan[scale]'"
SCALE_KEYS = {
    "SCHEDULER", "DUPEFILTER_CLASS", "SCHEDULER_PERSIST", "SCHEDULER_QUEUE_KEY", "SCHEDULER_DUPEFILTER_KEY",
    "QPAN_WORKERS_KEY", "REDIS_URL",
}


def expected_urls(web: LocalWeb) -> set[str]:
    return {canonicalize_url(web.article_url(site, article_id)) for site, ids in STORED.items() for article_id in ids}


def initialised(config: Path) -> Path:
    result = qpan_process(config, "init")
    assert result.returncode == 0, result.stderr
    return config


@pytest.fixture
def without_scale_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Child processes find scrapy-redis and redis "not installed" (an import that fails)."""
    shim = tmp_path / "hidden"
    for package in ("scrapy_redis", "redis"):
        (shim / package).mkdir(parents=True)
        (shim / package / "__init__.py").write_text(f"raise ImportError('{package} hidden by the test')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])))


@pytest.fixture
def shared_services() -> Iterator[tuple[str, str]]:
    with fresh_postgres_database() as database_url, fresh_redis_database() as redis_url:
        yield database_url, redis_url


@pytest.fixture
def redis_url() -> Iterator[str]:
    with fresh_redis_database() as url:
        yield url


class ArticleSpider(scrapy.Spider):
    """The scheduler stores requests by callback name, so it needs a spider that has one."""

    name = "news"

    def parse_article(self, response: Response) -> None:
        """Never called: these requests are only queued."""


def schedulers(redis_url: str, count: int) -> tuple[ArticleSpider, list[SharedScheduler]]:
    """``count`` schedulers as ``count`` machines' crawls would open them, on one Redis."""
    from qpan.crawler.scale import SharedScheduler  # imported here: the other tests run without scrapy-redis

    config = config_from_dict({"crawl": {"redis_url": redis_url}})
    crawler = get_crawler(ArticleSpider, computed_settings(config, select_sources(config)))
    spider = ArticleSpider.from_crawler(crawler)
    opened = [SharedScheduler.from_crawler(crawler) for _ in range(count)]
    for scheduler in opened:
        scheduler.open(spider)
    return spider, opened


def article(spider: ArticleSpider, url: str) -> scrapy.Request:
    return scrapy.Request(url, callback=spider.parse_article, meta={meta.KIND: meta.ARTICLE})


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_two_crawls_at_once_share_one_frontier_and_store_each_article_once(
    tmp_path: Path, fixture_web: LocalWeb, shared_services: tuple[str, str]
) -> None:
    import redis

    database_url, redis_url = shared_services
    crawl = {**SHARED_CRAWL, "redis_url": redis_url}
    config = initialised(write_config(tmp_path / "qpan.toml", fixture_web, database_url, crawl=crawl))
    for site, ids in STORED.items():
        for path in article_paths(fixture_web, site, ids):
            fixture_web.set_route(site, path, delay=ARTICLE_DELAY)
    fixture_web.clear_requests()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: qpan_process(config, "crawl", "--quiet"), range(2)))

    for result in results:
        assert_clean(result)
        assert "scrapy_redis" not in result.stderr, result.stderr
        assert result.returncode == 0, result.stdout + result.stderr
    database = Database(database_url)
    with database.session() as session:
        stored = session.execute(
            select(Article.canonical_url, func.count())
            .where(Article.source != SEED_SOURCE)
            .group_by(Article.canonical_url)
        ).all()
        runs = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
        figures = list(session.scalars(select(RunSource)))
    database.dispose()

    assert dict(stored) == dict.fromkeys(expected_urls(fixture_web), 1)
    first, second = runs
    assert first.started_at < second.finished_at and second.started_at < first.finished_at, "the runs did not overlap"
    for site, ids in STORED.items():
        requested = [record.path for record in fixture_web.requests(site)]
        for path in article_paths(fixture_web, site, ids):
            assert requested.count(path) == 1, (site, path, requested.count(path))
    assert all(figure.reached for figure in figures)
    assert all(sum(f.fetched for f in figures if f.run_id == run.id) > 0 for run in runs), "one crawl did all the work"
    fetched = {site: sum(f.fetched for f in figures if f.source == site) for site in STORED}
    assert fetched["tinbiengioi"] == len(STORED["tinbiengioi"])
    assert sum(f.new + f.duplicates for f in figures) == len(expected_urls(fixture_web))
    with redis.Redis.from_url(redis_url) as client:
        assert client.keys("qpan:*") == [], "the last crawl out leaves no frontier behind"


@pytest.mark.slow
def test_without_redis_url_a_crawl_needs_neither_scrapy_redis_nor_redis(
    tmp_path: Path, fixture_web: LocalWeb, without_scale_packages: None
) -> None:
    config = initialised(write_config(tmp_path / "qpan.toml", fixture_web, f"sqlite:///{tmp_path / 'qpan.db'}"))

    result = qpan_process(config, "crawl", "--quiet")

    assert_clean(result)
    assert result.returncode == 0, result.stdout + result.stderr
    database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")
    with database.session() as session:
        stored = set(session.scalars(select(Article.canonical_url).where(Article.source != SEED_SOURCE)))
    database.dispose()
    assert stored == expected_urls(fixture_web)


def test_redis_url_without_scrapy_redis_is_one_line_and_exit_2(
    tmp_path: Path, fixture_web: LocalWeb, without_scale_packages: None
) -> None:
    config = initialised(
        write_config(
            tmp_path / "qpan.toml", fixture_web, f"sqlite:///{tmp_path / 'qpan.db'}",
            crawl={"redis_url": "redis://127.0.0.1:6379/0"},
        )
    )

    result = qpan_process(config, "crawl", "--quiet")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [MISSING_LINE]
    assert not fixture_web.requests("tinbiengioi")


@pytest.mark.redis
def test_the_round_ends_when_the_last_crawl_leaves_and_a_dead_one_cannot_hold_it(redis_url: str) -> None:
    spider, (first, second) = schedulers(redis_url, 2)
    assert first.enqueue_request(article(spider, "http://example.org/a-1.html"))
    assert not second.enqueue_request(article(spider, "http://example.org/a-1.html")), "one seen-set"
    first.close("finished")
    taken = second.next_request()
    assert taken is not None and taken.url == "http://example.org/a-1.html", "the first out kept the frontier"
    second.close("finished")
    assert not second.server.keys("qpan:*")

    spider, (dead,) = schedulers(redis_url, 1)
    dead.enqueue_request(article(spider, "http://example.org/a-2.html"))
    dead.server.zadd(dead.workers_key, {dead.worker: time.time() - 1})  # its lease ran out: killed long ago
    _, (fresh,) = schedulers(redis_url, 1)
    assert len(fresh) == 0, "a new round starts empty"
    assert fresh.enqueue_request(article(spider, "http://example.org/a-2.html"))
    fresh.close("finished")
    assert not fresh.server.keys("qpan:*")


def test_unreachable_redis_is_one_line(tmp_path: Path, fixture_web: LocalWeb) -> None:
    where = f"127.0.0.1:{closed_port()}"
    config = initialised(
        write_config(
            tmp_path / "qpan.toml", fixture_web, f"sqlite:///{tmp_path / 'qpan.db'}",
            crawl={"redis_url": f"redis://{where}/0"},
        )
    )

    result = qpan_process(config, "crawl", "--quiet")

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"qpan: Redis at {where} is not reachable ("), lines
    assert not fixture_web.requests("tinbiengioi")


@pytest.mark.redis
def test_redis_url_switches_the_scheduler_with_keys_per_spider_and_sources(redis_url: str) -> None:
    plain_config = config_from_dict({})
    plain = computed_settings(plain_config, select_sources(plain_config))
    assert not SCALE_KEYS & set(plain)

    config = config_from_dict({"crawl": {"redis_url": redis_url}})
    shared = computed_settings(config, select_sources(config))
    assert shared["SCHEDULER"] == "qpan.crawler.scale.SharedScheduler"
    assert shared["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert shared["REDIS_URL"] == redis_url
    queue_key = shared["SCHEDULER_QUEUE_KEY"] % {"spider": "news"}
    assert queue_key.startswith("qpan:news:")
    assert {key: value for key, value in shared.items() if key not in SCALE_KEYS} == plain

    other_sources = config_from_dict({"sources": [{"name": "x", "feeds": ["http://x/"]}]}).sources
    assert computed_settings(config, other_sources)["SCHEDULER_QUEUE_KEY"] != shared["SCHEDULER_QUEUE_KEY"]


def test_redis_url_must_be_a_redis_url() -> None:
    with pytest.raises(ConfigError, match="crawl.redis_url"):
        config_from_dict({"crawl": {"redis_url": "http://127.0.0.1:6379"}})
