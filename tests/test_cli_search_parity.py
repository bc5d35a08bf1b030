"""SQLite and PostgreSQL search return the same articles for the same query.

The dataset is the labelled relevance set (42 real-world Vietnamese texts, seeds included),
stored the same way on both backends; the queries are what a user types, with and without
diacritics, with the decree number spelled the ways articles spell it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.queries import ArticleFilter, list_articles
from support.relevance_set import load_set
from support.services import fresh_postgres_database
from support.store import insert_article

QUERIES = [
    "nghi dinh 03",
    "Nghị định 03",
    "nghi dinh 03/2019",
    "03/2019/nđ-cp",
    "03/2019/ND-CP",
    "Nghị định số 03/2019/NĐ-CP",
    "77/2010",
    "bo cong an bo quoc phong",
    "Bộ Công an",
    "quân sự",
    "bien phong",
    "phối hợp",
    "giao-ban",
    "tàu ngầm",
]


def _store(url: str) -> Database:
    database = Database(url)
    upgrade(database)
    for number, item in enumerate(load_set()):
        insert_article(
            database, title=item.title, text=item.text, source="set", url=f"https://example.vn/{number}.html",
            published="2025-01-16T08:00:00+07:00", relevance=1.0, relevant=True,
        )
    return database


def _ids(database: Database, query: str) -> list[int]:
    with database.session() as session:
        return [a.id for a in list_articles(session, ArticleFilter(include_irrelevant=True, search=query, limit=None))]


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Database]]:
    folder = tmp_path_factory.mktemp("parity")
    with fresh_postgres_database() as url:
        lite, pg = _store(f"sqlite:///{folder / 'q.db'}"), _store(url)
        yield lite, pg
        lite.dispose()
        pg.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("query", QUERIES)
def test_same_articles_on_both_backends(backends: tuple[Database, Database], query: str) -> None:
    lite, pg = backends
    assert _ids(pg, query) == _ids(lite, query)


@pytest.mark.postgres
def test_decree_number_is_found_however_it_is_written(backends: tuple[Database, Database]) -> None:
    lite, pg = backends
    for database in (lite, pg):
        anchored = set(_ids(database, "03/2019/NĐ-CP"))
        assert anchored, "the set has articles citing the decree"
        assert anchored <= set(_ids(database, "nghi dinh 03/2019")) | set(_ids(database, "03 2019 nd cp"))
        assert set(_ids(database, "nghi dinh 03/2019")) <= set(_ids(database, "nghi dinh 03"))
