"""Every ``QPAN_*`` Scrapy setting that has a default, declared once (scrapy-redis keeps its own
the same way). Components read ``settings.get("QPAN_X", defaults.QPAN_X)``, so a component built
without the add-on (a test's ``get_crawler``) behaves as in a crawl.

The settings that come from qpan.toml have their defaults in ``qpan.config`` and reach Scrapy
through the add-on (``crawler/addon.py``): ``QPAN_DATABASE_URL``, ``QPAN_SOURCES``,
``QPAN_TOPIC``, ``QPAN_QUERIES``, ``QPAN_THEME_SEARCH``, ``QPAN_SINCE_DAYS`` and, with
``redis_url``, ``QPAN_WORKERS_KEY``.
"""

from __future__ import annotations

#: The qpan ``Config`` of the run (``qpan crawl`` passes its own); None: the add-on reads qpan.toml.
QPAN_CONFIG = None
#: Registry names of the run's sources; empty: every enabled source.
QPAN_SOURCE_NAMES: tuple[str, ...] = ()
#: The ``crawl_runs`` row the crawl reports to; None: the run summary opens its own.
QPAN_RUN_ID = None
#: Show a progress line on a terminal.
QPAN_PROGRESS = False
#: Pause before the first retry of a page; doubled for each further one (the add-on: 4 x download_delay).
QPAN_RETRY_BACKOFF = 1.0
#: The longest pause a retry or a ``Retry-After`` puts on a site.
QPAN_RETRY_MAX_DELAY = 60.0
#: Sitemap index -> index -> sitemap.
QPAN_SITEMAP_MAX_DEPTH = 3
#: URLs read from one sitemap in one run (also ``[crawl] max_sitemap_urls``).
QPAN_MAX_SITEMAP_URLS = 5000
#: Articles stored per transaction, and the longest a stored article waits for its batch.
QPAN_STORE_BATCH_SIZE = 100
QPAN_STORE_MAX_WAIT = 10.0
#: Longer article texts are cut here and flagged ``truncated`` (also ``[crawl] max_text_chars``).
QPAN_MAX_TEXT_CHARS = 200_000
#: Processes that do the per-page work (``qpan/workers.py``); None: one per core beyond the first.
QPAN_PAGE_WORKERS = None
