"""The live canary behind ``qpan sources --check``: does each source still give articles today?

The offline tests prove the parsers on saved pages; only the live sites can say that a feed
moved or a redesign emptied the article body. For each source this reads what a crawl would
start from (priming URLs, home page, feeds, sitemaps, listings, one site search), counts the
article links each gives, extracts a few recent articles and gives a verdict:

- ``broken``: the crawl would get nothing: unreachable, moved off its domains, no article
  link anywhere, or no sample article with both a title and a body;
- ``degraded``: it works in part: an entry point fails or gives no links, or a sample lacks
  a title, a body or a recent date;
- ``ok``: everything answered and every sample was complete.

A handful of requests per source do not need Scrapy's engine, and a Twisted reactor cannot
restart inside the long-lived scheduler process that runs this weekly; so this uses a plain
``requests`` session per source (its cookie jar is the priming), with the crawl's
politeness: robots.txt (Protego, the parser Scrapy uses), qpan's User-Agent, a per-request
timeout, the source's delay between requests and the page size cap. Extraction and cleaning
are passed in (``examine``), so the check runs exactly the code ``qpan extract`` runs and
this layer never imports the pipelines.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from protego import Protego
from scrapy.http import HtmlResponse
from w3lib.encoding import http_content_type_encoding

from qpan.config import Config, SourceConfig
from qpan.crawler.addon import user_agent
from qpan.crawler.harvest.dates import cutoff, is_recent
from qpan.crawler.harvest.feeds import feed_entries, looks_like_feed
from qpan.crawler.harvest.links import article_links, feed_links, is_article_url, search_url
from qpan.crawler.harvest.sitemaps import SitemapEntry, SitemapError, SitemapStream
from qpan.crawler.middlewares.retry import retry_after_seconds
from qpan.crawler.registry import host_allowed, source_domains
from qpan.crawler.spiders.news import home_of
from qpan.items import ArticleItem

SAMPLES = 3
MIN_BODY_CHARS = 250  # the fixture web's shortest real briefs are ~300; a script shell or a teaser is shorter
MAX_REDIRECTS = 5
MAX_DISCOVERED_FEEDS = 3
MAX_WORKERS = 8
MAX_SITEMAP_ENTRIES = 5000  # as the crawl's default max_sitemap_urls: enough to find recent links
MAX_RETRY_AFTER = 10.0  # seconds: one polite retry after a 429/503, never a long wait
RETRY_STATUSES = {429, 503}

# (page bytes, page URL, source, declared charset) -> the extracted and cleaned item; raises when dropped.
Examine = Callable[[bytes, str, SourceConfig, str | None], ArticleItem]


@dataclass
class EntryPoint:
    kind: str  # prime | home | feed | sitemap | listing | search
    url: str
    links: int = 0
    error: str | None = None


@dataclass
class Sample:
    url: str
    title: bool = False
    dated: bool = False  # a published date within since_days (any date when since_days = 0)
    body_chars: int = 0
    error: str | None = None

    @property
    def complete(self) -> bool:
        return self.title and self.body_chars >= MIN_BODY_CHARS

    @property
    def problem(self) -> str:
        if self.error:
            return self.error
        return "no title" if not self.title else f"a body of {self.body_chars} characters"


@dataclass
class SourceCheck:
    source: str
    reached: bool = False
    moved_to: str | None = None
    article_links: int = 0  # distinct article links over all entry points
    entry_points: list[EntryPoint] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    verdict: str = "broken"
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Fetched:
    url: str
    status: int = 0
    body: bytes = b""
    content_type: str = ""
    error: str | None = None
    moved_to: str | None = None  # a redirect that left the source's domains (not followed)

    @property
    def ok(self) -> bool:
        return self.error is None and self.moved_to is None and 200 <= self.status < 300

    def html(self) -> HtmlResponse:
        return HtmlResponse(url=self.url, body=self.body, encoding=self.charset or "utf-8")

    @property
    def charset(self) -> str | None:
        return http_content_type_encoding(self.content_type) if self.content_type else None


def _describe(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


class Fetcher:
    """One source's HTTP client: cookies, robots.txt, timeout, size cap, delay, domain fence."""

    def __init__(self, config: Config, source: SourceConfig) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent(config)
        self.timeout = config.crawl.download_timeout
        self.max_bytes = config.crawl.max_page_bytes
        self.obey_robots = config.crawl.obey_robots
        self.delay = source.download_delay if source.download_delay is not None else config.crawl.download_delay
        self.domains = source_domains(source)
        self.robots: dict[str, Protego | None] = {}
        self.last = 0.0

    def _wait(self) -> None:
        pause = self.last + self.delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        self.last = time.monotonic()

    def _raw(self, url: str) -> tuple[requests.Response | None, bytes, str | None]:
        self._wait()
        try:
            with self.session.get(url, timeout=self.timeout, allow_redirects=False, stream=True) as response:
                body = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    body += chunk
                    if len(body) > self.max_bytes:
                        return response, b"", f"larger than {self.max_bytes} bytes"
                return response, bytes(body), None
        except requests.RequestException as exc:
            return None, b"", _describe(exc)

    def allowed(self, url: str) -> bool:
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            response, body, error = self._raw(f"{origin}/robots.txt")
            ok = error is None and response is not None and response.status_code == 200
            self.robots[origin] = Protego.parse(body.decode("utf-8", "replace")) if ok else None
        rules = self.robots[origin]
        return rules is None or rules.can_fetch(url, "qpan")

    def get(self, url: str, *, follow: bool = True, offsite_ok: bool = False) -> Fetched:
        """GET ``url``; redirects are followed only while they stay on the source's domains."""
        for _ in range(MAX_REDIRECTS + 1):
            if not self.allowed(url):
                return Fetched(url, error="disallowed by robots.txt")
            response, body, error = self._raw(url)
            if response is not None and response.status_code in RETRY_STATUSES:
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                time.sleep(min(asked if asked is not None else self.delay, MAX_RETRY_AFTER))
                response, body, error = self._raw(url)
            if response is None or error is not None:
                return Fetched(url, error=error)
            location = response.headers.get("Location")
            if not (follow and response.is_redirect and location):
                fetched = Fetched(url, response.status_code, body, response.headers.get("Content-Type", ""))
                if response.status_code >= 400:
                    fetched.error = f"HTTP {response.status_code}"
                return fetched
            target = urljoin(url, location)
            if not offsite_ok and not host_allowed(target, self.domains):
                return Fetched(url, response.status_code, moved_to=target)
            url = target
        return Fetched(url, error=f"more than {MAX_REDIRECTS} redirects")


