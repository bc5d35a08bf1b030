"""The HTML pages: overview, article list, article, sources, runs, and the triage form's POST."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from qpan.errors import UserError
from qpan.readmodel import article_detail, health_by_source, run_row, source_rows
from qpan.scheduler.service import next_run_times
from qpan.storage.db import Database
from qpan.storage.overview import (
    alert_counts,
    article_counts,
    article_sources,
    data_version,
    failing_alerts,
    new_relevant,
    relevant_per_day,
    run_health,
)
from qpan.storage.queries import list_articles, recent_runs
from qpan.storage.triage import VERDICTS, record_verdict, triage_summary
from qpan.timezone import VIETNAM
from qpan.web.charts import WeeklyChart, sparkline, weekly_chart
from qpan.web.filters import ListQuery, requested_article
from qpan.web.highlight import highlight
from qpan.web.security import CSRF_FIELD, csrf_token, csrf_valid, set_csrf_cookie

T = TypeVar("T")
VISIT_COOKIE = "qpan_visit"
VISIT_GAP = 30 * 60  # page views closer than this are one visit: its "new" marks stay while it lasts
HEALTH_RUNS = 12
CHART_WEEKS = 52
MAX_FORM_BYTES = 16_384


def _render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    csrf, new = csrf_token(request)
    page = request.app.state.templates.get_template(name)
    response = HTMLResponse(page.render(path=request.url.path, csrf=csrf, csrf_field=CSRF_FIELD, **context), status)
    if new:
        set_csrf_cookie(response, csrf)
    return response


def _visit(request: Request, newest: int) -> tuple[int | None, str]:
    """(articles above this id are new to this reader, or None on a first visit; the visit cookie's new value).

    The cookie holds "boundary:newest seen:time". A page view more than ``VISIT_GAP`` after the
    last starts a new visit, whose boundary is the newest article the reader had seen.
    """
    now = int(time.time())
    try:
        boundary, seen, at = (int(part) for part in request.cookies.get(VISIT_COOKIE, "").split(":"))
    except ValueError:
        return None, f"{newest}:{newest}:{now}"
    if now - at > VISIT_GAP:
        boundary = seen
    return boundary, f"{boundary}:{max(seen, newest)}:{now}"


def _remember_visit(response: Response, cookie: str) -> Response:
    response.set_cookie(VISIT_COOKIE, cookie, max_age=400 * 86400, httponly=True, samesite="strict")
    return response


def _kept(request: Request, name: str, version: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s value, kept while ``version`` stays the same.

    For what reads every stored article (the counts, the weekly chart, the list of sources): it
    changes only when an article is stored or re-stored, while telling whether one was takes two
    indexed lookups (``data_version``). Two requests racing only compute it twice.
    """
    kept: dict[str, tuple[Hashable, Any]] = request.app.state.kept
    if name in kept and kept[name][0] == version:
        return cast(T, kept[name][1])
    value = compute()
    kept[name] = (version, value)
    return value


def _totals(session: Session, today: date) -> tuple[tuple[int, int], WeeklyChart]:
    start = datetime.combine(today - timedelta(weeks=CHART_WEEKS), datetime.min.time(), tzinfo=VIETNAM)
    return article_counts(session), weekly_chart(relevant_per_day(session, start), today, CHART_WEEKS)


def overview(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        version = data_version(session)
        boundary, cookie = _visit(request, version[0])
        today = datetime.now(VIETNAM).date()
        (articles, relevant), chart = _kept(request, "totals", (version, today), lambda: _totals(session, today))
        health = [
            (entry, {name: sparkline(values) for name, values in entry.figures.items()})
            for entry in run_health(session, HEALTH_RUNS)
        ]
        last_runs = [run_row(run) for run in recent_runs(session, 5)]
        alerts = alert_counts(session)
        failing = failing_alerts(session, 5)
        summary = triage_summary(session)
        new = None if boundary is None else new_relevant(session, boundary)
    response = _render(
        request, "overview.html", articles=articles, relevant=relevant, chart=chart, new=new, health=health,
        health_runs=HEALTH_RUNS, last_runs=last_runs, planned=next_run_times(state.database), alerts=alerts,
        failing=failing, summary=summary,
    )
    return _remember_visit(response, cookie)


def article_list(request: Request) -> Response:
    query = ListQuery.parse(request.query_params)
    with request.app.state.database.session() as session:
        version = data_version(session)
        boundary, cookie = _visit(request, version[0])
        found = list_articles(session, query.article_filter(extra=1))
        sources = _kept(request, "sources", version, lambda: article_sources(session))
    page = found[: query.limit]
    more = query.query_string(after=page[-1].id) if len(found) > query.limit else None
    response = _render(
        request, "articles.html", query=query, articles=page, sources=sources, boundary=boundary,
        next_page=more, first_page=query.query_string(after=None) if query.after else None,
    )
    return _remember_visit(response, cookie)


def _web_link(url: str) -> str | None:
    """The original's address when it is a web address; a ``javascript:`` or ``data:`` one is never a link."""
    return url if urlsplit(url).scheme.lower() in {"http", "https"} else None


def article_page(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        article = requested_article(request, session)
        detail = article_detail(session, article, state.profile)
        verdicts = list(reversed(article.verdicts))
    return _render(
        request, "article.html", article=article, detail=detail, verdicts=verdicts, verdict_choices=VERDICTS,
        original=_web_link(article.url), paragraphs=highlight(article.text, article.matched_terms or {}),
    )


def _record(database: Database, article_id: int, verdict: str, note: str | None, who: str | None) -> None:
    with database.session() as session:
        record_verdict(session, article_id, verdict, note, who)


async def triage(request: Request) -> Response:
    """Record a verdict from the article page's form, then show the page again (POST, redirect, GET)."""
    article_id = request.path_params["article_id"]
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(413, detail="the form is too large")
    form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    if not csrf_valid(request, form.get(CSRF_FIELD)):
        raise HTTPException(403, detail="the form's CSRF token is missing or wrong: reload the page and try again")
    verdict = form.get("verdict", "")
    if verdict not in VERDICTS:
        raise HTTPException(400, detail=f"verdict must be one of {', '.join(VERDICTS)}")
    try:
        await run_in_threadpool(
            _record, request.app.state.database, article_id, verdict, form.get("note"), form.get("who")
        )
    except UserError as exc:
        raise HTTPException(404, detail=str(exc)) from None
    return RedirectResponse(f"/articles/{article_id}", status_code=303)


def sources(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        rows = source_rows(state.config, health_by_source(session))
    return _render(request, "sources.html", rows=rows)


def runs(request: Request) -> Response:
    state = request.app.state
    with state.database.session() as session:
        rows = [run_row(run) for run in recent_runs(session, 50)]
    return _render(request, "runs.html", rows=rows, planned=next_run_times(state.database))
