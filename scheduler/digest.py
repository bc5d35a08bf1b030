"""What an alert says: digests, single-article and health messages in text, Markdown or HTML.

Rendering is pure (payload dicts in, strings out) so the outbox can be re-sent from what it
stored at enqueue time, and so the wording is tested without any channel. Each channel gets
the body in the format its Apprise plugin renders natively, so Apprise never has to convert
(and never mangles Vietnamese text on the way).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from qpan.stats import NOT_STORED
from qpan.timezone import VIETNAM

MAX_ITEMS_PER_DIGEST = 25
REFERENCE_CHARS = 60  # what the reference line takes of a channel's length limit
_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


@dataclass(frozen=True)
class Message:
    """One notification to send, and the outbox rows it settles."""

    title: str
    body: str
    delivery_ids: tuple[int, ...]
    key: str = ""  # the idempotency key, set when the message is about to be sent


def published_label(value: str | None) -> str:
    """A publication time as Vietnamese readers write it, in Vietnam time: 16/07/2021 16:15."""
    if not value:
        return "undated"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def _details(entry: dict[str, Any]) -> str:
    return f"{entry['source']} · {published_label(entry.get('published'))} · score {entry['score']:.2f}"


def _markdown_url(url: str) -> str:
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def article_block(entry: dict[str, Any], fmt: str) -> str:
    """One article as a list item: title, source, published date, score and link."""
    title = entry["title"] or entry["url"]
    if fmt == "html":
        return (
            f'<li><a href="{html.escape(entry["url"])}"><b>{html.escape(title)}</b></a><br>'
            f"{html.escape(_details(entry))}</li>"
        )
    if fmt == "markdown":
        return (
            f"- **[{title.translate(_MARKDOWN_SPECIAL)}]({_markdown_url(entry['url'])})**  \n"
            f"  {_details(entry).translate(_MARKDOWN_SPECIAL)}"
        )
    return f"• {title}\n  {_details(entry)}\n  {entry['url']}"


def _wrap(blocks: Sequence[str], intro: str, fmt: str) -> str:
    if fmt == "html":
        return f"<p>{html.escape(intro)}</p>\n<ul>\n" + "\n".join(blocks) + "\n</ul>"
    return intro + "\n\n" + "\n\n".join(blocks)


def _digest_title(entries: Sequence[dict[str, Any]], part: int, parts: int) -> str:
    first = entries[0]["title"] or entries[0]["url"]
    title = f"qpan: {first}" if len(entries) == 1 else f"qpan: {len(entries)} new articles: {first} and more"
    return f"{title} ({part}/{parts})" if parts > 1 else title


def _pack(blocks: list[str], fmt: str, maxlen: int) -> list[list[int]]:
    """Indexes of blocks per message: at most MAX_ITEMS_PER_DIGEST, and within the channel's limit."""
    chunks: list[list[int]] = [[]]
    for index, block in enumerate(blocks):
        current = chunks[-1]
        candidate = [blocks[i] for i in current] + [block]
        too_long = maxlen > 0 and len(_wrap(candidate, "x" * 40, fmt)) > maxlen
        if current and (len(current) >= MAX_ITEMS_PER_DIGEST or too_long):
            chunks.append([index])
        else:
            current.append(index)
    return [chunk for chunk in chunks if chunk]


def article_digests(items: Sequence[tuple[int, dict[str, Any]]], fmt: str, maxlen: int = 0) -> list[Message]:
    """One digest (or several if the channel limits the length) listing every article item."""
    blocks = [article_block(payload, fmt) for _, payload in items]
    chunks = _pack(blocks, fmt, maxlen)
    messages = []
    for part, chunk in enumerate(chunks, start=1):
        entries = [items[i][1] for i in chunk]
        intro = f"{len(entries)} new relevant article{'s' if len(entries) != 1 else ''} found by qpan:"
        messages.append(
            Message(
                title=_digest_title(entries, part, len(chunks)),
                body=_wrap([blocks[i] for i in chunk], intro, fmt),
                delivery_ids=tuple(items[i][0] for i in chunk),
            )
        )
    return messages


def article_message(delivery_id: int, entry: dict[str, Any], fmt: str) -> Message:
    """One article on its own (``alerts.digest = false``)."""
    return Message(
        title=f"qpan: {entry['title'] or entry['url']}",
        body=_wrap([article_block(entry, fmt)], "New relevant article found by qpan:", fmt),
        delivery_ids=(delivery_id,),
    )


def health_text(entry: dict[str, Any]) -> tuple[str, str]:
    """Title and plain sentence of a source-health alert (payload written by health_alerts or the canary)."""
    source = entry["source"]
    if entry["state"] == "check_broken":
        return (
            f"qpan: source {source} broken (live check)",
            f"The live check found source {source} broken: {entry['reason']}.",
        )
    if entry["state"] == "check_fixed":
        return (
            f"qpan: source {source} works again (live check)",
            f"The live check found source {source} {entry['verdict']} again: {entry['reason']}.",
        )
    runs = entry["runs"]
    if entry["state"] == NOT_STORED:
        return (
            f"qpan: {entry['count']} article(s) of {source} not stored",
            f"Run {entry['run_id']} could not store {entry['count']} article(s) of source {source}: {entry['error']}.",
        )
    if entry["state"] == "recovered":
        return f"qpan: source {source} recovered", f"Source {source} yields articles again."
    reason = f"unreachable ({entry['error']})" if entry.get("error") else "reached, but yielded no article"
    return (
        f"qpan: source {source} failing for {runs} runs",
        f"Source {source} has failed or yielded no article in the last {runs} runs; last run: {reason}.",
    )


def health_message(delivery_id: int, entry: dict[str, Any], fmt: str) -> Message:
    title, sentence = health_text(entry)
    body = f"<p>{html.escape(sentence)}</p>" if fmt == "html" else sentence
    if fmt == "markdown":
        body = sentence.translate(_MARKDOWN_SPECIAL)
    return Message(title=title, body=body, delivery_ids=(delivery_id,))


def with_reference(message: Message, fmt: str) -> Message:
    """The message with its idempotency key as the last line.

    Channels without headers (e-mail, chat) can only recognise a repeat by what it says:
    a reader or a mail filter sees the same reference on both copies.
    """
    if not message.key:
        return message
    line = f"qpan ref: {message.key}"
    tail = f"\n<p>{html.escape(line)}</p>" if fmt == "html" else f"\n\n{line}"
    return replace(message, body=message.body + tail)


def probe_message(fmt: str) -> tuple[str, str]:
    """The ``qpan alerts test`` notification: Vietnamese text, so encoding problems show at once."""
    sentence = "Test alert from qpan: Bộ Công an – Bộ Quốc phòng phối hợp (Nghị định 03/2019/NĐ-CP)."
    return "qpan: test alert — thông báo thử", f"<p>{html.escape(sentence)}</p>" if fmt == "html" else sentence
