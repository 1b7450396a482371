"""A caller's query answers, kept while the store's version stands.

An ERP polls the same few queries (`orders(first: 50)`, `troubleTickets`, `invoices`)
far more often than anything changes. Such a query, sent again with the same key and the
same body, is answered with the bytes of its last answer as long as the store's version
(cooperative.store.database, one number every writing transaction moves) is the one that
answer was computed at: no GraphQL execution, no SQL but that one number, no
authentication but the comparison of the exact `Authorization` header that was
authenticated for it. Any write (a mutation, a block the follower projected, a revoked
key) moves the version, so a member always reads its own writes, in every worker.

Two parts: the schema extension `KeptAnswers` decides, where the operation is parsed and
executed already, whether an answer may be kept, and says so in the request's scope; the
ASGI middleware `AnswerCache` answers from the kept ones and keeps what it was told to.
On the event loop it only hashes the credential and the body and reads the version.

Only what is a function of the store and the caller alone is kept: queries whose root
fields are all in CACHED_FIELDS, answered without an error and without reading the
chain's clock (a page holding a resolved ticket in its closing window does), and never
while the chain node is being rebuilt (queries answer UNAVAILABLE then). Answers are
keyed by the credential, so nothing is ever shared between keys, let alone members. An
answer is used for a minute at most (the key is then authenticated again), which also
bounds how stale a write the version did not see (a hand-made SQL statement) leaves it.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from strawberry.extensions import SchemaExtension

from cooperative import apikeys
from cooperative.api.limits import (
    INLINE_CHECK_BYTES,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    replaying,
)
from cooperative.apikeys import LAST_USED_RESOLUTION
from cooperative.store.database import StoreVersionReader
from graphql import FieldNode, OperationType, get_operation_ast

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
# Flags in the request's scope (Context.note): the answer may be kept; it read the clock.
KEEP = "coop.keep_answer"
READ_THE_CLOCK = "coop.read_the_clock"
MAX_ANSWERS = 4_096
MAX_ANSWERS_PER_KEY = 64  # so that one key's many bodies cannot push out everyone's answers
MAX_ANSWER_BYTES = 512 * 1024  # a 50-row page is ~15 KB
MAX_CACHED_BYTES = 64 * 1024 * 1024
# An answer's key was authenticated at most this long ago, so `lastUsedAt` stays as exact
# as authentication keeps it.
REAUTHENTICATE_SECONDS = LAST_USED_RESOLUTION.total_seconds()


@dataclass(frozen=True)
class Answer:
    credential: bytes  # (the hashed Authorization header)
    version: int
    authenticated_at: float  # time.monotonic()
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class KeptAnswers(SchemaExtension):
    """Marks a request whose answer may be kept: a query of CACHED_FIELDS only (by name at
    its root: a fragment there is not looked into, and is not kept), answered without an
    error."""

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result, document = context.result, context.graphql_document
        if result is None or result.errors or context.pre_execution_errors or document is None:
            return
        operation = get_operation_ast(document, context.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        if all(
            isinstance(selection, FieldNode) and selection.name.value in CACHED_FIELDS
            for selection in operation.selection_set.selections
        ):
            context.context.note(KEEP)


class Answers:
    """The answers kept, least recently used first, with the store's version they hold at;
    touched only on the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.version = StoreVersionReader(engine)
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._by_credential: dict[bytes, OrderedDict[bytes, None]] = {}  # oldest first
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
        self._by_credential[answer.credential].move_to_end(key)
        self.hits += 1
        return answer

    def keep(self, key: bytes, answer: Answer) -> None:
        previous = self._answers.get(key)
        if previous is not None and previous.version > answer.version:
            return  # a slower request computed it at an older version
        if previous is not None:
            self._drop(key)
        self._answers[key] = answer
        self._bytes += len(answer.body)
        mine = self._by_credential.setdefault(answer.credential, OrderedDict())
        mine[key] = None
        if len(mine) > MAX_ANSWERS_PER_KEY:
            self._drop(next(iter(mine)))
        while len(self._answers) > MAX_ANSWERS or self._bytes > MAX_CACHED_BYTES:
            self._drop(next(iter(self._answers)))

    def _drop(self, key: bytes) -> None:
        answer = self._answers.pop(key)
        self._bytes -= len(answer.body)
        mine = self._by_credential[answer.credential]
        del mine[key]
        if not mine:
            del self._by_credential[answer.credential]

    def close(self) -> None:
        self.version.close()


class AnswerCache:
    """ASGI middleware over Answers, inside RequestLimits: the body it sees is whole and
    checked already."""

    def __init__(self, app: ASGIApp, answers: Answers, chain_ready: Callable[[], bool]) -> None:
        self.app = app
        self.answers = answers
        self.chain_ready = chain_ready

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        message = await receive()
        receive = replaying(message, receive)
        keys = None if message.get("more_body") else _keys(scope, message.get("body", b""))
        version = self.answers.version.read() if keys is not None and self.chain_ready() else None
        if keys is None or version is None:
            await self.app(scope, receive, send)
            return
        credential, key = keys
        answer = self.answers.get(key, version)
        if answer is not None:
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
            )
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._answer_and_keep(scope, receive, send, credential, key, version)

    async def _answer_and_keep(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        credential: bytes,
        key: bytes,
        version: int,
    ) -> None:
        authenticated_at = time.monotonic()
        status, headers, size = 0, [], 0
        chunks: list[bytes] | None = []

        async def capture(message: Message) -> None:
            nonlocal status, headers, size, chunks
            if message["type"] == "http.response.start":
                # copied now: the middleware outside adds its headers to this very message
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body" and chunks is not None:
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
                if size > MAX_ANSWER_BYTES:
                    chunks = None  # too large to keep: not held either
            await send(message)

        await self.app(scope, receive, capture)
        if chunks is None or status != 200 or not scope.get(KEEP) or scope.get(READ_THE_CLOCK):
            return
        self.answers.keep(
            key, Answer(credential, version, authenticated_at, status, headers, b"".join(chunks))
        )


def _keys(scope: Scope, body: bytes) -> tuple[bytes, bytes] | None:
    """The credential (the hashed `Authorization` header) and the key an answer to this
    request is kept under (the credential and the body, hashed); or None: no well-formed
    key (the app refuses it, as ever), a key locked by failed guesses of its secret (even
    its right secret is refused then, see cooperative.apikeys), or a body larger than a
    polled query's."""
    authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    key_id = apikeys.key_id_of(authorization.decode("latin-1"))
    if key_id is None or len(body) > INLINE_CHECK_BYTES:
        return None
    if apikeys.failed_authentications.is_locked(key_id):
        return None
    credential = hashlib.sha256(authorization).digest()
    return credential, hashlib.sha256(credential + b"\n" + body).digest()
