"""Limits at the edge, before anything parses a request: its size, its encoding, its JSON
nesting, its shape. A request over them is a client error (4xx, one error body), never a
crash: Python's JSON parser recurses once per nesting level, and a dependency (py_ecc)
raises the recursion limit so far that a deep enough body overflows the C stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from cooperative.errors import ErrorCode

# Limits on what one request may ask (DESIGN: "query depth, token and alias limits"),
# enforced by the schema's extensions (cooperative.api.schema)
MAX_QUERY_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_BODY_BYTES = 1 << 20  # a GraphQL request; a 500-row batch is ~200 KB
MAX_JSON_DEPTH = 32  # variables nest a few levels (an input, a list of inputs, a details map)
# A body this small is checked on the event loop (well under a millisecond), and may be
# answered from the answer cache (cooperative.api.answers); a larger one is checked in a
# worker thread, which costs a hand-over each way.
INLINE_CHECK_BYTES = 4 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A JSON string, or an unterminated one to the end of the body. Possessive, so each quote
# is scanned once: `"\"\"\"…` with no closing quote made the backtracking form quadratic
# (a 1 MiB body would have held the server for an hour). An unterminated string is not
# JSON anyway: json.loads refuses the body after the depth check.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte but the brackets


def error_body(code: ErrorCode, message: str) -> dict[str, Any]:
    """The one shape of an error the server answers outside a GraphQL result."""
    return {"errors": [{"message": message, "extensions": {"code": code.value}}]}


class RefusedBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def json_depth(body: bytes) -> int:
    """How deep the JSON nests, without parsing it (linear; strings do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, _BRACKETS)
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets), default=0)


def check_body(body: bytes, what: str = "the request body") -> None:
    """A GraphQL request body as the server accepts it (or, `what` saying so, a GET
    request's `variables`): UTF-8 JSON, an object, nesting at most MAX_JSON_DEPTH levels."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedBody(400, f"{what} is not valid UTF-8") from None
    if json_depth(body) > MAX_JSON_DEPTH:
        raise RefusedBody(400, f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        parsed = json.loads(body)
    except ValueError:
        raise RefusedBody(400, f"{what} is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RefusedBody(400, f'{what} is a JSON object: {{"query": …, "variables": {{…}}}}')
    if not _is_unicode_text(parsed):
        raise RefusedBody(400, f"{what} holds a lone UTF-16 surrogate (such as \\ud800): not text")


def _is_unicode_text(value: Any) -> bool:
    """Whether every string in parsed JSON is Unicode text: JSON may escape half a
    surrogate pair (`"\\ud800"`), which no database, hash or signature can encode."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class RequestLimits:
    """ASGI middleware: a POST request's body must be JSON (`Content-Type:
    application/json`, the only body the API takes), read whole up to MAX_BODY_BYTES and
    checked (check_body) before anything parses it; a GET request's `variables` (GraphiQL's
    GET queries, in development) are checked the same way. The checks of all but small
    bodies run in a worker thread: a 1 MiB body must not hold the event loop, and /health
    with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "GET"):
            await self.app(scope, receive, send)
            return
        try:
            if scope["method"] == "GET":
                json_values = _json_parameters(scope)
                if json_values:  # /health and pages have none: they never wait for a thread
                    await run_in_threadpool(_check_parameters, json_values)
                await self.app(scope, receive, send)
                return
            if not _is_json(scope):
                # Strawberry would parse any type that merely contains "json" (or a form),
                # past every check here
                raise RefusedBody(
                    415, "send the request as JSON, with Content-Type: application/json"
                )
            body = await self._read(scope, receive)
            if len(body) <= INLINE_CHECK_BYTES:
                check_body(body)
            else:
                await run_in_threadpool(check_body, body)
        except RefusedBody as refused:
            response = JSONResponse(
                error_body(ErrorCode.VALIDATION, refused.message), status_code=refused.status
            )
            await response(scope, receive, send)
            return
        await self.app(
            scope,
            replaying({"type": "http.request", "body": body, "more_body": False}, receive),
            send,
        )

    @staticmethod
    async def _read(scope: Scope, receive: Receive) -> bytes:
        too_big = RefusedBody(413, f"the request body is larger than {MAX_BODY_BYTES:,} bytes")
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > MAX_BODY_BYTES:
                        raise too_big
                except ValueError:
                    raise RefusedBody(400, "the Content-Length header is not a number") from None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise too_big
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


# The GET parameters Strawberry parses as JSON (it reads them before it refuses a GET)
JSON_PARAMETERS = ("variables", "extensions")


def _json_parameters(scope: Scope) -> list[tuple[str, str]]:
    """A GET request's JSON parameters, decoded as the server decodes them (`%76ariables`
    is `variables`)."""
    query = scope.get("query_string", b"")
    if not query:
        return []
    if len(query) > MAX_BODY_BYTES:
        raise RefusedBody(414, f"the query string is longer than {MAX_BODY_BYTES:,} bytes")
    parameters = parse_qs(query.decode("latin-1"), encoding="utf-8", errors="surrogateescape")
    return [(name, value) for name in JSON_PARAMETERS for value in parameters.get(name, [])]


def _check_parameters(values: list[tuple[str, str]]) -> None:
    for name, value in values:
        check_body(value.encode("utf-8", errors="surrogateescape"), f"the request's {name}")


def replaying(message: Message, receive: Receive) -> Receive:
    """`receive` with `message` (the body, read already) handed out first."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # (a disconnect)
        delivered = True
        return message

    return replay


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False
