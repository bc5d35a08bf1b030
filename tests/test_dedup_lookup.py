"""The dedup lookup stays bounded on a busy store and still finds the right article.

On one theme, unrelated articles share a band key now and then, and a busy news day has
many relevant articles; the lookup verifies only ``BAND_CANDIDATES`` and ``WINDOW_CANDIDATES``.
These tests crowd the store past both bounds and check that the article that matters is
among the ones verified.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from qpan.items import ArticleItem
from qpan.pipelines.dedup import fingerprint
from qpan.pipelines.stages.dedup import judge
from qpan.storage.articles import BAND_CANDIDATES, WINDOW_CANDIDATES
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from support.articles import (
    DEDUP_FIXTURES,
    MEETING_DAY,
    MEETING_SEED,
    article_item,
    by_url,
    republications,
    seed_texts,
    sqlite_database,
)

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


def test_original_sharing_many_bands_outranks_earlier_articles_sharing_one(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    text = SEEDS[MEETING_SEED]
    band_zero = fingerprint(text).band_keys[0]
    crowd = []
    for n in range(BAND_CANDIDATES + 16):  # stored before the original: smaller ids
        item = decoy(n)
        item["band_keys"] = [band_zero, *item["band_keys"][1:]]
        crowd.append(item)
    store(database, crowd)
    original = stored_original(database, text, "https://a.example.vn/goc.html")
    copy_text = republications(text)["other_boilerplate"]
    with database.engine.connect() as connection:
        verdict = judge(connection, "https://b.example.vn/ban-sao.html", fingerprint(copy_text), copy_text)
    assert verdict.duplicate_of == original


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
