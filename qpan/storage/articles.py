"""The write side of articles: lookups the dedup stage needs, and storing a batch of articles.

``store_articles`` writes the rows, their full-text entries and their dedup bands in the
caller's transaction, so they are committed or rolled back together. It is race-safe by the
unique index on ``canonical_url`` plus a retry of the whole transaction (``ArticleBatch``): when
another process inserted one of the canonical URLs first, the INSERT fails with an
IntegrityError, the transaction is rolled back, and the retry finds the row and updates it.
A SAVEPOINT around the INSERT would be the textbook way, but SQLite's Python driver commits
the transaction when the outermost SAVEPOINT is released, which would break all-or-nothing;
retrying the transaction works the same on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Dialect,
    Select,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from qpan.pipelines.dedup import is_current
from qpan.storage import search
from qpan.storage.models import Article, DedupBand, utcnow

# What a lookup reads and verifies, at most (see :func:`lookup`): the newest articles of each band
# key; of those, the candidates sharing the most bands; and the date window's nearest on either side.
BAND_KEY_ARTICLES = 4
BAND_CANDIDATES = 32
WINDOW_CANDIDATES = 48

# columns an update by canonical URL refreshes; the rest (source, run_id, duplicate_of, cluster,
# alerted_at, seed_name) belong to the first time the article was stored
_CONTENT_COLUMNS = (
    "url", "title", "published", "author", "section", "language", "text", "raw_text", "truncated",
    "content_hash", "minhash", "relevance", "relevant", "matched_terms", "methods", "fetched_at",
)


@dataclass(frozen=True)
class ArticleRef:
    """What dedup needs to know about a stored article to point at it."""

    id: int
    duplicate_of_id: int | None
    cluster: int | None

    @property
    def original_id(self) -> int:
        """The article a duplicate of this one duplicates: its own original, never a chain."""
        return self.duplicate_of_id if self.duplicate_of_id is not None else self.id

    @property
    def cluster_id(self) -> int:
        return self.cluster if self.cluster is not None else self.original_id


@dataclass(frozen=True)
class Candidate(ArticleRef):
    minhash: bytes  # a current signature, left encoded: the dedup stage decodes all candidates at once


_ARTICLES = Article.__table__
_BANDS = DedupBand.__table__
_REF_COLUMNS = (_ARTICLES.c.id, _ARTICLES.c.duplicate_of_id, _ARTICLES.c.cluster)

# Statements the dedup lookup runs for every article are built once and run on a Core
# connection: building a select and going through the ORM's session and execution layers cost
# more than SQLite's answer, and these lookups only read plain columns.
_TEXTS = select(_ARTICLES.c.id, _ARTICLES.c.text).where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)))


def stored_texts(connection: Connection, article_ids: Sequence[int]) -> dict[int, str]:
    """The stored text of each article, by id: the dedup stage re-shingles the few candidates that
    may contain the new text (or be contained in it) to measure containment exactly."""
    return dict(connection.execute(_TEXTS, {"ids": list(article_ids)}).all())


@dataclass(frozen=True)
class Lookup:
    """What the database says about one article's fingerprint (see :func:`lookup`)."""

    known: ArticleRef | None  # the article with the same canonical URL
    same_text: ArticleRef | None  # the first article with the same content hash
    candidates: list[Candidate]  # sharing a band key or published near it, each once, current signatures only


_KNOWN, _SAME_TEXT, _CANDIDATE = 0, 1, 2
_LOOKUP_COLUMNS = (*_REF_COLUMNS, _ARTICLES.c.minhash)


def _part(kind: int, query: Select[Any]) -> Select[Any]:
    """One arm of the lookup, tagged with its kind; a subquery, so that it keeps its own ORDER BY
    and LIMIT inside the UNION ALL."""
    inner = query.subquery()
    return select(literal_column(str(kind)).label("kind"), *inner.c)


