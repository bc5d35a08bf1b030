"""The Atom feed (feedgen): valid for a feed reader, Vietnamese intact, rewritten after each run."""

from __future__ import annotations

import io
from pathlib import Path

import feedparser

from qpan.scheduler.alerts import dispatch_after_run
from qpan.scheduler.atom import feed_articles, write_atom
from qpan.storage.models import Article
from support.alerting import VIETNAMESE_TITLES, alert_config, migrated_database, new_run, store_relevant
from support.store import insert_article


def test_feed_written_after_a_run_lists_relevant_articles_only(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:2], author="Minh Anh")
    insert_article(database, title="Tin thể thao", relevant=False)
    feed_path = tmp_path / "qpan.atom"
    dispatch_after_run(database, alert_config([], atom_path=str(feed_path)), run_id)

    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert "Bộ Quốc phòng" in feed.feed.title
    assert sorted(entry.title for entry in feed.entries) == sorted(VIETNAMESE_TITLES[:2])
    entry = next(e for e in feed.entries if e.title == VIETNAMESE_TITLES[0])
    assert entry.link.startswith("https://baobackan.example.vn/")
    assert entry.published_parsed[:4] == (2025, 1, 16, 1)
    assert entry.author == "Minh Anh"
    assert "phối hợp" in entry.summary

    store_relevant(database, new_run(database), VIETNAMESE_TITLES[2:])
    dispatch_after_run(database, alert_config([], atom_path=str(feed_path)), run_id)
    assert len(feedparser.parse(feed_path.read_bytes()).entries) == 3


def test_write_atom_to_text_and_binary_streams(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    store_relevant(database, None, VIETNAMESE_TITLES[:1])
    with database.session() as session:
        articles: list[Article] = feed_articles(session)
        text, binary = io.StringIO(), io.BytesIO()
        write_atom(articles, text)
        write_atom(articles, binary)
    assert binary.getvalue().decode("utf-8") == text.getvalue()
    assert feedparser.parse(binary.getvalue()).entries[0].title == VIETNAMESE_TITLES[0]
