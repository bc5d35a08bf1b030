"""The dedup stage against a real database: seeds as baseline, republications, same-story clusters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from qpan.items import ArticleItem
from qpan.pipelines.stages.dedup import DedupStage
from qpan.pipelines.stages.store import StoreStage
from qpan.stats import MemoryStats
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from support.articles import (
    DEDUP_FIXTURES,
    MEETING_DAY,
    MEETING_SEED,
    article_item,
    aware,
    by_url,
    count_rows,
    excerpts,
    migrated,
    republications,
    seed_texts,
    sqlite_database,
)
from support.services import fresh_postgres_database

SEEDS = seed_texts()


def run(database: Database, items: Iterable[ArticleItem], stats: MemoryStats | None = None) -> None:
    """Dedup then store, as the crawl's pipeline does, and close (flush) at the end."""
    batch = ArticleBatch(database, stats=stats)
    dedup, store = DedupStage(database, batch, stats), StoreStage(batch)
    for item in items:
        store.process(dedup.process(item))
    store.close()


def seed_items() -> list[ArticleItem]:
    return [
        article_item(text, f"seed:{name}", source="seeds", seed_name=name,
                     published=MEETING_DAY if name == MEETING_SEED else None)
        for name, text in SEEDS.items()
    ]


@pytest.fixture
def seeded(tmp_path: Path) -> Database:
    database = sqlite_database(tmp_path)
    run(database, seed_items())
    return database


def test_seeds_are_five_new_articles(seeded: Database) -> None:
    assert count_rows(seeded) == {"articles": 5, "bands": 5 * 32, "search": 5}
    for name in SEEDS:
        seed = by_url(seeded, f"seed:{name}")
        assert seed.duplicate_of_id is None and seed.cluster is None and seed.minhash


def store_copies(database: Database, copy: Callable[[str], str], site: str) -> MemoryStats:
    """A copy of every seed from ``site`` (also its source name), through dedup and store."""
    stats = MemoryStats()
    run(database, [article_item(copy(text), f"https://{site}.example.vn/{name}.html", source=site)
                   for name, text in SEEDS.items()], stats)
    return stats


def assert_copies_are_seed_duplicates(database: Database, site: str, stats: MemoryStats) -> None:
    for name in SEEDS:
        seed = by_url(database, f"seed:{name}")
        assert by_url(database, f"https://{site}.example.vn/{name}.html").duplicate_of_id == seed.id, name
    assert stats.counts[f"qpan/source/{site}/duplicates"] == 5
    assert stats.counts[f"qpan/source/{site}/new"] == 0


@pytest.mark.parametrize("variant", ["other_boilerplate", "trimmed_ending", "different_title", "added_caption"])
def test_republication_of_a_seed_is_its_duplicate(seeded: Database, variant: str) -> None:
    stats = store_copies(seeded, lambda text: republications(text)[variant], "bao")
    assert_copies_are_seed_duplicates(seeded, "bao", stats)


EXCERPTS = ["first_two_thirds", "first_40_percent", "excerpt_in_other_chrome"]


@pytest.mark.parametrize("variant", EXCERPTS)
def test_excerpt_of_a_seed_is_its_duplicate(seeded: Database, variant: str) -> None:
    stats = store_copies(seeded, lambda text: excerpts(text)[variant], "trich")
    assert_copies_are_seed_duplicates(seeded, "trich", stats)


@pytest.mark.postgres
def test_excerpt_of_a_seed_is_its_duplicate_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        database = migrated(url)
        try:
            run(database, seed_items())
            for n, variant in enumerate(EXCERPTS):
                site = f"trich{n}"
                stats = store_copies(database, lambda text, variant=variant: excerpts(text)[variant], site)
                assert_copies_are_seed_duplicates(database, site, stats)
        finally:
            database.dispose()


def test_full_text_after_its_excerpt_is_the_excerpts_duplicate(tmp_path: Path) -> None:
    """Containment counts whichever text is longer: the first seen is the original."""
    database = sqlite_database(tmp_path)
    original = SEEDS["001_484e08d8d06b6fdc"]
    items = [
        article_item(excerpts(original)["first_two_thirds"], "https://a.example.vn/trich.html", source="a"),
        article_item(original, "https://b.example.vn/toan-van.html", source="b"),
    ]
    run(database, items[:1])
    run(database, items[1:])
    first = by_url(database, "https://a.example.vn/trich.html")
    assert first.duplicate_of_id is None
    assert by_url(database, "https://b.example.vn/toan-van.html").duplicate_of_id == first.id


