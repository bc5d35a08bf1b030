"""The web view's guards: a token on every request when one is set, CSRF on writes, strict headers.

qpan serve listens on loopback by default, where only the machine's own users reach it; on any
other address a token is required (the command refuses to start without one). A browser
presents it once as ``?token=…`` and gets it back as an HttpOnly, SameSite=Strict cookie (the
address bar is then cleaned by a redirect); scripts send ``Authorization: Bearer …``.
Triage writes are POSTs carrying a CSRF token equal to the page's own cookie (double submit):
another site can make a browser post, but cannot read the cookie to fill the form.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from urllib.parse import urlencode

from starlette.datastructures import URL, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "qpan_token"
CSRF_COOKIE = "qpan_csrf"
CSRF_FIELD = "csrf"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time equality of two secrets; an absent or empty one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class SecurityHeaders:
    """Adds the strict headers to every response, and ``Server-Timing`` (what the benchmark reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
            await send(message)

        await self.app(scope, receive, with_headers)


class TokenGate:
    """Every request must carry the token (bearer header, cookie, or ``?token=`` once)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        authorization = request.headers.get("authorization", "")
        bearer = authorization[7:] if authorization.lower().startswith("bearer ") else None
        if same(bearer, self.token) or same(request.cookies.get(TOKEN_COOKIE), self.token):
            await self.app(scope, receive, send)
            return
        response: Response
        if same(request.query_params.get("token"), self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(str(URL(scope=scope).replace(query=urlencode(rest))), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
        else:
            response = PlainTextResponse(
                "qpan: a token is required (open the page with ?token=… or send Authorization: Bearer …)\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        await response(scope, receive, send)


def csrf_token(request: Request) -> tuple[str, bool]:
    """The page's CSRF token, and whether it is new (then the response must set the cookie)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and len(current) >= 32:
        return current, False
    return secrets.token_urlsafe(32), True


def set_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")


def csrf_valid(request: Request, submitted: str | None) -> bool:
    return same(submitted, request.cookies.get(CSRF_COOKIE))
