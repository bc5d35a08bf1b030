"""Item pipeline figures: time per article, near-duplicate lookup at scale, memory while storing.

1. ``pipeline``: clean + relevance + dedup + store (the offline chain ``qpan init`` uses, same
   stage classes as a crawl) on N distinct synthetic articles: body HTML with share bars and
   related-article boxes around sentences drawn from the seeds, into a SQLite file holding
   the seeds. Prints the median per article (the target is < 5 ms) and the mean, which also
   carries the batch commits.
2. ``lookup``: the dedup stage's whole database verdict (``judge``: canonical URL, content
   hash, LSH band query and same-story date window in one statement, then the signature
   check) at 100,000 and at 1,000,000 stored articles. Synthetic article rows and 32 band
   rows each are inserted in bulk with ``executemany`` (the band index is rebuilt after the
   bulk insert, as a bulk load would); the seeds are real. Lookups are republications of the
   seeds (found) and fresh texts (not found). Prints the medians and their difference (target < 30%).
3. ``memory``: RSS of this process after storing a first batch of articles and after storing
   many more; the store keeps at most one batch in memory, so it should not grow.

    python benchmarks/pipeline.py [--articles 2000] [--sizes 100000,1000000] [--only pipeline|lookup|memory]

Run time on this machine (2 cores, shared with other work): about 5 min in all — pipeline
(2000 articles) about 25 s, lookup about 4 min (the bulk insert of 32 million band rows for
1,000,000 articles takes 197 s of it), memory (4500 articles) about 1 min.
Last run (others' benchmarks and tests were running too; medians moved by up to 40% between
runs): pipeline median 4.95 ms / mean 7.36 ms per article (clean 1.77, relevance 0.75, dedup
2.26 median; commit 33d71f4, before this round of speed work, gave 7.84 / 13.28 ms with
dedup 4.93 in the same minute); lookup median 0.85 ms at 100,000 and 0.69 ms at 1,000,000
(-19%: no growth, the spread is noise); RSS 167.4 MiB after 500 and 169.3 MiB after 4500
stored articles.
Three later `--only pipeline` runs on an otherwise idle machine: median 3.38, 5.09 and 2.97 ms
(mean 5.39, 7.61, 4.89; by stage clean 1.26-1.78, relevance 0.56-0.76, dedup 1.47-2.39).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from qpan.config import Config
from qpan.items import ArticleItem
from qpan.pipelines.chain import Chain
from qpan.pipelines.dedup import fingerprint
from qpan.pipelines.seeding import load_seeds, manifest_entries, seed_directory
from qpan.pipelines.stages.dedup import judge
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade

BANDS = 32
CHUNK = 20_000  # articles per executemany round in the bulk load
FIRST_SYNTHETIC_ID = 1000  # ids below are left to the seeds
SYNTHETIC_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)  # synthetic articles: one every 3 minutes from here


def seed_sentences() -> list[str]:
    sentences = []
    for entry in manifest_entries():
        text = seed_directory().joinpath(entry["file"]).read_text(encoding="utf-8")
        sentences += [part.strip() + "." for part in text.replace("\n", " ").split(". ") if len(part) > 40]
    return sentences


def synthetic_item(rng: random.Random, sentences: list[str], n: int) -> ArticleItem:
    """A distinct article in the seeds' language: 24 sentences, every eighth a real seed sentence
    (so the theme terms occur), the others random runs of seed words; in paragraphs, wrapped in
    site chrome. Like real crawls, articles share formulaic sentences but are not alike."""
    vocabulary = _vocabulary(tuple(sentences))
    chosen = [
        rng.choice(sentences) if k % 8 == 0 else " ".join(rng.choices(vocabulary, k=rng.randint(12, 25))) + "."
        for k in range(24)
    ]
    paragraphs = "".join(f"<p>{' '.join(chosen[i : i + 3])}</p>" for i in range(0, 24, 3))
    html = (
        '<div class="share-bar"><a href="#">Chia sẻ</a> <a href="#">Facebook</a></div>'
        f"<h1>Tin số {n}</h1>{paragraphs}<p>Bình luận (0)</p>"
        '<div class="related"><h3>Tin liên quan</h3><ul><li><a href="/a">Bài khác</a></li></ul></div>'
    )
    url = f"https://bao.example.vn/tin-{n}.html"
    published = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    return ArticleItem(url=url, canonical_url=url, source="bench", title=f"Tin số {n}", body_html=html,
                       published=published, fetched_at=datetime.now(UTC))


@lru_cache(maxsize=1)
def _vocabulary(sentences: tuple[str, ...]) -> list[str]:
    return sorted({word for sentence in sentences for word in sentence.split()})


def fresh_database(directory: Path) -> Database:
    database = Database(f"sqlite:///{directory / 'bench.db'}")
    upgrade(database)
    load_seeds(database, Config())
    return database


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def bench_pipeline(directory: Path, count: int) -> None:
    database = fresh_database(directory)
    rng = random.Random(1)
    sentences = seed_sentences()
    items = [synthetic_item(rng, sentences, n) for n in range(count)]
    stage_times: dict[str, list[float]] = {}
    totals = []
    with Chain(Config(), database) as chain:
        for item in items[:50]:  # warm-up: imports, caches, statement cache
            chain.process(item)
        for item in items[50:]:
            total = 0.0
            for name, step in chain.steps:
                start = time.perf_counter()
                item = step(item)
                elapsed = (time.perf_counter() - start) * 1000
                stage_times.setdefault(name, []).append(elapsed)
                total += elapsed
            totals.append(total)
        totals.append(timed(chain.close))
    print(f"pipeline: {len(totals) - 1} articles, clean+relevance+dedup+store per article: "
          f"median {statistics.median(totals):.2f} ms, mean {statistics.fmean(totals):.2f} ms "
          f"(the mean carries the batch commits), p95 {sorted(totals)[int(len(totals) * 0.95)]:.2f} ms")
    print("          by stage (median / mean ms): " + ", ".join(
        f"{name} {statistics.median(times):.2f} / {statistics.fmean(times):.2f}" for name, times in stage_times.items()
    ))
    print(f"          new={chain.stats.counts['qpan/source/bench/new']} "
          f"duplicates={chain.stats.counts['qpan/source/bench/duplicates']}")
    database.dispose()


def bulk_load(path: Path, start: int, stop: int, rng: random.Random) -> None:
    """Synthetic articles ``start``..``stop`` with 32 random band keys each, via executemany."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("DROP INDEX IF EXISTS ix_dedup_bands_key")
    with connection:
        for first in range(start, stop, CHUNK):
            ids = range(first, min(first + CHUNK, stop))
            connection.executemany(
                "INSERT INTO articles (id, url, canonical_url, source, title, text, raw_text, truncated,"
                " content_hash, relevance, relevant, matched_terms, methods, fetched_at, published)"
                " VALUES (?, ?, ?, 'synthetic', '', '', '', 0, ?, 0, ?, '{}', '{}', ?, ?)",
                [
                    (i, f"https://s.vn/{i}", f"https://s.vn/{i}", f"{rng.getrandbits(256):064x}", i % 20 == 0,
                     _sqlite_time(SYNTHETIC_EPOCH), _sqlite_time(SYNTHETIC_EPOCH + timedelta(minutes=3 * i)))
                    for i in ids
                ],
            )
            connection.executemany(
                "INSERT INTO dedup_bands (article_id, band, key) VALUES (?, ?, ?)",
                [(i, band, rng.getrandbits(64) - 2**63) for i in ids for band in range(BANDS)],
            )
    connection.execute("CREATE INDEX ix_dedup_bands_key ON dedup_bands (band, key)")
    connection.execute("ANALYZE")
    connection.close()


