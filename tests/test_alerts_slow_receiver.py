"""Slow receivers: a webhook that answers late gets the alert once, or a repeat it can recognise.

The receiver records a message when it arrives and answers 200 only after a delay, as a
webhook that does its work before answering. Short delays keep these tests fast: what
matters is delay versus timeout, not the absolute figures.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from qpan.config import ConfigError
from qpan.scheduler.alerts import dispatch, dispatch_after_run, enqueue_after_run
from qpan.scheduler.channels import channel_id
from qpan.scheduler.outbox import SENDING_LEASE, UNKNOWN, claim_due, mark_failed, mark_sent
from qpan.storage.models import utcnow
from support.alerting import (
    VIETNAMESE_TITLES,
    alert_config,
    deliveries,
    migrated_database,
    new_run,
    store_relevant,
)
from support.receivers import smtp_server, webhook_server

APPRISE_READ_TIMEOUT = 4.0  # Apprise's own default ``rto``: a receiver slower than this used to get repeats


def test_an_unanswered_delivery_is_repeated_with_the_same_key(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:2])
    with webhook_server(delay=1.5, slow_next=1) as hook:
        config = alert_config([hook.url], timeout="1s")
        first = dispatch_after_run(database, config, run_id)
        unknown = deliveries(database)
        retried = dispatch(database, config, now=utcnow() + timedelta(minutes=5))
        after = dispatch(database, config, now=utcnow() + timedelta(hours=1))

    assert (first.messages_sent, first.messages_unknown) == (0, 1)
    assert {(row.status, row.attempts) for row in unknown} == {("unknown", 1)}
    assert all("outcome unknown" in (row.last_error or "") for row in unknown)
    assert (retried.messages_sent, retried.deliveries_sent) == (1, 2)
    assert after.messages_sent == 0
    # Both copies arrived; the second carries the first one's key, header and reference line alike.
    assert len(hook.payloads) == 2
    [key] = set(hook.keys)
    assert key and key.startswith("qpan-")
    assert all(f"qpan ref: {key}" in payload["message"] for payload in hook.payloads)
    assert hook.payloads[0]["message"] == hook.payloads[1]["message"]
    rows = deliveries(database)
    assert {(row.status, row.attempts, row.idempotency_key) for row in rows} == {("sent", 2, key)}


def test_a_repeat_is_the_same_message_even_when_new_alerts_go_out_with_it(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    with webhook_server(delay=1.5, slow_next=1) as hook:
        config = alert_config([hook.url], timeout="1s")
        dispatch_after_run(database, config, run_id)
        second_run = new_run(database)
        store_relevant(database, second_run, VIETNAMESE_TITLES[1:2])
        enqueue_after_run(database, config, second_run)
        both = dispatch(database, config, now=utcnow() + timedelta(minutes=5))  # the repeat and the new one

    assert both.messages_sent == 2
    first_key, *later_keys = hook.keys
    assert first_key in later_keys and len(set(later_keys)) == 2
    first, *later = (payload["message"] for payload in hook.payloads)
    repeat = later[later_keys.index(first_key)]
    new = later[1 - later_keys.index(first_key)]
    assert repeat == first and VIETNAMESE_TITLES[1] not in repeat
    assert VIETNAMESE_TITLES[1] in new and VIETNAMESE_TITLES[0] not in new
    assert {row.status for row in deliveries(database)} == {"sent"}


def test_a_late_settle_never_undoes_a_sent_row(tmp_path: Path) -> None:
    """A sender whose lease ran out while it waited settles after another one sent the row."""
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    channel = channel_id("json://127.0.0.1:9/hook")
    enqueue_after_run(database, alert_config(["json://127.0.0.1:9/hook"]), run_id)
    start = utcnow()
    with database.session() as session:
        [stale] = claim_due(session, [channel], start)
    with database.session() as session:
        [fresh] = claim_due(session, [channel], start + SENDING_LEASE + timedelta(seconds=1))
        mark_sent(session, [fresh], start + SENDING_LEASE + timedelta(seconds=2))
    [sent] = deliveries(database)
    with database.session() as session:
        mark_failed(session, [stale], "read timed out", start + SENDING_LEASE + timedelta(seconds=3), 10, UNKNOWN)
        mark_sent(session, [stale], start + SENDING_LEASE + timedelta(seconds=4))
    [row] = deliveries(database)
    assert (row.status, row.sent_at, row.attempts) == ("sent", sent.sent_at, 2)


def test_a_receiver_slower_than_apprise_default_gets_one_delivery(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES)
    with webhook_server(delay=APPRISE_READ_TIMEOUT + 0.5, slow_next=100) as hook:
        config = alert_config([hook.url])  # the default [alerts] timeout
        first = dispatch_after_run(database, config, run_id)
        later = dispatch(database, config, now=utcnow() + timedelta(hours=7))

    assert (first.messages_sent, first.messages_failed, later.messages_sent) == (1, 0, 0)
    assert len(hook.payloads) == 1
    assert {(row.status, row.attempts) for row in deliveries(database)} == {("sent", 1)}


def test_channels_without_headers_carry_the_key_in_the_text(tmp_path: Path) -> None:
    database = migrated_database(tmp_path)
    run_id = new_run(database)
    store_relevant(database, run_id, VIETNAMESE_TITLES[:1])
    with smtp_server() as mailbox:
        dispatch_after_run(database, alert_config([mailbox.url]), run_id)
    [row] = deliveries(database)
    [message] = mailbox.messages
    body = message.get_body(("html", "plain"))
    assert body is not None and f"qpan ref: {row.idempotency_key}" in body.get_content()


@pytest.mark.parametrize(("value", "expected"), [("soon", "not a duration"), ("0s", "more than 0s"), ("1h", "at most")])
def test_alert_timeout_is_validated(value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=f"alerts.timeout: .*{expected}"):
        alert_config(["json://127.0.0.1:9/hook"], timeout=value)
