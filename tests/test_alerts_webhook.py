"""Webhook alerts through Apprise ``json://`` to a local HTTP server: payload, retries, once only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from qpan.scheduler.alerts import dispatch, dispatch_after_run, enqueue_after_run
from qpan.scheduler.channels import channel_id
from qpan.storage.models import utcnow
from support.alerting import (
    VIETNAMESE_TITLES,
    alert_config,
    deliveries,
    migrated_database,
    new_run,
    store_relevant,
)
from support.receivers import free_port, webhook_server
from support.store import insert_article


def test_one_digest_per_channel_with_every_article(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES)
    with webhook_server() as first, webhook_server() as second:
        config = alert_config([first.url, second.url])
        result = dispatch_after_run(database, config, run_id)
        again = dispatch_after_run(database, config, run_id)

    assert (result.messages_sent, result.deliveries_sent, result.messages_failed) == (2, 6, 0)
    assert (again.messages_sent, again.deliveries_sent) == (0, 0)
    for hook in (first, second):
        assert len(hook.payloads) == 1
        payload = hook.payloads[0]
        assert VIETNAMESE_TITLES[0] in payload["title"]
        for title in VIETNAMESE_TITLES:
            assert title in payload["message"]
        assert "score 0.90" in payload["message"]
        assert "16/01/2025 08:00" in payload["message"]
        assert "baobackan" in payload["message"]
        assert "https://baobackan.example.vn/" in payload["message"]
    rows = deliveries(database)
    assert {row.status for row in rows} == {"sent"}
    assert {row.channel for row in rows} == {channel_id(first.url), channel_id(second.url)}


def test_only_new_relevant_non_duplicate_articles_are_alerted(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    [original] = store_relevant(database, run_id, [VIETNAMESE_TITLES[0]])
    insert_article(database, title="Bài trùng lặp", relevant=True, duplicate_of_id=original, relevance=0.9)
    insert_article(database, title="Tin giao thông", relevant=False, relevance=0.1)
    insert_article(database, title="Bài gốc (seed)", relevant=True, source="seeds", seed_name="seed-1")
    with webhook_server() as hook:
        dispatch_after_run(database, alert_config([hook.url]), run_id)
    assert len(hook.payloads) == 1
    message = hook.payloads[0]["message"]
    assert VIETNAMESE_TITLES[0] in message
    assert "Bài trùng lặp" not in message and "Tin giao thông" not in message and "seed" not in message


def test_nothing_is_sent_when_nothing_is_new(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    with webhook_server() as hook:
        result = dispatch_after_run(database, alert_config([hook.url]), run_id)
    assert hook.payloads == [] and result.messages_sent == 0 and deliveries(database) == []


def test_a_failing_channel_is_delivered_once_on_a_later_dispatch(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:2])
    with webhook_server(fail_next=1) as hook:
        config = alert_config([hook.url])
        first = dispatch_after_run(database, config, run_id)
        failed = deliveries(database)
        within_backoff = dispatch(database, config)
        later = utcnow() + timedelta(minutes=5)
        retried = dispatch(database, config, now=later)
        after = dispatch(database, config, now=later + timedelta(hours=1))

    assert (first.messages_failed, first.deliveries_failed) == (1, 2)
    assert {(row.status, row.attempts) for row in failed} == {("failed", 1)}
    assert all("500" in (row.last_error or "") for row in failed)
    assert all(row.next_attempt_at is not None and row.next_attempt_at > row.created_at for row in failed)
    assert within_backoff.messages_sent == 0 and within_backoff.messages_failed == 0
    assert (retried.messages_sent, retried.deliveries_sent) == (1, 2)
    assert after.messages_sent == 0
    assert hook.failures == 1 and len(hook.payloads) == 1
    assert {(row.status, row.attempts, row.last_error) for row in deliveries(database)} == {("sent", 2, None)}


def test_a_channel_that_was_down_gets_the_alert_when_it_is_back(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    port = free_port()
    config = alert_config([f"json://127.0.0.1:{port}/hook"])
    down = dispatch_after_run(database, config, run_id)
    assert down.messages_failed == 1 and down.messages_sent == 0
    with webhook_server(port=port) as hook:
        back = dispatch(database, config, now=utcnow() + timedelta(minutes=5))
        dispatch(database, config, now=utcnow() + timedelta(hours=1))
    assert back.messages_sent == 1
    assert len(hook.payloads) == 1 and VIETNAMESE_TITLES[0] in hook.payloads[0]["message"]


def test_gives_up_after_max_attempts(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    with webhook_server(fail_next=100) as hook:
        config = alert_config([hook.url], max_attempts=3)
        results = [dispatch_after_run(database, config, run_id)]
        for hours in (1, 2, 3, 4):
            results.append(dispatch(database, config, now=utcnow() + timedelta(hours=hours * 7)))
    assert [r.messages_failed for r in results] == [1, 1, 1, 0, 0]
    assert [r.given_up for r in results] == [0, 0, 1, 0, 0]
    [row] = deliveries(database)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert hook.failures == 3


def test_one_message_per_article_when_digest_is_off(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES)
    with webhook_server() as hook:
        result = dispatch_after_run(database, alert_config([hook.url], digest=False), run_id)
    assert result.messages_sent == 3
    assert sorted(p["title"] for p in hook.payloads) == sorted(f"qpan: {t}" for t in VIETNAMESE_TITLES)


def test_a_channel_added_later_gets_only_articles_never_alerted(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    with webhook_server() as old, webhook_server() as new:
        dispatch_after_run(database, alert_config([old.url]), run_id)
        second_run = new_run(database)
        store_relevant(database, second_run, VIETNAMESE_TITLES[1:2])
        assert enqueue_after_run(database, alert_config([old.url, new.url]), second_run) == 2
        dispatch(database, alert_config([old.url, new.url]))
    assert [VIETNAMESE_TITLES[1] in p["message"] for p in new.payloads] == [True]
    assert len(old.payloads) == 2
