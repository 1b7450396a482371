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
# JSON answers run nothing. Pages (GraphiQL in development and demo, the members' web app)
# load everything from this server and have no inline script. Styles need 'unsafe-inline':
# GraphiQL's dialogs add a <style> element when they open (react-remove-scroll-bar), whose
# text depends on the scrollbar's width, so no hash can name it; a style runs no code.
# GraphiQL's fonts are data: URIs.
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
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
