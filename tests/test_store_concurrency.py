"""Two (or more) processes storing the same canonical URL at the same moment leave one row;
two runs closing at the same moment both count in a source's health.

Each process looks the URL up, finds nothing, and only then — once every process has looked —
inserts: the unique index lets one INSERT through, the others get an IntegrityError, retry
their transaction and update the row instead, while still inserting the other article of their
batch. Run against a SQLite file and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qpan.crawler.extensions.runsummary import record_figures
from qpan.crawler.summary import SourceFigures
from qpan.pipelines.stages.dedup import DedupStage
from qpan.storage import articles
from qpan.storage.batch import ArticleBatch
from qpan.storage.db import Database
from qpan.storage.models import CrawlRun, SourceHealth
from support.articles import article_item, by_url, count_rows, migrated, seed_texts
from support.services import fresh_postgres_database

PROCESSES = 4
URL = "https://bao.example.vn/hoi-nghi-giao-ban-123.html"


def _writer(url: str, n: int, text: str, barrier: Any, results: Any) -> None:
    """One process: fingerprint and store the shared article and one of its own in one batch,
    with every lookup done before any insert."""
    looked_up = articles.known_ids
    lookups = [0]

    def lookup_then_wait(connection: Any, canonical_urls: Any) -> Any:
        found = looked_up(connection, canonical_urls)
        lookups[0] += 1
        if lookups[0] == 1:
            barrier.wait(timeout=30)
        return found

    articles.known_ids = lookup_then_wait  # this process only
    try:
        database = Database(url)
        batch = ArticleBatch(database)
        stage = DedupStage(database, batch)
        stage.process(article_item(text, URL, source="bao"))
        stage.process(article_item(f"Tin riêng của tiến trình số {n}.", f"{URL}?p={n}", source="bao"))
        stored = batch.flush()  # both in one transaction: the retry inserts one and updates the other
        results.put(("ok", [(entry.item["canonical_url"] == URL, entry.inserted) for entry in stored], lookups[0]))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", repr(exc), 0))


def race(url: str) -> list[tuple[str, Any, int]]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    texts = list(seed_texts().values())
    workers = [context.Process(target=_writer, args=(url, n, texts[n], barrier, results)) for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    return outcomes


def check_one_row(database: Database, outcomes: list[tuple[str, Any, int]]) -> None:
    assert [status for status, _, _ in outcomes] == ["ok"] * PROCESSES, outcomes
    stored = [entry for _, entries, _ in outcomes for entry in entries]
    assert len(stored) == 2 * PROCESSES  # each process wrote its two articles in one batch
    # the losers retried the batch once, not one article per transaction
    assert sorted(lookups for _, _, lookups in outcomes) == [1] + [2] * (PROCESSES - 1)
    assert sorted(inserted for shared, inserted in stored if shared) == [False] * (PROCESSES - 1) + [True]
    assert all(inserted for shared, inserted in stored if not shared)
    assert count_rows(database) == {"articles": 1 + PROCESSES, "bands": 32 * (1 + PROCESSES), "search": 1 + PROCESSES}
    assert by_url(database, URL).canonical_url == URL


def test_concurrent_writers_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    database = migrated(url)
    check_one_row(database, race(url))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.mark.postgres
def test_concurrent_writers_on_postgresql(postgres_url: str) -> None:
    database = migrated(postgres_url)
    try:
        check_one_row(database, race(postgres_url))
    finally:
        database.dispose()


@pytest.mark.postgres
def test_two_runs_closing_at_once_both_count_in_a_new_sources_health(postgres_url: str) -> None:
    """Crawls sharing PostgreSQL finish together: the source's first health row is created once,
    and neither run's figures overwrite the other's (the second waits for the first's row lock)."""
    database = migrated(postgres_url)
    with database.session() as session:
        runs = [CrawlRun(status="running"), CrawlRun(status="running")]
        session.add_all(runs)
        session.flush()
        first_id, second_id = (run.id for run in runs)
    figures = [SourceFigures(source="baobackan", fetched=3, extracted=3, new=2, reached=True)]
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_run() -> None:
        try:
            with database.session() as session:
                record_figures(session, second_id, figures, {})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            second_done.set()

    with database.session() as session:
        record_figures(session, first_id, figures, {})
        closing = threading.Thread(target=second_run)
        closing.start()
        assert not second_done.wait(timeout=1.0), "the second run did not wait for the first one's row"
    closing.join(timeout=30)

    assert errors == []
    with database.session() as session:
        health = session.get(SourceHealth, "baobackan")
        assert (health.runs, health.total_articles, health.last_articles) == (2, 4, 2)
    database.dispose()
