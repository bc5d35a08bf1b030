"""Sites shaped like the real ones where the fixture web cannot be: cookies, query ids, moves.

The fixture web (``qpan.demo.LocalWeb``) renders whole news sites from TOML; these tests need
answers the real sites give and it does not: a feed that answers only a client holding the
cookie another URL set (qdnd.vn), article ids in the query string (mod.gov.vn), article URLs
ending in a slash (baothainguyen.vn), a home page that moved to another host. Each
:class:`ScriptedSite` is one server on a free loopback port answering exactly the routes a
test gives it, and logging what it was asked.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from qpan.demo.server import SiteServer
from qpan.timezone import VIETNAM

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class Route:
    body: str | bytes = ""
    status: int = 200
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    cookie: str | None = None  # "name=value" the request must carry, else 403 with an empty body
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True)
class Hit:
    target: str  # path with query
    status: int
    cookie: str
    agent: str


class ScriptedSite:
    """One loopback server answering ``routes`` by request target (path + query), else 404."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: dict[str, Route] = {}
        self.once: dict[str, Route] = {}  # answered to the first request only, then ``routes`` again
        self.hits: list[Hit] = []
        self.source: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._server = SiteServer(("127.0.0.1", 0), _handler(self))
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, target: str, body: str | bytes = "", **options: Any) -> None:
        self.routes[target] = Route(body.replace("{base}", self.base) if isinstance(body, str) else body, **options)

    def route_once(self, target: str, body: str = "", **options: Any) -> None:
        self.once[target] = Route(body.replace("{base}", self.base), **options)

    def answer(self, target: str, cookie: str, agent: str) -> tuple[Route, int]:
        with self._lock:
            route = self.once.pop(target, None)
        route = route or self.routes.get(target) or self.routes.get(target.split("?", 1)[0])
        if route is None:
            route, status = Route("<h1>404</h1>", 404), 404
        elif route.cookie and route.cookie not in [part.strip() for part in cookie.split(";")]:
            route, status = Route("", 403), 403
        else:
            status = route.status
        with self._lock:
            self.hits.append(Hit(target, status, cookie, agent))
        return route, status

    def requested(self, target: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.target == target]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(site: ScriptedSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            headers = self.headers
            route, status = site.answer(self.path, headers.get("Cookie", ""), headers.get("User-Agent", ""))
            if route.delay:
                time.sleep(route.delay)
            data = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
            self.send_response(status)
            self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value.replace("{base}", site.base))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            return

    return Handler


class ScriptedWeb:
    """Several scripted sites; ``sources()`` makes it usable with ``tests.conftest.write_config``."""

    def __init__(self, *names: str) -> None:
        self.sites = {name: ScriptedSite(name) for name in names}

    def __getitem__(self, name: str) -> ScriptedSite:
        return self.sites[name]

    def sources(self) -> list[dict[str, Any]]:
        return [{"name": name, **site.source} for name, site in self.sites.items() if site.source]


@contextmanager
def scripted_web(*names: str) -> Iterator[ScriptedWeb]:
    web = ScriptedWeb(*names)
    for site in web.sites.values():
        site.start()
    try:
        yield web
    finally:
        for site in web.sites.values():
            site.stop()


def article_page(title: str, published: datetime, paragraphs: list[str], canonical: str | None = None) -> str:
    """A plain article page: <h1>, article:published_time, <article> paragraphs."""
    link = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>{link}'
        f'<meta property="article:published_time" content="{published.isoformat()}"></head>'
        f"<body><h1>{html.escape(title)}</h1><article>{body}</article></body></html>"
    )


def listing_page(links: list[str]) -> str:
    anchors = "".join(f'<li><a href="{html.escape(url)}">Bài {n}</a></li>' for n, url in enumerate(links, 1))
    head = '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Tin</title></head>'
    return f"{head}<body><ul>{anchors}</ul></body></html>"


def rss_feed(items: list[tuple[str, str, datetime]]) -> str:
    """RSS 2.0 of (url, title, published)."""
    entries = "".join(
        f"<item><title>{html.escape(title)}</title><link>{html.escape(url)}</link>"
        f"<pubDate>{format_datetime(when.astimezone(VIETNAM))}</pubDate></item>"
        for url, title, when in items
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Tin</title>'
    return f"{head}{entries}</channel></rss>"


def long_paragraphs(topic: str) -> list[str]:
    """Four sentences of ordinary news prose about ``topic``: enough for the clean stage to keep."""
    return [
        f"Sáng nay, tại trụ sở cơ quan, đơn vị đã tổ chức hội nghị sơ kết công tác {topic} trong sáu tháng đầu năm.",
        f"Theo báo cáo, các lực lượng đã triển khai đồng bộ nhiều giải pháp trong công tác {topic}, "
        "bảo đảm an toàn cho người dân trên địa bàn và hoàn thành các chỉ tiêu được giao.",
        "Phát biểu kết luận, lãnh đạo đơn vị đề nghị các phòng, ban tiếp tục phối hợp chặt chẽ, "
        "nâng cao chất lượng tham mưu và chủ động nắm chắc tình hình trong thời gian tới.",
        "Dịp này, nhiều tập thể và cá nhân có thành tích xuất sắc đã được khen thưởng.",
    ]
