"""Security headers on every response (ASGI middleware, so no request pays for more than
a few appended headers). Answers carry members' private records: nothing may cache them,
frame them, sniff them into something else, or load them cross-origin. Cross-origin calls
are denied unless `COOP_CORS_ORIGINS` names the origin (Starlette's CORSMiddleware)."""

from __future__ import annotations

from cooperative.api.limits import ASGIApp, Message, Receive, Scope, Send

HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"strict-transport-security", b"max-age=31536000"),  # heeded over HTTPS only
]
# JSON answers run nothing; the GraphiQL page (development and demo only) loads its
# scripts and styles from its CDN.
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    b"style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                is_page = any(
                    name == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                headers += HEADERS
                headers.append((b"content-security-policy", PAGE_POLICY if is_page else API_POLICY))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
