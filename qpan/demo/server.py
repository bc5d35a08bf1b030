"""LocalWeb: a small Vietnamese news web served on 127.0.0.1 for the tests and ``qpan demo``.

Every site directory (one ``site.toml`` each) gets its own ThreadingHTTPServer on a free
port, so a crawler sees distinct origins with their own robots.txt, feeds and sitemaps.
Tests change the web while it runs (``add_article``, ``set_route``) and read back what a
crawler asked for (``requests``); all of that is thread-safe because request handlers only
ever read an immutable snapshot of the site, and mutations swap the snapshot under a lock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from qpan.demo import render, search
from qpan.demo.content import Article, Site, build_article, load_site
from qpan.timezone import VIETNAM

#: How often an idle server checks for shutdown; short, so stopping a web takes no noticeable time.
_POLL_SECONDS = 0.05


class SiteServer(ThreadingHTTPServer):
    """One site's server. A client that hangs up mid-answer (a crawl stopped by Ctrl-C, a
    download given up on) is what a news site sees all day: not worth the traceback the standard
    server prints for it, on the stderr of whatever runs beside it (another test's output)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it; ``path`` keeps the query string, header names are lower-case,
    ``arrived`` is when it came in (``time.monotonic()``, for politeness tests)."""

    path: str
    method: str
    status: int
    headers: dict[str, str]
    arrived: float = 0.0


@dataclass
class RouteOverride:
    """A forced answer for one path: status/body replace the page, delay/headers decorate it.

    ``times`` limits how many requests it applies to (e.g. one 429, then the real page).
    """

    status: int | None = None
    delay: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes | None = None
    times: int | None = None


@dataclass(frozen=True)
class Resource:
    content_type: str
    body: bytes
    last_modified: datetime


class _SiteState:
    """Everything one site's server needs: the current snapshot, overrides, the request log."""

    def __init__(self, site: Site) -> None:
        self.initial = site
        self.lock = threading.Lock()
        self.base = ""
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.site = replace(self.initial, articles=list(self.initial.articles))
            self.by_path = {article.path: article for article in self.site.articles}
            self.overrides = {route["path"]: _override(route) for route in self.initial.routes}
            self.log: list[RequestRecord] = []
            self.authorization: str | None = None

    def add(self, article: Article) -> None:
        with self.lock:
            articles = [a for a in self.site.articles if a.id != article.id] + [article]
            site = replace(self.site, articles=articles)
            site.sort()
            self.site = site
            self.by_path = {a.path: a for a in site.articles}

    def take_override(self, target: str, path: str) -> RouteOverride | None:
        """The override for this request, consuming one use of a limited one."""
        with self.lock:
            key = target if target in self.overrides else path
            route = self.overrides.get(key)
            if route is not None and route.times is not None:
                route.times -= 1
                if route.times <= 0:
                    del self.overrides[key]
            return route


def _override(route: dict[str, Any]) -> RouteOverride:
    known = {"path", "status", "delay", "headers", "body", "times"}
    unknown = set(route) - known
    if unknown:
        raise ValueError(f"route {route.get('path')!r}: unknown key(s) {sorted(unknown)}")
    return RouteOverride(
        status=route.get("status"),
        delay=route.get("delay"),
        headers=dict(route.get("headers", {})),
        body=route.get("body"),
        times=route.get("times"),
    )


def _pages(items: list[Article], size: int) -> int:
    return max(1, -(-len(items) // size))


class _Resolver:
    """Maps a request path to a Resource for one site snapshot; None means 404."""

    def __init__(self, state: _SiteState) -> None:
        self.site = state.site
        self.by_path = state.by_path
        self.base = state.base

    def resolve(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        site, base = self.site, self.base
        article = self.by_path.get(path)
        if article is not None:
            content_type, body = render.article_page(site, article, base)
            return Resource(content_type, body, article.modified)
        if path == "/":
            items = site.in_channel("home")[: site.options.get("home_size", 10)]
            return self._html(render.list_page(site, base, site.title, items), items)
        if path == "/robots.txt":
            return Resource(
                "text/plain; charset=utf-8", render.robots(site, base, self._sitemaps()), site.last_modified()
            )
        return self._feed(path) or self._sitemap(path) or self._listing(path, query) or self._search(path, query)

    def _html(self, body: bytes, items: list[Article]) -> Resource:
        return Resource("text/html; charset=utf-8", body, self.site.last_modified(items))

    def _feed(self, path: str) -> Resource | None:
        feeds = self.site.section("feeds")
        size = feeds.get("size", 20)
        for kind in ("rss", "atom", "rdf"):
            if feeds.get(kind) == path:
                items = self.site.in_channel(kind)[:size]
                if kind == "rss":
                    body = render.rss(self.site, self.base, items)
                elif kind == "atom":
                    body = render.atom(self.site, self.base, items, path)
                else:
                    body = render.rdf(self.site, self.base, items)
                content_type = {
                    "rss": "application/rss+xml",
                    "atom": "application/atom+xml",
                    "rdf": "application/rdf+xml",
                }[kind]
                return Resource(f"{content_type}; charset=utf-8", body, self.site.last_modified(items))
        return None

    def _sitemap_children(self) -> list[tuple[str, list[Article]]]:
        options = self.site.section("sitemap")
        items = self.site.in_channel("sitemap")
        if not options.get("index", False):
            return [(options["path"], items)] if options else []
        per_file = options.get("per_file", 5)
        pattern = options.get("child", "/sitemaps/sitemap-{n}.xml")
        children = []
        for number in range(1, _pages(items, per_file) + 1):
            child = pattern.format(n=number)
            if number > 1 and options.get("gzip", True):
                child += ".gz"
            children.append((child, items[(number - 1) * per_file : number * per_file]))
        return children

    def _sitemaps(self) -> list[str]:
        options = self.site.section("sitemap")
        return [options["path"]] if options else []

    def _sitemap(self, path: str) -> Resource | None:
        options = self.site.section("sitemap")
        if not options:
            return None
        children = self._sitemap_children()
        news = options.get("news", False)
        if options.get("index", False) and path == options["path"]:
            listed = [(child, self.site.last_modified(items)) for child, items in children]
            return Resource(
                "application/xml; charset=utf-8",
                render.sitemap_index(self.base, listed),
                self.site.last_modified(self.site.in_channel("sitemap")),
            )
        for child, items in children:
            if child == path:
                body = render.urlset(self.site, self.base, items, news)
                if child.endswith(".gz"):
                    return Resource("application/x-gzip", render.gzipped(body), self.site.last_modified(items))
                return Resource("application/xml; charset=utf-8", body, self.site.last_modified(items))
        return None

    def _listing(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        options = self.site.section("listing")
        if not options:
            return None
        page = self._listing_page(options, path, query)
        if page is None:
            return None
        size = options.get("page_size", 5)
        items = self.site.in_channel("listing")
        count = _pages(items, size)
        if page > count:
            return None
        chosen = items[(page - 1) * size : page * size]
        links = [
            f'<a href="{self.base}{self._listing_path(options, n)}">{n}</a>' for n in range(1, count + 1) if n != page
        ]
        if page < count:
            following = self.base + self._listing_path(options, page + 1)
            links.append(f'<a class="next" rel="next" href="{following}">Trang sau ›</a>')
        heading = options.get("title", "Tin mới")
        return self._html(render.list_page(self.site, self.base, heading, chosen, " ".join(links)), chosen)

    @staticmethod
    def _listing_path(options: dict[str, Any], page: int) -> str:
        if page == 1:
            return options["path"]
        if options.get("pagination", "path") == "query":
            return f"{options['path']}?{options.get('param', 'page')}={page}"
        return options.get("page_path", options["path"].rstrip("/") + "/trang-{n}.html").format(n=page)

    @staticmethod
    def _listing_page(options: dict[str, Any], path: str, query: dict[str, list[str]]) -> int | None:
        if options.get("pagination", "path") == "query":
            if path != options["path"]:
                return None
            raw = query.get(options.get("param", "page"), ["1"])[0]
            return int(raw) if raw.isdigit() and int(raw) >= 1 else None
        if path == options["path"]:
            return 1
        pattern = options.get("page_path", options["path"].rstrip("/") + "/trang-{n}.html")
        prefix, _, suffix = pattern.partition("{n}")
        number = path.removeprefix(prefix).removesuffix(suffix)
        if path.startswith(prefix) and path.endswith(suffix) and number.isdigit() and int(number) >= 2:
            return int(number)
        return None

    def _search(self, path: str, query: dict[str, list[str]]) -> Resource | None:
        options = self.site.section("search")
        if not options or path not in (options.get("path"), options.get("rss")):
            return None
        text = query.get(options.get("param", "q"), [""])[0]
        found = search.found(text, self.site.in_channel("search"))[: options.get("page_size", 10)]
        if path == options.get("rss"):
            body = render.rss(self.site, self.base, found, title=f"Kết quả tìm kiếm: {text}")
            return Resource("application/rss+xml; charset=utf-8", body, self.site.last_modified(found))
        heading = f"Kết quả tìm kiếm: {text}"
        return self._html(render.list_page(self.site, self.base, heading, found, query=text), found)


def _handler(state: _SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "qpan-localweb/1"

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            self._answer(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(with_body=False)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            return

        def _answer(self, with_body: bool) -> None:
            self.arrived = time.monotonic()
            split = urlsplit(self.path)
            path, target = split.path or "/", split.path + (f"?{split.query}" if split.query else "")
            if state.authorization is not None and self.headers.get("Authorization") != state.authorization:
                challenge = RouteOverride(headers={"WWW-Authenticate": 'Basic realm="qpan"'})
                self._send(401, {"Content-Type": "text/html; charset=utf-8"}, challenge, b"<h1>401</h1>", with_body)
                return
            override = state.take_override(target, path)
            if override is not None and override.delay:
                time.sleep(override.delay)
            if override is not None and (override.status is not None or override.body is not None):
                status = override.status or 200
                body = override.body if override.body is not None else f"<h1>{status}</h1>"
                payload = body.replace("{base}", state.base) if isinstance(body, str) else body
                data = payload.encode("utf-8") if isinstance(payload, str) else payload
                self._send(status, {"Content-Type": "text/html; charset=utf-8"}, override, data, with_body)
                return
            resource = _Resolver(state).resolve(path, parse_qs(split.query))
            if resource is None:
                self._send(
                    404,
                    {"Content-Type": "text/html; charset=utf-8"},
                    override,
                    "<h1>404 - Không tìm thấy trang</h1>".encode(),
                    with_body,
                )
                return
            etag = '"' + hashlib.sha1(resource.body).hexdigest()[:20] + '"'
            headers = {
                "Content-Type": resource.content_type,
                "ETag": etag,
                "Last-Modified": format_datetime(resource.last_modified.astimezone(VIETNAM), usegmt=False),
            }
            status = 304 if self._not_modified(etag, resource.last_modified) else 200
            self._send(status, headers, override, b"" if status == 304 else resource.body, with_body)

        def _not_modified(self, etag: str, last_modified: datetime) -> bool:
            """RFC 9110: If-None-Match wins over If-Modified-Since when both are sent."""
            match = self.headers.get("If-None-Match")
            if match is not None:
                tags = [tag.strip().removeprefix("W/") for tag in match.split(",")]
                return "*" in tags or etag in tags
            since = self.headers.get("If-Modified-Since")
            if since is None:
                return False
            try:
                moment = parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
            return moment.tzinfo is not None and last_modified.replace(microsecond=0) <= moment

        def _send(
            self,
            status: int,
            headers: dict[str, str],
            override: RouteOverride | None,
            body: bytes,
            with_body: bool,
        ) -> None:
            extra = {k: v.replace("{base}", state.base) for k, v in (override.headers if override else {}).items()}
            merged = {**headers, **extra}
            # logged before answering, so a client that has its response also finds it in requests()
            record = RequestRecord(
                target_of(self.path), self.command, status, {k.lower(): v for k, v in self.headers.items()},
                self.arrived,
            )
            with state.lock:
                state.log.append(record)
            self.send_response(status)
            for name, value in merged.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body and status != 304:
                self.wfile.write(body)

    return Handler


def target_of(raw: str) -> str:
    """The request target as logged: path plus query, without scheme/host if a proxy-style URL came in."""
    split = urlsplit(raw)
    return (split.path or "/") + (f"?{split.query}" if split.query else "")


class LocalWeb:
    """A set of local news sites, one HTTP server each, built from site directories."""

    def __init__(self, sites: list[Site]) -> None:
        self._states = {site.name: _SiteState(site) for site in sites}

    @classmethod
    def from_directory(cls, path: str | Path) -> LocalWeb:
        """Every subdirectory of ``path`` holding a ``site.toml`` becomes one site."""
        root = Path(path)
        now = datetime.now(VIETNAM)
        directories = sorted(p.parent for p in root.glob("*/site.toml"))
        if not directories:
            raise FileNotFoundError(f"{root}: no */site.toml found")
        return cls([load_site(directory, now) for directory in directories])

    def start(self) -> LocalWeb:
        for state in self._states.values():
            if state.server is not None:
                continue
            server = SiteServer(("127.0.0.1", 0), _handler(state))
            state.server = server
            state.base = f"http://127.0.0.1:{server.server_address[1]}"
            state.thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": _POLL_SECONDS},
                name=f"localweb-{state.site.name}",
                daemon=True,
            )
            state.thread.start()
        return self

    def stop(self) -> None:
        for state in self._states.values():
            if state.server is not None:
                state.server.shutdown()
                state.server.server_close()
                state.server = None
                state.thread = None

    def __enter__(self) -> LocalWeb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _state(self, site: str) -> _SiteState:
        try:
            return self._states[site]
        except KeyError:
            raise KeyError(f"no site {site!r}; sites: {', '.join(self._states)}") from None

    @property
    def sites(self) -> list[str]:
        return list(self._states)

    def url(self, site: str) -> str:
        """``http://127.0.0.1:PORT`` of a started site (no trailing slash)."""
        state = self._state(site)
        if state.server is None:
            raise RuntimeError(f"site {site!r} is not started")
        return state.base

    def article_url(self, site: str, article_id: str | int) -> str:
        """Where an article is served (its canonical URL), whatever links point to it."""
        state = self._state(site)
        for article in state.site.articles:
            if article.id == str(article_id):
                return self.url(site) + article.path
        raise KeyError(f"site {site!r} has no article {article_id!r}")

    def articles(self, site: str) -> list[Article]:
        """The site's current articles, newest first."""
        return list(self._state(site).site.articles)

    def sources(self) -> list[dict[str, Any]]:
        """``[[sources]]`` entries for qpan.toml, one per site, with ``{base}`` filled in."""
        entries = []
        for name, state in self._states.items():
            base = self.url(name)
            entries.append({"name": name, **_fill(copy.deepcopy(state.site.source), base)})
        return entries

    def requests(self, site: str) -> list[RequestRecord]:
        state = self._state(site)
        with state.lock:
            return list(state.log)

    def clear_requests(self, site: str | None = None) -> None:
        for name in [site] if site else list(self._states):
            state = self._state(name)
            with state.lock:
                state.log.clear()

    def add_article(self, site: str, data: dict[str, Any]) -> Article:
        """Publish an article now: it shows up in feeds, sitemaps, listings and search."""
        state = self._state(site)
        article = build_article(data, state.site.options, datetime.now(VIETNAM), f"add_article({site})")
        state.add(article)
        return article

    def set_route(
        self,
        site: str,
        path: str,
        status: int | None = None,
        delay: float | None = None,
        headers: dict[str, str] | None = None,
        body: str | bytes | None = None,
        times: int | None = None,
    ) -> None:
        """Force an answer for ``path`` (with query if it has one); see :class:`RouteOverride`."""
        state = self._state(site)
        with state.lock:
            state.overrides[path] = RouteOverride(status, delay, dict(headers or {}), body, times)

    def require_basic_auth(self, site: str, user: str, password: str) -> None:
        """From now on ``site`` answers 401 to any request without these HTTP basic credentials."""
        state = self._state(site)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        with state.lock:
            state.authorization = f"Basic {token}"

    def remove_route(self, site: str, path: str) -> None:
        state = self._state(site)
        with state.lock:
            state.overrides.pop(path, None)

    def reset(self) -> None:
        """Back to the content and routes read from disk; the request logs are emptied."""
        for state in self._states.values():
            state.reset()


def _fill(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace("{base}", base)
    if isinstance(value, list):
        return [_fill(item, base) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, base) for key, item in value.items()}
    return value
