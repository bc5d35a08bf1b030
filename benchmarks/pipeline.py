"""Item pipeline figures: time per article, the dedup check at scale, memory while storing.

All three run on generated articles on the theme (``benchmarks/corpus.py``: sentences rebuilt
from clauses of the seeds and the labelled set, calibrated to the set's pairwise Jaccard), with
republications (8%) and other reports of a recent story (3%) mixed in, 1,000 published a day,
5% of the new ones relevant.

1. ``pipeline``: clean + relevance + dedup + store (the offline chain ``qpan init`` uses, same
   stage classes as a crawl) on N articles wrapped in page chrome, into a SQLite file holding
   the seeds (or the empty database ``--url`` names). Prints the MEAN per article with the batch
   commits (the commit of a full batch lands on the article that fills it, the last one on the
   last article), the wall clock and the CPU time per article, the median and p95, the mean and
   median by stage, and the batch writes: transactions, their CPU (thread time, early flushes
   included) and the statements an article, all and the writes' own.
2. ``lookup``: the dedup stage's whole check — the fingerprint, then ``judge`` (canonical URL,
   content hash, LSH band and date-window candidates in one statement, signature comparison,
   exact containment check) — for 1,000 of "today's" articles (new ones, republications of
   the last two days' articles, other reports of their stories) at each store size. Stored
   articles carry their real text (twice, as a crawl keeps the text before cleaning too) and
   real fingerprint, and are bulk-inserted with ``executemany`` (two worker processes generate
   and fingerprint them; the band indexes are rebuilt after the load). ``--keep DIR`` keeps
   the stores as ``DIR/lookup-<size>.db`` and builds a larger one from the largest smaller one;
   a kept store is migrated to this schema before it is measured. Prints the band rows behind
   the lookups, the band and date-window candidates verified, the exact checks, the wall time
   (mean, median, p95), the CPU time of ``judge`` and of the lookup statement alone in rounds
   that go through the sizes in turn, each probe's verdict beside the truth, and the plan.
   SQLite is measured without planner statistics (as qpan leaves a database) and after an
   ``ANALYZE`` (``--statistics``); ``--postgres URL`` measures copies of the stores in
   PostgreSQL instead, with the server's CPU for the connection read from /proc.
3. ``memory``: RSS of this process after storing a first batch of articles and after storing
   many more; the store keeps at most one batch in memory, so it should not grow.

    python benchmarks/pipeline.py [--articles 2000] [--sizes 10000,100000] [--only pipeline|lookup|memory]
        [--keep DIR] [--statistics none,analyze] [--postgres postgresql://...] [--probes 1000]
    python benchmarks/pipeline.py --only pipeline --url postgresql+psycopg://postgres@127.0.0.1/empty

Last runs (2 cores shared with other sessions: wall clock times move by 2-3x between runs; CPU
times are steadier):
pipeline, 2,000 articles, three rounds interleaved with commit d5cf707 (one INSERT, band
executemany and search DELETE + INSERT per article) at load average 3-4:
  SQLite: mean 3.24 / 3.22 / 3.38 -> 3.14 / 2.06 / 3.08 ms with the batch commits, CPU 1.99 /
  2.00 / 2.23 -> 1.85 / 1.65 / 1.94 ms (median 1.36 / 1.19 / 1.44, p95 6.26 / 5.25 / 6.05; by
  stage clean 0.68-0.97, relevance 0.29-0.43, dedup 0.81-1.33, store 0.28-0.43); the batch
  writes 0.67 / 0.65 / 0.72 -> 0.46 / 0.39 / 0.43 ms CPU an article; statements an article
  6.051 -> 1.105, of them in the writes 5.021 -> 0.075 (5.8 a batch); 26 transactions in both.
  PostgreSQL (``--url``, same machine): mean 6.77 / 6.20 / 6.27 -> 4.76 / 4.77 / 5.12 ms, CPU
  2.80 / 2.92 / 3.29 -> 2.13 / 2.41 / 2.39 ms; the batch writes 1.02 / 1.03 / 1.16 -> 0.45 /
  0.49 / 0.50 ms CPU an article (band keys alone 0.32 -> 0.05 ms: psycopg's executemany sends a
  statement per row, unnest takes three arrays); statements as on SQLite.
  Of the 26 transactions 14 are early flushes, each for a republication or another report of a
  story still waiting in the batch (its verdict depends on it); a batch's fixed cost is 2-2.5 ms
  CPU (batches of 10 against 100), so they cost under 0.02 ms an article. Of the writes' 0.4 ms
  on SQLite, folding the text for the search index is 0.12 ms and SQLite's own inserts (rows, 32
  band rows, the FTS5 entry) 0.16 ms; band rows through the driver directly would save 0.03 ms.
lookup: 10,000 / 100,000 / 1,000,000 stored articles built in 5 s / 40 s more / 343 s more
(89 MiB / 886 MiB / 8.9 GiB). The lookup of commit d5cf707 (every row of the band keys, the 64
sharing most verified, earliest first; the window from the (relevant, published) index) against
this one (the 4 newest of each key from the covering key index, 32 verified, newest first; the
window from the story window's covering partial index), the same probes:
  band rows behind a lookup's keys 5.6 / 36.8 / 417.8 (max 172 / 1,290 / 15,735): the data, the
  same for both; band candidates verified 2.9 / 8.9 / 16.8 -> 0.9 / 2.0 / 3.2 (max 64 -> 32);
  date-window candidates besides them 4.2 / 4.2 / 4.1 -> 4.2 / 4.1 / 4.0 (47-48 on a relevant
  article's lookup, at most 48 a side);
  SQLite without statistics, CPU per check, the least of 9 interleaved rounds in two runs
  alternating with the other lookup: judge 0.18-0.19 / 0.32-0.34 / 1.15-1.16 ms -> 0.15-0.17 /
  0.18-0.20 / 0.22-0.26 ms (medians 0.20-0.22 / 0.36-0.39 / 1.31-1.40 -> 0.16-0.22 / 0.19-0.25
  / 0.24-0.33); the statement alone 0.13 / 0.25 / 1.11-1.21 -> 0.11-0.12 / 0.13-0.15 / 0.17-0.20;
  wall p95 0.64-0.66 / 1.2-1.4 / 4.9-5.4 ms -> 0.32-0.52 / 0.39-0.64 / 0.51-0.79 ms;
  SQLite after ANALYZE: 0.20 / 13.1 / about 120 ms (100 probes) -> 0.15 / 0.18 / 0.22 ms: the
  statistics rated "duplicate_of_id IS NULL" selective and the window read every original;
  PostgreSQL 15 (copies, vacuumed), client CPU medians 0.37 / 0.45 / 0.57 -> 0.30 / 0.31 / 0.33
  ms and the server's 0.21 / 0.39 / 1.69 -> 0.23 / 0.28 / 0.35 ms, wall median 0.48 / 0.64 /
  0.86 -> 0.45 / 0.52 / 0.59 ms, p95 1.5 / 4.0 / 8.8 -> 1.0 / 1.1 / 1.3 ms; every arm now an
  index-only scan, 150 buffers at 1,000,000;
  verdicts: republications found 80 of 81 / 53 of 54 / 79 of 83 before and now; other reports
  of a story in its cluster 15 / 21 / 17 -> 16 / 22 / 17; new articles put in a cluster by
  chance 4 / 14 / 15 -> 3 / 8 / 12.
What still grows on SQLite (+20% at 100,000, +50% at 1,000,000) is the statement's 34 index
seeks (32 band keys, URL, text hash): alone they cost 0.045 / 0.065 / 0.10 ms, an index 100
times larger being a level deeper and read through the OS cache (SQLite keeps 2 MiB of pages);
and 8 us a verified candidate whose signature sits behind two copies of its text (0.005 / 0.012 /
0.025 ms). The rows read and the candidates verified no longer grow with the store.
Fingerprint: 0.17-0.37 ms wall a text of about 400 shingles in the lookup runs. memory: RSS
187.7 MiB after 500 and 188.5 MiB after 4,500 stored articles (+0.8 MiB; the generated texts are
made before the first figure).
pipeline, 20,000 articles (2026-12-02), the dedup and store stages' CPU per 2,000-article slice:
1.29-1.63 ms an article in the first slice, 1.90-2.15 in the last, batch writes 0.78-0.86 ms an
article (three runs); with SQLite's default 2 MiB page cache and checkpoints every 1,000 WAL
pages, 1.45-1.68 and 2.15-2.46, writes 0.99-1.04 (two runs, alternating with those).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from multiprocessing import Pool
from pathlib import Path

import corpus
from sqlalchemy import Connection, Select, and_, bindparam, distinct, event, func, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.schema import CreateIndex

from qpan.config import Config
from qpan.items import ArticleItem
from qpan.pipelines.chain import Chain
from qpan.pipelines.dedup import Fingerprint, compare_many, decode_signatures, fingerprint
from qpan.pipelines.seeding import load_seeds
from qpan.pipelines.stages.dedup import STORY_WINDOW, Verdict, judge
from qpan.storage.articles import lookup
from qpan.storage.batch import ArticleBatch, StoredArticle
from qpan.storage.db import SQLITE_STORE_CACHE_KIB, Database, normalise_url
from qpan.storage.migrate import upgrade
from qpan.storage.models import Article, DedupBand

_BANDS = DedupBand.__table__

CHUNK = 10_000  # generated articles per worker task and executemany round in the bulk load
FIRST_ID = 1000  # ids below are left to the seeds
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)  # the first generated article
SLICE = 2000  # articles per slice of the pipeline figure's database CPU, as in benchmarks/crawl.py
DATABASE_STAGES = ("dedup", "store")  # the stages a crawl runs on its database thread
PER_DAY = 1000  # published a day: the security and defence pages of some 40 national and provincial sites


def page_item(article: corpus.Article) -> ArticleItem:
    """The article as its page gives it: paragraphs between a share bar and a related box."""
    title, _, body = article.text.partition("\n\n")
    paragraphs = "".join(f"<p>{part}</p>" for part in body.split("\n\n"))
    html = (
        '<div class="share-bar"><a href="#">Chia sẻ</a> <a href="#">Facebook</a></div>'
        f"<h1>{title}</h1>{paragraphs}<p>Bình luận (0)</p>"
        '<div class="related"><h3>Tin liên quan</h3><ul><li><a href="/a">Bài khác</a></li></ul></div>'
    )
    url = f"https://bao.example.vn/tin-{article.n}.html"
    return ArticleItem(url=url, canonical_url=url, source="bench", title=title, body_html=html,
                       published=article.published, fetched_at=datetime.now(UTC))


def fresh_database(path: Path, url: str | None = None) -> Database:
    """An upgraded database holding the seeds, with the page cache a crawl's handle has."""
    database = Database(url or f"sqlite:///{path}", page_cache_kib=SQLITE_STORE_CACHE_KIB)
    upgrade(database)
    load_seeds(database, Config())
    return database


