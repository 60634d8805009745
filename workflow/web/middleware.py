"""The outermost layer of every request: its channel, security headers, and a last 500 page.

A plain ASGI middleware (not BaseHTTPMiddleware) so that the headers go on every response,
also the 404 of an unknown path and the 500 of a failing route.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.channel import acting_through

log = logging.getLogger("workflow.web")

# No inline script or style anywhere: everything comes from /static. htmx is told not to
# inject its indicator style (meta htmx-config in the layout), so style-src needs no exception.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _host_of(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            host = value.decode("latin-1")
            return host.rsplit(":", 1)[0] if not host.endswith("]") else host
    server = scope.get("server")
    return str(server[0]) if server else ""


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loopback = _host_of(scope).lower() in _LOOPBACK_HOSTS or _host_of(scope).startswith("127.")
        started = False
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if not loopback:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        channel: Any = "api" if path.startswith("/api/") else "web"
        with acting_through(channel):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                log.exception("fel i %s %s", scope.get("method"), path)
                if not started:
                    from workflow.web.errors import server_error_response

                    response = server_error_response(scope)
                    await response(scope, receive, send_with_headers)
                raise
