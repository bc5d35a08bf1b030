"""Keep every request of a source on that source's domains (redirects included).

Only links that came from a search source (news-search feeds, site search) may leave
them; everything else off-site is dropped before it is downloaded.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.statscollectors import StatsCollector

from qpan.crawler import meta
from qpan.crawler.registry import host_allowed, source_domains, sources_from_settings
from qpan.stats import stat_key


class DomainGuard:
    def __init__(self, domains: dict[str, list[str]], stats: StatsCollector) -> None:
        self.domains = domains
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DomainGuard:
        sources = sources_from_settings(crawler.settings.getlist("QPAN_SOURCES"))
        return cls({source.name: source_domains(source) for source in sources}, crawler.stats)

    def process_request(self, request: Request) -> None:
        name = request.meta.get(meta.SOURCE)
        if name is None or request.meta.get(meta.OFFSITE_OK):
            return
        domains = self.domains.get(name)
        if not domains or host_allowed(request.url, domains):
            return
        self.stats.inc_value(stat_key(name, "offsite"))
        raise IgnoreRequest(f"{request.url} is outside the domains of source {name}")
