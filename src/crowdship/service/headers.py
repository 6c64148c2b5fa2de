"""Headers on every API answer, and cross-origin access (closed unless configured).

Plain ASGI: the headers are added to the response's start message, so nothing is buffered.
A header the route set itself (a photo's ``Cache-Control``) is kept.
"""

from __future__ import annotations

from typing import Any

# On every answer: no content sniffing, no Referer carrying a tracking link's token.
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
# Answers that carry tokens or set the sign-in cookie: never kept by a cache.
NO_STORE = ((b"cache-control", b"no-store"),)
NO_STORE_PREFIX = "/auth/"


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = ALWAYS + NO_STORE if scope["path"].startswith(NO_STORE_PREFIX) else ALWAYS

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def cors_options(origins: list[str]) -> dict[str, Any]:
    """CORSMiddleware's options for these origins: bearer tokens, not cookies, cross-site
    (the sign-in cookie is SameSite=Strict anyway)."""
    return {
        "allow_origins": origins,
        "allow_credentials": False,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type", "Idempotency-Key"],
        "expose_headers": ["Retry-After", "Location"],
        "max_age": 600,
    }
