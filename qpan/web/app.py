"""The Starlette application: routes, guards, templates (autoescaped), static files.

Endpoints are plain functions: Starlette runs them in its thread pool, where the synchronous
SQLAlchemy sessions of the rest of qpan work unchanged, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from qpan.config import Config
from qpan.output import local_iso
from qpan.pipelines.relevance import ThemeProfile
from qpan.storage.db import Database
from qpan.timezone import VIETNAM
from qpan.web import api, pages
from qpan.web.security import SecurityHeaders, TokenGate


def _vietnam_time(value: Any, style: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(VIETNAM).strftime(style) if value is not None else ""


def templates() -> Environment:
    """Jinja2 with autoescaping on for every template: scraped text is always text, never markup."""
    environment = Environment(
        loader=PackageLoader("qpan.web", "templates"), autoescape=True, undefined=StrictUndefined
    )
    environment.filters["vn"] = _vietnam_time
    environment.filters["iso"] = local_iso
    return environment


def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    page = request.app.state.templates.get_template("error.html")
    html = page.render(path=request.url.path, status=exc.status_code, detail=exc.detail)
    return HTMLResponse(html, status_code=exc.status_code)


def create_app(config: Config, database: Database, token: str | None = None) -> Starlette:
    """The web view over ``database``; with ``token``, every request must present it."""
    routes = [
        Route("/", pages.overview),
        Route("/articles", pages.article_list),
        Route("/articles/{article_id:int}", pages.article_page),
        Route("/articles/{article_id:int}/triage", pages.triage, methods=["POST"]),
        Route("/sources", pages.sources),
        Route("/runs", pages.runs),
        Route("/articles.csv", api.articles_csv),
        Route("/feed.atom", api.feed),
        Route("/api/articles", api.articles),
        Route("/api/articles/{article_id:int}", api.article),
        Route("/api/sources", api.sources),
        Route("/api/runs", api.runs),
        Mount("/static", StaticFiles(packages=[("qpan.web", "static")]), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders), Middleware(TokenGate, token=token)],
        exception_handlers={HTTPException: _error},
    )
    app.state.config = config
    app.state.database = database
    app.state.templates = templates()
    app.state.profile = ThemeProfile.load(config.topic)
    app.state.kept = {}  # see pages._kept
    return app
