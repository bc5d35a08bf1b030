"""The item pipeline outside Scrapy: the same stage classes, in the same order, as a crawl.

``qpan extract`` runs clean -> relevance (no database); the seed loader runs the whole chain
clean -> relevance -> dedup -> store, so a seed is cleaned, scored, fingerprinted and stored
exactly like a crawled article and crawled republications find it as their original.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from qpan.config import Config
from qpan.pipelines.relevance import ThemeProfile
from qpan.pipelines.stages.clean import CleanStage
from qpan.pipelines.stages.relevance import RelevanceStage
from qpan.stats import MemoryStats

if TYPE_CHECKING:
    from qpan.storage.batch import ArticleBatch
    from qpan.storage.db import Database


class Chain:
    """Runs items through the stages; a context manager that writes what is waiting on exit.

    ``process`` raises ``pipelines.drops.Dropped`` like the stages do. With a database, stored
    rows may lag behind ``process`` until the batch fills or the chain is closed.
    """

    def __init__(self, config: Config, database: Database | None = None, run_id: int | None = None) -> None:
        self.stats = MemoryStats()
        self.batch: ArticleBatch | None = None
        clean = CleanStage(max_text_chars=config.crawl.max_text_chars, stats=self.stats)
        relevance = RelevanceStage(ThemeProfile.load(config.topic), self.stats)
        # (name, step): the stages' synchronous entry points, run inline on this thread
        self.steps: list[tuple[str, Callable[[Any], Any]]] = [
            ("clean", clean.process_item), ("relevance", relevance.process_item)
        ]
        if database is not None:
            # Imported here: dedup and the store pull in numpy and SQLAlchemy, which
            # `qpan extract` (clean and relevance only) does not need.
            from qpan.pipelines.stages.dedup import DedupStage
            from qpan.pipelines.stages.fingerprint import FingerprintStage
            from qpan.pipelines.stages.store import StoreStage
            from qpan.storage.batch import ArticleBatch

            self.batch = ArticleBatch(database, run_id=run_id, stats=self.stats)
            dedup, store = DedupStage(database, self.batch, self.stats), StoreStage(self.batch)
            fingerprint = FingerprintStage()
            self.steps += [
                ("fingerprint", fingerprint.process_item), ("dedup", dedup.process), ("store", store.process)
            ]

    def process(self, item: Any) -> Any:
        for _, step in self.steps:
            item = step(item)
        return item

    @property
    def inserted(self) -> int:
        """Rows inserted (not updated) by this chain so far."""
        return self.batch.inserted if self.batch is not None else 0

    def close(self) -> None:
        if self.batch is not None:
            self.batch.flush()

    def __enter__(self) -> Chain:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
