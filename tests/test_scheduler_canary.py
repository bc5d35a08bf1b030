"""``[schedule] check``: the scheduler's live check alerts once when a source turns broken,
stays quiet while it stays broken, and alerts once more when it works again."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from conftest import write_config
from sqlalchemy import select

from qpan.config import config_from_dict, load_config
from qpan.scheduler.alerts import usable_channels
from qpan.scheduler.canary import Canary, enqueue_check
from qpan.scheduler.digest import health_text
from qpan.scheduler.service import CHECK_FUNCTION, CHECK_JOB, job_specs
from qpan.storage.models import AlertDelivery, utcnow
from qpan.timezone import VIETNAM
from support.alerting import migrated_database
from support.receivers import webhook_server
from support.scriptedweb import ScriptedSite, article_page, listing_page, long_paragraphs, scripted_web


def test_the_check_job_is_off_by_default_and_scheduled_when_asked() -> None:
    assert CHECK_JOB not in [spec.id for spec in job_specs(config_from_dict({}))]
    spec = next(s for s in job_specs(config_from_dict({"schedule": {"check": "7d"}})) if s.id == CHECK_JOB)
    assert spec.function == CHECK_FUNCTION
    assert isinstance(spec.trigger, IntervalTrigger) and spec.trigger.interval == timedelta(days=7)


def _publish(site: ScriptedSite) -> None:
    when = datetime.now(VIETNAM) - timedelta(days=1)
    links = [f"{site.base}/tin/bai-{n}-5000{n}.html" for n in (1, 2)]
    site.route("/", listing_page(links))
    for n, url in enumerate(links, 1):
        site.route(url.removeprefix(site.base), article_page(f"Tin {n}", when, long_paragraphs(f"an ninh {n}") * 2))


@pytest.mark.slow
def test_an_alert_when_a_source_turns_broken_and_none_while_it_stays_so(tmp_path: Path) -> None:
    """One real check (a ``qpan sources --check`` child) of a healthy and an empty site."""
    with scripted_web("fine", "gone") as web, webhook_server() as hook:
        _publish(web["fine"])
        web["gone"].route("/", listing_page([]))
        for name in ("fine", "gone"):
            web[name].source = {"home": f"{web[name].base}/", "article_pattern": "-\\d{5,}\\.html$"}
        config = load_config(write_config(tmp_path, web, alerts={"urls": [hook.url]}))
        database = migrated_database(tmp_path)
        rows = Canary(database, config, timeout=120).run()
        assert rows is not None and {row["source"]: row["verdict"] for row in rows} == {"fine": "ok", "gone": "broken"}
        assert [payload["title"] for payload in hook.payloads] == ["qpan: source gone broken (live check)"]
        assert "no article links on any entry point" in hook.payloads[0]["message"]
        channels = [channel.id for channel in usable_channels(config)]
        with database.session() as session:
            assert enqueue_check(session, channels, rows, utcnow()) == 0, "still broken: announced once"


def test_each_change_between_broken_and_not_is_announced_once(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    broken = {"source": "gone", "verdict": "broken", "reason": "no article links on any entry point"}
    degraded = {"source": "gone", "verdict": "degraded", "reason": "feed x: not a feed"}
    outcomes = []
    for rows in ([broken], [broken], [degraded], [degraded], [broken]):
        with database.session() as session:
            outcomes.append(enqueue_check(session, ["c1"], rows, utcnow()))
    assert outcomes == [1, 0, 1, 0, 1]
    with database.session() as session:
        payloads = [row.payload for row in session.scalars(select(AlertDelivery).order_by(AlertDelivery.id))]
    assert [payload["state"] for payload in payloads] == ["check_broken", "check_fixed", "check_broken"]
    assert health_text(payloads[1]) == (
        "qpan: source gone works again (live check)",
        "The live check found source gone degraded again: feed x: not a feed.",
    )
