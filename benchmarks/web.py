"""Server time of the web view's article list and overview at 100,000 stored articles (SQLite).

Builds a throw-away database with the same synthetic articles as ``benchmarks/search.py`` (a
third relevant, 20 sources, all within the last year: the overview's chart groups every one),
adds 50 crawl runs of 20 sources, 2,000 alert deliveries and 500 triage verdicts, then requests
each page repeatedly in-process and reads the app's own ``Server-Timing`` header (query and
template rendering, no network). Prints the median and 95th percentile per page; the target is
under 100 ms each. Takes about a minute and a half on a 2-core machine.

    python benchmarks/web.py [--articles 100000] [--repeat 30]

Last figures (2-core machine shared with other work, load average 6-9, 100,000 articles), median / p95:
overview 38.5 / 72.8 ms, the first overview after a crawl stored 132.3 / 279.1 ms, article list
7.3 / 18.1 ms, all 8.9 / 22.9, search 41.6 / 79.2, one source without duplicates 21.6 / 40.8,
two weeks 6.8 / 28.9, page 20 14.5 / 54.1, article 8.5 / 22.3, /api/articles 15.1 / 23.1.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from search import build as build_articles  # benchmarks/search.py: the 100,000 synthetic articles
from sqlalchemy import insert, select, update

from qpan.config import config_from_dict
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import AlertDelivery, Article, CrawlRun, RunSource, Triage
from qpan.web.app import create_app

PAGES = {
    "overview, first view after a crawl stored": "/",  # an article re-stored before each: totals recomputed
    "overview": "/",
    "article list": "/articles",
    "article list, all": "/articles?relevance=all",
    "article list, search": "/articles?q=nghi+dinh+03&relevance=all",
    "article list, source, no duplicates": "/articles?source=s7&duplicates=hide",
    "article list, 2 weeks": "/articles?since={since}&until={until}",
    "article list, page 20": "/articles?after={after}",
    "article": "/articles/{article}",
    "api/articles": "/api/articles",
}


def build_rest(database: Database, articles: int, rng: random.Random) -> None:
    """Runs, alert deliveries and verdicts beside the articles, as a year of crawling leaves them."""
    now = datetime.now(UTC)
    with database.engine.begin() as connection:
        runs = [{"id": n + 1, "started_at": now - timedelta(hours=50 - n), "finished_at": now - timedelta(hours=50 - n),
                 "status": "ok", "trigger": "scheduler"} for n in range(50)]
        connection.execute(insert(CrawlRun), runs)
        connection.execute(insert(RunSource), [
            {"run_id": run["id"], "source": f"s{s}", "fetched": rng.randint(0, 50), "extracted": 5, "relevant": 2,
             "new": rng.randint(0, 9), "duplicates": 1, "errors": rng.randint(0, 2), "dropped": {},
             "reached": rng.random() > 0.05} for run in runs for s in range(20)
        ])
        connection.execute(insert(AlertDelivery), [
            {"kind": "article", "dedup_key": f"article:{n * 3 + 1}", "article_id": n * 3 + 1, "channel": "c0ffee",
             "payload": {}, "status": "failed" if n % 50 == 0 else "sent", "attempts": 1, "created_at": now}
            for n in range(2000)
        ])
        connection.execute(insert(Triage), [
            {"article_id": rng.randrange(1, articles, 3), "verdict": rng.choice(("relevant", "not_relevant", "read")),
             "created_at": now} for _ in range(500)
        ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(database)
        started = time.perf_counter()
        rng = random.Random(3)
        build_articles(database, args.articles, rng)
        build_rest(database, args.articles, rng)
        with database.session() as session:
            page_start = session.scalars(
                select(Article.id).where(Article.relevant.is_(True)).order_by(Article.id).offset(20 * 50).limit(1)
            ).one()
        print(f"built {args.articles:,} articles, 50 runs, 2,000 alerts, 500 verdicts in "
              f"{time.perf_counter() - started:.1f} s")
        today = datetime.now(UTC).date()
        values = {"since": today - timedelta(days=28), "until": today - timedelta(days=14), "after": page_start,
                  "article": page_start}
        config = config_from_dict({})
        client = TestClient(create_app(config, database))
        for name, template in PAGES.items():
            path = template.format(**values)
            timings = []
            for _ in range(args.repeat):
                if name.startswith("overview, first"):
                    with database.engine.begin() as connection:
                        connection.execute(update(Article).where(Article.id == 1).values(fetched_at=datetime.now(UTC)))
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                timings.append(float(response.headers["server-timing"].split("dur=")[1]))
            timings.sort()
            p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
            size = len(response.content)
            print(f"{name:42} median {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  ({size:,} bytes)")
        database.dispose()


if __name__ == "__main__":
    main()
