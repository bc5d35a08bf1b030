"""Sitemaps: urlsets, sitemap indexes, Google News sitemaps, gzip-compressed files."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from qpan.crawler.harvest.dates import from_w3c
from qpan.crawler.harvest.feeds import Entry

GZIP_MAGIC = b"\x1f\x8b"


class _NewsSitemap(Sitemap):
    """Scrapy's parser keeps only direct children of ``<url>``; a news sitemap's
    ``<news:publication_date>`` sits one level deeper and is read here first."""

    def _process_sitemap_element(self, elem: etree._Element) -> dict[str, Any] | None:
        published = next(
            (
                el.text.strip()
                for el in elem.iter()
                if isinstance(el.tag, str) and el.tag.endswith("publication_date") and el.text
            ),
            None,
        )
        record = super()._process_sitemap_element(elem)
        if record is not None and published:
            record["publication_date"] = published
        return record


def decompress(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap served gzipped as a file (not as Content-Encoding)."""
    return gunzip(body, max_size=max_size) if body.startswith(GZIP_MAGIC) else body


def parse_sitemap(body: bytes, base_url: str) -> tuple[str, list[Entry], set[str]]:
    """(``"sitemapindex"`` / ``"urlset"`` / other root name, entries, URLs that had news dates)."""
    try:
        sitemap = _NewsSitemap(body)
    except (etree.XMLSyntaxError, StopIteration):
        return "", [], set()
    entries, news = [], set()
    for record in sitemap:
        url = urljoin(base_url, record["loc"])
        news_date = record.get("publication_date")
        if news_date:
            news.add(url)
        entries.append(Entry(url, from_w3c(news_date or record.get("lastmod"))))
    return sitemap.type, entries, news
