"""Database state for alert and scheduler tests: a migrated store, runs, articles, the job store."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from qpan.config import Config, config_from_dict
from qpan.scheduler.service import JOBS_TABLE
from qpan.storage.db import Database, make_engine
from qpan.storage.migrate import upgrade
from qpan.storage.models import AlertDelivery, Article, CrawlRun, RunSource
from support.store import insert_article

T = TypeVar("T")

VIETNAMESE_TITLES = [
    "Hội nghị giao ban thực hiện Nghị định 03/2019/NĐ-CP giữa Bộ Công an và Bộ Quốc phòng",
    "Bắc Kạn: Công an tỉnh và Bộ Chỉ huy Quân sự tỉnh ký kết quy chế phối hợp",
    "Hậu Giang tổng kết 5 năm phối hợp giữa lực lượng Công an và Quân sự",
]


def migrated_database(directory: Path) -> Database:
    database = Database(f"sqlite:///{directory / 'qpan.db'}")
    upgrade(database)
    return database


def alert_config(urls: list[str], **alerts: Any) -> Config:
    return config_from_dict({"alerts": {"urls": urls, **alerts}})


def new_run(database: Database, figures: dict[str, dict[str, Any]] | None = None) -> int:
    """A finished crawl run with per-source figures (``{"source": {"reached": True, ...}}``)."""
    with database.session() as session:
        run = CrawlRun(status="ok", trigger="test")
        run.sources = [RunSource(source=name, **values) for name, values in (figures or {}).items()]
        session.add(run)
        session.flush()
        return run.id


def store_relevant(database: Database, run_id: int | None, titles: list[str], **fields: Any) -> list[int]:
    """Articles as the store stage leaves them: relevant, not duplicates, not yet alerted."""
    return [
        insert_article(
            database,
            title=title,
            text=f"{title}. Nội dung bài viết về phối hợp giữa hai Bộ.",
            source=fields.get("source", "baobackan"),
            url=f"https://baobackan.example.vn/{hashlib.sha1(title.encode()).hexdigest()[:12]}.html",
            published="2025-01-16T08:00:00+07:00",
            relevance=0.9 - index * 0.1,
            relevant=True,
            run_id=run_id,
            **{k: v for k, v in fields.items() if k != "source"},
        )
        for index, title in enumerate(titles)
    ]


def deliveries(database: Database) -> list[AlertDelivery]:
    with database.session() as session:
        return list(session.query(AlertDelivery).order_by(AlertDelivery.id))


def alertable_titles(database: Database) -> list[str]:
    """Titles of the stored articles an alert must announce: relevant, not duplicates."""
    with database.session() as session:
        query = select(Article.title).where(Article.relevant.is_(True), Article.duplicate_of_id.is_(None))
        return list(session.scalars(query))


def wait_for(condition: Callable[[], T], seconds: float, what: str) -> T:
    """Poll until ``condition`` is truthy; the deadline only bounds how long a bug can hang a test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@contextmanager
def paused_scheduler(database: Database) -> Iterator[BackgroundScheduler]:
    """The service's job store on a scheduler that never fires: what a (re)start sees."""
    store = SQLAlchemyJobStore(engine=make_engine(database.url), tablename=JOBS_TABLE)
    scheduler = BackgroundScheduler(jobstores={"default": store})
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
