"""RelevanceStage: item fields, per-source stats, settings from the crawler."""

from __future__ import annotations

from scrapy.utils.test import get_crawler

from qpan.config import TopicConfig
from qpan.items import ArticleItem
from qpan.pipelines.relevance import ThemeProfile
from qpan.pipelines.stages.relevance import RelevanceStage

TEXT = (
    "Bộ Chỉ huy Quân sự tỉnh và Công an tỉnh giao ban thực hiện Nghị định 03/2019/NĐ-CP; hai lực lượng "
    "phối hợp bảo vệ an ninh quốc gia."
)


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] = self.values.get(key, start) + count


def test_stage_sets_fields_and_counts_relevant() -> None:
    stats = FakeStats()
    stage = RelevanceStage(ThemeProfile.load(None), stats)
    item = stage.process_item(ArticleItem(source="baoA", title="Giao ban Nghị định 03", text=TEXT))
    assert item["relevant"] is True and 0.5 <= item["relevance"] <= 1.0
    assert item["matched_terms"]["Nghị định 03/2019/NĐ-CP"] == 1
    assert item["matched_terms"]["Nghị định 03/2019/NĐ-CP (cited without year)"] == 1  # the title
    other = stage.process_item({"source": "baoA", "title": "Bóng đá", "text": "Trận đấu hấp dẫn."})
    assert other["relevant"] is False and other["relevance"] == 0.0 and other["matched_terms"] == {}
    assert stats.values == {"qpan/source/baoA/relevant": 1}


def test_stage_tolerates_missing_title_and_text() -> None:
    item = RelevanceStage(ThemeProfile.load(None)).process_item({"source": "x"})
    assert item["relevant"] is False


def test_from_crawler_reads_topic_setting() -> None:
    topic = TopicConfig(threshold=0.99, terms={"coordination:hiệp đồng": 1.0}).model_dump()
    crawler = get_crawler(settings_dict={"QPAN_TOPIC": topic})
    stage = RelevanceStage.from_crawler(crawler)
    assert stage.profile.threshold == 0.99
    assert "hiep dong" in stage.profile.terms
    assert stage.stats is crawler.stats


def test_from_crawler_without_topic_uses_the_shipped_profile() -> None:
    stage = RelevanceStage.from_crawler(get_crawler(settings_dict={}))
    assert stage.profile.threshold == ThemeProfile.load(None).threshold