def test_duplicate_of_a_duplicate_points_at_the_first(seeded: Database) -> None:
    text = SEEDS[MEETING_SEED]
    first = republications(text)["other_boilerplate"]
    second = republications(first)["added_caption"]
    run(seeded, [article_item(first, "https://a.example.vn/1.html"), article_item(second, "https://b.example.vn/2.html")])
    seed = by_url(seeded, f"seed:{MEETING_SEED}")
    assert by_url(seeded, "https://a.example.vn/1.html").duplicate_of_id == seed.id
    assert by_url(seeded, "https://b.example.vn/2.html").duplicate_of_id == seed.id


def test_same_text_is_a_duplicate_by_hash(seeded: Database) -> None:
    retyped = SEEDS[MEETING_SEED].upper().replace("\n\n", "\n")
    run(seeded, [article_item(retyped, "https://c.example.vn/x.html")])
    assert by_url(seeded, "https://c.example.vn/x.html").duplicate_of_id == by_url(seeded, f"seed:{MEETING_SEED}").id


def test_another_report_of_the_meeting_is_new_in_the_seeds_cluster(seeded: Database) -> None:
    stats = MemoryStats()
    report = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
    run(seeded, [article_item(report, "https://qdnd.example.vn/giao-ban.html", source="qdnd",
                              published=aware("2021-07-16T20:00:00+07:00"))], stats)
    seed = by_url(seeded, f"seed:{MEETING_SEED}")
    other = by_url(seeded, "https://qdnd.example.vn/giao-ban.html")
    assert other.duplicate_of_id is None
    assert other.cluster == seed.id
    assert seed.cluster == seed.id  # the first member carries the cluster too
    assert stats.counts["qpan/source/qdnd/new"] == 1
    assert stats.counts["qpan/source/qdnd/duplicates"] == 0


def test_another_report_finds_the_first_while_it_waits_in_the_batch(tmp_path: Path) -> None:
    """The two reports share no band key: only the date window relates them, and the first is
    still in the store batch (not in the database) when the second is judged."""
    database = sqlite_database(tmp_path)
    seed = article_item(SEEDS[MEETING_SEED], "https://a.example.vn/hoi-nghi.html", published=MEETING_DAY)
    report_text = (DEDUP_FIXTURES / "same_meeting_qdnd.txt").read_text(encoding="utf-8")
    report = article_item(report_text, "https://qdnd.example.vn/giao-ban.html", published=MEETING_DAY)
    assert not set(seed["band_keys"]) & set(report["band_keys"])
    run(database, [seed, report])
    first = by_url(database, "https://a.example.vn/hoi-nghi.html")
    assert by_url(database, "https://qdnd.example.vn/giao-ban.html").cluster == first.id


def test_unrelated_article_gets_no_cluster(seeded: Database) -> None:
    text = (
        "Sáng nay, Sở Giáo dục và Đào tạo thành phố tổ chức lễ tổng kết năm học, khen thưởng học sinh giỏi "
        "cấp quốc gia và triển khai kế hoạch tuyển sinh lớp 10 năm học mới với nhiều điểm mới về hồ sơ."
    )
    run(seeded, [article_item(text, "https://d.example.vn/giao-duc.html", published=MEETING_DAY)])
    article = by_url(seeded, "https://d.example.vn/giao-duc.html")
    assert article.duplicate_of_id is None and article.cluster is None


def lead(text: str, share: float) -> str:
    words = text.split(" ")
    return " ".join(words[: int(share * len(words))])


@pytest.mark.parametrize(
    ("seed", "copy"),
    [
        (MEETING_SEED, lambda text: republications(text)["trimmed_ending"]),
        ("001_484e08d8d06b6fdc", lambda text: excerpts(text)["first_two_thirds"]),
        # 61 shingles of 938: Jaccard 0.15, unrelated by it, so only the exact check tells
        ("002_b0ef44cfe2bf4c3e", lambda text: lead(text, 0.06)),
    ],
    ids=["trimmed_ending", "excerpt", "short_lead"],
)
def test_duplicate_waiting_in_the_same_batch_is_found(tmp_path: Path, seed: str, copy: Callable[[str], str]) -> None:
    database = sqlite_database(tmp_path)
    stats = MemoryStats()
    original = SEEDS[seed]
    items = [
        article_item(original, "https://a.example.vn/1.html", source="a"),
        article_item(copy(original), "https://b.example.vn/1.html", source="b"),
    ]
    run(database, items, stats)
    first = by_url(database, "https://a.example.vn/1.html")
    assert by_url(database, "https://b.example.vn/1.html").duplicate_of_id == first.id
    assert stats.counts["qpan/source/a/new"] == 1 and stats.counts["qpan/source/b/duplicates"] == 1