class SourceChecker:
    """Checks one source; the collected article links go to the samples in the order found."""

    def __init__(self, config: Config, source: SourceConfig, examine: Examine, query: str | None) -> None:
        self.source = source
        self.fetcher = Fetcher(config, source)
        self.examine = examine
        self.query = query
        self.since_days = config.crawl.since_days
        self.since = cutoff(config.crawl.since_days)
        self.max_bytes = config.crawl.max_page_bytes
        self.result = SourceCheck(source.name)
        self.links: dict[str, None] = {}
        self.home_links: list[str] = []  # sampled last: a home page mixes old features with news

    def _fetch(self, kind: str, url: str, **options: Any) -> tuple[EntryPoint, Fetched]:
        point = EntryPoint(kind, url)
        fetched = self.fetcher.get(url, **options)
        self.result.entry_points.append(point)
        if fetched.error is None and fetched.status:
            self.result.reached = True
        point.error = fetched.error or (f"redirects to {fetched.moved_to}" if fetched.moved_to else None)
        return point, fetched

    def _found(self, point: EntryPoint, urls: Iterable[str]) -> list[str]:
        urls = list(dict.fromkeys(urls))
        point.links = len(urls)
        if point.kind != "home":
            self.links.update(dict.fromkeys(urls))
        return urls

    def _on_source(self, url: str) -> bool:
        return host_allowed(url, self.fetcher.domains)

    def prime(self) -> None:
        for url in self.source.prime:
            self._fetch("prime", url, follow=False)

    def home(self) -> list[str]:
        """The home page's article links; its feeds too, for a ``discover`` source."""
        home = home_of(self.source)
        if home is None:
            return []
        point, fetched = self._fetch("home", home)
        if fetched.moved_to:
            self.result.moved_to = fetched.moved_to
        if not fetched.ok:
            return []
        page = fetched.html()
        self.home_links = self._found(point, article_links(page, self.source.article_pattern, self.fetcher.domains))
        if not self.source.discover:
            return []
        feeds = [url for url in feed_links(page) if self._on_source(url) and url not in self.source.feeds]
        return feeds[:MAX_DISCOVERED_FEEDS]

    def _entries(self, fetched: Fetched, anywhere: bool) -> list[str]:
        """Recent entry links of a feed (on the source's domains unless ``anywhere``)."""
        entries = feed_entries(fetched.body, fetched.url)
        recent = [entry.url for entry in entries if is_recent(entry.published, self.since)]
        return [url for url in recent if anywhere or self._on_source(url)]

    def feed(self, url: str) -> None:
        point, fetched = self._fetch("feed", url)
        if not fetched.ok:
            return
        if not looks_like_feed(fetched.body):
            point.error = "not a feed"
            return
        self._found(point, self._entries(fetched, anywhere=False))

    def sitemap(self, url: str) -> None:
        """A sitemap's article links; for an index, those of its newest child."""
        point, fetched = self._fetch("sitemap", url)
        if not fetched.ok:
            return
        root, entries = self._sitemap_entries(fetched)
        if root == "sitemapindex":
            children = [entry for entry in entries if self._on_source(entry.url)]
            if not children:
                point.error = "an empty sitemap index"
                return
            newest = max(children, key=lambda entry: entry.published.timestamp() if entry.published else 0.0)
            child = self.fetcher.get(newest.url)
            if not child.ok:
                point.error = f"newest child {newest.url}: {child.error or 'moved'}"
                return
            root, entries = self._sitemap_entries(child)
        if root != "urlset":
            point.error = "not a sitemap"
            return
        pattern = self.source.article_pattern
        self._found(
            point,
            (
                entry.url
                for entry in entries
                if is_recent(entry.published, self.since)
                and self._on_source(entry.url)
                and (entry.news or is_article_url(entry.url, pattern))
            ),
        )

    def _sitemap_entries(self, fetched: Fetched) -> tuple[str, list[SitemapEntry]]:
        """The root and the first entries of a sitemap, read as the crawl reads them (streamed,
        capped in size); a broken one raises, and the entry point records why."""
        sitemap = SitemapStream(fetched.body, fetched.url, self.max_bytes)
        if sitemap.error:
            raise SitemapError(sitemap.error)
        return sitemap.root, list(islice(sitemap, MAX_SITEMAP_ENTRIES))

    def listing(self, url: str) -> None:
        point, fetched = self._fetch("listing", url)
        if fetched.ok:
            self._found(point, article_links(fetched.html(), self.source.article_pattern, self.fetcher.domains))

    def search(self, template: str) -> None:
        """One site search (an HTML page) or news search (a feed whose links may lie anywhere)."""
        point, fetched = self._fetch("search", search_url(template, self.query or ""))
        if not fetched.ok:
            return
        if looks_like_feed(fetched.body):
            self._found(point, self._entries(fetched, anywhere=True))
        else:
            self._found(point, article_links(fetched.html(), self.source.article_pattern, self.fetcher.domains))

    def sample(self, url: str) -> Sample:
        sample = Sample(url)
        fetched = self.fetcher.get(url, offsite_ok=True)
        if not fetched.ok:
            sample.error = fetched.error or f"redirects to {fetched.moved_to}"
            return sample
        try:
            item = self.examine(fetched.body, fetched.url, self.source, fetched.charset)
        except Exception as exc:  # a page the extractor or the cleaner refuses is a finding, not a crash
            sample.error = " ".join(str(exc).split()) or type(exc).__name__
            return sample
        published = item.get("published")
        sample.title = bool(item.get("title"))
        sample.dated = isinstance(published, datetime) and is_recent(published, self.since)
        sample.body_chars = len(item.get("text") or "")
        return sample

    def _safely(self, read: Callable[[str], None], url: str) -> None:
        """A body the parsers choke on (a truncated gzip sitemap) fails its entry point, not the check."""
        try:
            read(url)
        except Exception as exc:
            self.result.entry_points[-1].error = " ".join(f"{type(exc).__name__}: {exc}".split())

    def run(self, samples: int) -> SourceCheck:
        self.prime()
        discovered = self.home()
        if not self.result.moved_to:
            for url in [*self.source.feeds, *discovered]:
                self._safely(self.feed, url)
            for url in self.source.sitemaps:
                self._safely(self.sitemap, url)
            for url in self.source.listings:
                self._safely(self.listing, url)
            for template in self.source.search[:1] if self.query else []:
                self._safely(self.search, template)
            self.links.update(dict.fromkeys(self.home_links))
            self.result.article_links = len(self.links)
            self.result.samples = [self.sample(url) for url in list(self.links)[:samples]]
        self.result.verdict, self.result.reason = judge(self.result, self.since_days)
        return self.result


