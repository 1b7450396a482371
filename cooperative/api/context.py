"""The request context: the platform, the authenticated viewer, and the one way
resolvers open the data-access layer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from strawberry.fastapi import BaseContext
from strawberry.types import Info

from cooperative.access import DataAccess, Viewer
from cooperative.api import idempotency
from cooperative.api.types import UserError
from cooperative.errors import CoopError, Unauthenticated
from cooperative.platform import Platform
from cooperative.store.database import session_scope

P = TypeVar("P")


class Context(BaseContext):
    def __init__(self, platform: Platform, viewer: Viewer | None) -> None:
        super().__init__()
        self.platform = platform
        self._viewer = viewer

    @property
    def viewer(self) -> Viewer:
        if self._viewer is None:
            raise Unauthenticated("an API key is required: send `Authorization: Bearer <key>`")
        return self._viewer

    @contextmanager
    def access(self) -> Iterator[DataAccess]:
        """A data-access layer for this viewer in a session that commits on success and
        rolls back on any error."""
        viewer = self.viewer
        with session_scope(self.platform.engine) as session:
            yield DataAccess(session, viewer)


AppInfo = Info[Context, None]


def mutate(
    info: AppInfo,
    payload: Callable[..., P],
    work: Callable[[DataAccess], P],
    input: Any = None,
) -> P:
    """Run a mutation's `work` in one transaction; a CoopError rolls everything back and
    comes back in the payload's `errors`, with its code. When `input` carries an
    `idempotency_key`, the same key again returns the first payload (see idempotency)."""
    key: str | None = getattr(input, "idempotency_key", None)
    engine = info.context.platform.engine
    try:
        if key is None:
            with info.context.access() as access:
                return work(access)
        principal = info.context.viewer.principal
        first = idempotency.claim(
            engine, principal, key, info.field_name, idempotency.input_hash(input)
        )
        if first is not None:
            return idempotency.revive(payload, first)
        try:
            with info.context.access() as access:
                result = work(access)
                idempotency.complete(access.session, principal, key, result)
                return result
        except CoopError:
            idempotency.release(engine, principal, key)
            raise
    except CoopError as error:
        return payload(errors=[UserError.from_error(error)])


def query(info: AppInfo, work: Callable[[DataAccess], Any]) -> Any:
    """Run a query's `work` in a read session."""
    with info.context.access() as access:
        return work(access)


IDEMPOTENCY_KEY = (
    "Optional: a key of your choosing. Sending the same mutation with the same key again "
    "returns the first result and changes nothing."
)
