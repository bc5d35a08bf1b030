"""Scrapy settings: the one place where qpan's config becomes Scrapy settings.

``build_settings`` is what ``qpan crawl`` uses. This module is also the Scrapy settings
module named in ``scrapy.cfg``, so plain ``scrapy list`` / ``scrapy crawl news`` work from
the repository root: its upper-case names are computed lazily from ``load_config()``
(module ``__getattr__``/``__dir__``), so importing ``build_settings`` never reads a config
file as a side effect, and a broken qpan.toml only matters when Scrapy asks for settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from functools import cache
from importlib import import_module
from typing import Any

from qpan import __version__
from qpan.config import Config, ConfigError, SourceConfig, load_config
from qpan.crawler.registry import select_sources, theme_queries
from qpan.errors import UserError

ITEM_PIPELINES = {
    "qpan.pipelines.stages.clean.CleanStage": 100,
    "qpan.pipelines.stages.relevance.RelevanceStage": 200,
    "qpan.pipelines.stages.dedup.DedupStage": 300,
    "qpan.pipelines.stages.store.StoreStage": 400,
}

DOWNLOADER_MIDDLEWARES = {
    "qpan.crawler.middlewares.domains.DomainGuard": 40,
    "qpan.crawler.middlewares.accounting.SourceAccounting": 75,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "qpan.crawler.middlewares.retry.RetryAfterMiddleware": 550,
    "qpan.crawler.middlewares.conditional.ConditionalRequests": 595,
}

SPIDER_MIDDLEWARES = {
    "qpan.crawler.middlewares.seen.SeenUrlFilter": 550,
}

EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.throttle.AutoThrottle": None,
    "qpan.crawler.extensions.throttle.SourceThrottle": 0,
    "qpan.crawler.extensions.runsummary.RunSummary": 500,
    "qpan.crawler.extensions.progress.Progress": 510,
}

RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
SITEMAP_MAX_DEPTH = 3  # sitemap index -> index -> sitemap
EXTRA_DEPTH = 4  # discovery home -> sitemap index -> sitemap -> article, beyond listing pages


class ScaleOutUnavailable(UserError):
    """Falling back to a private frontier would silently fetch every page once per machine."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("redis_url is set but scrapy-redis is not installed: pip install 'qpan[scale]'")


def scale_out_settings(redis_url: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """scrapy-redis settings for ``crawler.scale.SharedScheduler``.

    The keys carry the spider name and a digest of the sources: machines share a frontier only
    when they crawl the same sources configured the same way, so a page queued by one machine
    is always one the others know how to parse. The scheduler persists (SCHEDULER_PERSIST)
    because the round ends when the last machine leaves, not the first (see crawler/scale.py).
    """
    try:
        scale = import_module("qpan.crawler.scale")
    except ImportError:
        raise ScaleOutUnavailable() from None
    scale.require_reachable(redis_url)
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:12]
    prefix = f"qpan:%(spider)s:{digest}"
    return {
        "SCHEDULER": "qpan.crawler.scale.SharedScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        "QPAN_WORKERS_KEY": f"{prefix}:workers",
        "REDIS_URL": redis_url,
    }


def download_slots(sources: list[SourceConfig], config: Config) -> dict[str, dict[str, Any]]:
    """One download slot per source (the spider names requests' slots after their source),
    so politeness holds per site even when a site spans several host names."""
    return {
        source.name: {
            "delay": source.download_delay if source.download_delay is not None else config.crawl.download_delay,
            "concurrency": config.crawl.concurrent_per_domain,
        }
        for source in sources
    }


def build_settings(
    config: Config,
    *,
    since_days: int | None = None,
    sources: list[SourceConfig] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Scrapy settings for one run of ``sources`` (default: every enabled source)."""
    crawl = config.crawl
    selected = sources if sources is not None else select_sources(config)
    max_listing = max((source.max_listing_pages for source in selected), default=1)
    source_dicts = [source.model_dump() for source in selected]
    scale_out = scale_out_settings(crawl.redis_url, source_dicts) if crawl.redis_url else {}
    return {
        "BOT_NAME": "qpan",
        "SPIDER_MODULES": ["qpan.crawler.spiders"],
        "NEWSPIDER_MODULE": "qpan.crawler.spiders",
        "USER_AGENT": f"qpan/{__version__} (+{crawl.user_agent_contact})",
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # `qpan -v/--log-level/--log-file` set these for this process and the crawls it starts.
        "LOG_LEVEL": os.environ.get("QPAN_LOG_LEVEL", "WARNING"),
        "LOG_FILE": os.environ.get("QPAN_LOG_FILE") or None,
        "LOG_FORMAT": "%(levelname)s %(name)s: %(message)s",
        "DEFAULT_DROPITEM_LOG_LEVEL": "INFO",
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_SLOTS": download_slots(selected, config),
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 1.0),
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": RETRY_HTTP_CODES,
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        "QPAN_RETRY_BACKOFF": max(4 * crawl.download_delay, 0.1),
        "QPAN_RETRY_MAX_DELAY": 60.0,
        "REDIRECT_MAX_TIMES": 5,
        "METAREFRESH_MAXDELAY": 5,
        "DEPTH_LIMIT": max_listing + EXTRA_DEPTH,
        "QPAN_SITEMAP_MAX_DEPTH": SITEMAP_MAX_DEPTH,
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "DOWNLOADER_MIDDLEWARES": DOWNLOADER_MIDDLEWARES,
        "SPIDER_MIDDLEWARES": SPIDER_MIDDLEWARES,
        "EXTENSIONS": EXTENSIONS,
        "QPAN_DATABASE_URL": config.database.url,
        "QPAN_TOPIC": config.topic.model_dump(),
        "QPAN_MAX_TEXT_CHARS": crawl.max_text_chars,
        "QPAN_SOURCES": source_dicts,
        "QPAN_SINCE_DAYS": crawl.since_days if since_days is None else since_days,
        "QPAN_RUN_ID": None,  # run_crawl sets it once the run row exists
        "QPAN_THEME_SEARCH": crawl.theme_search,
        "QPAN_QUERIES": theme_queries(config),
        "QPAN_PROGRESS": progress,
        **scale_out,
    }


@cache
def _module_settings() -> dict[str, Any]:
    try:
        return build_settings(load_config())
    except (ConfigError, UserError) as exc:
        sys.stderr.write(f"qpan: config error: {exc}\n")
        raise SystemExit(2) from None


def __getattr__(name: str) -> Any:
    settings = _module_settings() if name.isupper() else {}
    if name in settings:
        return settings[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*(name for name in globals() if not name.isupper()), *_module_settings()})
