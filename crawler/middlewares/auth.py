"""HTTP basic auth for a source whose URLs carry ``user:password@``, on that host only.

The spider sends every request without credentials in its URL, so no log line, error text or
stored URL can hold them. Here, at download time, a request to such a host (robots.txt
included) gets Scrapy's own per-request ``http_user``/``http_pass``/``http_auth_domain``, and
Scrapy's HttpAuthMiddleware sends the header only when the URL is on that host. Set
here rather than by the spider, the password stays out of the scheduler's queue (which, with
``redis_url``, lives in Redis).

Settings: ``QPAN_SOURCES``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from qpan.crawler.registry import source_urls, sources_from_settings
from qpan.crawler.urls import split_credentials


class SourceCredentials:
    def __init__(self, credentials: dict[str, tuple[str, str]]) -> None:
        self.credentials = credentials  # host[:port] -> (user, password)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceCredentials:
        found: dict[str, tuple[str, str]] = {}
        for source in sources_from_settings(crawler.settings.getlist("QPAN_SOURCES")):
            for url in source_urls(source):
                clean, user, password = split_credentials(url)
                if user is not None:
                    found.setdefault(urlsplit(clean).netloc.lower(), (user, password or ""))
        if not found:
            raise NotConfigured
        return cls(found)

    def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).netloc.lower()
        entry = self.credentials.get(host)
        if entry is not None and "http_user" not in request.meta:
            user, password = entry
            request.meta.update(http_user=user, http_pass=password, http_auth_domain=host)
