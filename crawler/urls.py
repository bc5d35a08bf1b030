"""URL canonicalisation: one article, one URL.

Dedup and the seen-URL filter key on the canonical form, so every variant a reader or
a feed can hand us (mobile and AMP hosts, tracking parameters, fragments, default
ports, trailing slashes, parameter order) must collapse to the same string.
The parameter lists are data (`tracking_params.toml`), because the trackers change.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from w3lib.url import safe_url_string

if TYPE_CHECKING:
    import tldextract

_DATA = Path(__file__).with_name("tracking_params.toml")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MOBILE_HOST_PREFIXES = ("m.", "amp.", "mobile.")
_AMP_PATH = re.compile(r"(?:/amp/?|\.amp)$|^/amp(?=/)")
_AMP_INFIX = re.compile(r"\.amp(\.html?)$")


@cache
def _tracking() -> tuple[frozenset[str], tuple[str, ...]]:
    data = tomllib.loads(_DATA.read_text(encoding="utf-8"))
    return frozenset(n.lower() for n in data["exact"]), tuple(p.lower() for p in data["prefixes"])


@cache
def _extractor() -> tldextract.TLDExtract:
    """The public-suffix list bundled with tldextract: never fetched, never cached to disk.

    Imported on first use: tldextract brings requests (30 ms of imports), and the crawl
    process, which canonicalises URLs, never asks for a registrable domain; extraction does."""
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def _is_tracking(name: str) -> bool:
    exact, prefixes = _tracking()
    lowered = name.lower()
    return lowered in exact or lowered.startswith(prefixes)


def _canonical_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in _MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def _canonical_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path) or "/"
    path = _AMP_INFIX.sub(r"\1", path)
    path = _AMP_PATH.sub("", path) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def canonicalize_url(url: str, keep_query: Collection[str] = ()) -> str:
    """The canonical form of an http(s) URL (other schemes come back stripped only).

    ``keep_query`` (a source's registry field) names the only query parameters that matter,
    for sites whose article id lives in the query string (a portal's ``?urile=...``).

    >>> canonicalize_url("https://m.vnexpress.net/x-123.html?utm_source=fb#top")
    'https://vnexpress.net/x-123.html'
    >>> canonicalize_url("https://mod.gov.vn/home/detail?current=true&urile=wcm:a", ["urile"])
    'https://mod.gov.vn/home/detail?urile=wcm%3Aa'
    """
    url = url.strip()
    parts = urlsplit(safe_url_string(url))
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = _canonical_host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    port = parts.port if parts.port and parts.port != _DEFAULT_PORTS[scheme] else None
    netloc = f"{host}:{port}" if port else host
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = sorted((k, v) for k, v in pairs if (k in keep_query if keep_query else not _is_tracking(k)))
    return urlunsplit((scheme, netloc, _canonical_path(parts.path), urlencode(query), ""))


def article_canonical(extracted: str, page_url: str, keep_query: Collection[str]) -> str:
    """The canonical URL to store for a source's article page.

    For a source whose article id lives in the query string (``keep_query``), the page URL with
    only those parameters: such portals' own canonical links often drop the id, which would
    merge every article into one row. Otherwise what extraction found.
    """
    return canonicalize_url(page_url, keep_query) if keep_query else extracted


def domain_of(url: str) -> str:
    """Registrable domain of a URL ("tuoitre.vn", "cand.com.vn"); the bare host for IPs/localhost.

    Used to decide whether two URLs belong to the same site (canonical links, off-site links).
    """
    host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _extractor()(host)
    return parts.top_domain_under_public_suffix or host


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host: the only kind worth storing."""
    parts = urlsplit(url)
    return parts.scheme in _DEFAULT_PORTS and bool(parts.hostname)


_USERINFO_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]*@", re.IGNORECASE)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without user:password@, user, password)``; the user and password percent-decoded.

    A source URL may carry HTTP basic credentials; requests go out without them (Scrapy's
    HttpAuthMiddleware sends them as a header, for that host only) so no log line, error text
    or stored URL can hold them.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return clean, user, password


def redact_text(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` shown as ``scheme://user:***@``."""
    return _USERINFO_PASSWORD.sub(r"\g<head>:***@", text)