def _first(query: Select[Any], count: int) -> Select[Any]:
    """``query`` cut to its first ``count`` rows, the numbers written into the SQL: as bound
    parameters (SQLite's dialect adds OFFSET ? to each LIMIT) the band arm's 32 cuts would be 64
    parameters that SQLAlchemy processes in Python on every lookup."""
    return query.limit(literal_column(str(count))).offset(literal_column("0"))


def _lookup_query(bands: tuple[int, ...], window: bool) -> CompoundSelect:
    """The lookup for these band numbers (each with its key as parameter ``k<position>``), with or
    without the date window."""
    arms = [
        _part(_KNOWN, select(*_LOOKUP_COLUMNS).where(_ARTICLES.c.canonical_url == bindparam("url"))),
        _part(
            _SAME_TEXT,
            _first(select(*_LOOKUP_COLUMNS).where(_ARTICLES.c.content_hash == bindparam("hash")).order_by(
                _ARTICLES.c.id), 1),
        ),
    ]
    if bands:
        columns = _BANDS.c
        newest = (
            _first(
                select(columns.article_id)
                .where(columns.band == literal_column(str(band)), columns.key == bindparam(f"k{n}"))
                .order_by(columns.article_id.desc()),
                BAND_KEY_ARTICLES,
            ).subquery()
            for n, band in enumerate(bands)
        )
        matches = union_all(*(select(key.c.article_id) for key in newest)).subquery()
        shared = func.count().label("shared")
        ranked = _first(
            select(matches.c.article_id, shared)
            .group_by(matches.c.article_id)
            .order_by(shared.desc(), matches.c.article_id.desc()),
            BAND_CANDIDATES,
        ).subquery()
        by_band = select(*_LOOKUP_COLUMNS).join(ranked, ranked.c.article_id == _ARTICLES.c.id)
        arms.append(_part(_CANDIDATE, by_band))
    if window:
        published = _ARTICLES.c.published
        # the story window index's own terms, "relevant IS NOT false" included (models.py says why)
        near = select(*_LOOKUP_COLUMNS).where(_ARTICLES.c.relevant.is_not(False), _ARTICLES.c.duplicate_of_id.is_(None))
        before = near.where(published.between(bindparam("start"), bindparam("at"))).order_by(published.desc())
        after = near.where(published > bindparam("at"), published <= bindparam("end")).order_by(published)
        arms += [_part(_CANDIDATE, _first(side, WINDOW_CANDIDATES)) for side in (before, after)]
    return union_all(*arms)


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once for one dialect, run straight on the driver: SQLAlchemy's
    execution of the lookup's union of 36 selects cost more than SQLite's answer, since each call
    hashed its cache key (a deep tuple) and processed its 36 parameters one by one (a lookup at
    2,000 stored articles, medians: 0.53 ms of CPU, 0.40 ms this way, on a machine about three
    times slower than the one of the figures in ``lookup``)."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' order for a positional paramstyle (SQLite's "?")
    processors: dict[str, Callable[[Any], Any]]  # the typed parameters' (dates) conversions

    @classmethod
    def compile(cls, statement: CompoundSelect, dialect: Dialect) -> _DriverStatement:
        compiled = statement.compile(dialect=dialect)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        return cls(str(compiled), order, processors)

    def run(self, connection: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        values = {**params, **{name: convert(params[name]) for name, convert in self.processors.items()}}
        args = tuple(values[name] for name in self.order) if self.order is not None else values
        return connection.exec_driver_sql(self.sql, args).all()


@lru_cache(maxsize=8)
def _lookup_statement(bands: tuple[int, ...], window: bool, dialect: Dialect) -> _DriverStatement:
    """Built and compiled once per band numbers, window and database: building it costs more than running it."""
    return _DriverStatement.compile(_lookup_query(bands, window), dialect)


def lookup(
    connection: Connection,
    canonical_url: str,
    content_hash: str,
    band_keys: Sequence[tuple[int, int]],
    window: tuple[datetime, datetime] | None = None,
) -> Lookup:
    """The article with this canonical URL, the first with this text, and the near-duplicate
    candidates, in one statement (one round trip instead of four: on SQLite the statements'
    overhead, not the index lookups, was most of a lookup). Every arm reads a bounded range of
    one index, so what a lookup reads does not grow with the store; what is left of the growth
    is the depth of its 34 index seeks (``benchmarks/pipeline.py --only lookup``: the check's
    CPU 0.15-0.17, 0.18-0.20 and 0.22-0.26 ms at 10,000, 100,000 and 1,000,000 stored articles
    on SQLite, 0.18-0.19, 0.32-0.34 and 1.15-1.16 ms before). Its arms:

    * band keys: stored articles sharing at least one LSH band key. On one theme the formulaic
      phrases make unrelated articles share a band now and then (2-5% of relevant pairs), so
      the articles behind an article's 32 keys grow with the store: 5.6 a lookup at 10,000
      stored articles, 37 at 100,000, 418 at 1,000,000 (15,735 for one article). That is the
      data, and reading it all was what grew. A copy is among the newest articles of the keys
      it shares, most of them shared with its original alone, while a crowded key is crowded
      by chance; so each key gives its ``BAND_KEY_ARTICLES`` newest articles (one seek of the
      (band, key, article_id) index, no table row), and of those the ``BAND_CANDIDATES``
      sharing the most keys, newest first among equals, are verified: 0.9, 2.0 and 3.2 a
      lookup at those sizes, where reading every row and verifying the first 64 gave 2.9, 8.9
      and 16.8. The benchmark's verdicts were the same for republications and other reports
      of a story, and fewer new articles joined a cluster by chance (12 of 891 at 1,000,000
      stored articles, 15 before). Reading every row, ties went to the earliest, so at a
      million an excerpt sharing one key with an original of last month lost to older chance
      matches; newest first, it is among the verified ones unless its key is crowded.
    * ``window`` (first, last publication time): relevant originals published in it. Other
      reports of the same meeting share a fifth to a half of their text, where the LSH bands
      find only some of them; they appear within a day or two of each other. A busy news day
      has hundreds of relevant articles, so only the ``WINDOW_CANDIDATES`` nearest in time on
      either side of the window's middle are taken: two ordered walks of the partial index of
      relevant originals (``ix_articles_story_window``), which holds what the lookup reads of
      them, so no row is visited and the cost depends on neither the store nor the day.
    """
    params: dict[str, Any] = {"url": canonical_url, "hash": content_hash}
    params.update((f"k{n}", key) for n, (_, key) in enumerate(band_keys))
    if window is not None:
        start, end = window
        params.update(start=start, at=start + (end - start) / 2, end=end)
    known = same_text = None
    candidates: dict[int, Candidate] = {}
    statement = _lookup_statement(tuple(band for band, _ in band_keys), window is not None, connection.dialect)
    for kind, article_id, duplicate_of_id, cluster, minhash in statement.run(connection, params):
        if kind == _KNOWN:
            known = ArticleRef(article_id, duplicate_of_id, cluster)
        elif kind == _SAME_TEXT:
            same_text = ArticleRef(article_id, duplicate_of_id, cluster)
        elif is_current(minhash):
            candidates.setdefault(article_id, Candidate(article_id, duplicate_of_id, cluster, minhash))
    return Lookup(known, same_text, list(candidates.values()))


def _columns(item: Mapping[str, Any]) -> dict[str, Any]:
    """Article columns from a pipeline item (a Scrapy ArticleItem or a plain mapping)."""
    fetched_at: datetime = item.get("fetched_at") or utcnow()
    text = item.get("text") or ""
    return {
        "url": item.get("url") or item["canonical_url"],
        "title": item.get("title") or "",
        "published": item.get("published"),
        "author": item.get("author"),
        "section": item.get("section"),
        "language": item.get("language"),
        "text": text,
        "raw_text": item.get("raw_text") or text,
        "truncated": bool(item.get("truncated")),
        "content_hash": item["content_hash"],
        "minhash": item.get("minhash"),
        "relevance": float(item.get("relevance") or 0.0),
        "relevant": bool(item.get("relevant")),
        "matched_terms": dict(item.get("matched_terms") or {}),
        "methods": dict(item.get("methods") or {}),
        "fetched_at": fetched_at,
    }


# Statements of the write path, built once: they run for every batch of a crawl.
_KNOWN_IDS = select(_ARTICLES.c.canonical_url, _ARTICLES.c.id).where(
    _ARTICLES.c.canonical_url.in_(bindparam("urls", expanding=True))
)
# One multi-row INSERT ... RETURNING for a batch (SQLAlchemy's "insertmanyvalues"). Rows are
# matched to their ids by canonical URL, since neither backend promises RETURNING's row order.
# The ids must still follow the items' order, as one INSERT per item gave them: "the earliest"
# original of a duplicate is the lowest id. SQLite fills a VALUES list in order; PostgreSQL
# promises it only for SQLAlchemy's ordered form (INSERT ... SELECT ... ORDER BY), which on
# SQLite would fall back to one INSERT per row.
_INSERT_ARTICLES = {
    "sqlite": insert(_ARTICLES).returning(_ARTICLES.c.canonical_url, _ARTICLES.c.id),
    "postgresql": insert(_ARTICLES).returning(
        _ARTICLES.c.canonical_url, _ARTICLES.c.id, sort_by_parameter_order=True
    ),
}
_UPDATE_CONTENT = update(_ARTICLES).where(_ARTICLES.c.id == bindparam("article_id"))
# the first article of a cluster gets its own id as cluster when a second member arrives, so every
# member of a story, the first included, carries the same ``cluster``
_FOUND_CLUSTERS = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)), _ARTICLES.c.cluster.is_(None))
    .values(cluster=_ARTICLES.c.id)
)
_DELETE_BANDS = delete(_BANDS).where(_BANDS.c.article_id.in_(bindparam("ids", expanding=True)))
# On PostgreSQL a batch's band keys go as three arrays in one INSERT ... SELECT FROM unnest:
# psycopg's executemany sends a statement per row, and its 32 rows an article cost 0.32 ms of
# CPU, unnest 0.05 ms (benchmarks/pipeline.py's articles). SQLite's executemany loops in C, given
# the rows as the driver takes them: through SQLAlchemy's parameter processing, the 32 dicts an
# article were a quarter of the crawl's database thread.
_INSERT_BANDS_DRIVER = "INSERT INTO dedup_bands (article_id, band, key) VALUES (?, ?, ?)"
_INSERT_BANDS_UNNEST = text(
    "INSERT INTO dedup_bands (article_id, band, key) SELECT * FROM"
    " unnest(CAST(:article_ids AS integer[]), CAST(:bands AS integer[]), CAST(:keys AS bigint[]))"
)
# Articles written by one round of statements, at most: keeps the IN lists of URLs and ids far
# below SQLite's 32,766 parameters a statement whatever QPAN_STORE_BATCH_SIZE says.
_CHUNK = 500


