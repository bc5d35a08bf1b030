"""Alerts after a crawl run: fill the outbox, write the Atom feed, send what is due.

``qpan crawl`` calls :func:`dispatch_after_run` once its run is stored. Enqueueing reads
the database, not the run's memory, so articles a killed run stored are alerted by the
next one; sending claims rows first, so each (article, channel) goes out once. Every
channel is an Apprise URL (see :mod:`scheduler.channels`).

"Once" is exact in the outbox (a row turns ``sent`` once) and best effort at the receiver:
a send that timed out after the request went out is retried, and then the repeat carries
the same idempotency key (header and reference line) as the copy that may have arrived.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from qpan.config import Config, parse_duration
from qpan.scheduler.atom import write_feed_file
from qpan.scheduler.channels import Channel, SendOutcome, configured_channels, send
from qpan.scheduler.digest import (
    REFERENCE_CHARS,
    Message,
    article_digests,
    article_message,
    health_message,
    probe_message,
    with_reference,
)
from qpan.scheduler.health_alerts import enqueue_health
from qpan.scheduler.outbox import (
    FAILED,
    UNKNOWN,
    Claimed,
    assign_key,
    claim_due,
    enqueue_articles,
    mark_failed,
    mark_sent,
)
from qpan.storage.db import Database
from qpan.storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass
class ChannelResult:
    """What one dispatch did on one channel (messages are notifications, deliveries outbox rows)."""

    channel: str
    label: str
    messages_sent: int = 0
    messages_failed: int = 0
    messages_unknown: int = 0  # of the failed ones: sent, but unanswered
    deliveries_sent: int = 0
    deliveries_failed: int = 0
    given_up: int = 0
    error: str | None = None


@dataclass
class DispatchResult:
    channels: list[ChannelResult] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(getattr(channel, name) for channel in self.channels)

    @property
    def messages_sent(self) -> int:
        return self._total("messages_sent")

    @property
    def messages_failed(self) -> int:
        return self._total("messages_failed")

    @property
    def messages_unknown(self) -> int:
        return self._total("messages_unknown")

    @property
    def deliveries_sent(self) -> int:
        return self._total("deliveries_sent")

    @property
    def deliveries_failed(self) -> int:
        return self._total("deliveries_failed")

    @property
    def given_up(self) -> int:
        return self._total("given_up")

    def summary(self) -> str:
        """One line for the crawl summary and the scheduler log."""
        if not self.channels:
            return "alerts: no channel configured"
        line = (
            f"alerts: {self.messages_sent} message(s) sent ({self.deliveries_sent} alert(s)), "
            f"{self.messages_failed} failed"
        )
        if self.messages_unknown:
            line += f" ({self.messages_unknown} unanswered, to be repeated with the same key)"
        return line + (f", {self.given_up} given up" if self.given_up else "")


def usable_channels(config: Config) -> list[Channel]:
    """Configured channels Apprise understands; the others are reported once and skipped."""
    channels = configured_channels(config)
    for channel in channels:
        if not channel.valid:
            log.warning("alerts: channel %s is %s; skipped", channel.id, channel.label)
    return [channel for channel in channels if channel.valid]


def enqueue_after_run(database: Database, config: Config, run_id: int, now: datetime | None = None) -> int:
    """Queue article and source-health alerts for every channel; returns the rows added."""
    channel_ids = [channel.id for channel in usable_channels(config)]
    if not channel_ids:
        return 0
    now = now or utcnow()
    with database.session() as session:
        added = enqueue_articles(session, channel_ids, run_id, now)
        added += enqueue_health(session, channel_ids, run_id, config.alerts.health_after_runs, now)
    return added


def message_key(channel: str, delivery_ids: Sequence[int]) -> str:
    """The idempotency key of a message: the same outbox rows on the same channel, the same key."""
    ids = ",".join(str(i) for i in sorted(delivery_ids))
    return "qpan-" + hashlib.sha256(f"{channel}:{ids}".encode()).hexdigest()[:32]


def _compose(channel: Channel, claimed: Sequence[Claimed], digest: bool) -> list[Message]:
    articles = [(c.id, c.payload) for c in claimed if c.kind == "article"]
    if digest and articles:
        maxlen = max(1, channel.body_maxlen - REFERENCE_CHARS) if channel.body_maxlen else 0
        messages = article_digests(articles, channel.body_format, maxlen)
    else:
        messages = [article_message(i, payload, channel.body_format) for i, payload in articles]
    return messages + [health_message(c.id, c.payload, channel.body_format) for c in claimed if c.kind == "health"]


def _messages(channel: Channel, claimed: Sequence[Claimed], digest: bool) -> list[Message]:
    """Rows that went out before are sent again as the message they went out in, under its key."""
    groups: dict[str | None, list[Claimed]] = defaultdict(list)
    for delivery in claimed:
        groups[delivery.key].append(delivery)
    return [
        replace(message, key=key or message_key(channel.id, message.delivery_ids))
        for key, group in groups.items()
        for message in _compose(channel, group, digest)
    ]


def _deliver(
    database: Database, config: Config, channel: Channel, claimed: Sequence[Claimed], now: datetime
) -> ChannelResult:
    result = ChannelResult(channel.id, channel.label)
    by_id = {c.id: c for c in claimed}
    timeout = parse_duration(config.alerts.timeout)
    for message in _messages(channel, claimed, config.alerts.digest):
        settled = [by_id[i] for i in message.delivery_ids]
        with database.session() as session:
            assign_key(session, settled, message.key)
        body = with_reference(message, channel.body_format).body
        outcome = send(channel, message.title, body, timeout=timeout, key=message.key)
        with database.session() as session:
            if outcome.ok:
                mark_sent(session, settled, now)
            else:
                status = UNKNOWN if outcome.unknown else FAILED
                result.given_up += mark_failed(
                    session, settled, outcome.error or "", now, config.alerts.max_attempts, status
                )
        if outcome.ok:
            result.messages_sent += 1
            result.deliveries_sent += len(settled)
        else:
            result.messages_failed += 1
            result.messages_unknown += outcome.unknown
            result.deliveries_failed += len(settled)
            result.error = outcome.error
            log.warning("alerts: channel %s (%s) failed: %s", channel.id, channel.label, outcome.error)
    return result


def dispatch(database: Database, config: Config, now: datetime | None = None) -> DispatchResult:
    """Send every pending and due failed delivery: one digest per channel (or one per article)."""
    channels = usable_channels(config)
    if not channels:
        return DispatchResult()
    now = now or utcnow()
    with database.session() as session:
        claimed = claim_due(session, [channel.id for channel in channels], now)
    by_channel: dict[str, list[Claimed]] = defaultdict(list)
    for delivery in claimed:
        by_channel[delivery.channel].append(delivery)
    result = DispatchResult([_deliver(database, config, c, by_channel[c.id], now) for c in channels])
    if claimed:
        log.info("%s", result.summary())
    return result


def dispatch_after_run(database: Database, config: Config, run_id: int) -> DispatchResult:
    """After a crawl run: enqueue its alerts, rewrite the Atom feed if configured, send."""
    enqueue_after_run(database, config, run_id)
    if config.alerts.atom_path:
        try:
            entries = write_feed_file(database, config.alerts.atom_path)
        except OSError as exc:
            log.warning("atom feed %s not written: %s", config.alerts.atom_path, exc.strerror or exc)
        else:
            log.info("atom feed %s: %d entries", config.alerts.atom_path, entries)
    return dispatch(database, config)


def send_test(config: Config) -> list[tuple[Channel, SendOutcome]]:
    """One test message to every configured channel, invalid ones included (they report why)."""
    results = []
    for channel in configured_channels(config):
        title, body = probe_message(channel.body_format)
        results.append((channel, send(channel, title, body, timeout=parse_duration(config.alerts.timeout))))
    return results
