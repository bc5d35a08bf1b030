"""Seeds through the whole chain: loaded once, cleaned, in the dedup index as originals."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from qpan.config import Config
from qpan.items import ArticleItem
from qpan.pipelines.chain import Chain
from qpan.pipelines.seeding import load_seeds, manifest_entries
from qpan.storage.db import Database
from support.articles import by_url, count_rows, republications, seed_texts, sqlite_database

SEEDS = seed_texts()


@pytest.fixture
def seeded(tmp_path: Path) -> Database:
    database = sqlite_database(tmp_path)
    assert load_seeds(database, Config()) == len(SEEDS)
    return database


def test_loading_twice_adds_nothing(seeded: Database) -> None:
    before = count_rows(seeded)
    assert load_seeds(seeded, Config()) == 0
    assert count_rows(seeded) == before == {"articles": 5, "bands": 5 * 32, "search": 5}


def test_seeds_are_stored_cleaned_with_their_manifest_facts(seeded: Database) -> None:
    for entry in manifest_entries():
        seed = by_url(seeded, f"seed:{entry['name']}")
        assert seed.source == "seeds" and seed.seed_name == entry["name"]
        assert seed.title == entry["title"]
        expected = datetime.fromisoformat(entry["published"]) if "published" in entry else None
        assert seed.published == expected  # the same instant (SQLite gives it back in UTC)
        assert seed.raw_text and seed.text and seed.minhash and seed.content_hash
        assert seed.relevant, f"seed {entry['name']} must be relevant to its own theme"
    cleaned = by_url(seeded, "seed:000_219d41f9fef099b1")
    assert "Bình luận (0)" in cleaned.raw_text and "Bình luận (0)" not in cleaned.text


def test_crawled_republication_of_a_seed_is_its_duplicate(seeded: Database) -> None:
    crawled = []
    with Chain(Config(), seeded) as chain:
        for name, text in SEEDS.items():
            url = f"https://bao.example.vn/{name}.html"
            html = "".join(f"<p>{part}</p>" for part in republications(text)["other_boilerplate"].split("\n\n"))
            chain.process(ArticleItem(url=url, canonical_url=url, source="bao", title="Bài đăng lại", body_html=html))
            crawled.append((name, url))
    for name, url in crawled:
        assert by_url(seeded, url).duplicate_of_id == by_url(seeded, f"seed:{name}").id, name
    assert chain.stats.counts["qpan/source/bao/duplicates"] == len(SEEDS)
    assert chain.stats.counts["qpan/source/bao/new"] == 0


def test_extract_chain_without_database_scores_but_stores_nothing() -> None:
    text = SEEDS["000_219d41f9fef099b1"]
    item = Chain(Config()).process(
        ArticleItem(url="https://x.vn/a.html", canonical_url="https://x.vn/a.html", source="x", raw_text=text)
    )
    assert item["relevant"] and item["text"] and "content_hash" not in item