def known_ids(connection: Connection, canonical_urls: Sequence[str]) -> dict[str, int]:
    """The id of each of ``canonical_urls`` already stored, by URL: one query for a whole batch."""
    return dict(connection.execute(_KNOWN_IDS, {"urls": list(canonical_urls)}).all())


def store_articles(
    session: Session, items: Sequence[Mapping[str, Any]], run_id: int | None = None
) -> list[tuple[int, bool]]:
    """Insert each item, or update the article with its canonical URL; returns (article id,
    inserted) for each item, in order.

    Writes the rows, their full-text entries and band keys in ``session``'s transaction with a
    handful of prebuilt Core statements for all the items (the known URLs in one SELECT, the new
    rows in one INSERT ... RETURNING, one executemany each for updates, band keys and search
    entries), not five per item: one at a time, they were half of the crawl's database thread.
    An item whose canonical URL came earlier in ``items`` updates that row, as it would one at a
    time. An IntegrityError (another process stored one of the URLs meanwhile) is left to the
    caller, whose retry of the transaction then takes the update path.
    """
    stored: list[tuple[int, bool]] = []
    for chunk in _chunks(items):
        stored += _store_chunk(session, chunk, run_id)
    return stored


def store_article(session: Session, item: Mapping[str, Any], run_id: int | None = None) -> tuple[int, bool]:
    """One item (see :func:`store_articles`); returns (article id, inserted)."""
    return store_articles(session, [item], run_id)[0]