def judge(result: SourceCheck, since_days: int) -> tuple[str, str]:
    """The verdict and the one reason a reader needs first."""
    if result.moved_to:
        return "broken", f"moved: redirects to {result.moved_to}, outside the source's domains"
    failed = [point for point in result.entry_points if point.error]
    if not result.reached:
        first = failed[0] if failed else None
        return "broken", f"not reached ({first.kind} {first.url}: {first.error})" if first else "nothing to fetch"
    links = result.article_links
    if not links:
        return "broken", "no article links on any entry point"
    total = len(result.samples)
    complete = sum(sample.complete for sample in result.samples)
    first = next((sample for sample in result.samples if not sample.complete), None)
    why = f" (first: {first.url}: {first.problem})" if first else ""
    if not complete:
        return "broken", f"0 of {total} sample articles had a title and a body{why}"
    problems = [f"{point.kind} {point.url}: {point.error}" for point in failed]
    problems += [
        f"{point.kind} {point.url}: no article links"
        for point in result.entry_points
        if not point.error and not point.links and point.kind not in ("prime", "home")
    ]
    if complete < total:
        problems.append(f"{complete} of {total} sample articles had a title and a body{why}")
    dated = sum(sample.dated for sample in result.samples)
    if dated < total:
        window = f"within {since_days} days" if since_days else "at all"
        problems.append(f"{dated} of {total} sample articles dated {window}")
    if problems:
        return "degraded", "; ".join(problems)
    return "ok", f"{links} article links, {complete} of {total} samples complete"


def check_sources(
    config: Config,
    sources: list[SourceConfig],
    examine: Examine,
    *,
    query: str | None = None,
    samples: int = SAMPLES,
) -> list[SourceCheck]:
    """Check every source (sources in parallel, each one's requests in sequence), in the given order."""
    if not sources:
        return []

    def one(source: SourceConfig) -> SourceCheck:
        try:
            return SourceChecker(config, source, examine, query).run(samples)
        except Exception as exc:  # a site can send anything; a parser's surprise is a finding, not a crash
            reason = " ".join(f"check failed: {type(exc).__name__}: {exc}".split())
            return SourceCheck(source.name, verdict="broken", reason=reason)

    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(sources))) as pool:
        return list(pool.map(one, sources))
