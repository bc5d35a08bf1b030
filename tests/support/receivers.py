"""Local receivers for alert tests: a real SMTP server (aiosmtpd) and a webhook HTTP server.

Both listen on 127.0.0.1 on a free port and record what arrives, so tests check what a
user's mailbox or webhook would really receive through Apprise.
"""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """Messages the local SMTP server accepted, parsed as the recipient's mail client would."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    @property
    def url(self) -> str:
        """The Apprise URL that delivers to this server: plain SMTP, no TLS, no login."""
        return f"mailto://127.0.0.1:{self.port}?from=qpan@example.org&to=editor@example.org"


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Webhook:
    """JSON bodies POSTed to the local server; ``fail_next`` answers that many requests with 500.

    ``slow_next`` requests are answered (200) only after ``delay`` seconds: the body is
    recorded on arrival, as a receiver that does its work before answering would.
    ``keys`` holds each recorded request's ``Idempotency-Key`` header (None when absent).
    """

    port: int
    payloads: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    failures: int = 0
    fail_next: int = 0
    delay: float = 0.0
    slow_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"


def _handler(hook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with hook.lock:
                failing = hook.fail_next > 0
                slow = not failing and hook.slow_next > 0
                if failing:
                    hook.fail_next -= 1
                    hook.failures += 1
                else:
                    hook.payloads.append(json.loads(body.decode("utf-8")))
                    hook.keys.append(self.headers.get("Idempotency-Key"))
                hook.slow_next -= slow
            if slow:
                time.sleep(hook.delay)
            try:
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up waiting: what a slow receiver sees

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
            return

    return Handler


@contextmanager
def serving(port: int, handler: type[BaseHTTPRequestHandler]) -> Iterator[None]:
    """An HTTP server on 127.0.0.1:``port`` in a thread, for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def webhook_server(
    fail_next: int = 0, port: int | None = None, *, delay: float = 0.0, slow_next: int = 0
) -> Iterator[Webhook]:
    hook = Webhook(port or free_port(), fail_next=fail_next, delay=delay, slow_next=slow_next)
    with serving(hook.port, _handler(hook)):
        yield hook
