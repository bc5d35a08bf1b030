"""``qpan demo``: the whole job, offline, on the bundled local news web.

Everything goes through the code a real deployment runs: the database is created by the
same migration and seed loader as ``qpan init``, each crawl is a real ``qpan crawl`` child
process (with its alert dispatch), and the digest shown is what an Apprise ``json://``
channel delivered over HTTP to a local sink. Only the sites are local.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.rule import Rule
from sqlalchemy import select

from qpan.config import load_config
from qpan.demo import DEMO_SITES, LocalWeb
from qpan.demo.config import write_config
from qpan.demo.sink import AlertSink
from qpan.errors import UserError
from qpan.output import emit
from qpan.pipelines.seeding import load_seeds
from qpan.readmodel import article_json, duplicate_label
from qpan.storage.db import Database
from qpan.storage.migrate import upgrade
from qpan.storage.models import Article, CrawlRun


class DemoTargetError(UserError):
    exit_code = 2


def demo_config_path(db: Path) -> Path:
    """The demo's own config beside ``--db FILE``: ``FILE.qpan.toml``, never the folder's ``qpan.toml``.

    ``--db`` often points into a project folder; its ``qpan.toml`` is the user's and must
    survive the demo untouched.
    """
    return db.with_name(f"{db.name}.qpan.toml")


def _check_target(db: Path) -> None:
    """Refuse, before anything is written, a ``--db`` the demo could not use without harm."""
    if not db.parent.is_dir():
        raise DemoTargetError(f"--db {db}: directory {db.parent} does not exist")
    for path in (db, demo_config_path(db)):
        if path.exists():
            raise DemoTargetError(f"--db {db}: {path} already exists: the demo writes only fresh files")


@contextmanager
def _workdir(db: Path | None, keep: bool) -> Iterator[Path]:
    if db is not None:
        _check_target(db)
        yield db.parent
    elif keep:
        yield Path(tempfile.mkdtemp(prefix="qpan-demo-"))
    else:
        with tempfile.TemporaryDirectory(prefix="qpan-demo-") as tmp:
            yield Path(tmp)


def _article_paths(web: LocalWeb) -> dict[str, set[str]]:
    return {site: {article.path for article in web.articles(site)} for site in web.sites}


def _article_fetches(web: LocalWeb, paths: dict[str, set[str]]) -> int:
    return sum(
        1 for site in web.sites for record in web.requests(site) if record.path.split("?")[0] in paths[site]
    )


def _crawl(config_path: Path, console: Console) -> int:
    """One real ``qpan crawl`` run in a child process, as the scheduler would start it."""
    command = [sys.executable, "-P", "-m", "qpan", "--config", str(config_path), "crawl", "--quiet"]
    env = {**os.environ, "QPAN_CONFIG": str(config_path)}
    env.pop("QPAN_DATABASE_URL", None)
    console.print(f"$ qpan --config {config_path} crawl", style="dim")
    sys.stdout.flush()
    return subprocess.run(command, env=env, check=False).returncode


def _new_relevant(database: Database, run_ids: set[int]) -> list[dict[str, Any]]:
    with database.session() as session:
        query = (
            select(Article)
            .where(Article.run_id.in_(run_ids), Article.relevant.is_(True), Article.duplicate_of_id.is_(None))
            .order_by(Article.id)
        )
        return [article_json(a, with_text=False) for a in session.scalars(query).unique()]


def _duplicates(database: Database) -> list[dict[str, Any]]:
    with database.session() as session:
        query = select(Article).where(Article.duplicate_of_id.is_not(None)).order_by(Article.id)
        rows = []
        for article in session.scalars(query).unique():
            target = article.duplicate_of
            rows.append(
                {
                    "id": article.id,
                    "source": article.source,
                    "title": article.title,
                    "duplicate_of": duplicate_label(article),
                    "original": f"[{target.source}] {target.title}" if target else "",
                }
            )
        return rows


def _run_ids(database: Database) -> set[int]:
    with database.session() as session:
        return set(session.scalars(select(CrawlRun.id)))


def run_demo(db: Path | None, keep: bool, console: Console) -> int:
    started = time.monotonic()
    with _workdir(db, keep) as workdir, LocalWeb.from_directory(DEMO_SITES) as web, AlertSink() as sink:
        db_path = db or workdir / "qpan-demo.db"
        url = f"sqlite:///{db_path}"
        config_file = demo_config_path(db) if db is not None else workdir / "qpan.toml"
        config_path = write_config(config_file, web, url, alerts={"urls": [sink.apprise_url]})
        console.print(Rule("qpan demo: a local news web of 4 sites on 127.0.0.1"))
        for site in web.sites:
            console.print(f"  {site:20} {web.url(site)}  ({len(web.articles(site))} articles)")
        database = Database(url)
        upgrade(database)
        seeds = load_seeds(database, load_config(config_path))
        console.print(f"database {db_path}: schema created, {seeds} seed articles loaded as the dedup baseline")

        paths = _article_paths(web)
        console.print(Rule("first crawl"))
        first_code = _crawl(config_path, console)
        first_runs = _run_ids(database)
        fetched_first = _article_fetches(web, paths)
        console.print(f"article pages fetched: {fetched_first}")

        new = _new_relevant(database, first_runs)
        console.print(Rule(f"{len(new)} new relevant articles"))
        for row in new:
            row["published"] = (row["published"] or "")[:16].replace("T", " ")
        emit(new, ["id", "source", "published", "relevance", "title"], "table")
        duplicates = _duplicates(database)
        console.print(Rule(f"{len(duplicates)} recognised as republications (not alerted)"))
        emit(duplicates, ["id", "source", "title", "duplicate_of", "original"], "table")

        console.print(Rule("alert digest, as the json:// channel received it"))
        received = sink.received()
        for message in received:
            console.print(f"[bold]{message.get('title', '')}[/bold]")
            console.print(message.get("message", message.get("raw", "")), markup=False)
        if not received:
            console.print("(no alert received)")

        console.print(Rule("second crawl: nothing has changed on the sites"))
        web.clear_requests()
        second_code = _crawl(config_path, console)
        second_runs = _run_ids(database) - first_runs
        fetched_second = _article_fetches(web, paths)
        new_second = _new_relevant(database, second_runs)
        alerts_second = len(sink.received()) - len(received)
        console.print(
            f"second crawl: {len(new_second)} new articles, {fetched_second} article pages fetched again, "
            f"{alerts_second} alerts sent"
        )
        database.dispose()
        console.print(Rule(f"done in {time.monotonic() - started:.1f} s"))
        if keep or db is not None:
            console.print(
                f"The database is kept: try\n  qpan --config {config_path} articles\n"
                f"  qpan --config {config_path} show {new[0]['id'] if new else 1}\n"
                f"  qpan --config {config_path} runs\n"
                f"  qpan --config {config_path} serve    (the web view: http://127.0.0.1:8765/)"
            )
        else:
            console.print("The demo database was temporary; run `qpan demo --keep` to explore it afterwards.")
    return 0 if first_code == 0 and second_code == 0 else 1
