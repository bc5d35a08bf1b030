"""Alert channels: one Apprise URL each, known by a hash so no secret reaches a log or a table.

Apprise URLs carry tokens and passwords (``mailtos://user:pass@…``, ``tgram://BOT_TOKEN/…``).
The outbox, the logs and ``qpan alerts`` therefore name a channel by a stable hash of its
URL plus Apprise's own privacy rendering of it; the URL itself only lives in the config.
Every send goes through Apprise: qpan has no SMTP or HTTP client code of its own.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import apprise

from qpan.config import Config

log = logging.getLogger(__name__)

FORMATS = ("text", "markdown", "html")


@dataclass(frozen=True)
class Channel:
    """One configured destination. ``url`` is secret: use ``id`` and ``label`` (masked, no query) for display."""

    url: str = field(repr=False)
    id: str
    label: str
    body_format: str
    body_maxlen: int
    valid: bool


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    error: str | None = None


def channel_id(url: str) -> str:
    """A stable identity of an Apprise URL: the same URL is the same channel across runs."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def make_channel(url: str) -> Channel:
    """Describe one URL; an URL Apprise cannot parse yields an invalid channel (it fails on send)."""
    url = url.strip()
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        scheme = url.partition("://")[0] or "?"
        return Channel(url, channel_id(url), f"{scheme}://… (not a valid Apprise URL)", "text", 0, False)
    return Channel(
        url=url,
        id=channel_id(url),
        label=plugin.url(privacy=True).partition("?")[0],
        body_format=_native_format(plugin),
        body_maxlen=int(getattr(plugin, "body_maxlen", 0) or 0),
        valid=True,
    )


def _native_format(plugin: object) -> str:
    """The body format the service renders best; Apprise 2 plugins may declare several."""
    resolve = getattr(plugin, "resolve_format", None)
    chosen = resolve(None) if resolve else getattr(plugin, "notify_format", "text")
    value = str(getattr(chosen, "value", chosen))
    return value if value in FORMATS else "text"


def configured_channels(config: Config) -> list[Channel]:
    """The channels of ``[alerts] urls``, each once, in config order."""
    channels: dict[str, Channel] = {}
    for url in config.alerts.urls:
        channel = make_channel(url)
        channels.setdefault(channel.id, channel)
    return list(channels.values())


def send(channel: Channel, title: str, body: str) -> SendOutcome:
    """Send one message through Apprise; the error text is what Apprise logged, never the URL."""
    if not channel.valid:
        return SendOutcome(False, "not a valid Apprise URL")
    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        return SendOutcome(False, "not a valid Apprise URL")
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        try:
            ok = bool(notifier.notify(body=body, title=title, body_format=channel.body_format))
        except Exception as exc:  # a plugin bug must not take the crawl down; it is recorded instead
            log.warning("channel %s: Apprise raised %s", channel.id, type(exc).__name__)
            return SendOutcome(False, f"{type(exc).__name__}: {exc}")
        messages = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    if ok:
        return SendOutcome(True)
    return SendOutcome(False, "; ".join(messages[-3:]) or "Apprise reported a failure")
