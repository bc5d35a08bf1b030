"""Relevance stage: scores every item against the theme profile; nothing is dropped here.

Irrelevant articles are stored too (``qpan articles --all`` shows them) so a later change
of threshold or profile can be judged on what was actually crawled.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from qpan.config import TopicConfig
from qpan.pipelines.relevance import ThemeProfile
from qpan.stats import Stats, stat_key


class RelevanceStage:
    """Sets ``relevance`` (0..1), ``relevant`` and ``matched_terms``; counts ``.../relevant``."""

    def __init__(self, profile: ThemeProfile, stats: Stats | None = None) -> None:
        self.profile = profile
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevanceStage:
        topic = crawler.settings.getdict("QPAN_TOPIC")
        return cls(ThemeProfile.load(TopicConfig.model_validate(topic) if topic else None), crawler.stats)

    def process_item(self, item: Any, spider: object = None) -> Any:
        result = self.profile.score(item.get("title") or "", item.get("text") or "")
        item["relevance"] = result.score
        item["relevant"] = result.relevant
        item["matched_terms"] = result.matched_terms
        item["explanation"] = result.explain()
        if result.relevant and self.stats is not None:
            self.stats.inc_value(stat_key(item.get("source"), "relevant"))
        return item
