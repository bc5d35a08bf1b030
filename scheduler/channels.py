"""Alert channels: one Apprise URL each, known by a hash so no secret reaches a log or a table.

Apprise URLs carry tokens and passwords (``mailtos://user:pass@…``, ``tgram://BOT_TOKEN/…``).
The outbox, the logs and ``qpan alerts`` therefore name a channel by a stable hash of its
URL plus Apprise's own privacy rendering of it; the URL itself only lives in the config.
Every send goes through Apprise: qpan has no SMTP or HTTP client code of its own.

A send has three outcomes, not two: when the channel took the request but gave no answer
within ``[alerts] timeout`` (a read timeout, a connection dropped after sending), the
message may well have arrived. That outcome is ``unknown``; the retry carries the same
idempotency key, as an HTTP header on channels whose Apprise plugin takes ``+Header=value``
parameters (``json://``, ``form://``, ``xml://``…), so the receiver can drop the repeat.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from qpan.config import Config

log = logging.getLogger(__name__)

FORMATS = ("text", "markdown", "html")
IDEMPOTENCY_HEADER = "Idempotency-Key"
# What requests says when the request went out but no answer came back: the receiver may have it.
_SENT_BUT_UNANSWERED = ("Read timed out", "RemoteDisconnected", "Connection aborted")
_LEVEL, _TEXT = "\x00", "\x01"


@dataclass(frozen=True)
class Channel:
    """One configured destination. ``url`` is secret: use ``id`` and ``label`` (masked, no query) for display."""

    url: str = field(repr=False)
    id: str
    label: str
    body_format: str
    body_maxlen: int
    valid: bool
    takes_headers: bool = False


@dataclass(frozen=True)
class SendOutcome:
    ok: bool
    error: str | None = None
    unknown: bool = False  # sent, but no answer: it may have arrived


def channel_id(url: str) -> str:
    """A stable identity of an Apprise URL: the same URL is the same channel across runs."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def make_channel(url: str) -> Channel:
    """Describe one URL; an URL Apprise cannot parse yields an invalid channel (it fails on send)."""
    import apprise  # here, not at the top: with aiohttp it costs every crawl ~0.2 s, and most have no channel

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
        takes_headers="headers" in getattr(plugin, "template_kwargs", {}),
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


def delivery_url(channel: Channel, timeout: float, key: str | None) -> str:
    """The channel's URL with qpan's read timeout (unless the URL sets ``rto``) and the key header.

    Both go in through Apprise's own URL parameters (``rto=``, ``+Header=``), so every plugin
    that understands them applies them its own way.
    """
    parts = urlsplit(channel.url)
    extra = []
    if "rto" not in parse_qs(parts.query):
        extra.append(f"rto={timeout:g}")
    if key and channel.takes_headers:
        extra.append(f"%2B{IDEMPOTENCY_HEADER}={quote(key)}")
    query = "&".join(([parts.query] if parts.query else []) + extra)
    return urlunsplit(parts._replace(query=query))


def _logged(text: str) -> list[tuple[str, str]]:
    """(level, message) pairs of a capture formatted as ``_LEVEL level _TEXT message``."""
    records = []
    for chunk in text.split(_LEVEL)[1:]:
        level, _, message = chunk.partition(_TEXT)
        records.append((level, message.strip()))
    return records


def send(channel: Channel, title: str, body: str, *, timeout: float, key: str | None = None) -> SendOutcome:
    """Send one message through Apprise; the error text is what Apprise logged, never the URL."""
    if not channel.valid:
        return SendOutcome(False, "not a valid Apprise URL")
    import apprise  # see make_channel

    notifier = apprise.Apprise()
    if not notifier.add(delivery_url(channel, timeout, key)):
        return SendOutcome(False, "not a valid Apprise URL")
    with apprise.LogCapture(level=logging.DEBUG, fmt=f"{_LEVEL}%(levelname)s{_TEXT}%(message)s") as captured:
        try:
            ok = bool(notifier.notify(body=body, title=title, body_format=channel.body_format))
        except Exception as exc:  # a plugin bug must not take the crawl down; it is recorded instead
            log.warning("channel %s: Apprise raised %s", channel.id, type(exc).__name__)
            return SendOutcome(False, f"{type(exc).__name__}: {exc}")
        records = _logged(captured.getvalue())
    if ok:
        return SendOutcome(True)
    if any(marker in message for _, message in records for marker in _SENT_BUT_UNANSWERED):
        return SendOutcome(False, f"sent, but no answer within {timeout:g}s: outcome unknown", unknown=True)
    warnings = [message for level, message in records if level in {"WARNING", "ERROR", "CRITICAL"} and message]
    return SendOutcome(False, "; ".join(warnings[-3:]) or "Apprise reported a failure")
