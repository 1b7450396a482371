"""A caller's query answers, kept while the store's version stands (ASGI middleware).

An ERP polls the same few queries (`orders(first: 50)`, `troubleTickets`, `invoices`)
far more often than anything changes. Such a query, sent again with the same key and the
same body, is answered with the bytes of its last answer as long as the store's version
(cooperative.store.database, one number every writing transaction moves) is the one that
answer was computed at: no GraphQL execution, no SQL but that one number, no
authentication but the comparison of the exact `Authorization` header that was
authenticated for it. Any write (a mutation, a block the follower projected, a revoked
key) moves the version, so a member always reads its own writes, in every worker.

Only what is a function of the store and the caller alone is kept: operations whose root
fields are all in CACHED_FIELDS, answered without an error and without reading the
chain's clock (a page holding a resolved ticket in its closing window does), and never
while the chain node is being rebuilt (queries answer UNAVAILABLE then). Answers are keyed by the
credential, so nothing is ever shared between keys, let alone members.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from cooperative import apikeys
from cooperative.api.limits import (
    INLINE_CHECK_BYTES,
    MAX_TOKENS,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
)
from cooperative.apikeys import LAST_USED_RESOLUTION
from cooperative.store.database import StoreVersionReader
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

# Root query fields whose answers depend on the store and the caller's identity only: no
# chain read (each was checked for one; add a field only after doing so). A field that may
# read the chain's clock is here only if the service says so when it does (chain_now).
CACHED_FIELDS = frozenset(
    {
        "me",
        "members",
        "orders",
        "order",
        "services",
        "service",
        "troubleTickets",
        "troubleTicket",
        "slaCredits",
        "invoices",
        "invoice",
    }
)
# Set in the request's scope by a resolver whose answer read the chain's clock
# (cooperative.api.context.Context.read_the_clock): such an answer is not kept.
READ_THE_CLOCK = "coop.read_the_clock"
MAX_ANSWERS = 4_096
MAX_ANSWER_BYTES = 512 * 1024  # a 50-row page is ~15 KB
MAX_CACHED_BYTES = 64 * 1024 * 1024
MAX_DOCUMENTS = 1_024  # query texts classified (cached or not)
# An answer's key was authenticated at most this long ago, so `lastUsedAt` stays as exact
# as authentication keeps it.
REAUTHENTICATE_SECONDS = LAST_USED_RESOLUTION.total_seconds()


@dataclass(frozen=True)
class Answer:
    version: int
    authenticated_at: float  # time.monotonic()
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def is_cached_document(query: str, operation_name: str | None) -> bool:
    """Whether the operation `operation_name` of `query` reads only CACHED_FIELDS (at its
    root, by name: a fragment at the root is not looked into, and is not cached)."""
    try:  # (on the event loop: bounded as the schema bounds every document)
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in CACHED_FIELDS
        for selection in operations[0].selection_set.selections
    )


def _authorization(scope: Scope) -> bytes | None:
    return next((v for k, v in scope["headers"] if k == b"authorization"), None)


def _locked(scope: Scope) -> bool:
    """Whether the key is locked by failed guesses of its secret: then even its right
    secret is refused (cooperative.apikeys), so its answers are not given either."""
    key_id = apikeys.key_id_of((_authorization(scope) or b"").decode("latin-1"))
    return key_id is None or apikeys.failed_authentications.is_locked(key_id)


class Answers:
    """The answers kept, least recently used first, with the store's version they hold at;
    touched only on the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.version = StoreVersionReader(engine)  # on the event loop: ~5 µs on SQLite
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0  # (operational figures)

    def get(self, key: bytes, version: int) -> Answer | None:
        answer = self._answers.get(key)
        if (
            answer is None
            or answer.version != version
            or time.monotonic() - answer.authenticated_at >= REAUTHENTICATE_SECONDS
        ):
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return answer

    def keep(self, key: bytes, answer: Answer) -> None:
        previous = self._answers.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.body)
        self._answers[key] = answer
        self._bytes += len(answer.body)
        while len(self._answers) > MAX_ANSWERS or self._bytes > MAX_CACHED_BYTES:
            _, evicted = self._answers.popitem(last=False)
            self._bytes -= len(evicted.body)


class AnswerCache:
    """ASGI middleware over Answers, inside RequestLimits: the body it sees is whole and
    checked already."""

    def __init__(self, app: ASGIApp, answers: Answers, chain_ready: Callable[[], bool]) -> None:
        self.app = app
        self.answers = answers
        self.chain_ready = chain_ready
        self._documents: OrderedDict[tuple[str, str | None], bool] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        message = await receive()
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return message

        key = None if message.get("more_body") else self._key(scope, message.get("body", b""))
        version = self.answers.version.read() if key is not None and self.chain_ready() else None
        if key is None or version is None:
            await self.app(scope, replay, send)
            return
        answer = self.answers.get(key, version)
        if answer is not None and not _locked(scope):
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
            )
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._answer_and_keep(scope, replay, send, key, version)

    async def _answer_and_keep(
        self, scope: Scope, receive: Receive, send: Send, key: bytes, version: int
    ) -> None:
        authenticated_at = time.monotonic()
        status, headers = 0, []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                # copied now: the middleware outside adds its headers to this very message
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if status != 200 or len(body) > MAX_ANSWER_BYTES or scope.get(READ_THE_CLOCK):
            return
        try:
            if json.loads(body).get("errors"):
                return  # an error is answered afresh each time (UNAVAILABLE passes)
        except ValueError:
            return
        self.answers.keep(key, Answer(version, authenticated_at, status, headers, body))

    def _key(self, scope: Scope, body: bytes) -> bytes | None:
        """The answer's key (the credential and the body, hashed), or None for a request
        that is not cached."""
        authorization = _authorization(scope)
        # (a larger body is no polled query, and parsing it here would hold the event loop)
        if not authorization or len(body) > INLINE_CHECK_BYTES:
            return None
        try:
            request = json.loads(body)
        except ValueError:
            return None
        if not isinstance(request, dict) or request.get("extensions"):
            return None  # (signed transactions ride in extensions)
        query, name = request.get("query"), request.get("operationName")
        if not isinstance(query, str) or not isinstance(name, str | None):
            return None
        if not self._is_cached(query, name):
            return None
        return hashlib.sha256(authorization + b"\n" + body).digest()

    def _is_cached(self, query: str, operation_name: str | None) -> bool:
        found = self._documents.get((query, operation_name))
        if found is None:
            found = is_cached_document(query, operation_name)
            self._documents[(query, operation_name)] = found
            if len(self._documents) > MAX_DOCUMENTS:
                self._documents.popitem(last=False)
        else:
            self._documents.move_to_end((query, operation_name))
        return found