def _chunks(items: Sequence[Mapping[str, Any]]) -> Iterator[list[Mapping[str, Any]]]:
    """Runs of ``items`` with distinct canonical URLs, ``_CHUNK`` at most: a URL met again starts
    a new run, whose lookup then finds the row the first one inserted."""
    chunk: list[Mapping[str, Any]] = []
    urls: set[str] = set()
    for item in items:
        if item["canonical_url"] in urls or len(chunk) >= _CHUNK:
            yield chunk
            chunk, urls = [], set()
        chunk.append(item)
        urls.add(item["canonical_url"])
    if chunk:
        yield chunk


def _store_chunk(session: Session, items: list[Mapping[str, Any]], run_id: int | None) -> list[tuple[int, bool]]:
    """Items with distinct canonical URLs (see :func:`store_articles`)."""
    connection = session.connection()
    urls = [item["canonical_url"] for item in items]
    known = known_ids(connection, urls)
    columns = [_columns(item) for item in items]
    ids = dict(known)
    new = [(item, content) for item, content in zip(items, columns, strict=True) if item["canonical_url"] not in known]
    if new:
        ids.update(_insert(connection, new, run_id))
    if known:
        _update(connection, [(known[url], content) for url, content in zip(urls, columns, strict=True) if url in known])
    article_ids = [ids[url] for url in urls]
    _insert_bands(connection, [
        (article_id, band, key)
        for article_id, item in zip(article_ids, items, strict=True)
        for band, key in item.get("band_keys") or ()
    ])
    # A crawl's prepare stage folded the words in a page worker; a seed or a test's item has none yet.
    search.index_articles(session, [
        (article_id, item.get("search_document") or search.search_document(content["title"], content["text"]))
        for article_id, item, content in zip(article_ids, items, columns, strict=True)
    ])
    return [(article_id, url not in known) for article_id, url in zip(article_ids, urls, strict=True)]


