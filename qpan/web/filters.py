"""What a request asks for: the article list's query string (parsed into an ``ArticleFilter`` and
written back into links), and the article a path names.

One parser serves the page, its CSV/JSON/Atom links and ``/api/articles``, so the same
link always means the same list. Links carry only what differs from the defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request

from qpan.storage.models import Article
from qpan.storage.queries import ArticleFilter
from qpan.timezone import VIETNAM

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _bad(message: str) -> HTTPException:
    return HTTPException(400, detail=message)


def _day(params: QueryParams, name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(f"{name}: {value!r} is not a date such as 2025-01-31") from None


def _number(params: QueryParams, name: str, cast: type[int] | type[float]) -> Any:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        number = cast(value)
    except ValueError:
        raise _bad(f"{name}: {value!r} is not a number") from None
    if number < 0:
        raise _bad(f"{name}: {value!r} is negative")
    return number


def _choice(params: QueryParams, name: str, choices: tuple[str, ...]) -> str:
    value = params.get(name) or choices[0]
    if value not in choices:
        raise _bad(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def requested_article(request: Request, session: Session) -> Article:
    """The article of ``/articles/{article_id}`` (and its API twin), or a 404."""
    article_id = request.path_params["article_id"]
    article = session.get(Article, article_id)
    if article is None:
        raise HTTPException(404, detail=f"no article with id {article_id}")
    return article


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=VIETNAM)


@dataclass(frozen=True)
class ListQuery:
    source: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None  # inclusive: articles of that day are in
    relevance: str = "relevant"  # relevant | all
    min: float | None = None
    duplicates: str = "show"  # show | hide
    q: str = ""
    after: int | None = None  # continue after this article (the next page)
    limit: int = PAGE_SIZE

    @classmethod
    def parse(cls, params: QueryParams) -> ListQuery:
        limit = _number(params, "limit", int) or PAGE_SIZE
        return cls(
            source=tuple(sorted({s.strip() for s in params.getlist("source") if s.strip()})),
            since=_day(params, "since"),
            until=_day(params, "until"),
            relevance=_choice(params, "relevance", ("relevant", "all")),
            min=_number(params, "min", float),
            duplicates=_choice(params, "duplicates", ("show", "hide")),
            q=params.get("q", "").strip(),
            after=_number(params, "after", int),
            limit=min(limit, MAX_PAGE_SIZE),
        )

    def article_filter(self, extra: int = 0) -> ArticleFilter:
        """The storage filter; ``extra`` rows more than a page, to learn whether a next page exists."""
        return ArticleFilter(
            include_irrelevant=self.relevance == "all",
            since=_midnight(self.since) if self.since else None,
            until=_midnight(self.until + timedelta(days=1)) if self.until else None,
            sources=self.source,
            search=self.q or None,
            limit=self.limit + extra,
            min_relevance=self.min,
            hide_duplicates=self.duplicates == "hide",
            older_than=self.after,
        )

    def query_string(self, **changes: Any) -> str:
        """This list's query string with ``changes``, defaults left out (``?`` included when not empty)."""
        current = asdict(replace(self, **changes))
        defaults = asdict(ListQuery())
        pairs: list[tuple[str, Any]] = []
        for name, value in current.items():
            if value == defaults[name] or value is None:
                continue
            if name == "source":
                pairs.extend(("source", s) for s in value)
            else:
                pairs.append((name, value.isoformat() if isinstance(value, date) else value))
        return f"?{urlencode(pairs)}" if pairs else ""
