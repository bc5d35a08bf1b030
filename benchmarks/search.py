"""Full-text search latency of ``qpan articles --search`` at 100,000 stored articles.

Builds a throw-away SQLite database (or uses ``--url`` for PostgreSQL) with N synthetic
Vietnamese articles, then times the same query the CLI runs, for rare and common terms.
Prints the median and worst of repeated runs per query. Takes about a minute for 100,000.

    python benchmarks/search.py [--articles 100000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from qpan.pipelines.normalize import search_document
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import Article
from qpan.storage.queries import ArticleFilter, list_articles

WORDS = [
    "Bộ",
    "Công",
    "an",
    "Quốc",
    "phòng",
    "phối",
    "hợp",
    "giao",
    "ban",
    "Nghị",
    "định",
    "hội",
    "nghị",
    "tỉnh",
    "huyện",
    "lực",
    "lượng",
    "Quân",
    "sự",
    "Biên",
    "phòng",
    "an",
    "ninh",
    "trật",
    "tự",
    "xã",
    "hội",
    "tội",
    "phạm",
    "ma",
    "túy",
    "tuần",
    "tra",
    "kiểm",
    "soát",
    "biên",
    "giới",
    "kinh",
    "tế",
    "văn",
    "hóa",
    "giáo",
    "dục",
    "y",
    "tế",
    "thể",
    "thao",
    "bóng",
    "đá",
    "giá",
    "vàng",
    "chứng",
    "khoán",
    "thời",
    "tiết",
    "mưa",
    "bão",
    "nông",
    "nghiệp",
    "du",
    "lịch",
    "lễ",
    "hội",
    "giao",
    "thông",
    "đường",
    "bộ",
]
QUERIES = ["nghi dinh 03", "Nghị định 03/2019/NĐ-CP", "bien phong", "giá vàng", "công an", "tàu ngầm hạt nhân"]


def build(database: Database, count: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    batch = 5000
    with database.engine.begin() as connection:
        for start in range(0, count, batch):
            rows, docs = [], []
            for n in range(start, min(start + batch, count)):
                words = rng.choices(WORDS, k=rng.randint(150, 400))
                if n % 97 == 0:
                    words += ["Nghị", "định", "03/2019/NĐ-CP"]
                title = " ".join(rng.choices(WORDS, k=10))
                body = " ".join(words)
                rows.append(
                    {
                        "id": n + 1,
                        "url": f"https://bench.vn/{n}.html",
                        "canonical_url": f"https://bench.vn/{n}.html",
                        "source": f"s{n % 20}",
                        "title": title,
                        "text": body,
                        "raw_text": body,
                        "content_hash": f"{n:064d}",
                        "relevance": rng.random(),
                        "relevant": n % 3 == 0,
                        "matched_terms": {},
                        "methods": {},
                        "truncated": False,
                        "published": now - timedelta(minutes=n),
                        "fetched_at": now,
                    }
                )
                docs.append({"id": n + 1, "body": search_document(title, body)})
            connection.execute(insert(Article), rows)
            key = "rowid" if database.dialect == "sqlite" else "article_id"
            connection.execute(text(f"INSERT INTO article_search ({key}, body) VALUES (:id, :body)"), docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(args.url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(database)
        started = time.perf_counter()
        build(database, args.articles, random.Random(3))
        print(f"built {args.articles:,} articles on {database.dialect} in {time.perf_counter() - started:.1f} s")
        for query in QUERIES:
            timings, found = [], 0
            for _ in range(args.repeat):
                flt = ArticleFilter(include_irrelevant=True, search=query, limit=50)
                t0 = time.perf_counter()
                with database.session() as session:
                    found = len(list_articles(session, flt))
                timings.append((time.perf_counter() - t0) * 1000)
            print(
                f"search {query!r:32} median {statistics.median(timings):6.1f} ms"
                f"  worst {max(timings):6.1f} ms  ({found} shown)"
            )
        database.dispose()


if __name__ == "__main__":
    main()
