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
   articles carry their real text and real fingerprint, and are bulk-inserted with
   ``executemany`` (two worker processes generate and fingerprint them; the band index is
   rebuilt after the load). Prints the band and date-window candidates per lookup, the exact
   checks, the time (wall mean, median, p95 and CPU mean), and each probe's verdict beside the
   truth.
3. ``memory``: RSS of this process after storing a first batch of articles and after storing
   many more; the store keeps at most one batch in memory, so it should not grow.

    python benchmarks/pipeline.py [--articles 2000] [--sizes 10000,100000] [--only pipeline|lookup|memory]
    python benchmarks/pipeline.py --only pipeline --url postgresql+psycopg://postgres@127.0.0.1/empty

1,000,000 stored articles (``--sizes 10000,100000,1000000``) was not run: here, with the two
cores shared with other work, building 90,000 articles took 197-402 s, so a million would take
well over half an hour.

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
lookup, the same
probes against the lookup of commit 5d59a9a (band candidates ranked by id up to 200, date
window unordered up to 200) and this one (64 ranked by shared bands; the 48 nearest on either
side), run side by side:
  10,000 stored: band candidates 4.1 -> 2.9, window 10.8 -> 4.2 a lookup; judge CPU 0.37 -> 0.39 ms
  100,000 stored: band candidates 15.0 (max 200) -> 8.9 (max 64), window 10.4 -> 4.2 (max 155
  -> 48); judge CPU 0.91 -> 0.85 ms, wall median 0.50 -> 0.52 ms, p95 23.5 -> 9.9 ms;
  republications found as duplicates of their original 51 -> 53 of 54, other reports of a story
  clustered 26 -> 21 of 33, new articles left alone 899 of 913 in both (14 joined a cluster).
The check still grows from 10,000 to 100,000 stored (CPU 0.39 -> 0.85 ms) with fewer candidates
verified, so the growth is in the statement's index reads of chance band matches (2-5% of
relevant pairs share a band on this theme), not in verifying candidates.
Fingerprint: 0.7-4.1 ms wall a text of about 400 shingles in these loaded runs. memory: RSS
187.7 MiB after 500 and 188.5 MiB after 4,500 stored articles (+0.8 MiB; the generated texts are
made before the first figure).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path

import corpus
from sqlalchemy import Connection, event

from qpan.config import Config
from qpan.items import ArticleItem
from qpan.pipelines.chain import Chain
from qpan.pipelines.dedup import Fingerprint, compare_many, decode_signatures, fingerprint
from qpan.pipelines.seeding import load_seeds
from qpan.pipelines.stages.dedup import STORY_WINDOW, Verdict, judge
from qpan.storage.articles import lookup
from qpan.storage.batch import ArticleBatch, StoredArticle
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade

CHUNK = 10_000  # generated articles per worker task and executemany round in the bulk load
FIRST_ID = 1000  # ids below are left to the seeds
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)  # the first generated article
PER_DAY = 1000  # published a day: the security and defence pages of some 40 national and provincial sites
PROBES = 1000


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


def fresh_database(directory: Path, url: str | None = None) -> Database:
    database = Database(url or f"sqlite:///{directory / 'bench.db'}")
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
    database = fresh_database(directory, url)
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
        for item in items[50:]:
            total = 0.0
            for name, step in chain.steps:
                start = time.perf_counter()
                item = step(item)
                elapsed = (time.perf_counter() - start) * 1000
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
    """Article and band rows of one chunk as the pipeline would store them: real text, real
    fingerprint, ``duplicate_of``/``cluster`` as the generator knows them."""
    articles, bands = [], []
    fetched = _sqlite_time(datetime.now(UTC))
    for article in generated_chunk(index):
        fp = fingerprint(article.text)
        article_id = FIRST_ID + article.n
        original = None if article.original is None else FIRST_ID + article.original
        url = f"https://bao.example.vn/tin-{article.n}.html"
        articles.append((
            article_id, url, url, article.text.partition("\n\n")[0], article.text, fp.content_hash, fp.to_bytes(),
            article.relevant, _sqlite_time(article.published), fetched,
            original if article.kind == "republication" else None, original if article.kind == "same_story" else None,
        ))
        bands += [(article_id, band, key) for band, key in fp.band_keys]
    return articles, bands


def bulk_load(path: Path, chunks: range, pool: Pool) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("DROP INDEX IF EXISTS ix_dedup_bands_key")
    with connection:
        for articles, bands in pool.imap(stored_rows, chunks):
            connection.executemany(
                "INSERT INTO articles (id, url, canonical_url, source, title, text, raw_text, truncated,"
                " content_hash, minhash, relevance, relevant, matched_terms, methods, published, fetched_at,"
                " duplicate_of_id, cluster) VALUES (?, ?, ?, 'bench', ?, ?, '', 0, ?, ?, 0, ?, '{}', '{}', ?, ?, ?, ?)",
                articles,
            )
            connection.executemany("INSERT INTO dedup_bands (article_id, band, key) VALUES (?, ?, ?)", bands)
    connection.execute("CREATE INDEX ix_dedup_bands_key ON dedup_bands (band, key)")
    connection.execute("ANALYZE")
    connection.close()


