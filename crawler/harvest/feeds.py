"""RSS 2.0, Atom and RDF feeds (feedparser does the format and encoding work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from qpan.crawler.harvest.dates import from_numeric, from_struct, numeric_month_first

_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf")
_PROLOG_CHARS = 65536  # room for a DOCTYPE's internal subset before the root element


@dataclass(frozen=True)
class Entry:
    """One link found in a feed or sitemap, with the date the index gives it."""

    url: str
    published: datetime | None = None


def _after_prolog(body: bytes) -> tuple[bytes, bool]:
    """The document from its root element on (lower-cased head), and whether its DTD declares entities.

    The prolog may hold the XML declaration, comments, processing instructions and a DOCTYPE
    whose internal subset declares entities: a feed is still a feed after all of them.
    """
    head = body[:_PROLOG_CHARS].lstrip(b"\xef\xbb\xbf").lower()
    entities = False
    while True:
        head = head.lstrip()
        if head.startswith(b"<!--"):
            end, length = head.find(b"-->"), 3
        elif head.startswith(b"<?"):
            end, length = head.find(b"?>"), 2
        elif head.startswith(b"<!doctype"):
            end, length = head.find(b">"), 1
            subset = head.find(b"[", 0, end)
            if subset >= 0:
                end, length = head.find(b"]>", subset), 2
                entities = entities or (end >= 0 and b"<!entity" in head[subset:end])
        else:
            return head, entities
        if end < 0:
            return b"", entities  # an unterminated prolog: no root element in sight
        head = head[end + length :]


def looks_like_feed(body: bytes) -> bool:
    """True when the document's root element is a feed's (not an HTML page)."""
    return _after_prolog(body)[0].startswith(_FEED_ROOTS)


def declares_entities(body: bytes) -> bool:
    """Does the feed's DOCTYPE declare entities? feedparser drops those that could expand or fetch."""
    return _after_prolog(body)[1]


def feed_entries(body: bytes, base_url: str) -> list[Entry]:
    """The article links of a feed, newest dates from ``published`` then ``updated``.

    feedparser reads RFC 822 and ISO 8601 dates; numeric ones it leaves unparsed
    ("9/5/2026 1:30:00 PM") are read here, month or day first as the whole feed shows.
    feedparser is imported by the first feed: a crawl of sitemaps and listings does without
    its 15 ms of imports.
    """
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    written = [_own(entry, "published") or _own(entry, "updated") or "" for entry in parsed.entries]
    month_first: bool | None = None
    entries = []
    for entry, text in zip(parsed.entries, written, strict=True):
        link = entry.get("link") or next(
            (ln.get("href") for ln in entry.get("links", []) if ln.get("href")), None
        )
        if not link:
            continue
        published = from_struct(_own(entry, "published_parsed") or _own(entry, "updated_parsed"))
        if published is None and text:
            if month_first is None:
                month_first = numeric_month_first(written)
            published = from_numeric(text, month_first)
        entries.append(Entry(urljoin(base_url, link.strip()), published))
    return entries


def _own(entry: dict[str, Any], key: str) -> Any:
    """The entry's own value: feedparser's ``get`` maps a missing "updated" to "published", with a
    deprecation warning per entry, and the two are read separately here anyway."""
    return dict.get(entry, key)
