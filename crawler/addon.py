"""The qpan add-on: qpan's config becomes Scrapy settings, at priority ``"addon"``.

Scrapy calls :meth:`QpanAddon.update_settings` when it creates a crawler (``qpan crawl``,
``scrapy crawl news`` from the repository root, a test's ``get_crawler``), after the project
settings (``crawler/settings.py``, registered there in ``ADDONS``) and before any component
reads them. Its values go in at priority ``"addon"``, so a project, spider or command-line
value (``scrapy crawl news -s DOWNLOAD_DELAY=5``, ``qpan crawl --since 3``) wins.

It also takes Scrapy's remote-control extension out of ``EXTENSIONS_BASE``, and its cookies
middleware out of ``DOWNLOADER_MIDDLEWARES_BASE`` when cookies are off: changes to Scrapy's own
defaults, which ``crawler/settings.py`` cannot read without importing Scrapy (and the page
workers' early start reads that module before Scrapy is imported).

Reads ``QPAN_CONFIG`` (the run's ``Config``; absent: ``load_config()``, i.e. ``./qpan.toml`` or
``$QPAN_CONFIG``) and ``QPAN_SOURCE_NAMES`` (absent: every enabled source). Sets everything
:func:`computed_settings` returns. It neither touches the network nor ends the process: a
reachable Redis is checked when a crawl starts (``crawler/run.py``), and a bad qpan.toml is
raised as ``ConfigError`` to whoever asked for the crawler.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from scrapy.settings import BaseSettings

from qpan import __version__, defaults
from qpan.config import Config, SourceConfig, load_config
from qpan.crawler.registry import select_sources, theme_queries

EXTRA_DEPTH = 4  # discovery home -> sitemap index -> sitemap -> article, beyond listing pages
#: Scrapy imports every extension its settings name, even one set to None in EXTENSIONS, to sort
#: them; the remote-control one (a code-executing HTTP port, off: REMOTE_CONTROL_ENABLED) imports
#: aiohttp, 0.08 s of every crawl's start-up. Out of the base list, it is never imported.
LEFT_OUT_EXTENSIONS = ("scrapy.extensions.remote_control.RemoteControl",)
#: Likewise for middlewares: the cookies one imports tldextract and requests (30 ms), and only
#: a crawl with cookies enabled (a source to ``prime``) keeps it in the base list.
COOKIES_MIDDLEWARE = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"


def scale_out_settings(redis_url: str, sources: list[dict[str, Any]]) -> dict[str, Any]:
    """scrapy-redis settings for ``crawler.scale.SharedScheduler``.

    The keys carry the spider name and a digest of the sources: machines share a frontier only
    when they crawl the same sources configured the same way, so a page queued by one machine
    is always one the others know how to parse. The scheduler persists (SCHEDULER_PERSIST)
    because the round ends when the last machine leaves, not the first (see crawler/scale.py).
    """
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


def user_agent(config: Config) -> str:
    """The honest User-Agent: qpan, its version and the operator's contact URL."""
    return f"qpan/{__version__} (+{config.crawl.user_agent_contact})"


def download_slots(sources: list[SourceConfig], config: Config) -> dict[str, dict[str, Any]]:
    """One download slot per source (the spider names requests' slots after their source), so
    politeness holds per site even when a site spans several host names.

    The delay is a floor (``crawler/extensions/throttle.py``), so it is not jittered: Scrapy's
    default ±50% would send every other request early.
    """
    return {
        source.name: {
            "delay": source.download_delay if source.download_delay is not None else config.crawl.download_delay,
            "concurrency": config.crawl.concurrent_per_domain,
            "jitter": 0.0,
        }
        for source in sources
    }


def computed_settings(config: Config, sources: list[SourceConfig]) -> dict[str, Any]:
    """The Scrapy settings ``config`` makes for a run of ``sources``."""
    crawl = config.crawl
    max_listing = max((source.max_listing_pages for source in sources), default=1)
    source_dicts = [source.model_dump() for source in sources]
    return {
        "USER_AGENT": user_agent(config),
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        # Cookies only when a source must be primed for them (``prime``); otherwise stateless.
        "COOKIES_ENABLED": any(source.prime for source in sources),
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_SLOTS": download_slots(sources, config),
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 1.0),
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DEPTH_LIMIT": max_listing + EXTRA_DEPTH,
        "QPAN_RETRY_BACKOFF": max(4 * crawl.download_delay, 0.1),
        "QPAN_DATABASE_URL": config.database.url,
        "QPAN_TOPIC": config.topic.model_dump(),
        "QPAN_MAX_TEXT_CHARS": crawl.max_text_chars,
        "QPAN_SOURCES": source_dicts,
        "QPAN_SINCE_DAYS": crawl.since_days,
        "QPAN_MAX_SITEMAP_URLS": crawl.max_sitemap_urls,
        "QPAN_PAGE_WORKERS": crawl.page_workers,
        "QPAN_THEME_SEARCH": crawl.theme_search,
        "QPAN_QUERIES": theme_queries(config),
        **(scale_out_settings(crawl.redis_url, source_dicts) if crawl.redis_url else {}),
    }


class QpanAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        config: Config = settings.get("QPAN_CONFIG", defaults.QPAN_CONFIG) or load_config()
        sources = select_sources(config, settings.getlist("QPAN_SOURCE_NAMES", list(defaults.QPAN_SOURCE_NAMES)))
        settings.setdict(computed_settings(config, sources), priority="addon")
        _leave_out(settings, "EXTENSIONS_BASE", LEFT_OUT_EXTENSIONS)
        if not settings.getbool("COOKIES_ENABLED"):  # after the add-on's own value, below a command line's
            _leave_out(settings, "DOWNLOADER_MIDDLEWARES_BASE", (COOKIES_MIDDLEWARE,))


def _leave_out(settings: BaseSettings, name: str, components: tuple[str, ...]) -> None:
    """Scrapy's base list ``name`` without ``components``, so that Scrapy never imports them."""
    base = settings.getdict(name)
    settings.set(name, {path: order for path, order in base.items() if path not in components}, "addon")
