"""Full-text search over stored articles, diacritics-insensitive on both backends.

Both backends index the folded text (``pipelines.normalize.fold``), so "nghi dinh 03"
finds "Nghị định 03" and "đ" matches "d", which SQLite's ``remove_diacritics`` alone
does not do. SQLite uses an FTS5 table whose rowid is the article id; PostgreSQL a table
with a ``tsvector`` column and a GIN index. Both are created by the first migration; this
module is the one place that writes backend-specific SQL for them.

The indexed document and the query are cut into words by one rule
(``pipelines.normalize.words``) and handed to the backends as words separated by spaces:
PostgreSQL's parser would otherwise keep "03/2019/nd-cp" as one file-path token and "nd-cp"
as a compound, so "nghi dinh 03" found 6 articles there and 20 on SQLite. A query matches the
articles holding all of its words, on both backends.

Newest-first listing of a search is planned by how many articles match: few matches are
collected and sorted; many matches are found by walking the newest articles and keeping
those that match, which stops after ``limit`` rows instead of sorting them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import ColumnElement, Integer, TextClause, bindparam, column, exists, func, select, text
from sqlalchemy.orm import Session

from qpan.pipelines.normalize import search_document, words
from qpan.storage.models import Article

# Walking newest-first costs about 20x more per row than collecting a match (measured on
# SQLite, see benchmarks/search.py), so it pays off once matches exceed sqrt(20·limit·N).
_WALK_COST_RATIO = 20


def _key_column(session: Session) -> str:
    return "rowid" if session.get_bind().dialect.name == "sqlite" else "article_id"


@lru_cache(maxsize=2)
def _index_statements(key: str) -> tuple[TextClause, TextClause]:
    """(delete, insert) of articles' entries, built once: they run for every stored batch."""
    return (
        text(f"DELETE FROM article_search WHERE {key} IN :ids").bindparams(bindparam("ids", expanding=True)),
        text(f"INSERT INTO article_search ({key}, body) VALUES (:id, :body)"),
    )


def index_articles(session: Session, entries: Sequence[tuple[int, str]]) -> None:
    """(Re-)index each (article id, ``search_document``): one DELETE for all, one executemany INSERT.

    A new article's entry is deleted too: SQLite reuses the highest rowid after a deletion, and
    its search table has no foreign key to take an old entry with the article."""
    if not entries:
        return
    remove, add = _index_statements(_key_column(session))
    connection = session.connection()
    connection.execute(remove, {"ids": [article_id for article_id, _ in entries]})
    connection.execute(add, [{"id": article_id, "body": document} for article_id, document in entries])


def index_article(session: Session, article_id: int, title: str, body: str) -> None:
    index_articles(session, [(article_id, search_document(title, body))])


def remove_article(session: Session, article_id: int) -> None:
    session.execute(_index_statements(_key_column(session))[0], {"ids": [article_id]})


def _match_sql(dialect: str) -> tuple[str, str]:
    """(key column, match condition) for the backend; every token must occur."""
    if dialect == "sqlite":
        return "rowid", "article_search MATCH :q"
    return "article_id", "tsv @@ plainto_tsquery('simple', :q)"


def _query_param(dialect: str, tokens: list[str]) -> str:
    return " ".join(f'"{t}"' for t in tokens) if dialect == "sqlite" else " ".join(tokens)


def match_count(session: Session, query: str) -> int:
    tokens = words(query)
    if not tokens:
        return 0
    dialect = session.get_bind().dialect.name
    _, condition = _match_sql(dialect)
    sql = text(f"SELECT count(*) FROM article_search WHERE {condition}")
    return int(session.execute(sql, {"q": _query_param(dialect, tokens)}).scalar_one())


def search_condition(session: Session, query: str, limit: int | None) -> ColumnElement[bool] | None:
    """A WHERE condition on ``Article`` selecting the matches; None when the query has no words."""
    tokens = words(query)
    if not tokens:
        return None
    dialect = session.get_bind().dialect.name
    key, condition = _match_sql(dialect)
    param = _query_param(dialect, tokens)
    walk = False
    if limit:
        total = session.scalar(select(func.count()).select_from(Article)) or 0
        walk = match_count(session, query) > math.sqrt(_WALK_COST_RATIO * limit * total)
    if walk:
        correlated = text(f"SELECT 1 FROM article_search WHERE {condition} AND {key} = articles.id")
        return exists(correlated.bindparams(q=param).columns(column("one", Integer)))
    ids = text(f"SELECT {key} FROM article_search WHERE {condition}").bindparams(q=param)
    return Article.id.in_(ids.columns(column(key, Integer)))
