"""The web view served for real (uvicorn on a free loopback port, in a thread) and the data it shows."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import uvicorn

from qpan.config import Config
from qpan.storage.db import Database
from qpan.storage.models import AlertDelivery, Article, CrawlRun, RunSource, SourceHealth
from qpan.web.app import create_app
from qpan.web.server import bind
from support.store import insert_article

XSS_TITLE = 'Giao ban <script>window.qpanPwned=1</script> "><img src=x onerror="window.qpanPwned=2"> Nghị định 03'
XSS_TEXT = (
    "Bộ Công an và Bộ Quốc phòng phối hợp thực hiện Nghị định 03/2019/NĐ-CP.\n"
    '<script>window.qpanPwned=3</script> <a href="javascript:window.qpanPwned=4">bấm</a>\n'
    '"><img src=x onerror="window.qpanPwned=5">'
)


@contextmanager
def served(config: Config, database: Database, token: str | None = None) -> Iterator[str]:
    """``qpan serve``'s app on 127.0.0.1 and a free port; yields the base URL."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(config, database, token), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def populate(database: Database) -> dict[str, int]:
    """Articles (relevant, not, a republication, a story in two reports, one full of XSS), two runs,
    source health with an error, and an alert failing: one of everything the pages show."""
    now = datetime.now(UTC)
    ids = {
        "original": insert_article(
            database, title="Giao ban thực hiện Nghị định 03/2019/NĐ-CP tại Bắc Kạn", source="baobackan",
            text="Bộ Chỉ huy Quân sự tỉnh và Công an tỉnh tổ chức giao ban thực hiện Nghị định 03/2019/NĐ-CP.",
            published=(now - timedelta(days=3)).isoformat(), relevance=0.91, relevant=True, cluster=None,
            matched_terms={"Nghị định 03/2019/NĐ-CP": 1, "giao ban": 1, "Công an tỉnh": 1},
        ),
        "irrelevant": insert_article(
            database, title="Công an quận bắt giữ đối tượng trộm cắp", source="vnexpress",
            text="Công an quận Hoàn Kiếm bắt giữ hai đối tượng trộm cắp tài sản.",
            published=(now - timedelta(days=2)).isoformat(), relevance=0.12, relevant=False,
            matched_terms={"Công an": 1},
        ),
        "xss": insert_article(
            database, title=XSS_TITLE, text=XSS_TEXT, source="tinnhanh24", url="javascript:window.qpanPwned=6",
            canonical_url="https://tinnhanh24.example/xss.html", published=(now - timedelta(days=1)).isoformat(),
            relevance=0.8, relevant=True, matched_terms={"Nghị định 03/2019/NĐ-CP": 1, "Bộ Công an": 1},
        ),
    }
    ids["duplicate"] = insert_article(
        database, title="Bắc Kạn: giao ban Nghị định 03 (đăng lại)", source="congthongtintinh",
        text="Bộ Chỉ huy Quân sự tỉnh và Công an tỉnh tổ chức giao ban thực hiện Nghị định 03/2019/NĐ-CP.",
        published=(now - timedelta(days=3, hours=-2)).isoformat(), relevance=0.9, relevant=True,
        duplicate_of_id=ids["original"], cluster=ids["original"], matched_terms={"giao ban": 1},
    )
    ids["same_story"] = insert_article(
        database, title="Hai lực lượng phối hợp bảo vệ biên giới Bắc Kạn", source="bienphong",
        text="Bộ đội Biên phòng và Công an phối hợp tuần tra theo Nghị định 03/2019/NĐ-CP.",
        published=(now - timedelta(days=3, hours=-5)).isoformat(), relevance=0.77, relevant=True,
        cluster=ids["original"], matched_terms={"phối hợp": 1},
    )
    with database.session() as session:
        session.get(Article, ids["original"]).cluster = ids["original"]  # as the store marks a story's first report
        for number, reached in ((1, True), (2, False)):
            run = CrawlRun(started_at=now - timedelta(hours=3 - number), finished_at=now, status="ok" if reached
                           else "partial", trigger="scheduler")
            run.sources = [
                RunSource(source="baobackan", fetched=10 * number, extracted=9, relevant=3, new=2 * number,
                          duplicates=1, errors=0, dropped={}, reached=True),
                RunSource(source="vnexpress", fetched=0, extracted=0, relevant=0, new=0, duplicates=0, errors=1,
                          dropped={}, reached=reached, error_text=None if reached else "DNS lookup failed"),
            ]
            session.add(run)
        session.add(SourceHealth(source="vnexpress", last_run_at=now, last_error="DNS lookup failed",
                                 consecutive_failures=1, discovered={}))
        session.add(AlertDelivery(kind="article", dedup_key=f"article:{ids['original']}", article_id=ids["original"],
                                  channel="c0ffee", payload={"title": "x"}, status="failed", attempts=3,
                                  last_error="connection refused"))
    return ids


HISTORY_SOURCES = ("baobackan", "qdnd", "bienphong", "cand", "baoquangninh")
HISTORY_TITLES = (
    "Giao ban công tác phối hợp theo Nghị định 03/2019/NĐ-CP quý {n}",
    "Công an và Bộ Chỉ huy Quân sự tỉnh ký kết quy chế phối hợp số {n}",
    "Sơ kết {n} năm thực hiện Nghị định 03/2019/NĐ-CP",
    "Tuần tra chung bảo vệ biên giới, đợt {n}",
)


def populate_history(database: Database, weeks: int = 52) -> None:
    """A year of relevant articles and a dozen runs, so the overview's charts have something to draw."""
    rng = random.Random(12)
    now = datetime.now(UTC)
    for n in range(weeks * 2):
        source = rng.choice(HISTORY_SOURCES[: 2 + n % 4])
        insert_article(
            database, title=rng.choice(HISTORY_TITLES).format(n=n % 9 + 1), source=source,
            text="Bộ Công an và Bộ Quốc phòng phối hợp thực hiện Nghị định 03/2019/NĐ-CP.",
            published=(now - timedelta(days=rng.uniform(0, weeks * 7))).isoformat(), relevance=0.6 + n % 4 / 10,
            relevant=True, matched_terms={"Nghị định 03/2019/NĐ-CP": 1, "Bộ Công an": 1},
        )
    with database.session() as session:
        for run in range(12):
            started = now - timedelta(hours=12 - run)
            crawl = CrawlRun(started_at=started, finished_at=started + timedelta(minutes=2), status="ok",
                             trigger="scheduler")
            crawl.sources = [
                RunSource(source=source, fetched=rng.randint(5, 40), extracted=5, relevant=2,
                          new=rng.randint(0, 6), duplicates=1, errors=int(source == "cand" and run > 8),
                          dropped={}, reached=not (source == "cand" and run > 8),
                          error_text="HTTP 503 on the RSS feed" if source == "cand" and run > 8 else None)
                for source in HISTORY_SOURCES
            ]
            session.add(crawl)
