"""The crawl's database work is off the reactor: downloads go on while another connection holds
SQLite's write lock, and dedup verdicts keep the order of the items.

The crawl is plain ``scrapy crawl news`` with qpan's settings and a store batch of one article,
so every article is a write that must wait for the lock. Before the database threads, that wait
ran on the reactor thread and froze every download for up to the 30 s busy timeout.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import write_config
from test_crawler_e2e import STORED, article_paths, requested_paths, stored_articles

from qpan.demo import LocalWeb
from qpan.storage.db import Database
from qpan.storage.models import CrawlRun

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
COPY = {  # one text published twice on one site: the second copy must be the first's duplicate
    "title": "Hải Phòng: Công an và Bộ Chỉ huy Quân sự thành phố ký kết quy chế phối hợp",
    "summary": "Công an thành phố và Bộ Chỉ huy Quân sự thành phố Hải Phòng ký quy chế phối hợp mới.",
    "paragraphs": [
        "Sáng nay, Công an thành phố và Bộ Chỉ huy Quân sự thành phố Hải Phòng tổ chức hội nghị ký kết quy chế "
        "phối hợp thực hiện Nghị định số 03/2019/NĐ-CP của Chính phủ trong tình hình mới.",
        "Theo quy chế, hai lực lượng phối hợp trao đổi thông tin, tuần tra kiểm soát khu vực cảng biển, "
        "bảo vệ an toàn các mục tiêu trọng điểm, diễn tập phòng thủ và tìm kiếm cứu nạn trên biển.",
        "Phát biểu tại hội nghị, lãnh đạo hai đơn vị nhấn mạnh tinh thần đoàn kết, gắn bó giữa lực lượng "
        "Quân đội nhân dân và Công an nhân dân trên địa bàn thành phố cảng.",
    ],
    "published": "-0d",
    "in": ["rss"],
}
COPY_IDS = (160, 161)
DEADLINE = 20.0  # below the crawl's 30 s busy timeout: a frozen reactor cannot catch up in time


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def new_run(database_url: str) -> int:
    database = Database(database_url)
    with database.session() as session:
        run = CrawlRun(trigger="test", pid=os.getpid(), status="running")
        session.add(run)
        session.flush()
        run_id = run.id
    database.dispose()
    return run_id


def test_downloads_go_on_while_another_connection_holds_the_write_lock(
    tmp_path: Path, fixture_web: LocalWeb, initialised_database: Path
) -> None:
    config = write_config(tmp_path, fixture_web)
    shutil.copyfile(initialised_database, tmp_path / "qpan.db")
    for article_id in COPY_IDS:
        fixture_web.add_article("tinbiengioi", {**COPY, "id": article_id})
        # the copies come after other articles, whose write is then waiting for the lock
        path = fixture_web.article_url("tinbiengioi", article_id)[len(fixture_web.url("tinbiengioi")) :]
        fixture_web.set_route("tinbiengioi", path, delay=1.0)
    database_path = tmp_path / "qpan.db"
    run_id = new_run(f"sqlite:///{database_path}")  # so the crawl writes nothing before its first article
    expected = {site: article_paths(fixture_web, site, ids) for site, ids in STORED.items()}

    lock = sqlite3.connect(database_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    # Scrapy finds the project by SCRAPY_SETTINGS_MODULE (as scrapy.cfg would name it), run outside the
    # checkout so that its qpan/ folder cannot shadow an installed qpan.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QPAN_")},
        "QPAN_CONFIG": str(config),
        "SCRAPY_SETTINGS_MODULE": "qpan.crawler.settings",
    }
    crawl = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "crawl", "news",
         "-s", "QPAN_STORE_BATCH_SIZE=1", "-s", f"QPAN_RUN_ID={run_id}", "-s", "LOG_LEVEL=ERROR"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        all_fetched = wait_until(
            lambda: all(expected[site] <= requested_paths(fixture_web, site) for site in expected), DEADLINE
        )
        stored_during_lock = len(stored_articles(config))
    finally:
        lock.rollback()
        lock.close()
        _, errors = crawl.communicate(timeout=120)

    assert all_fetched, "article downloads stopped while another connection held the write lock"
    assert stored_during_lock == 0
    assert crawl.returncode == 0, errors[-2000:]
    stored = stored_articles(config)
    for site in expected:
        assert {a.url for a in stored if a.source == site} >= {fixture_web.url(site) + p for p in expected[site]}
    first, second = sorted(
        (a for a in stored if a.url in {fixture_web.article_url("tinbiengioi", n) for n in COPY_IDS}),
        key=lambda article: article.id,
    )
    assert (first.duplicate_of_id, second.duplicate_of_id) == (None, first.id)
