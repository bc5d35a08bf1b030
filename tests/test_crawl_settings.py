"""Settings flow one way: the project module is plain values, the add-on turns qpan's config
into the rest at priority "addon", and reading either never exits nor touches the network."""

from __future__ import annotations

import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from qpan.config import config_from_dict
from qpan.crawler.run import crawl_settings
from qpan.crawler.spiders.news import NewsSpider

ROOT = Path(__file__).resolve().parents[1]


def chosen(settings: Settings) -> dict[str, Any]:
    """What a run set, Scrapy's own defaults left out (a crawler starts from those anyway)."""
    return {name: settings[name] for name in settings if (settings.getpriority(name) or 0) > 0}


def crawler_settings(settings: Settings) -> Settings:
    """The settings a crawler ends up with: Scrapy applies the add-on when it creates it."""
    return get_crawler(NewsSpider, chosen(settings)).settings


def one_source_crawler(**overrides: Any) -> Crawler:
    """A crawler for a configuration of one source "a", with ``overrides`` over its settings."""
    settings = crawl_settings(config_from_dict({"crawl": {"shipped_sources": False}, "sources": [{"name": "a"}]}))
    return get_crawler(NewsSpider, {**chosen(settings), **overrides})


def test_the_addon_turns_the_config_into_scrapy_settings_and_run_choices_win() -> None:
    config = config_from_dict(
        {
            "crawl": {"shipped_sources": False, "user_agent_contact": "https://example.org/c", "download_delay": 2},
            "sources": [
                {"name": "a", "feeds": ["http://127.0.0.1:9/f"], "download_delay": 5},
                {"name": "b", "feeds": ["http://127.0.0.1:9/g"]},
            ],
        }
    )
    settings = crawler_settings(crawl_settings(config, sources=["a"], since_days=3))

    assert settings["USER_AGENT"] == "qpan/0.1.0 (+https://example.org/c)"
    assert settings.getpriority("USER_AGENT") == 15  # "addon"
    assert settings["DOWNLOAD_SLOTS"] == {"a": {"delay": 5, "concurrency": 4, "jitter": 0.0}}
    assert [source["name"] for source in settings["QPAN_SOURCES"]] == ["a"]
    assert settings["QPAN_SINCE_DAYS"] == 3, "the run's --since beats the config's since_days"
    assert settings["QPAN_TOPIC"]["threshold"] == 0.5
    assert list(settings["ITEM_PIPELINES"]) == [
        "qpan.pipelines.stages.prepare.PrepareStage",
        "qpan.pipelines.stages.dedup.DedupStage",
        "qpan.pipelines.stages.store.StoreStage",
    ]


def test_the_cookies_middleware_is_loaded_only_for_a_crawl_with_cookies() -> None:
    """Scrapy imports every middleware of its base list; the cookies one costs 30 ms of imports."""
    cookies = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"

    def middlewares(source: dict[str, object], **run: object) -> dict[str, int]:
        config = config_from_dict({"crawl": {"shipped_sources": False}, "sources": [source]})
        settings = crawl_settings(config)
        settings.setdict(run, priority="cmdline")
        return crawler_settings(settings).getdict("DOWNLOADER_MIDDLEWARES_BASE")

    plain = {"name": "a", "feeds": ["http://127.0.0.1:9/f"]}
    assert cookies not in middlewares(plain)
    assert cookies in middlewares({**plain, "prime": ["http://127.0.0.1:9/"]}), "a primed source needs its cookies"
    assert cookies in middlewares(plain, COOKIES_ENABLED=True), "a run's own choice wins"


def test_a_count_is_one_python_call() -> None:
    """Scrapy's stats collector routed every attribute read through a Python ``__getattribute__``
    (2.1 µs a count against 0.12), and a crawl counts about 17 times a page on the reactor's thread."""
    stats = one_source_crawler().stats
    calls: list[str] = []

    def trace(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(trace)
    try:
        stats.inc_value("qpan/source/a/fetched")
    finally:
        sys.setprofile(None)
    assert calls == ["inc_value"]
    assert stats.get_value("qpan/source/a/fetched") == 1


def test_the_per_page_debug_messages_are_built_only_for_a_debug_log() -> None:
    """Scrapy built a "Crawled" and a "Scraped from" message and record for every page, which a
    crawl at the default WARNING level threw away in its handlers."""
    from scrapy.http import HtmlResponse, Request

    request = Request("http://127.0.0.1:9/a-1.html")
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    for level, built in (("WARNING", False), ("INFO", False), ("DEBUG", True), (logging.DEBUG, True)):
        formatter = one_source_crawler(LOG_LEVEL=level).logformatter
        assert (formatter.crawled(request, response, None) is not None) is built, level
        assert (formatter.scraped({"title": "x"}, response, None) is not None) is built, level


def test_reading_the_settings_module_reads_no_config_and_touches_no_network(tmp_path: Path) -> None:
    """A broken qpan.toml and an unreachable Redis do not matter until a crawl starts."""
    (tmp_path / "qpan.toml").write_text('[crawl]\nredis_url = "redis://127.0.0.1:1/0"\nsince_dayz = 1\n')
    script = (
        "import qpan.crawler.settings as s\n"
        "print(sorted(name for name in dir(s) if name.isupper()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "QPAN_CONFIG": str(tmp_path / "qpan.toml")},
    )
    assert result.returncode == 0, result.stderr
    assert "ADDONS" in result.stdout and "QPAN_SOURCES" not in result.stdout
    module = importlib.import_module("qpan.crawler.settings")
    assert module.ADDONS == {"qpan.crawler.addon.QpanAddon": 0}


def test_scrapy_list_works_from_the_repository_root() -> None:
    scrapy = Path(sys.executable).with_name("scrapy")
    result = subprocess.run([str(scrapy), "list"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["news"]