def probes(stored: int) -> list[tuple[corpus.Article, int | None]]:
    """Today's articles after ``stored`` ones: new ones, republications of recent stored ones and
    other reports of their stories, in the stream's proportions; with the id of the original."""
    history = generated_chunk(stored // CHUNK - 1)
    recent = history[-corpus.RECENT:]
    stories = [article for article in recent if article.relevant and article.kind == "new"]
    rng = random.Random(stored)
    published = history[-1].published
    made = []
    for n in range(stored, stored + PROBES):
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


def _candidates(connection: Connection, url: str, fp: Fingerprint, published: datetime | None) -> tuple[int, int, int]:
    """(band candidates, further date-window candidates, exact containment checks) of one lookup."""
    by_band = lookup(connection, url, fp.content_hash, fp.band_keys).candidates
    window = (published - STORY_WINDOW, published + STORY_WINDOW) if published else None
    found = lookup(connection, url, fp.content_hash, fp.band_keys, window).candidates
    signatures, counts = decode_signatures([candidate.minhash for candidate in found])
    similar = compare_many(fp.signature, fp.shingle_count, signatures, counts)
    return len(by_band), len(found) - len(by_band), sum(similarity.check_containment for similarity in similar)


def _outcome(verdict: Verdict, original: int | None) -> str:
    if verdict.duplicate_of is not None:
        return "duplicate of its original" if verdict.duplicate_of == original else "duplicate of another"
    return "new in a cluster" if verdict.cluster is not None else "new"


def measure_lookups(database: Database, stored: int) -> None:
    """The dedup stage's check for each probe: its fingerprint, then ``judge`` (canonical URL,
    content hash, band and date-window candidates in one statement, the signature comparison and
    the exact containment check), timed on the second and third pass; candidates counted apart
    and verdicts set beside the truth on the first: a republication should be a duplicate of its
    original, another report of a story new (in the story's cluster when it shares enough)."""
    cases = [(article, original, fingerprint(article.text)) for article, original in probes(stored)]
    fingerprint_ms = [timed(lambda article=article: fingerprint(article.text)) for article, _, _ in cases]
    judge_ms: list[float] = []
    figures = []
    outcomes: dict[str, Counter[str]] = {"republication": Counter(), "same_story": Counter(), "new": Counter()}
    with database.engine.connect() as connection:
        for article, original, fp in cases:
            url = f"https://x.example.vn/{article.n}.html"
            published = article.published if article.relevant else None
            figures.append(_candidates(connection, url, fp, published))
            outcomes[article.kind][_outcome(judge(connection, url, fp, article.text, published), original)] += 1
        cpu_began = time.process_time()
        for _ in range(2):
            for article, _, fp in cases:
                published = article.published if article.relevant else None
                judge_ms.append(timed(lambda article=article, fp=fp, published=published: judge(
                    connection, f"https://x.example.vn/{article.n}.html", fp, article.text, published)))
        cpu = (time.process_time() - cpu_began) * 1000 / len(judge_ms)
    band, window, checks = (list(column) for column in zip(*figures, strict=True))
    print(f"lookup: {stored:>9,} stored articles, {len(cases)} lookups: band candidates mean "
          f"{statistics.fmean(band):.1f} (max {max(band)}), date-window candidates mean "
          f"{statistics.fmean(window):.1f} (max {max(window)}), exact containment checks "
          f"{statistics.fmean(checks):.3f} a lookup")
    print(f"        fingerprint mean {statistics.fmean(fingerprint_ms):.3f} ms; judge mean "
          f"{statistics.fmean(judge_ms):.3f} ms, median {statistics.median(judge_ms):.3f} ms, "
          f"p95 {sorted(judge_ms)[int(len(judge_ms) * 0.95)]:.3f} ms, CPU mean {cpu:.3f} ms")
    for kind, counts in outcomes.items():
        print(f"        {kind} ({counts.total()}): " + ", ".join(f"{label} {n}" for label, n in counts.most_common()))


def bench_lookup(directory: Path, sizes: list[int]) -> None:
    database = fresh_database(directory)
    path = directory / "bench.db"
    print(corpus.calibration(200))
    stored = 0
    with Pool(2) as pool:
        for size in sizes:
            start = time.perf_counter()
            bulk_load(path, range(stored // CHUNK, size // CHUNK), pool)
            stored = size
            database.dispose()
            print(f"lookup: built {size:,} stored articles ({PER_DAY} a day over {size // PER_DAY} days) in "
                  f"{time.perf_counter() - start:.0f} s, database {path.stat().st_size / 2**20:,.0f} MiB")
            measure_lookups(database, size)
    database.dispose()


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(directory: Path, count: int) -> None:
    database = fresh_database(directory)
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
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    for name, run in (
        ("pipeline", lambda d: bench_pipeline(d, args.articles, args.url)),
        ("lookup", lambda d: bench_lookup(d, sizes)),
        ("memory", lambda d: bench_memory(d, args.articles * 2)),
    ):
        if args.only in (None, name):
            with tempfile.TemporaryDirectory() as directory:
                run(Path(directory))


if __name__ == "__main__":
    main()
