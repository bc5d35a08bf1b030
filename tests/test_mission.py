"""The whole job, end to end, as a user runs it: init, crawl, inspect, get alerts, crawl again.

Everything is real: ``qpan`` child processes against the fixture web, alerts through
Apprise's ``json://`` channel into a local HTTP sink. tests/fixtureweb/README.md lists what
the fixture sites hold and what each article must become.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_config
from sqlalchemy import select

from qpan.demo import LocalWeb
from qpan.demo.sink import AlertSink
from qpan.storage.db import Database
from qpan.storage.models import SEED_SOURCE, Article, RunSource, SourceHealth
from support.cli import qpan_process

pytestmark = pytest.mark.slow

RELEVANT = {
    "tinbiengioi": {"101", "102", "104", "106"},
    "baodiaphuong": {"201", "202", "204", "205"},
    "congantinh": {"301", "303", "304", "307"},
    "timkiem": {"401", "402"},
}
BROKEN_FEED = "/feeds/thoi-su.atom"
NEW_ARTICLE = {
    "id": 150,
    "in": ["rss"],
    "published": "-0d",
    "section": "Thời sự",
    "title": "Cao Bằng: Bộ CHQS tỉnh và Công an tỉnh giao ban thực hiện Nghị định 03/2019/NĐ-CP",
    "summary": "Bộ Chỉ huy Quân sự tỉnh Cao Bằng và Công an tỉnh tổ chức hội nghị giao ban phối hợp.",
    "paragraphs": [
        "Hội nghị đánh giá kết quả phối hợp giữa hai lực lượng theo Nghị định số 03/2019/NĐ-CP của Chính phủ "
        "về phối hợp giữa Bộ Công an và Bộ Quốc phòng trong bảo vệ an ninh quốc gia, bảo đảm trật tự, an toàn "
        "xã hội, đấu tranh phòng, chống tội phạm và nhiệm vụ quốc phòng.",
        "Lực lượng Quân sự và Công an tỉnh đã phối hợp tổ chức hàng trăm lượt tuần tra vũ trang trên tuyến "
        "biên giới, trao đổi thông tin, xử lý kịp thời các vụ việc phức tạp về an ninh, trật tự.",
        "Hai lực lượng thống nhất tiếp tục duy trì quy chế phối hợp, chủ động nắm chắc tình hình, tham mưu "
        "cho cấp ủy, chính quyền địa phương các giải pháp bảo đảm quốc phòng, an ninh trong tình hình mới.",
    ],
}


def ids_by_url(web: LocalWeb) -> dict[str, tuple[str, str]]:
    """Canonical URL of every fixture article -> (site, article id)."""
    return {
        web.article_url(site, article.id): (site, str(article.id))
        for site in web.sites
        for article in web.articles(site)
    }


def stored(database: Database) -> list[Article]:
    with database.session() as session:
        return list(session.scalars(select(Article).where(Article.source != SEED_SOURCE)).unique())


def alerted_titles(sink: AlertSink, start: int = 0) -> list[str]:
    """Article titles in the digests the channel received (each listed as a "• title" line)."""
    return [
        line.removeprefix("• ").strip()
        for message in sink.received()[start:]
        for line in message.get("message", "").splitlines()
        if line.startswith("• ")
    ]


def test_init_crawl_alert_then_a_change_on_the_web(tmp_path: Path, fixture_web: LocalWeb) -> None:
    with AlertSink() as sink:
        config = write_config(tmp_path, fixture_web, alerts={"urls": [sink.apprise_url], "health_after_runs": 1})
        database = Database(f"sqlite:///{tmp_path / 'qpan.db'}")

        init = qpan_process(config, "init")
        assert init.returncode == 0, init.stderr
        assert qpan_process(config, "init").returncode == 0

        first = qpan_process(config, "crawl", "--quiet")
        assert first.returncode == 0, first.stderr
        assert "Traceback" not in first.stderr

        fixtures = ids_by_url(fixture_web)
        articles = stored(database)
        by_fixture = {fixtures[a.canonical_url]: a for a in articles if a.canonical_url in fixtures}
        relevant = {key for key, a in by_fixture.items() if a.relevant}
        assert relevant == {(site, i) for site, ids in RELEVANT.items() for i in ids}

        def seed_of(site: str, article_id: str) -> str | None:
            target = by_fixture[(site, article_id)].duplicate_of
            return target.seed_name if target is not None else None

        assert seed_of("tinbiengioi", "104") == "004_de49123091b54f5a"
        assert seed_of("congantinh", "303") == "001_484e08d8d06b6fdc"
        same_story = [by_fixture[("baodiaphuong", "205")], by_fixture[("congantinh", "304")]]
        assert sum(1 for a in same_story if a.duplicate_of_id is not None) == 1

        expected_alerts = {a.title for a in articles if a.relevant and a.duplicate_of_id is None}
        first_alerts = alerted_titles(sink)
        assert sorted(first_alerts) == sorted(expected_alerts)
        assert len(expected_alerts) == len(relevant) - 3

        listing = qpan_process(config, "articles", "--format", "json", "--limit", "0")
        listed = {row["title"] for row in json.loads(listing.stdout) if row["source"] != SEED_SOURCE}
        assert listed == {a.title for a in articles if a.relevant}

        fixture_web.add_article("tinbiengioi", NEW_ARTICLE)
        fixture_web.set_route("tinbiengioi", BROKEN_FEED, status=500)
        messages_before = len(sink.received())

        second = qpan_process(config, "crawl", "--quiet")
        assert second.returncode == 0, second.stderr
        assert "Traceback" not in second.stderr

        assert alerted_titles(sink, messages_before) == [NEW_ARTICLE["title"]]
        assert len(sink.received()) == messages_before + 1

        with database.session() as session:
            last_run = max(session.scalars(select(RunSource.run_id)))
            figures = session.get(RunSource, (last_run, "tinbiengioi"))
            health = session.get(SourceHealth, "tinbiengioi")
            assert figures is not None and figures.new == 1, second.stderr
            assert figures.errors == 1, second.stderr
            assert health is not None and BROKEN_FEED in (health.last_error or "")
            others = session.scalars(select(RunSource).where(RunSource.run_id == last_run)).all()
            assert [f.source for f in others if f.errors] == ["tinbiengioi"]
        sources = json.loads(qpan_process(config, "sources", "--format", "json").stdout)
        broken = [row for row in sources if row.get("name", row.get("source")) == "tinbiengioi"]
        assert broken and BROKEN_FEED in json.dumps(broken[0], ensure_ascii=False)
        database.dispose()
