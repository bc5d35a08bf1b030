"""One download slot per site: requests the spider did not place (robots.txt, search results
that lead to a source of this run) go to the slot of the source whose domains they are on.

The spider names each request's slot after its source; Scrapy's RobotsTxtMiddleware makes its
own robots.txt request, and a search-result link to another site is made for the search
source. Left alone, both would land on a per-host slot without the site's delay, so the first
two requests to a site (robots.txt, then its feed) would go out back to back.

Settings: ``QPAN_SOURCES``.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler

from qpan.crawler.registry import host_allowed, source_domains, sources_from_settings

SLOT = "download_slot"


class SourceSlots:
    def __init__(self, domains: dict[str, list[str]]) -> None:
        self.domains = domains  # source name -> its domains

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceSlots:
        sources = sources_from_settings(crawler.settings.getlist("QPAN_SOURCES"))
        return cls({source.name: source_domains(source) for source in sources})

    def process_request(self, request: Request) -> None:
        if SLOT in request.meta:
            return
        for name, domains in self.domains.items():
            if host_allowed(request.url, domains):
                request.meta[SLOT] = name
                return
