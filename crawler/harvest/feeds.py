"""RSS 2.0, Atom and RDF feeds (feedparser does the format and encoding work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

import feedparser

from qpan.crawler.harvest.dates import from_struct

_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf")


@dataclass(frozen=True)
class Entry:
    """One link found in a feed or sitemap, with the date the index gives it."""

    url: str
    published: datetime | None = None


def looks_like_feed(body: bytes) -> bool:
    """True when the document's root element is a feed's (not an HTML page)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :]
    while head.lstrip().startswith((b"<!--", b"<?", b"<!doctype")):
        head = head.lstrip()
        if head.startswith(b"<!doctype") and b"[" in head[: head.find(b">")]:
            head = head[head.find(b"]") :]  # an internal subset: entity declarations end at "]>"
        head = head[head.find(b">") + 1 :]
    return head.lstrip().startswith(_FEED_ROOTS)


def feed_entries(body: bytes, base_url: str) -> list[Entry]:
    """The article links of a feed, newest dates from ``published`` then ``updated``."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    entries = []
    for entry in parsed.entries:
        link = entry.get("link") or next(
            (ln.get("href") for ln in entry.get("links", []) if ln.get("href")), None
        )
        if not link:
            continue
        published = from_struct(entry.get("published_parsed") or entry.get("updated_parsed"))
        entries.append(Entry(urljoin(base_url, link.strip()), published))
    return entries