class WriteFigures:
    """What the article batch's writes cost: transactions, the statements of the whole chain and
    of the writes, and the CPU of the writes (thread time, so other processes do not count).
    Counted from the chain's batch and the engine's events; early flushes (the dedup stage's,
    when an article may match one still waiting) count with the writes."""

    def __init__(self, database: Database, batch: ArticleBatch) -> None:
        self.transactions = self.statements = self.write_statements = 0
        self.cpu = 0.0
        self._writing = False
        self._flush = batch.flush
        batch.flush = self.flush  # type: ignore[method-assign]
        self.batch = batch
        event.listen(database.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_args: object) -> None:
        self.statements += 1
        self.write_statements += self._writing

    def flush(self) -> list[StoredArticle]:
        self.transactions += len(self.batch) > 0
        self._writing, began = True, time.thread_time()
        try:
            return self._flush()
        finally:
            self.cpu += time.thread_time() - began
            self._writing = False


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def bench_pipeline(directory: Path, count: int, url: str | None) -> None:
    database = fresh_database(directory / "bench.db", url)
    articles = list(corpus.stream(1, 0, count + 50, EPOCH, PER_DAY))
    items = [page_item(article) for article in articles]
    stage_times: dict[str, list[float]] = {}
    totals = []
    with Chain(Config(), database) as chain:
        for item in items[:50]:  # warm-up: imports, caches, statement cache
            chain.process(item)
        chain.close()
        assert chain.batch is not None
        writes = WriteFigures(database, chain.batch)
        began, cpu_began = time.perf_counter(), time.process_time()
        database_cpu = [0.0] * -(-count // SLICE)  # thread CPU of the dedup and store stages, per slice
        for number, item in enumerate(items[50:]):
            total = 0.0
            for name, step in chain.steps:
                on_database = name in DATABASE_STAGES
                thread_start = time.thread_time() if on_database else 0.0
                start = time.perf_counter()
                item = step(item)
                elapsed = (time.perf_counter() - start) * 1000
                if on_database:
                    database_cpu[number // SLICE] += time.thread_time() - thread_start
                stage_times.setdefault(name, []).append(elapsed)
                total += elapsed
            totals.append(total)
        totals[-1] += timed(chain.close)  # the last batch's commit belongs to the last article
        wall = (time.perf_counter() - began) * 1000 / count
        cpu = (time.process_time() - cpu_began) * 1000 / count
    copies = sum(article.kind == "republication" for article in articles[50:])
    print(f"pipeline: {count} generated articles ({copies} republications among them), clean+relevance+dedup+store "
          f"per article: mean {statistics.fmean(totals):.2f} ms with the batch commits (wall clock {wall:.2f} ms, "
          f"CPU {cpu:.2f} ms), "
          f"median {statistics.median(totals):.2f} ms, p95 {sorted(totals)[int(len(totals) * 0.95)]:.2f} ms")
    print("          by stage (mean / median ms): " + ", ".join(
        f"{name} {statistics.fmean(times):.2f} / {statistics.median(times):.2f}" for name, times in stage_times.items()
    ))
    print(f"          writes: {writes.transactions} transactions, CPU {writes.cpu * 1000 / count:.2f} ms an article; "
          f"statements an article {writes.statements / count:.3f}, of them in the writes "
          f"{writes.write_statements / count:.3f} ({database.dialect})")
    if count >= 2 * SLICE:
        print(f"          dedup + store CPU (ms an article) per {SLICE:,}-article slice, batch commits included: "
              + ", ".join(f"{seconds * 1000 / SLICE:.2f}" for seconds in database_cpu[: count // SLICE]))
    counts = chain.stats.counts
    print(f"          new={counts['qpan/source/bench/new']} duplicates={counts['qpan/source/bench/duplicates']}")
    database.dispose()


def _sqlite_time(value: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite, so range queries compare correctly."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generated_chunk(index: int) -> list[corpus.Article]:
    """Chunk ``index`` of the stored articles; each chunk is its own stream, so workers can build
    them apart and the probes can regenerate the last one."""
    return list(corpus.stream(index, index * CHUNK, CHUNK, EPOCH, PER_DAY))


def stored_rows(index: int) -> tuple[list[tuple], list[tuple]]:
    """Article and band rows of one chunk as the pipeline would store them: real text (twice: the
    text before cleaning is kept too, so rows are as long as a crawl's), real fingerprint,
    ``duplicate_of``/``cluster`` as the generator knows them."""
    articles, bands = [], []
    fetched = _sqlite_time(datetime.now(UTC))
    for article in generated_chunk(index):
        fp = fingerprint(article.text)
        article_id = FIRST_ID + article.n
        original = None if article.original is None else FIRST_ID + article.original
        url = f"https://bao.example.vn/tin-{article.n}.html"
        articles.append((
            article_id, url, url, article.text.partition("\n\n")[0], article.text, article.text, fp.content_hash,
            fp.to_bytes(),
            article.relevant, _sqlite_time(article.published), fetched,
            original if article.kind == "republication" else None, original if article.kind == "same_story" else None,
        ))
        bands += [(article_id, band, key) for band, key in fp.band_keys]
    return articles, bands


def bulk_load(path: Path, chunks: range, pool: Pool) -> None:
    """Append ``chunks`` to the database at ``path``; the band table's indexes are dropped during
    the load and rebuilt from the model's declarations after it, so they match the schema."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = DELETE")  # appends straight to the file, not twice through a WAL
    connection.execute("PRAGMA synchronous = OFF")
    indexes = DedupBand.__table__.indexes
    for index in indexes:
        connection.execute(f"DROP INDEX IF EXISTS {index.name}")
    with connection:
        for articles, bands in pool.imap(stored_rows, chunks):
            connection.executemany(
                "INSERT INTO articles (id, url, canonical_url, source, title, text, raw_text, truncated,"
                " content_hash, minhash, relevance, relevant, matched_terms, methods, published, fetched_at,"
                " duplicate_of_id, cluster) VALUES (?, ?, ?, 'bench', ?, ?, ?, 0, ?, ?, 0, ?, '{}', '{}', ?, ?, ?, ?)",
                articles,
            )
            connection.executemany("INSERT INTO dedup_bands (article_id, band, key) VALUES (?, ?, ?)", bands)
    for index in indexes:
        connection.execute(str(CreateIndex(index).compile(dialect=sqlite.dialect())))
    connection.close()


def stored_database(directory: Path, size: int, pool: Pool) -> Database:
    """A SQLite database of the seeds and ``size`` generated articles, migrated to this schema:
    ``lookup-<size>.db`` in ``directory`` when it is there (``--keep``), else built from the
    largest smaller one (or from nothing) and kept under that name."""
    path = directory / f"lookup-{size}.db"
    if not path.exists():
        smaller = [n for n in range(0, size, CHUNK) if (directory / f"lookup-{n}.db").exists()]
        start_from = max(smaller, default=None)
        started = time.perf_counter()
        building = path.with_suffix(".part")  # an interrupted build is not mistaken for a finished one
        building.unlink(missing_ok=True)
        if start_from is None:
            fresh_database(building).dispose()
            start_from = 0
        else:
            shutil.copyfile(directory / f"lookup-{start_from}.db", building)
        bulk_load(building, range(start_from // CHUNK, size // CHUNK), pool)
        building.rename(path)
        print(f"lookup: built {size:,} stored articles ({PER_DAY} a day over {size // PER_DAY} days) from "
              f"{start_from:,} in {time.perf_counter() - started:.0f} s, "
              f"database {path.stat().st_size / 2**20:,.0f} MiB")
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    return database


def probes(stored: int, count: int) -> list[tuple[corpus.Article, int | None]]:
    """Today's articles after ``stored`` ones: new ones, republications of recent stored ones and
    other reports of their stories, in the stream's proportions; with the id of the original."""
    history = generated_chunk(stored // CHUNK - 1)
    recent = history[-corpus.RECENT:]
    stories = [article for article in recent if article.relevant and article.kind == "new"]
    rng = random.Random(stored)
    published = history[-1].published
    made = []
    for n in range(stored, stored + count):
        published += timedelta(days=1) / PER_DAY
        roll = rng.random()
        if roll < corpus.REPUBLISHED:
            original = rng.choice(recent)
            made.append((corpus.Article(n, "republication", corpus.republish(rng, original.text), original.relevant,
                                        published, corpus.root(original)), FIRST_ID + corpus.root(original)))
        elif roll < corpus.REPUBLISHED + corpus.SAME_STORY:
            original = rng.choice(stories)
            made.append((corpus.Article(n, "same_story", corpus.retell(rng, original.text), True, published,
                                        original.n), FIRST_ID + original.n))
        else:
            relevant = rng.random() < corpus.RELEVANT_SHARE
            made.append((corpus.Article(n, "new", corpus.new_text(rng, relevant), relevant, published, None), None))
    return made


def _window(fp: Fingerprint, published: datetime | None) -> tuple[datetime, datetime] | None:
    """The date window ``judge`` passes to the lookup for this fingerprint."""
    if fp.signature is None or published is None:
        return None
    return published - STORY_WINDOW, published + STORY_WINDOW


@lru_cache(maxsize=4)
def _band_rows(count: int) -> Select:
    """All rows of ``count`` band keys and their articles, counted (an OR of equalities: a row-value
    IN list is not answered from the index on SQLite)."""
    bands = _BANDS.c
    pairs = (and_(bands.band == bindparam(f"b{n}"), bands.key == bindparam(f"k{n}")) for n in range(count))
    return select(func.count(), func.count(distinct(bands.article_id))).where(or_(*pairs))


def _candidates(connection: Connection, url: str, fp: Fingerprint, published: datetime | None) -> tuple[int, ...]:
    """(band rows matched, articles they belong to, band candidates verified, further date-window
    candidates, exact containment checks) of one lookup."""
    keys = {}
    for n, (band, key) in enumerate(fp.band_keys):
        keys[f"b{n}"], keys[f"k{n}"] = band, key
    rows, articles = connection.execute(_band_rows(len(fp.band_keys)), keys).one() if keys else (0, 0)
    by_band = lookup(connection, url, fp.content_hash, fp.band_keys).candidates
    found = lookup(connection, url, fp.content_hash, fp.band_keys, _window(fp, published)).candidates
    signatures, counts = decode_signatures([candidate.minhash for candidate in found])
    similar = compare_many(fp.signature, fp.shingle_count, signatures, counts)
    return rows, articles, len(by_band), len(found) - len(by_band), sum(s.check_containment for s in similar)


def _outcome(verdict: Verdict, original: int | None) -> str:
    if verdict.duplicate_of is not None:
        return "duplicate of its original" if verdict.duplicate_of == original else "duplicate of another"
    return "new in a cluster" if verdict.cluster is not None else "new"


def query_plan(database: Database, action: Callable[[Connection], object]) -> str:
    """The plan of the lookup statement ``action`` runs: SQLite's EXPLAIN QUERY PLAN as a tree, or
    PostgreSQL's EXPLAIN (ANALYZE, BUFFERS), with the parameters it ran with."""
    statements: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        statements.append((statement, parameters))

    with database.engine.connect() as connection:
        event.listen(connection, "before_cursor_execute", capture)
        action(connection)
        event.remove(connection, "before_cursor_execute", capture)
        statement, parameters = next(captured for captured in statements if "UNION ALL" in captured[0])
        if database.dialect != "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            return _postgres_plan([row[0] for row in rows])
        depth = {0: 0}
        steps: Counter[tuple[int, str]] = Counter()  # each distinct step once, with how often it occurs
        for node, parent, _, detail in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
            numbered_arm = re.fullmatch(r"INDEX \d+", detail)  # an arm of a MULTI-INDEX OR: not a level
            depth[node] = depth.get(parent, 0) + (not numbered_arm)
            if not numbered_arm:
                steps[depth[node], re.sub(r"anon_\d+", "anon", detail)] += 1
        return "\n".join(f"        {times:>2} x " + "  " * level + detail for (level, detail), times in steps.items())


def _postgres_plan(lines: list[str]) -> str:
    """PostgreSQL's plan as its nodes without costs and conditions, each distinct node once with
    the number of times it occurs (the band arm repeats one node per key), then the heap fetches
    of its index-only scans, the buffers and the time."""
    nodes: Counter[str] = Counter()
    fetches = 0
    for line in lines:
        if "->" in line or line is lines[0]:
            nodes[re.sub(r"( on \w+) \w+$", r"\1", re.sub(r"\s+\(cost=.*", "", line))] += 1  # no alias
        elif "Heap Fetches" in line:
            fetches += int(line.split(":")[1])
    summary = [f"heap fetches {fetches}", lines[1].strip(), next(line for line in lines if "Execution Time" in line)]
    plan = [f"        {times:>2} x {node}" for node, times in nodes.items()]
    return "\n".join([*plan, "        " + "; ".join(summary)])


@dataclass
class Store:
    """One store size under measurement: its probes, what the first pass found, the timings."""

    size: int
    database: Database
    connection: Connection
    cases: list[tuple[corpus.Article, int | None, Fingerprint]]
    runs: list[tuple[str, Fingerprint, str, datetime | None]]
    server: Callable[[], float]
    figures: list[tuple[int, ...]] = field(default_factory=list)
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: {
        "republication": Counter(), "same_story": Counter(), "new": Counter()})
    fingerprint_ms: list[float] = field(default_factory=list)
    judge_ms: list[float] = field(default_factory=list)
    query_cpu: list[float] = field(default_factory=list)
    judge_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)


def _first_pass(store: Store) -> None:
    """Candidates counted and verdicts set beside the truth: a republication should be a duplicate
    of its original, another report of a story new (in the story's cluster when it shares enough)."""
    store.fingerprint_ms = [timed(lambda article=article: fingerprint(article.text)) for article, _, _ in store.cases]
    for (article, original, _), (url, fp, text, published) in zip(store.cases, store.runs, strict=True):
        store.figures.append(_candidates(store.connection, url, fp, published))
        store.outcomes[article.kind][_outcome(judge(store.connection, url, fp, text, published), original)] += 1


def _timed_round(store: Store) -> None:
    """The lookup statement alone (query, rows and candidates built), then the whole ``judge``,
    each over all probes, in CPU time; what ``judge`` adds to the lookup is the comparison."""
    connection, runs = store.connection, store.runs
    began = time.process_time()
    for url, fp, _, published in runs:
        lookup(connection, url, fp.content_hash, fp.band_keys, _window(fp, published))
    store.query_cpu.append((time.process_time() - began) * 1000 / len(runs))
    began, server_began = time.process_time(), store.server()
    for url, fp, text, published in runs:
        store.judge_ms.append(timed(
            lambda url=url, fp=fp, text=text, published=published: judge(connection, url, fp, text, published)
        ))
    store.judge_cpu.append((time.process_time() - began) * 1000 / len(runs))
    store.server_cpu.append((store.server() - server_began) / len(runs))


def _report(store: Store) -> None:
    rows, articles, band, window, checks = (list(column) for column in zip(*store.figures, strict=True))
    relevant = [n for n, (_, _, _, published) in enumerate(store.runs) if published is not None]
    print(f"lookup: {store.size:>9,} stored articles, {len(store.cases)} lookups "
          f"({len(relevant)} relevant, with the date window)")
    print(f"        band rows matched mean {statistics.fmean(rows):.1f} (max {max(rows)}) of "
          f"{statistics.fmean(articles):.1f} articles; band candidates mean {statistics.fmean(band):.1f} "
          f"(max {max(band)}); date-window candidates besides them mean {statistics.fmean(window):.1f} "
          f"(relevant lookups {statistics.fmean(window[n] for n in relevant):.1f}, max {max(window)}); "
          f"exact containment checks {statistics.fmean(checks):.3f} a lookup")
    judge_ms = store.judge_ms
    print(f"        fingerprint mean {statistics.fmean(store.fingerprint_ms):.3f} ms; judge wall mean "
          f"{statistics.fmean(judge_ms):.3f} ms, median {statistics.median(judge_ms):.3f} ms, "
          f"p95 {sorted(judge_ms)[int(len(judge_ms) * 0.95)]:.3f} ms")
    judge_cpu, query_cpu = statistics.median(store.judge_cpu), statistics.median(store.query_cpu)
    print(f"        CPU per check, {len(store.judge_cpu)} rounds: judge "
          + " ".join(f"{ms:.3f}" for ms in store.judge_cpu)
          + f" ms (median {judge_cpu:.3f}, least {min(store.judge_cpu):.3f}); lookup statement "
          + " ".join(f"{ms:.3f}" for ms in store.query_cpu)
          + f" ms (median {query_cpu:.3f}, least {min(store.query_cpu):.3f}); comparison (judge - lookup) "
          f"{judge_cpu - query_cpu:.3f} ms")
    if store.database.dialect != "sqlite":
        print("        PostgreSQL server CPU per check (its backend process, 10 ms ticks): "
              + " ".join(f"{ms:.3f}" for ms in store.server_cpu) + " ms")
    for kind, counts in store.outcomes.items():
        print(f"        {kind} ({counts.total()}): " + ", ".join(f"{label} {n}" for label, n in counts.most_common()))
    url, fp, _, published = next((store.runs[n] for n in relevant if store.cases[n][0].kind == "new"), store.runs[0])
    print("        plan of a relevant article's lookup:\n" + query_plan(
        store.database,
        lambda connection: lookup(connection, url, fp.content_hash, fp.band_keys, _window(fp, published))))


def measure_lookups(databases: dict[int, Database], count: int, rounds: int) -> None:
    """The dedup stage's check for ``count`` probes at each store size: its fingerprint, then
    ``judge`` (canonical URL, content hash, band and date-window candidates in one statement, the
    signature comparison and the exact containment check). After a first pass (``_first_pass``),
    ``rounds`` timed rounds go through the sizes in turn, so that the machine's other work
    weighs on every size alike (the least of a size's rounds is the one it disturbed least)."""
    with ExitStack() as stack:
        stores = []
        for size, database in databases.items():
            cases = [(article, original, fingerprint(article.text)) for article, original in probes(size, count)]
            runs = [(f"https://x.example.vn/{article.n}.html", fp, article.text,
                     article.published if article.relevant else None)
                    for article, _, fp in cases]
            connection = stack.enter_context(database.engine.connect())
            stores.append(Store(size, database, connection, cases, runs, _server_cpu(connection)))
        for store in stores:
            _first_pass(store)
        for _ in range(rounds):
            for store in stores:
                _timed_round(store)
    for store in stores:
        _report(store)


def _server_cpu(connection: Connection) -> Callable[[], float]:
    """Milliseconds of CPU the database server has spent for ``connection`` so far: PostgreSQL's
    backend process on this machine, read from /proc; nothing for SQLite, which runs in ours."""
    if connection.dialect.name == "sqlite":
        return lambda: 0.0
    stat = Path(f"/proc/{connection.exec_driver_sql('SELECT pg_backend_pid()').scalar_one()}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def spent() -> float:
        user, system = stat.read_text().rpartition(")")[2].split()[11:13]
        return (int(user) + int(system)) * 1000 / tick

    return spent


_COPIED = {"articles": [column.name for column in Article.__table__.columns],
           "dedup_bands": [column.name for column in DedupBand.__table__.columns]}


def postgres_database(url: str, sqlite_path: Path, size: int) -> Database:
    """The kept SQLite store of ``size`` articles in PostgreSQL: database ``qpan_lookup_<size>`` on
    the server of ``url``, made by this schema's migrations and a COPY of the SQLite rows on first
    use, kept afterwards (and migrated like the SQLite ones); vacuumed, so that index-only scans
    find a current visibility map."""
    import psycopg

    server = make_url(normalise_url(url))
    name = f"qpan_lookup_{size}"
    target = server.set(database=name)

    def libpq(address: URL) -> str:
        return address.set(drivername="postgresql").render_as_string(hide_password=False)

    with psycopg.connect(libpq(server), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    database = Database(target.render_as_string(hide_password=False))
    upgrade(database)
    if not exists:
        started = time.perf_counter()
        with sqlite3.connect(sqlite_path) as source, psycopg.connect(libpq(target)) as sink:
            sink.execute("SET TIME ZONE 'UTC'")  # SQLite holds UTC times without an offset
            for table, columns in _COPIED.items():
                names = ", ".join(f'"{column}"' for column in columns)
                with sink.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in source.execute(f"SELECT {names} FROM {table} ORDER BY 1"):
                        copy.write_row(row)
        print(f"lookup: copied {size:,} stored articles into PostgreSQL {name} in "
              f"{time.perf_counter() - started:.0f} s")
    with psycopg.connect(libpq(target), autocommit=True) as maintenance:
        maintenance.execute("VACUUM ANALYZE")
    return database


def set_statistics(database: Database, state: str) -> None:
    """``analyze``: SQLite's planner statistics taken from the data (``ANALYZE``, as a user or
    ``PRAGMA optimize`` may run); ``none``: no statistics, as qpan leaves a SQLite database."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE" if state == "analyze" else "DROP TABLE IF EXISTS sqlite_stat1")
    database.dispose()  # connections plan with the statistics they read when they opened


def bench_lookup(directory: Path, sizes: list[int], count: int, rounds: int, statistics_states: list[str],
                 postgres: str | None) -> None:
    print(corpus.calibration(200))
    with Pool(2) as pool:
        databases = {size: stored_database(directory, size, pool) for size in sizes}
    if postgres:
        for size, database in databases.items():
            database.dispose()
            databases[size] = postgres_database(postgres, directory / f"lookup-{size}.db", size)
        print("lookup: PostgreSQL")
        measure_lookups(databases, count, rounds)
    else:
        for state in statistics_states:
            for database in databases.values():
                set_statistics(database, state)
            print(f"lookup: SQLite, planner statistics: {state}")
            measure_lookups(databases, count, rounds)
    for database in databases.values():
        database.dispose()


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(directory: Path, count: int) -> None:
    database = fresh_database(directory / "bench.db")
    articles = list(corpus.stream(5, 0, 500 + count, EPOCH, PER_DAY))  # generated first: its memory is not the store's
    items = (page_item(article) for article in articles)
    with Chain(Config(), database) as chain:
        for item in itertools.islice(items, 500):
            chain.process(item)
        chain.close()
        before = rss_mib()
        for item in items:
            chain.process(item)
        chain.close()
        after = rss_mib()
    print(f"memory: RSS {before:.1f} MiB after 500 stored articles, {after:.1f} MiB after {500 + count} "
          f"({after - before:+.1f} MiB)")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--sizes", default="10000,100000", help="stored articles, multiples of 10,000")
    parser.add_argument("--only", choices=["pipeline", "lookup", "memory"])
    parser.add_argument("--url", help="an empty database for the pipeline figure instead of a SQLite file, "
                        "e.g. postgresql+psycopg://postgres@127.0.0.1/bench")
    parser.add_argument("--probes", type=int, default=1000, help="lookups of today's articles at each size")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds through the sizes")
    parser.add_argument("--statistics", default="analyze,none",
                        help="SQLite planner statistics to measure the lookup with: analyze, none or both")
    parser.add_argument("--postgres", metavar="URL",
                        help="lookup: measure in PostgreSQL (the server of URL), on copies of the SQLite stores")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the lookup's databases in DIR (lookup-<size>.db) and reuse them")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    for name, run in (
        ("pipeline", lambda d: bench_pipeline(d, args.articles, args.url)),
        ("lookup", lambda d: bench_lookup(d, sizes, args.probes, args.rounds, args.statistics.split(","),
                                          args.postgres)),
        ("memory", lambda d: bench_memory(d, args.articles * 2)),
    ):
        if args.only not in (None, name):
            continue
        if name == "lookup" and args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            run(args.keep)
            continue
        with tempfile.TemporaryDirectory() as directory:
            run(Path(directory))


if __name__ == "__main__":
    main()
