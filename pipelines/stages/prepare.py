"""Prepare stage: clean → relevance → fingerprint, the stages that need nothing but the item,
run as one job in the crawl's page workers (``qpan/workers.py``), and the search index's words
(the store's pure part).

One job, not one per stage: each trip to a worker costs the crawl process about 0.2 ms (the
item pickled both ways), a third of what the three stages cost together. The worker runs the
very stage classes the seed loader runs inline (``pipelines/chain.py``), and sends back only
the fields they set and the figures they counted; the crawl process applies the figures to
Scrapy's stats and raises the drop the clean stage decided, so a crawl counts as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from scrapy.crawler import Crawler

from qpan import defaults
from qpan.pipelines.drops import Dropped
from qpan.stats import MemoryStats, Stats
from qpan.workers import PageWorkers, crawler_page_workers

#: The job, named for the page worker that imports it (the crawl process needs none of the stages).
PREPARE = "qpan.pipelines.stages.prepare.prepare"
WARM = "qpan.pipelines.stages.prepare.warm"

#: The fields clean, relevance and fingerprint set: all that comes back from a worker.
PREPARED_FIELDS = (
    "raw_text", "text", "truncated",
    "relevance", "relevant", "matched_terms", "explanation",
    "content_hash", "minhash", "band_keys", "search_document",
)


@dataclass(frozen=True)
class Prepared:
    fields: dict[str, Any]
    counts: dict[str, int]
    dropped: tuple[str, str] | None = field(default=None)


class PageStages:
    """The three stages of one configuration, with the figures they count kept here."""

    def __init__(self, max_text_chars: int, topic: dict[str, Any] | None) -> None:
        # Imported here, in the worker: lxml cleaning, the boilerplate rules, the theme profile
        # and the MinHash arithmetic are no business of the crawl process.
        from qpan.config import TopicConfig
        from qpan.pipelines.normalize import search_document
        from qpan.pipelines.relevance import ThemeProfile
        from qpan.pipelines.stages.clean import CleanStage
        from qpan.pipelines.stages.fingerprint import FingerprintStage
        from qpan.pipelines.stages.relevance import RelevanceStage

        self.search_document = search_document
        profile = ThemeProfile.load(TopicConfig.model_validate(topic) if topic else None)
        self.stats = MemoryStats()
        self.steps = (
            CleanStage(max_text_chars=max_text_chars, stats=self.stats),
            RelevanceStage(profile, self.stats),
            FingerprintStage(),
        )

    def run(self, item: dict[str, Any]) -> Prepared:
        try:
            for stage in self.steps:
                item = stage.process_item(item)
        except Dropped as drop:
            return Prepared({}, self._taken_counts(), (drop.category, drop.detail))
        # the store's pure part too: folding the words costs the crawl's database thread 0.1 ms an article
        item["search_document"] = self.search_document(item.get("title") or "", item.get("text") or "")
        return Prepared({name: item[name] for name in PREPARED_FIELDS}, self._taken_counts())

    def _taken_counts(self) -> dict[str, int]:
        counts = dict(self.stats.counts)
        self.stats.counts.clear()
        return counts


@lru_cache(maxsize=4)
def _stages(max_text_chars: int, topic_json: str) -> PageStages:
    """Built once per worker and configuration: loading the theme profile and the boilerplate
    rules costs far more than a page."""
    return PageStages(max_text_chars, json.loads(topic_json) or None)


def prepare(item: dict[str, Any], max_text_chars: int, topic_json: str) -> Prepared:
    """The job a page worker runs for one item."""
    return _stages(max_text_chars, topic_json).run(item)


def warm(max_text_chars: int, topic_json: str) -> None:
    """Build a worker's stages before the first item needs them."""
    _stages(max_text_chars, topic_json)


class PrepareStage:
    """Sets what clean, relevance and fingerprint set; drops and counts as they do."""

    def __init__(self, workers: PageWorkers, stats: Stats, max_text_chars: int, topic: dict[str, Any] | None) -> None:
        self.workers = workers
        self.stats = stats
        self.max_text_chars = max_text_chars
        self.topic_json = json.dumps(topic or {}, sort_keys=True)
        workers.warm(WARM, max_text_chars, self.topic_json)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrepareStage:
        settings = crawler.settings
        return cls(
            crawler_page_workers(crawler),
            crawler.stats,
            settings.getint("QPAN_MAX_TEXT_CHARS", defaults.QPAN_MAX_TEXT_CHARS),
            settings.getdict("QPAN_TOPIC") or None,
        )

    async def process_item(self, item: Any, spider: object = None) -> Any:
        result = await self.workers.run(PREPARE, dict(item), self.max_text_chars, self.topic_json)
        for key, count in result.counts.items():
            self.stats.inc_value(key, count)
        if result.dropped is not None:
            raise Dropped(*result.dropped)
        item.update(result.fields)
        return item
