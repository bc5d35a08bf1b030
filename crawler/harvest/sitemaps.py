"""Sitemaps, read as a stream: urlsets, sitemap indexes, Google News sitemaps, gzip files.

Why a stream: a sitemap may list 80,000 URLs in 7.7 MB (inside the page-size limit). Built
as one tree (Scrapy's ``Sitemap`` does ``fromstring``), issue 10 measured 18 s and 412 MB
before the first article request, and a crawl deaf to SIGTERM meanwhile. Here lxml's ``iterparse``
hands over one ``<url>`` at a time from the (decompressed) body, each element is freed
once read, and the spider turns entries into requests while the rest is still unread.

The parser never resolves entities, never touches the network and keeps libxml2's
huge-tree guard on, so a hostile sitemap can neither expand nor fetch anything; an
internal DTD that declares entities is reported (``declares_entities``) rather than
silently leaving ``<loc>`` empty.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from urllib.parse import urljoin

from lxml import etree

from qpan.crawler.harvest.dates import from_w3c

GZIP_MAGIC = b"\x1f\x8b"
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_ABSOLUTE = ("http://", "https://")


# The words the run records for every body over crawl.max_page_bytes once unpacked (see accounting).
UNPACKED_OVERSIZED = "larger than the size limit once unpacked (crawl.max_page_bytes)"


class SitemapError(Exception):
    """The sitemap could not be read to its end; the message is the reason, in one line."""


@dataclass(frozen=True)
class SitemapEntry:
    """One ``<url>`` or ``<sitemap>``: its absolute URL, its date, and whether a news date gave it."""

    url: str
    published: datetime | None
    news: bool


class _Capped(io.RawIOBase):
    """A read-only stream that refuses to yield more than ``limit`` bytes (a gzip bomb stops here)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.limit, self.read_bytes = raw, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.raw.read(len(buffer))
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise SitemapError(UNPACKED_OVERSIZED)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _localname(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class SitemapStream:
    """The entries of one sitemap body, parsed as they are iterated.

    ``root`` is known on construction (the first element is read then): ``"urlset"``,
    ``"sitemapindex"``, another element name, or ``""`` when the body is not XML at all.
    Iterating raises :class:`SitemapError` when the body turns out broken, too large once
    decompressed, or not gzip after all.
    """

    def __init__(self, body: bytes, base_url: str, max_size: int) -> None:
        self.base_url = base_url
        raw: IO[bytes] = gzip.GzipFile(fileobj=io.BytesIO(body)) if body.startswith(GZIP_MAGIC) else io.BytesIO(body)
        self._stream = _Capped(raw, max_size)
        self._events = etree.iterparse(
            self._stream,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            recover=True,
        )
        self.root = ""
        self.error: str | None = None  # why the body could not even be opened, when that deserves a reason
        self.declares_entities = False
        self._root_element: etree._Element | None = None
        try:
            _, element = next(self._events)
        except (StopIteration, etree.XMLSyntaxError):
            return  # not XML: an HTML page at a probed /sitemap.xml, say
        except SitemapError as exc:
            self.error = str(exc)
            return
        except (OSError, EOFError, zlib.error) as exc:
            self.error = f"sitemap is not valid gzip ({exc})"
            return
        self._root_element = element
        self.root = _localname(element.tag)
        dtd = element.getroottree().docinfo.internalDTD
        self.declares_entities = dtd is not None and any(True for _ in dtd.iterentities())

    @property
    def bytes_read(self) -> int:
        """How much of the (decompressed) sitemap the parser has taken in so far."""
        return self._stream.read_bytes

    def __iter__(self) -> Iterator[SitemapEntry]:
        if self._root_element is None:
            return
        depth = 1
        try:
            for event, element in self._events:
                if event == "start":
                    depth += 1
                    continue
                depth -= 1
                if depth != 1:
                    continue
                entry = self._entry(element)
                element.clear()
                self._root_element.clear()  # drop the finished children: memory stays flat
                if entry is not None:
                    yield entry
        except etree.XMLSyntaxError as exc:
            raise SitemapError(f"sitemap is not well-formed XML ({exc.msg})") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise SitemapError(f"sitemap is not valid gzip ({exc})") from None

    def _entry(self, element: etree._Element) -> SitemapEntry | None:
        """A ``<url>``/``<sitemap>``: ``loc`` and ``lastmod`` are children, a news date sits deeper."""
        loc = lastmod = news_date = None
        for child in element:
            name = _localname(child.tag)
            if name == "loc":
                loc = loc or (child.text or "").strip() or None
            elif name == "lastmod":
                lastmod = (child.text or "").strip()
            elif name == "news":
                news_date = next(
                    ((n.text or "").strip() for n in child.iter() if _localname(n.tag) == "publication_date"), None
                )
        if loc is None:
            return None
        url = loc if loc.startswith(_ABSOLUTE) else urljoin(self.base_url, loc)
        return SitemapEntry(url, from_w3c(news_date or lastmod), bool(news_date))
