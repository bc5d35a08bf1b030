"""The ``news`` spider: every kind of source of the registry in one run.

One spider (not one per kind) so that a run has one stats collection, one frontier and
one per-site politeness budget. Per source it starts from feeds, sitemaps, listing pages,
theme searches and, for ``discover = true`` or bare-domain sources, discovery; the pure
parsers live in ``crawler/harvest``. Every article page goes through
``crawler.extraction.extract_article`` with the source's selectors.

``scrapy crawl news [-a source=NAME[,NAME]] [-a mode=discover]`` works as well as ``qpan crawl``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.utils.asyncio import sleep
from scrapy.utils.sitemap import sitemap_urls_from_robots
from sqlalchemy import select
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from qpan import defaults
from qpan.config import SourceConfig
from qpan.crawler import meta
from qpan.crawler.harvest.dates import cutoff, is_recent
from qpan.crawler.harvest.feeds import Entry, declares_entities, feed_entries, looks_like_feed
from qpan.crawler.harvest.links import article_links, feed_links, is_article_url, next_page, search_url, unwrap_link
from qpan.crawler.harvest.sitemaps import SITEMAP_ROOTS, SitemapEntry, SitemapError, SitemapStream
from qpan.crawler.middlewares.accounting import account_ignored
from qpan.crawler.registry import UnknownSource, host_allowed, source_domains, sources_from_settings
from qpan.crawler.urls import article_canonical, split_credentials
from qpan.stats import record_error, stat_key
from qpan.storage.crawler import crawler_database
from qpan.storage.migrate import current_revision
from qpan.storage.models import SourceHealth
from qpan.workers import crawler_page_workers

DISCOVERY_TTL = timedelta(days=7)  # a discovery result is reused this long before looking again
_PROBE_SITEMAP = "/sitemap.xml"
_PROBE_FEEDS = "/rss"
_HTML_TYPES = (b"text/html", b"application/xhtml", b"text/plain")
# Sitemap entries read between two turns of the reactor (about 5 ms of parsing): downloads go on
# and a SIGTERM is heard while a large sitemap is still being read.
SITEMAP_CHUNK = 250
EXTRACT = "qpan.crawler.extraction.extract_article"  # run by a page worker (qpan/workers.py)


def needs_discovery(source: SourceConfig) -> bool:
    """``discover = true``, or a bare domain/home with nothing to start from."""
    return source.discover or not (source.feeds or source.sitemaps or source.listings or source.search)


def home_of(source: SourceConfig) -> str | None:
    if source.home:
        return source.home
    return f"https://{source.domains[0]}/" if source.domains else None


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, *args: Any, source: str | None = None, mode: str = "crawl", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.only = [name.strip() for name in source.split(",")] if source else []
        self.discover_only = mode == "discover"
        self.sources: dict[str, SourceConfig] = {}
        self.domains: dict[str, list[str]] = {}
        self.found: dict[str, dict[str, list[str]]] = {}
        self.cached: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        # Scrapy creates the spider before the add-on fills in the settings, and opens it after.
        crawler.signals.connect(spider.spider_opened, signal=signals.spider_opened)
        return spider

    def spider_opened(self) -> None:
        self.configure(self.crawler)

    def configure(self, crawler: Crawler) -> None:
        settings = crawler.settings
        sources = sources_from_settings(settings.getlist("QPAN_SOURCES"))
        by_name = {source.name: source for source in sources}
        unknown = [name for name in self.only if name not in by_name]
        if unknown:
            raise UnknownSource(unknown, sorted(by_name))
        self.sources = {name: by_name[name] for name in self.only} if self.only else by_name
        self.domains = {name: source_domains(source) for name, source in by_name.items()}
        self.since = cutoff(settings.get("QPAN_SINCE_DAYS"))
        self.queries: list[str] = settings.getlist("QPAN_QUERIES") if settings.getbool("QPAN_THEME_SEARCH") else []
        self.sitemap_max_depth = settings.getint("QPAN_SITEMAP_MAX_DEPTH", defaults.QPAN_SITEMAP_MAX_DEPTH)
        self.max_sitemap_urls = settings.getint("QPAN_MAX_SITEMAP_URLS", defaults.QPAN_MAX_SITEMAP_URLS)
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        self.database = crawler_database(crawler)
        self.page_workers = crawler_page_workers(crawler)

    # -- start ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if current_revision(self.database) is None:
            self.logger.error("database %s is not initialised: run `qpan init` first", self.database.url)
            return
        self.cached = self._cached_discoveries()
        for source in self.sources.values():
            if source.prime:
                yield self._prime_request(source, source.prime)
                continue
            for request in self._start_requests(source):
                yield request

    def _cached_discoveries(self) -> dict[str, dict[str, Any]]:
        with self.database.session() as session:
            rows = session.execute(select(SourceHealth.source, SourceHealth.discovered)).all()
        fresh_after = datetime.now(UTC) - DISCOVERY_TTL
        cached = {}
        for name, discovered in rows:
            at = discovered.get("at") if discovered else None
            if at and datetime.fromisoformat(at) >= fresh_after:
                cached[name] = discovered
        return cached

    def _start_requests(self, source: SourceConfig) -> Iterator[scrapy.Request]:
        cached = self.cached.get(source.name)
        if self.discover_only:
            yield from self._discovery_requests(source)
            return
        for url in source.feeds:
            yield self._feed_request(url, source)
        for url in source.sitemaps:
            yield self._sitemap_request(url, source, depth=0)
        for url in source.listings:
            yield self._request(url, source, meta.LISTING, self.parse_listing, depth=1)
        for template in source.search:
            for query in self.queries:
                yield self._request(search_url(template, query), source, meta.SEARCH, self.parse_search)
        if needs_discovery(source):
            if cached is None:
                yield from self._discovery_requests(source)
            else:
                yield from (self._feed_request(url, source) for url in cached.get("feeds", []))
                yield from (self._sitemap_request(url, source, depth=0) for url in cached.get("sitemaps", []))

    def _prime_request(self, source: SourceConfig, urls: list[str]) -> scrapy.Request:
        """Fetch ``urls[0]`` for its cookies (kept by Scrapy's CookiesMiddleware), without
        following a redirect: qdnd.vn's /rss sets the cookie and redirects to itself."""
        request = self._request(urls[0], source, meta.PRIME, self.parse_prime)
        request.meta.update(
            {"dont_redirect": True, "handle_httpstatus_list": [301, 302, 303, 307, 308], meta.PRIME_REST: urls[1:]}
        )
        return request.replace(errback=self.prime_failed)

    def _after_prime(self, request_meta: dict[str, Any]) -> Iterator[scrapy.Request]:
        source = self.sources[request_meta[meta.SOURCE]]
        rest = request_meta[meta.PRIME_REST]
        if rest:
            yield self._prime_request(source, rest)
        else:
            yield from self._start_requests(source)

    def parse_prime(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self._after_prime(response.meta)

    def prime_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A priming URL that failed is accounted like any other; the entry points still go."""
        self.on_error(failure)
        yield from self._after_prime(failure.request.meta)

    def _discovery_requests(self, source: SourceConfig) -> Iterator[scrapy.Request]:
        home = home_of(source)
        if home is None:
            return
        self.found[source.name] = {"feeds": [], "sitemaps": []}
        yield self._request(home, source, meta.DISCOVERY, self.parse_home)
        yield self._request(urljoin(home, "/robots.txt"), source, meta.DISCOVERY, self.parse_robots, probe=True)

    # -- request factory -----------------------------------------------------------------

    def _request(
        self,
        url: str,
        source: SourceConfig,
        kind: str,
        callback: Callable[[Response], Any],
        *,
        depth: int = 0,
        conditional: bool = False,
        probe: bool = False,
        discovered: bool = False,
        offsite_ok: bool = False,
    ) -> scrapy.Request:
        request_meta: dict[str, Any] = {meta.SOURCE: source.name, meta.KIND: kind, meta.DEPTH: depth}
        # Discovery is a read-only probe: validators it stored would turn the next crawl's
        # feed requests into 304s, and validators it sent would hide a feed it should list.
        if conditional and not self.discover_only:
            request_meta[meta.CONDITIONAL] = True
            request_meta["handle_httpstatus_list"] = [304]
        if probe:
            request_meta[meta.PROBE] = True
        if discovered:
            request_meta[meta.DISCOVERED] = True
        if offsite_ok:
            request_meta[meta.OFFSITE_OK] = True
        else:
            request_meta["download_slot"] = source.name
        # credentials go as a header (crawler/middlewares/auth.py), never in a URL Scrapy logs or we store
        clean_url = split_credentials(url)[0]
        return scrapy.Request(clean_url, callback=callback, errback=self.on_error, meta=request_meta)

    def _feed_request(self, url: str, source: SourceConfig, *, discovered: bool = False) -> scrapy.Request:
        return self._request(url, source, meta.FEED, self.parse_feed, conditional=True, discovered=discovered)

    def _sitemap_request(
        self, url: str, source: SourceConfig, *, depth: int, discovered: bool = False, probe: bool = False
    ) -> scrapy.Request:
        return self._request(
            url, source, meta.SITEMAP, self.parse_sitemap, depth=depth, conditional=True,
            discovered=discovered, probe=probe,
        )

    def _article_request(self, url: str, source: SourceConfig, *, offsite_ok: bool = False) -> scrapy.Request:
        return self._request(url, source, meta.ARTICLE, self.parse_article, offsite_ok=offsite_ok)

    def _source(self, response: Response) -> SourceConfig:
        return self.sources[response.meta[meta.SOURCE]]

    def _recent(self, entries: Iterable[Entry]) -> Iterator[Entry]:
        for entry in entries:
            if is_recent(entry.published, self.since):
                yield entry

    # -- discovery bookkeeping ---------------------------------------------------------

    def _record(self, response: Response, kind: str) -> None:
        """A discovered feed/sitemap that parsed: remember it for ``SourceHealth.discovered``."""
        if not response.meta.get(meta.DISCOVERED):
            return
        name = response.meta[meta.SOURCE]
        found = self.found.setdefault(name, {"feeds": [], "sitemaps": []})
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        if url not in found[kind]:
            found[kind].append(url)
        value = {**found, "at": datetime.now(UTC).isoformat()}
        self.crawler.stats.set_value(stat_key(name, "discovered"), value)

    # -- callbacks -------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            return
        if not looks_like_feed(response.body):
            record_error(self.crawler.stats, response.meta[meta.SOURCE], f"not a feed: {response.url}")
            return
        self._record(response, "feeds")
        if self.discover_only:
            return
        source = self._source(response)
        if declares_entities(response.body):
            record_error(
                self.crawler.stats, source.name, f"feed declares XML entities (left unexpanded): {response.url}"
            )
        for entry in self._recent(feed_entries(response.body, response.url)):
            if host_allowed(entry.url, self.domains[source.name]):
                yield self._article_request(entry.url, source)

    async def parse_sitemap(self, response: Response) -> AsyncIterator[scrapy.Request]:
        """Requests as the sitemap streams by: the first go out while the rest is still unread."""
        if response.status == 304:
            return
        source = self._source(response)
        sitemap = SitemapStream(response.body, response.url, self.max_size)
        if sitemap.error:
            record_error(self.crawler.stats, source.name, f"{sitemap.error}: {response.url}")
            return
        if sitemap.root not in SITEMAP_ROOTS:
            return
        if sitemap.declares_entities:
            record_error(
                self.crawler.stats, source.name, f"sitemap declares XML entities (left unexpanded): {response.url}"
            )
        self._record(response, "sitemaps")
        if self.discover_only:
            return
        depth, followed = response.meta[meta.DEPTH], 0
        try:
            for read, entry in enumerate(sitemap, start=1):
                if read % SITEMAP_CHUNK == 0:
                    await sleep(0)
                if not self.crawler.crawling:  # shutting down: the rest of the sitemap is not wanted
                    self._sitemap_cut(source, response, sitemap, "sitemaps_interrupted", "shutdown")
                    break
                if not self._wanted(entry, sitemap.root, source, depth):
                    continue
                if followed == self.max_sitemap_urls:
                    self._sitemap_cut(source, response, sitemap, "sitemaps_capped", "max_sitemap_urls reached")
                    break
                followed += 1
                if sitemap.root == "sitemapindex":
                    yield self._sitemap_request(entry.url, source, depth=depth + 1)
                else:
                    yield self._article_request(entry.url, source)
        except SitemapError as exc:
            record_error(self.crawler.stats, source.name, f"{exc}: {response.url}")

    def _sitemap_cut(
        self, source: SourceConfig, response: Response, sitemap: SitemapStream, key: str, why: str
    ) -> None:
        """A sitemap left unread from here on: counted in the run's figures, logged with the reason."""
        self.crawler.stats.inc_value(stat_key(source.name, f"dropped/{key}"))
        self.logger.info("sitemap %s: %s after %d bytes read", response.url, why, sitemap.bytes_read)

    def _wanted(self, entry: SitemapEntry, root: str, source: SourceConfig, depth: int) -> bool:
        """A recent, on-site entry that leads to an article or (within the depth) a nested sitemap."""
        if not is_recent(entry.published, self.since) or not host_allowed(entry.url, self.domains[source.name]):
            return False
        if root == "sitemapindex":
            if depth < self.sitemap_max_depth:
                return True
            text = f"sitemap depth limit ({self.sitemap_max_depth}) reached: {entry.url} not read"
            record_error(self.crawler.stats, source.name, text)
            return False
        return entry.news or is_article_url(entry.url, source.article_pattern)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        source = self._source(response)
        domains = self.domains[source.name]
        for url in article_links(response, source.article_pattern, domains):
            yield self._article_request(url, source)
        depth = response.meta[meta.DEPTH]
        following = next_page(response) if depth < source.max_listing_pages else None
        if following and host_allowed(following, domains):
            yield self._request(following, source, meta.LISTING, self.parse_listing, depth=depth + 1)

    def parse_search(self, response: Response) -> Iterator[scrapy.Request]:
        """Site search pages link to the site's own articles; news-search feeds may link
        anywhere: those links go to the registry source owning the domain, if any, else to
        generic extraction under the search source's name."""
        source = self._source(response)
        if looks_like_feed(response.body):
            for entry in self._recent(feed_entries(response.body, response.url)):
                url = unwrap_link(entry.url)
                owner = self._owner(url)
                yield self._article_request(url, owner or source, offsite_ok=owner is None)
        elif isinstance(response, TextResponse):
            for url in article_links(response, source.article_pattern, self.domains[source.name]):
                yield self._article_request(url, source)

    def _owner(self, url: str) -> SourceConfig | None:
        for name, source in self.sources.items():
            if source.search and not (source.feeds or source.sitemaps or source.listings):
                continue  # a pure search source owns no articles
            if host_allowed(url, self.domains[name]):
                return source
        return None

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        source = self._source(response)
        feeds = [url for url in feed_links(response) if host_allowed(url, self.domains[source.name])]
        for url in feeds:
            yield self._feed_request(url, source, discovered=True)
        if not feeds:
            yield self._request(
                response.urljoin(_PROBE_FEEDS), source, meta.DISCOVERY, self.parse_feed_index, probe=True
            )

    def parse_feed_index(self, response: Response) -> Iterator[scrapy.Request]:
        """``/rss``: either a feed itself or a page listing the site's feeds."""
        source = self._source(response)
        if looks_like_feed(response.body):
            yield self._feed_request(response.url, source, discovered=True)
        elif isinstance(response, TextResponse):
            for url in feed_links(response):
                if host_allowed(url, self.domains[source.name]):
                    yield self._feed_request(url, source, discovered=True)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        source = self._source(response)
        listed = [
            url
            for url in sitemap_urls_from_robots(response.body, base_url=response.url)
            if host_allowed(url, self.domains[source.name])
        ]
        for url in listed:
            yield self._sitemap_request(url, source, depth=0, discovered=True)
        if not listed:
            yield self._sitemap_request(
                response.urljoin(_PROBE_SITEMAP), source, depth=0, discovered=True, probe=True
            )

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        """Extraction runs in a page worker (``qpan/workers.py``), off the reactor's core."""
        source = self._source(response)
        content_type = response.headers.get("Content-Type") or b"text/html"
        if not content_type.lower().startswith(_HTML_TYPES):
            self.crawler.stats.inc_value(stat_key(source.name, "dropped/not_html"))
            return
        encoding = http_content_type_encoding(content_type.decode("latin-1"))
        try:
            item = await self.page_workers.run(
                EXTRACT, response.body, response.url, source=source.name, declared_encoding=encoding,
                selectors=source.selectors,
            )
        except Exception as exc:  # one broken page must not end a source's crawl
            self.logger.warning("extraction failed for %s: %s: %s", response.url, type(exc).__name__, exc)
            self.crawler.stats.inc_value(stat_key(source.name, "dropped/extraction_error"))
            return
        item["canonical_url"] = article_canonical(item["canonical_url"], response.url, source.keep_query)
        self.crawler.stats.inc_value(stat_key(source.name, "extracted"))
        yield item

    def on_error(self, failure: Failure) -> None:
        """Download failures are accounted per source by ``SourceAccounting``; a response dropped
        after it (over the size limit once unpacked) only arrives here."""
        self.logger.debug("request failed: %s", failure.getErrorMessage())
        account_ignored(self.crawler.stats, failure.request, failure.value)
