"""Source-health alerts: one alert after N bad runs in a row, none while it stays bad, one on recovery."""

from __future__ import annotations

from pathlib import Path

from qpan.scheduler.alerts import dispatch_after_run
from qpan.storage.models import SourceHealth
from support.alerting import alert_config, migrated_database, new_run
from support.receivers import webhook_server

GOOD = {"reached": True, "fetched": 5, "extracted": 4}
DOWN = {"reached": False, "errors": 1, "error_text": "DNS lookup failed"}
EMPTY = {"reached": True, "fetched": 2, "extracted": 0, "skipped_seen": 0, "not_modified": 0}


def test_down_for_n_runs_alerts_once_then_once_on_recovery(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    runs = [GOOD, DOWN, DOWN, DOWN, DOWN, GOOD, GOOD]
    with webhook_server() as hook:
        config = alert_config([hook.url], health_after_runs=3)
        seen = []
        for figures in runs:
            run_id = new_run(database, {"baoxyz": figures, "steady": GOOD})
            dispatch_after_run(database, config, run_id)
            seen.append(len(hook.payloads))
    assert seen == [0, 0, 0, 1, 1, 2, 2]
    down, recovered = hook.payloads
    assert "baoxyz" in down["title"] and "3 runs" in down["title"]
    assert "DNS lookup failed" in down["message"]
    assert "recovered" in recovered["title"]
    with database.session() as session:
        assert session.get(SourceHealth, "baoxyz").alert_state == "ok"
        assert session.get(SourceHealth, "steady").alert_state == "ok"


def test_a_source_yielding_no_article_counts_as_bad(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    with webhook_server() as hook:
        config = alert_config([hook.url], health_after_runs=2)
        for figures in (EMPTY, DOWN, EMPTY):
            dispatch_after_run(database, config, new_run(database, {"baoxyz": figures}))
    assert len(hook.payloads) == 1
    assert "yielded no article" in hook.payloads[0]["message"]


def test_an_interrupted_streak_does_not_alert(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    with webhook_server() as hook:
        config = alert_config([hook.url], health_after_runs=2)
        for figures in (DOWN, GOOD, DOWN, GOOD):
            dispatch_after_run(database, config, new_run(database, {"baoxyz": figures}))
    assert hook.payloads == []


def test_a_quiet_source_in_an_incremental_crawl_is_not_bad(tmp_path: Path) -> None:
    """Nothing new, but its feed still lists known articles or answers 304: healthy, no alert."""
    database = migrated_database(tmp_path)
    known_only = {"reached": True, "fetched": 0, "extracted": 0, "skipped_seen": 12}
    unchanged = {"reached": True, "fetched": 0, "extracted": 0, "not_modified": 2}
    with webhook_server() as hook:
        config = alert_config([hook.url], health_after_runs=2)
        for figures in (known_only, unchanged, known_only, unchanged):
            dispatch_after_run(database, config, new_run(database, {"baoxyz": figures}))
    assert hook.payloads == []


def test_articles_not_stored_alert_at_once_in_their_run(tmp_path: Path) -> None:
    """Lost articles do not wait for a streak: one alert per source and run, with count and error."""
    database = migrated_database(tmp_path)
    full = {**GOOD, "errors": 3, "dropped": {"not_stored": 3},
            "error_text": "article not stored: OperationalError: database or disk is full"}
    with webhook_server() as hook:
        config = alert_config([hook.url], health_after_runs=3)
        run_id = new_run(database, {"baoxyz": full, "steady": GOOD})
        dispatch_after_run(database, config, run_id)
        dispatch_after_run(database, config, run_id)
        assert len(hook.payloads) == 1
        dispatch_after_run(database, config, new_run(database, {"baoxyz": full}))
    first = hook.payloads[0]
    assert "3 article(s) of baoxyz not stored" in first["title"]
    assert f"Run {run_id} could not store 3" in first["message"] and "database or disk is full" in first["message"]
    assert len(hook.payloads) == 2