def _sqlite_time(value: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite, so range queries compare correctly."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def lookups(database: Database, repeats: int) -> list[float]:
    rng = random.Random(7)
    sentences = seed_sentences()
    texts = [seed_directory().joinpath(entry["file"]).read_text(encoding="utf-8") for entry in manifest_entries()]
    probes = [("https://x.vn/copy.html", fingerprint("Trang chủ\n\n" + text + "\n\nXem thêm"), None) for text in texts]
    probes += [
        ("https://x.vn/new.html", fingerprint(" ".join(rng.sample(sentences, 24))),
         SYNTHETIC_EPOCH + timedelta(days=60))  # as many articles that week at every size
        for _ in range(5)
    ]
    times = []
    with database.engine.connect() as connection:
        for _ in range(repeats):
            for url, fp, published in probes:
                times.append(timed(lambda url=url, fp=fp, published=published: judge(connection, url, fp, published)))
    return times


def bench_lookup(directory: Path, sizes: list[int]) -> None:
    database = fresh_database(directory)
    path = directory / "bench.db"
    rng = random.Random(3)
    stored = 0
    medians = {}
    for size in sizes:
        start = time.perf_counter()
        bulk_load(path, FIRST_SYNTHETIC_ID + stored, FIRST_SYNTHETIC_ID + size, rng)
        stored = size
        database.dispose()
        lookups(database, 5)  # warm the page cache
        times = lookups(database, 40)
        medians[size] = statistics.median(times)
        print(f"lookup: {size:>9,} stored articles ({BANDS * size:,} band rows, loaded in "
              f"{time.perf_counter() - start:.0f} s): median {medians[size]:.3f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95)]:.3f} ms")
    if len(sizes) >= 2:
        low, high = medians[sizes[0]], medians[sizes[-1]]
        print(f"lookup: {sizes[-1]:,} vs {sizes[0]:,}: {100 * (high - low) / low:+.1f}%")
    database.dispose()


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(directory: Path, count: int) -> None:
    database = fresh_database(directory)
    rng = random.Random(5)
    sentences = seed_sentences()

    def items(first: int, stop: int) -> Iterator[ArticleItem]:
        return (synthetic_item(rng, sentences, n) for n in range(first, stop))

    with Chain(Config(), database) as chain:
        for item in items(0, 500):
            chain.process(item)
        chain.close()
        before = rss_mib()
        for item in items(500, 500 + count):
            chain.process(item)
        chain.close()
        after = rss_mib()
    print(f"memory: RSS {before:.1f} MiB after 500 stored articles, {after:.1f} MiB after {500 + count} "
          f"({after - before:+.1f} MiB)")
    database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--only", choices=["pipeline", "lookup", "memory"])
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    for name, run in (
        ("pipeline", lambda d: bench_pipeline(d, args.articles)),
        ("lookup", lambda d: bench_lookup(d, sizes)),
        ("memory", lambda d: bench_memory(d, args.articles * 2)),
    ):
        if args.only in (None, name):
            with tempfile.TemporaryDirectory() as directory:
                run(Path(directory))


if __name__ == "__main__":
    main()
