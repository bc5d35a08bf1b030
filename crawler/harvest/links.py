"""Links on HTML pages: article links of listing/search pages, pagination, feed links."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

from scrapy.http import TextResponse

from qpan.crawler.registry import host_allowed
from qpan.pipelines.normalize import fold

# What a Vietnamese news article URL usually ends with when the registry gives no
# pattern: a numeric id of 5+ digits, optionally with a prefix letter and an extension.
# A "tag" prefix is a topic page, not an article (vietnamnet's "/gia-vang-tag1464285….html").
DEFAULT_ARTICLE_PATTERN = re.compile(r"[-_/](?!tag)(?:[a-z]+)?\d{5,}(?:\.[a-z]{2,5})?/?$")
_NEXT_WORDS = {"sau", "trang sau", "tiep", "tiep theo", "xem tiep", "next", "»", "›", ">", ">>"}
_PAGE_NUMBER = re.compile(r"(?P<pre>(?:[?&](?:page|p|trang)=|/(?:page|trang)[-/]?|-p))(?P<n>\d+)")
_FEED_HREF = re.compile(r"(?:\.rss|/rss/[^?#]+|\.atom|/feed/?)$", re.IGNORECASE)
_WRAPPER_PARAMS = ("url", "u")


def _http_links(response: TextResponse, css: str) -> list[str]:
    links = []
    for href in response.css(css).getall():
        href = href.strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        url = response.urljoin(href)
        if urlsplit(url).scheme in {"http", "https"}:
            links.append(url.split("#", 1)[0])
    return list(dict.fromkeys(links))


def is_article_url(url: str, pattern: str | None) -> bool:
    path = urlsplit(url).path
    return bool(re.search(pattern, path) if pattern else DEFAULT_ARTICLE_PATTERN.search(path))


def article_links(response: TextResponse, pattern: str | None, domains: list[str]) -> list[str]:
    """Links on a listing or search page that lie on the source and look like articles."""
    return [
        url
        for url in _http_links(response, "a::attr(href)")
        if host_allowed(url, domains) and is_article_url(url, pattern)
    ]


def next_page(response: TextResponse) -> str | None:
    """The next page of a listing: ``rel=next``, a "Trang sau"/"»" link, or page number + 1."""
    for url in _http_links(response, "link[rel~=next]::attr(href), a[rel~=next]::attr(href)"):
        return url
    for anchor in response.css("a[href]"):
        label = fold(" ".join(anchor.css("::text").getall()).strip())
        if label in _NEXT_WORDS:
            return response.urljoin(anchor.attrib["href"])
    match = _PAGE_NUMBER.search(response.url)
    current = int(match.group("n")) if match else 1
    for url in _http_links(response, "a::attr(href)"):
        found = _PAGE_NUMBER.search(url)
        if found and int(found.group("n")) == current + 1:
            return url
    return None


def feed_links(response: TextResponse) -> list[str]:
    """Feeds a page announces (``<link rel=alternate>``) or links to (an RSS index page)."""
    announced = _http_links(
        response,
        'link[rel~=alternate][type*="rss"]::attr(href), link[rel~=alternate][type*="atom"]::attr(href), '
        'link[rel~=alternate][type*="rdf"]::attr(href)',
    )
    linked = [url for url in _http_links(response, "a::attr(href)") if _FEED_HREF.search(urlsplit(url).path)]
    return list(dict.fromkeys([*announced, *linked]))


def unwrap_link(url: str) -> str:
    """The target of a click-tracking wrapper (``...apiclick.aspx?url=https://...``), else ``url``."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in _WRAPPER_PARAMS and urlsplit(value).scheme in {"http", "https"}:
            return value
    return url


def search_url(template: str, query: str) -> str:
    """Fill a search template: form-encoded in a query string, percent-encoded in a path."""
    in_query = "?" in template and template.index("?") < template.index("{query}")
    return template.replace("{query}", quote_plus(query) if in_query else quote(query, safe=""))

