"""Idempotency keys for mutations: the same key again returns the first result.

A mutation's input may carry `idempotencyKey`. Before anything is sent to the chain the
key is claimed in its own committed row (the operation and a hash of the input: the
intended call). The payload the mutation returns is stored in that row in the same
database transaction as the records it wrote, so either both are there or neither is. A
refused mutation releases the key (nothing was written; the client may fix the input and
retry with it). A crash after the transaction was sent leaves the row `pending`: a retry
with the key then gets INVALID_STATE and the chain-derived `events` feed tells what
happened, instead of the step being sent twice.
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


def claim(
    engine: Any, principal: str, key: str, operation: str, digest: str
) -> dict[str, Any] | None:
    """Claim `key` for this call; or, if it was used before, the stored payload (as JSON).

    Raises VALIDATION if the key was used for another operation or input, INVALID_STATE if
    the first call with it has not finished."""
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
        return None
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
        if row.state != "done" or row.result is None:
            raise InvalidState(
                f"the request with idempotency key {key!r} has not finished (or was interrupted); "
                "check `events` for its outcome before sending it again under a new key"
            )
        return row.result


def complete(session: Session, principal: str, key: str, payload: Any) -> None:
    """Store the payload with the records the mutation wrote (same transaction)."""
    row = session.get(IdempotentRequest, (principal, key))
    if row is None:
        return
    row.state, row.result, row.completed_at = "done", snapshot(payload), utcnow()
    session.add(row)


def release(engine: Any, principal: str, key: str) -> None:
    with session_scope(engine) as session:
        row = session.get(IdempotentRequest, (principal, key))
        if row is not None and row.state == "pending":
            session.delete(row)


# ------------------------------------------------------------------ payloads as JSON


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in an idempotency record")


def snapshot(payload: Any) -> dict[str, Any]:
    """A payload object as JSON (round-trips through `revive`)."""
    return json.loads(json.dumps(dataclasses.asdict(payload), default=_plain))


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
