"""Scrapy project settings: the fixed part, plain values (``scrapy.cfg`` names this module).

Everything computed from qpan's config (the sources, their download slots, the database,
the User-Agent, scale-out) goes in through the add-on ``crawler/addon.py``, registered in
``ADDONS``; the ``QPAN_*`` defaults live in ``qpan/defaults.py``. Reading this module reads
no config file, touches no network and never ends the process, so ``scrapy list`` works
anywhere and ``scrapy crawl news`` from the repository root crawls as ``qpan crawl`` does.
"""

from __future__ import annotations

import os

BOT_NAME = "qpan"
SPIDER_MODULES = ["qpan.crawler.spiders"]
NEWSPIDER_MODULE = "qpan.crawler.spiders"

ADDONS = {"qpan.crawler.addon.QpanAddon": 0}

# clean -> relevance -> fingerprint run as one job in the page workers (qpan/workers.py)
ITEM_PIPELINES = {
    "qpan.pipelines.stages.prepare.PrepareStage": 100,
    "qpan.pipelines.stages.dedup.DedupStage": 300,
    "qpan.pipelines.stages.store.StoreStage": 400,
}

DOWNLOADER_MIDDLEWARES = {
    "qpan.crawler.middlewares.slots.SourceSlots": 30,
    "qpan.crawler.middlewares.domains.DomainGuard": 40,
    "qpan.crawler.middlewares.accounting.SourceAccounting": 75,
    "qpan.crawler.middlewares.auth.SourceCredentials": 290,  # before Scrapy's HttpAuthMiddleware (300)
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "qpan.crawler.middlewares.retry.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "qpan.crawler.middlewares.metarefresh.QuickMetaRefresh": 580,  # Scrapy's own place for it
    "qpan.crawler.middlewares.conditional.ConditionalRequests": 595,
}

SPIDER_MIDDLEWARES = {
    "qpan.crawler.middlewares.seen.SeenUrlFilter": 550,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "qpan.crawler.middlewares.accounting.SourceDepthLimit": 900,
    "qpan.crawler.middlewares.accounting.CallbackErrors": 950,
}

EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "qpan.crawler.extensions.throttle.SlotPoliteness": 10,
    "qpan.crawler.extensions.runsummary.RunSummary": 500,
    "qpan.crawler.extensions.progress.Progress": 510,
}

TELNETCONSOLE_ENABLED = False
# Scrapy's in-memory stats without the attribute shim that made each count cost 2 µs
STATS_CLASS = "qpan.crawler.statscollector.CrawlStats"
# Scrapy 2.19's remote-control HTTP server (code execution behind a token, on a random port):
# an unattended crawl opens no control port (and the add-on takes the extension out of Scrapy's
# base list, so that a crawl does not even import it: see crawler/addon.py).
REMOTE_CONTROL_ENABLED = False
# `qpan -v/--log-level/--log-file` set these for this process and the crawls it starts.
LOG_LEVEL = os.environ.get("QPAN_LOG_LEVEL", "WARNING")
LOG_FILE = os.environ.get("QPAN_LOG_FILE") or None
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
# no per-page DEBUG messages built for a crawl that does not log DEBUG
LOG_FORMATTER = "qpan.crawler.logformatter.CrawlLogFormatter"
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"

AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_WARNSIZE = 0
RETRY_ENABLED = True
RETRY_TIMES = 2
# An article page yields one item and a listing a few dozen requests: Scrapy's default of 100
# starts 100 worker tasks per response for that, and even 4 cost more than they overlap (2,000
# pages: 5.49-5.58 s with 1, 5.52-5.69 s with 4); the page workers give the parallelism.
CONCURRENT_ITEMS = 1
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
REDIRECT_MAX_TIMES = 5
METAREFRESH_MAXDELAY = 5