def _insert(
    connection: Connection, new: list[tuple[Mapping[str, Any], dict[str, Any]]], run_id: int | None
) -> dict[str, int]:
    """Insert the new articles, founding the clusters they join; their ids by canonical URL."""
    rows = [
        {
            "canonical_url": item["canonical_url"],
            "source": item["source"],
            "seed_name": item.get("seed_name"),
            "duplicate_of_id": item.get("duplicate_of"),
            "cluster": item.get("cluster"),
            "run_id": run_id,
            **content,
        }
        for item, content in new
    ]
    ids = dict(connection.execute(_INSERT_ARTICLES[connection.dialect.name], rows).all())
    clusters = sorted({row["cluster"] for row in rows if row["cluster"] is not None})
    if clusters:
        connection.execute(_FOUND_CLUSTERS, {"ids": clusters})
    return ids


def _update(connection: Connection, known: list[tuple[int, dict[str, Any]]]) -> None:
    """Refresh the content of articles stored before, and drop their band keys for the new ones."""
    connection.execute(_UPDATE_CONTENT, [
        {"article_id": article_id, **{name: content[name] for name in _CONTENT_COLUMNS}}
        for article_id, content in known
    ])
    connection.execute(_DELETE_BANDS, {"ids": [article_id for article_id, _ in known]})


def _insert_bands(connection: Connection, bands: list[tuple[int, int, int]]) -> None:
    """(article id, band, key) rows, in one call to the driver on either backend."""
    if not bands:
        return
    if connection.dialect.name == "postgresql":
        article_ids, numbers, keys = (list(column) for column in zip(*bands, strict=True))
        connection.execute(_INSERT_BANDS_UNNEST, {"article_ids": article_ids, "bands": numbers, "keys": keys})
    else:
        connection.exec_driver_sql(_INSERT_BANDS_DRIVER, bands)
