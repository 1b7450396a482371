"""Idempotency keys for mutations: the same key again returns the first result.

A mutation's input may carry `idempotencyKey`. Before anything is sent to the chain the
key is claimed in its own committed row (`pending`: the operation and a hash of the
input, the intended call). When the mutation's first transaction is committed to the
outbox, the row becomes `sent` in the same store transaction (cooperative.outbox): from
then on the outcome is the chain's. The payload the mutation returns is stored in the
row (`done`) in the same database transaction as the records it wrote.

- Any failure before a transaction was recorded releases the key: nothing happened, the
  client may fix the input and retry with it.
- A retry of a `sent` key whose first attempt died (the server was killed, the node went
  away) runs the mutation again answering from the recorded transactions instead of
  signing new ones (cooperative.api.context.mutate): the same bytes, never a second step.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition

from cooperative.errors import InvalidState, ValidationFailed
from cooperative.store.database import session_scope
from cooperative.store.models import IdempotentRequest, utcnow

P = TypeVar("P")
MAX_KEY_LENGTH = 100


def input_hash(input: Any) -> str:
    """A stable hash of a mutation's input, without the key itself."""
    fields = {k: v for k, v in dataclasses.asdict(input).items() if k != "idempotency_key"}
    text = json.dumps(fields, sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Claim:
    """What a key's row says: a fresh claim, a first attempt that sent transactions and
    never finished (`interrupted`), or the payload of a finished one (`result`)."""

    interrupted: bool = False
    result: dict[str, Any] | None = None


def claim(engine: Any, principal: str, key: str, operation: str, digest: str) -> Claim:
    """Claim `key` for this call, or say what its first use left.

    Raises VALIDATION if the key was used for another operation or input. The caller makes
    sure no attempt with the key is running (`outbox.InFlight`): a row still `pending` is one a
    dead attempt left before it recorded anything, and is taken over."""
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise ValidationFailed(
            f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    try:
        with session_scope(engine) as session:
            session.add(
                IdempotentRequest(
                    principal=principal, key=key, operation=operation, input_hash=digest
                )
            )
        return Claim()
    except IntegrityError:
        pass  # used before (or concurrently): answer from the first call
    with session_scope(engine) as session:
        row = session.get(IdempotentRequest, (principal, key))
        if row is None:  # released meanwhile by a refused first call
            return claim(engine, principal, key, operation, digest)
        if row.operation != operation or row.input_hash != digest:
            raise ValidationFailed(
                f"idempotency key {key!r} was already used for a different request",
                field="idempotencyKey",
            )
        if row.state == "done" and row.result is not None:
            return Claim(result=row.result)
        if row.state == "sent":
            return Claim(interrupted=True)
        return Claim()  # pending: left by an attempt that died before it sent anything


def complete(session: Session, principal: str, key: str, payload: Any) -> None:
    """Store the payload with the records the mutation wrote (same transaction)."""
    row = session.get(IdempotentRequest, (principal, key))
    if row is None:
        return
    row.state, row.result, row.completed_at = "done", snapshot(payload), utcnow()
    session.add(row)


def release(engine: Any, principal: str, key: str) -> None:
    """Forget a claim whose request changed nothing (no transaction recorded)."""
    with session_scope(engine) as session:
        row = session.get(IdempotentRequest, (principal, key))
        if row is not None and row.state == "pending":
            session.delete(row)


def reopen(engine: Any, principal: str, key: str) -> None:
    """Let a retry run again: every transaction the request recorded reverted."""
    with session_scope(engine) as session:
        row = session.get(IdempotentRequest, (principal, key))
        if row is not None and row.state == "sent":
            session.delete(row)


# ------------------------------------------------------------------ payloads as JSON


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in an idempotency record")


def _stored(value: Any) -> Any:
    """A payload's stored fields, recursively: not those a resolver computes when it is
    read (e.g. a ticket's suggested root causes), which the answer computes afresh."""
    if has_object_definition(type(value)):
        return {
            f.python_name: _stored(getattr(value, f.python_name))
            for f in type(value).__strawberry_definition__.fields
            if f.base_resolver is None
        }
    if isinstance(value, list | tuple):
        return [_stored(item) for item in value]
    return value


# The shape of the answers stored: a release that changes what a payload holds (2: global
# ids) raises it, and a key answered before is then told so rather than sent a mis-shaped
# answer (its records are as the first request made them; it reads them).
SNAPSHOT_FORMAT = 2


def snapshot(payload: Any) -> dict[str, Any]:
    """A payload object as JSON (round-trips through `revived`)."""
    return {
        "format": SNAPSHOT_FORMAT,
        "payload": json.loads(json.dumps(_stored(payload), default=_plain)),
    }


def revived(kind: Any, stored: dict[str, Any]) -> Any:
    """The payload of type `kind` that a key's first request answered."""
    if stored.get("format") != SNAPSHOT_FORMAT:
        raise InvalidState(
            "this idempotency key's request was done under an earlier release, whose answer "
            "had another shape: it changed nothing now; read the records it made"
        )
    return revive(kind, stored["payload"])


def revive(kind: Any, value: Any) -> Any:
    """Rebuild a GraphQL payload object of type `kind` from its `snapshot`."""
    if value is None:
        return None
    if isinstance(kind, StrawberryOptional):
        return revive(kind.of_type, value)
    if isinstance(kind, StrawberryList):
        return [revive(kind.of_type, item) for item in value]
    if has_object_definition(kind):
        fields = kind.__strawberry_definition__.fields
        return kind(
            **{
                f.python_name: revive(f.type, value[f.python_name])
                for f in fields
                if f.python_name in value
            }
        )
    if isinstance(kind, StrawberryEnumDefinition):
        return kind.wrapped_cls(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    return value
