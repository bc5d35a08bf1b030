"""Loading ``seeds/`` into the database as the dedup baseline (``qpan init``).

Each seed named in ``seeds/manifest.toml`` goes through the same chain as a crawled article
(clean -> relevance -> dedup -> store) with source ``seeds`` and its ``seed_name``, so it gets
a cleaned text, a relevance score and dedup bands, and a crawled republication of it becomes
its duplicate. Seeds already stored are skipped, so loading twice adds nothing.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from sqlalchemy import select

from qpan.config import Config
from qpan.items import ArticleItem
from qpan.pipelines.chain import Chain
from qpan.pipelines.drops import Dropped
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article, utcnow

logger = logging.getLogger(__name__)


def seed_directory() -> Traversable:
    return files("qpan.seeds")


def manifest_entries(directory: Traversable | None = None) -> list[dict[str, Any]]:
    directory = directory or seed_directory()
    manifest = tomllib.loads(directory.joinpath("manifest.toml").read_text(encoding="utf-8"))
    return list(manifest.get("seed", []))


def seed_item(entry: dict[str, Any], text: str) -> ArticleItem:
    """A seed as the clean stage expects a plain-text article (``raw_text``, no ``body_html``)."""
    url = entry.get("url") or f"seed:{entry['name']}"
    published = entry.get("published")
    return ArticleItem(
        url=url,
        canonical_url=url,
        source=SEED_SOURCE,
        seed_name=entry["name"],
        title=entry.get("title") or "",
        published=datetime.fromisoformat(published) if published else None,
        raw_text=text,
        methods={"seed": "seeds/manifest.toml"},
        fetched_at=utcnow(),
    )


def load_seeds(database: Database, config: Config, directory: Traversable | None = None) -> int:
    """Store the seeds not stored yet; returns how many were added."""
    directory = directory or seed_directory()
    entries = manifest_entries(directory)
    with database.session() as session:
        stored = set(session.scalars(select(Article.seed_name).where(Article.seed_name.is_not(None))))
    with Chain(config, database) as chain:
        for entry in entries:
            if entry["name"] in stored:
                continue
            text = directory.joinpath(entry["file"]).read_text(encoding="utf-8")
            try:
                chain.process(seed_item(entry, text))
            except Dropped as drop:
                logger.warning("seed %s not loaded: %s", entry["name"], drop)
    return chain.inserted
