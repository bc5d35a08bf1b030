"""The JSON API (the same JSON as the CLI's ``--format json``), the Atom feed and the CSV of a list."""

from __future__ import annotations

import io
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from qpan.output import plain
from qpan.readmodel import (
    article_detail,
    article_json,
    health_by_source,
    run_row,
    source_rows,
    write_articles_csv,
)
from qpan.scheduler.atom import build_feed
from qpan.storage.models import Article
from qpan.storage.queries import list_articles, recent_runs
from qpan.web.filters import ListQuery, requested_article

RUNS = 20  # as `qpan runs`


def _json(data: Any) -> Response:
    """Formatted as the CLI prints it (indented, UTF-8 as is, datetimes in Vietnam's offset)."""
    body = json.dumps(data, ensure_ascii=False, indent=2, default=plain)
    return Response(body, media_type="application/json")


def _listed(request: Request) -> list[Article]:
    query = ListQuery.parse(request.query_params)
    with request.app.state.database.session() as session:
        return list_articles(session, query.article_filter())


def articles(request: Request) -> Response:
    return _json([article_json(article) for article in _listed(request)])


def article(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        return _json(article_detail(session, requested_article(request, session), state.profile))


def sources(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        return _json(source_rows(state.config, health_by_source(session)))


def runs(request: Request) -> Response:
    with request.app.state.database.session() as session:
        return _json([run_row(run) for run in recent_runs(session, RUNS)])


def articles_csv(request: Request) -> Response:
    stream = io.StringIO()
    write_articles_csv((article_json(article) for article in _listed(request)), stream)
    return Response(
        stream.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="qpan-articles.csv"'},
    )


def feed(request: Request) -> Response:
    """The Atom feed of the list the query string describes (by default: relevant articles, newest first)."""
    document = build_feed(_listed(request), link=str(request.url))
    return Response(document, media_type="application/atom+xml")
