"""The dedup lookup stays bounded on a busy store and still finds the right article.

On one theme, unrelated articles share a band key now and then, and a busy news day has
many relevant articles; the lookup reads at most ``BAND_KEY_ARTICLES`` of a band key and
verifies only ``BAND_CANDIDATES`` and ``WINDOW_CANDIDATES``. These tests crowd the store past
the bounds and check that the bound holds and that the article that matters is among the ones
verified.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from qpan.items import ArticleItem
from qpan.pipelines.dedup import Fingerprint, fingerprint
from qpan.pipelines.stages.dedup import STORY_WINDOW, Verdict, judge
from qpan.storage.articles import BAND_CANDIDATES, BAND_KEY_ARTICLES, WINDOW_CANDIDATES, lookup
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from support.articles import (
    DEDUP_FIXTURES,
    MEETING_DAY,
    MEETING_SEED,
    article_item,
    by_url,
    migrated,
    republications,
    seed_texts,
    sqlite_database,
)
from support.services import fresh_postgres_database

SEEDS = seed_texts()


def fingerprinted(text: str, url: str, **fields: object) -> ArticleItem:
    """An item as the store stage receives it, its fingerprint fields set."""
    fp = fingerprint(text)
    item = article_item(text, url, **fields)
    item.update(content_hash=fp.content_hash, minhash=fp.to_bytes(), band_keys=fp.band_keys)
    return item


def decoy(n: int, **fields: object) -> ArticleItem:
    """An unrelated article."""
    text = f"Bản tin số {n}: thời tiết, giao thông và thị trường hôm nay, mục {n} trong ngày thứ {n * 7 % 31}."
    return fingerprinted(text, f"https://decoy.example.vn/{n}.html", **fields)


def store(database: Database, items: list[ArticleItem]) -> None:
    batch = ArticleBatch(database)
    for item in items:
        batch.queue(item)
    batch.flush()


def stored_original(database: Database, text: str, url: str, **fields: object) -> int:
    store(database, [fingerprinted(text, url, **fields)])
    return by_url(database, url).id


def crowd_band_zero(database: Database, text: str, count: int) -> None:
    """Store ``count`` unrelated articles that share ``text``'s first band key, and no other."""
    band_zero = fingerprint(text).band_keys[0]
    crowd = []
    for n in range(count):
        item = decoy(n)
        item["band_keys"] = [band_zero, *item["band_keys"][1:]]
        crowd.append(item)
    store(database, crowd)


def copy_verdict(database: Database, text: str) -> Verdict:
    """The verdict on another site's republication of ``text``."""
    copy_text = republications(text)["other_boilerplate"]
    with database.engine.connect() as connection:
        return judge(connection, "https://b.example.vn/ban-sao.html", fingerprint(copy_text), copy_text)


