"""A local site whose sitemap lists tens of thousands of articles, for the streaming tests.

The sitemap is generated (plain or gzipped) with every other entry dated outside
``since_days``; article pages are tiny. Every request is logged in arrival order with its
time, so tests can ask what the crawler asked for, and in which order.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from support.receivers import free_port, serving

ARTICLE = re.compile(r"^/bai-viet-(\d+)\.html$")
SITEMAP_PATHS = ("/sitemap.xml", "/sitemap.xml.gz")


def sitemap_body(base: str, count: int, *, now: datetime | None = None, old_days: int = 90) -> bytes:
    """A urlset of ``count`` articles: even numbers dated yesterday, odd ones ``old_days`` ago."""
    now = now or datetime.now(UTC)
    recent, old = (now - timedelta(days=1)).date().isoformat(), (now - timedelta(days=old_days)).date().isoformat()
    lines = [
        f"<url><loc>{base}/bai-viet-{i}.html</loc><lastmod>{recent if i % 2 == 0 else old}</lastmod></url>"
        for i in range(count)
    ]
    head = '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    return (head + "\n".join(lines) + "\n</urlset>\n").encode()


@dataclass
class SitemapSite:
    port: int
    count: int
    log: list[tuple[float, str]] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path in self.log]

    def articles(self) -> list[int]:
        """Article numbers requested, in arrival order."""
        return [int(match.group(1)) for path in self.paths() if (match := ARTICLE.match(path))]

    def source(self, sitemap: str, **extra: Any) -> dict[str, Any]:
        return {"name": "lonsitemap", "sitemaps": [self.base + sitemap], "article_pattern": ARTICLE.pattern, **extra}


def _handler(site: SitemapSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            with site.lock:
                site.log.append((time.monotonic(), self.path))
            body, kind = site.bodies.get(self.path), "application/xml"
            if self.path.endswith(".gz"):
                kind = "application/x-gzip"
            elif match := ARTICLE.match(self.path):
                number = match.group(1)
                kind = "text/html; charset=utf-8"
                body = (
                    f"<html><head><title>Bài viết {number}</title></head><body><h1>Bài viết {number}</h1>"
                    f"<p>Tin địa phương số {number}.</p></body></html>"
                ).encode()
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            return

    return Handler


@contextmanager
def sitemap_site(count: int) -> Iterator[SitemapSite]:
    """The site, serving the same sitemap at ``/sitemap.xml`` and gzipped at ``/sitemap.xml.gz``."""
    site = SitemapSite(free_port(), count)
    plain = sitemap_body(site.base, count)
    site.bodies = {"/sitemap.xml": plain, "/sitemap.xml.gz": gzip.compress(plain, compresslevel=1)}
    with serving(site.port, _handler(site)):
        yield site


def crawl_config(site: SitemapSite, database: Path, sitemap: str, cap: int) -> str:
    """A qpan.toml crawling only this site's ``sitemap`` as fast as loopback allows."""
    source = site.source(sitemap)
    return f"""[database]
url = "sqlite:///{database}"

[crawl]
shipped_sources = false
since_days = 30
max_sitemap_urls = {cap}
download_delay = 0
autothrottle = false
obey_robots = false
theme_search = false

[[sources]]
name = "{source["name"]}"
sitemaps = {json.dumps(source["sitemaps"])}
article_pattern = {json.dumps(source["article_pattern"])}
"""