def test_original_sharing_many_bands_outranks_earlier_articles_sharing_one(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    text = SEEDS[MEETING_SEED]
    crowd_band_zero(database, text, BAND_CANDIDATES + 16)  # stored before the original: smaller ids
    original = stored_original(database, text, "https://a.example.vn/goc.html")
    assert copy_verdict(database, text).duplicate_of == original


def test_nearest_report_in_time_is_compared_on_a_busy_day(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    busy = [decoy(n, published=MEETING_DAY - timedelta(hours=30) + timedelta(minutes=n))
            for n in range(WINDOW_CANDIDATES + 16)]  # relevant, within two days, but farther away in time
    store(database, busy)
    original = stored_original(database, SEEDS[MEETING_SEED], "https://a.example.vn/hoi-nghi.html",
                               published=MEETING_DAY)
    report = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
    later = MEETING_DAY + timedelta(hours=4)
    with database.engine.connect() as connection:
        verdict = judge(connection, "https://qdnd.example.vn/giao-ban.html", fingerprint(report), report, later)
    assert verdict.duplicate_of is None and verdict.cluster == original


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database on each backend: the window's index is a partial index on both."""
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'q.db'}"
        if request.param == "postgresql":
            url = stack.enter_context(fresh_postgres_database())
        migrated_database = migrated(url)
        stack.callback(migrated_database.dispose)
        yield migrated_database


def test_window_takes_the_nearest_originals_on_either_side(database: Database) -> None:
    """Relevant originals on either side of the article, more than the bound on each, stored in
    an order that is not their time order: the lookup takes the ``WINDOW_CANDIDATES`` nearest
    before and after it, and nothing else (no duplicate, no irrelevant article, however near)."""
    spread = WINDOW_CANDIDATES + 8
    offsets = [minutes for n in range(1, spread + 1) for minutes in (-17 * n, 17 * n)]
    random.Random(3).shuffle(offsets)  # ids no longer follow publication times
    items = [decoy(n, published=MEETING_DAY + timedelta(minutes=minutes)) for n, minutes in enumerate(offsets)]
    store(database, items)
    ids = {minutes: by_url(database, item["canonical_url"]).id for minutes, item in zip(offsets, items, strict=True)}
    store(database, [
        decoy(900, published=MEETING_DAY + timedelta(minutes=1), duplicate_of=ids[17]),
        decoy(901, published=MEETING_DAY - timedelta(minutes=1), relevant=False),
    ])
    window = (MEETING_DAY - STORY_WINDOW, MEETING_DAY + STORY_WINDOW)
    with database.engine.connect() as connection:
        found = lookup(connection, "https://x.example.vn/moi.html", "0" * 64, [], window)
    nearest = sorted(ids, key=abs)
    before = [ids[minutes] for minutes in nearest if minutes < 0][:WINDOW_CANDIDATES]
    after = [ids[minutes] for minutes in nearest if minutes > 0][:WINDOW_CANDIDATES]
    assert sorted(candidate.id for candidate in found.candidates) == sorted(before + after)


def test_a_crowded_band_key_gives_its_newest_articles(database: Database) -> None:
    """A band key that many articles share by chance contributes ``BAND_KEY_ARTICLES`` of them,
    the newest, however many there are: the lookup reads a bounded part of its index."""
    key = fingerprint(SEEDS[MEETING_SEED]).band_keys[0]
    crowd = []
    for n in range(BAND_KEY_ARTICLES + 8):
        item = decoy(n)
        item["band_keys"] = [key, *item["band_keys"][1:]]
        crowd.append(item)
    store(database, crowd)
    with database.engine.connect() as connection:
        found = lookup(connection, "https://x.example.vn/moi.html", "0" * 64, [key])
    stored = [by_url(database, item["canonical_url"]).id for item in crowd]
    assert sorted(candidate.id for candidate in found.candidates) == sorted(stored)[-BAND_KEY_ARTICLES:]


def test_original_behind_a_crowded_band_key_is_found(tmp_path: Path) -> None:
    """Newer articles crowd one of the original's band keys past the bound: the copy still finds
    the original through the bands they alone share."""
    database = sqlite_database(tmp_path)
    text = SEEDS[MEETING_SEED]
    original = stored_original(database, text, "https://a.example.vn/goc.html")
    crowd_band_zero(database, text, BAND_KEY_ARTICLES + 16)  # stored after the original: larger ids
    assert copy_verdict(database, text).duplicate_of == original


# sqlite_stat1 as ANALYZE wrote it for the lookup benchmark's store of 1,000,000 articles
# (benchmarks/pipeline.py: 1,000 a day, 5% relevant, nine in ten originals)
MILLION_ARTICLES = {
    ("articles", "ix_articles_cluster"): "1000005 48",
    ("articles", "ix_articles_content_hash"): "1000005 1",
    ("articles", "ix_articles_duplicate_of_id"): "80143 2",
    ("articles", "ix_articles_fetched_at"): "1000005 9524",
    ("articles", "ix_articles_newest"): "1000005 1",
    ("articles", "ix_articles_published"): "1000005 1",
    ("articles", "ix_articles_relevant"): "1000005 500003",
    ("articles", "ix_articles_relevant_newest"): "1000005 500003 1",
    ("articles", "ix_articles_relevant_source"): "1000005 500003 1 1 1",
    ("articles", "ix_articles_source"): "1000005 500003",
    ("articles", "ix_articles_story_window"): "74294 1 1 1 1 1 1",
    ("articles", "sqlite_autoindex_articles_1"): "1000005 1",
    ("articles", "sqlite_autoindex_articles_2"): "1000005 166668",
    ("dedup_bands", "ix_dedup_bands_key"): "32000160 1000005 1 1",
    ("dedup_bands", "sqlite_autoindex_dedup_bands_1"): "32000160 32 1",
}


def lookup_plan(database: Database, fp: Fingerprint, window: tuple[datetime, datetime]) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of the statement ``lookup`` runs, one line per step."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        statements.append((statement, parameters))

    with database.engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", capture)
        lookup(connection, "https://x.example.vn/moi.html", fp.content_hash, fp.band_keys, window)
        (statement, parameters), = statements
        return [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]


@pytest.mark.parametrize("statistics", ["none", "a million articles"])
def test_sqlite_answers_every_arm_from_a_covering_index(tmp_path: Path, statistics: str) -> None:
    """Without planner statistics (how qpan leaves a SQLite database) and with those of a large
    store (after an ANALYZE, whose figures rate "duplicate_of_id IS NULL" as selective although nine
    articles in ten are originals), each band key is one seek of the band index and each side of
    the window one range of the story window's index, both covering: no table row is read for them."""
    database = sqlite_database(tmp_path)
    store(database, [decoy(n, published=MEETING_DAY - timedelta(hours=n)) for n in range(20)])
    if statistics != "none":
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("DELETE FROM sqlite_stat1")
            for (table, index), stat in MILLION_ARTICLES.items():
                connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index, stat))
        database.dispose()  # a connection reads the statistics when it opens
    fp = fingerprint(SEEDS[MEETING_SEED])
    plan = lookup_plan(database, fp, (MEETING_DAY - STORY_WINDOW, MEETING_DAY + STORY_WINDOW))
    assert [step for step in plan if "dedup_bands" in step] == [
        "SEARCH dedup_bands USING COVERING INDEX ix_dedup_bands_key (band=? AND key=?)"
    ] * len(fp.band_keys)
    assert [step for step in plan if "published" in step or "duplicate_of_id" in step] == [
        "SEARCH articles USING COVERING INDEX ix_articles_story_window (published>? AND published<?)"
    ] * 2
