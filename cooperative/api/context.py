"""The request context: the platform, the authenticated viewer, and the one way
resolvers open the data-access layer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from sqlmodel import Session
from strawberry.fastapi import BaseContext
from strawberry.types import Info
from web3.exceptions import BadFunctionCallOutput, MismatchedABI

from cooperative.access import DataAccess, Viewer
from cooperative.api import idempotency
from cooperative.api.answers import READ_THE_CLOCK
from cooperative.api.inputs import check_input
from cooperative.api.types import UserError
from cooperative.errors import (
    CoopError,
    SignatureRequired,
    TimedOut,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from cooperative.outbox import request_context
from cooperative.platform import Platform
from cooperative.signing import parse_signed_transactions, supplying
from cooperative.store.database import session_scope
from cooperative.store.models import OutboxState
from deployments.chain import ChainError

P = TypeVar("P")


REQUEST_BUDGET_SECONDS = 10.0


class Context(BaseContext):
    def __init__(self, platform: Platform, viewer: Viewer | None) -> None:
        super().__init__()
        self.platform = platform
        self._viewer = viewer
        self.deadline = time.monotonic() + REQUEST_BUDGET_SECONDS
        # the request's `extensions.signedTransactions`, as sent (parsed by mutate)
        self.signed_transactions: object = None

    def within_budget(self) -> None:
        """Every resolver that reads or writes starts here: once a request has run past
        its time budget, the rest of it is refused (a write already started finishes; one
        not started does not start)."""
        if time.monotonic() > self.deadline:
            raise TimedOut(
                f"the request ran past its time budget of {REQUEST_BUDGET_SECONDS:g} s: "
                "ask for less at once (fewer aliases, smaller pages) and send it again"
            )

    def note(self, flag: str) -> None:
        """A flag in the request's scope, for the middleware around the schema (the
        answer cache's, cooperative.api.answers)."""
        request = getattr(self, "request", None)  # (Strawberry sets it)
        if request is not None:
            request.scope[flag] = True

    @property
    def viewer(self) -> Viewer:
        if self._viewer is None:
            raise Unauthenticated("an API key is required: send `Authorization: Bearer <key>`")
        return self._viewer

    @contextmanager
    def access(self, *, read_only: bool = False) -> Iterator[DataAccess]:
        """A data-access layer for this viewer in a session that commits on success and
        rolls back on any error; a read-only one (queries) never writes anything."""
        viewer = self.viewer
        if read_only:
            with Session(self.platform.engine, expire_on_commit=False) as session:
                try:
                    yield DataAccess(session, viewer)
                finally:
                    session.rollback()
            return
        with session_scope(self.platform.engine) as session:
            yield DataAccess(session, viewer)


AppInfo = Info[Context, None]


def _chain_ready(info: AppInfo) -> None:
    if info.context.platform.chain_status != "ok":
        raise Unavailable(
            "the chain node is restarting and rebuilding its last blocks: retry shortly"
        )


def mutate(
    info: AppInfo,
    payload: Callable[..., P],
    work: Callable[[DataAccess], P],
    input: Any = None,
) -> P:
    """Run a mutation's `work` in one transaction, once `input` passed check_input; a
    CoopError rolls everything back and comes back in the payload's `errors`, with its
    code. When `input` carries an `idempotency_key`, the same key again returns the first
    payload (see idempotency); a first attempt that died after recording its transactions
    is finished by the retry, from those transactions (see cooperative.outbox). The
    transactions a member holding its own key signed come with the request
    (cooperative.signing)."""
    key: str | None = getattr(input, "idempotency_key", None)
    platform = info.context.platform
    try:
        info.context.within_budget()
        check_input(input)
        signed = parse_signed_transactions(info.context.signed_transactions)
        _chain_ready(info)
        if key is None:
            with (
                node_errors(),
                supplying(signed),
                request_context(),
                info.context.access() as access,
            ):
                return work(access)
        principal = info.context.viewer.principal
        with platform.in_flight.hold(principal, key), supplying(signed):
            claim = idempotency.claim(
                platform.engine, principal, key, info.field_name, idempotency.input_hash(input)
            )
            if claim.result is not None:
                return idempotency.revived(payload, claim.result)
            recorded = platform.outbox.entries_of_key(principal, key) if claim.interrupted else None
            seed = platform.keystore.derive(f"salts\x00{principal}\x00{key}")
            with request_context(principal, key, replay=recorded, salt_seed=seed):
                try:
                    with node_errors(), info.context.access() as access:
                        result = work(access)
                        idempotency.complete(access.session, principal, key, result)
                        return result
                except BaseException:
                    _settle_key(platform, principal, key)
                    raise
    except SignatureRequired as error:
        return payload(errors=[UserError.signature_required(error, platform.describe_call)])
    except CoopError as error:
        return payload(errors=[UserError.from_error(error)])


def _settle_key(platform: Platform, principal: str, key: str) -> None:
    """After a failed attempt: a key whose request recorded nothing is released, and so is
    one whose every transaction reverted or was dropped (nothing changed); else a retry
    finishes it."""
    recorded = platform.outbox.entries_of_key(principal, key)
    if not recorded:
        idempotency.release(platform.engine, principal, key)
    elif all(entry.state in (OutboxState.REVERTED, OutboxState.DROPPED) for entry in recorded):
        idempotency.reopen(platform.engine, principal, key)


def query(info: AppInfo, work: Callable[[DataAccess], Any]) -> Any:
    """Run a query's `work` in a read-only session: no query writes."""
    info.context.within_budget()
    _chain_ready(info)
    with node_errors(), info.context.access(read_only=True) as access:
        result = work(access)
        if access.read_the_clock:
            info.context.note(READ_THE_CLOCK)  # the answer is not the store's alone
        return result


@contextmanager
def node_errors() -> Iterator[None]:
    """A chain read that finds the node gone (restarting, or the network down) is
    UNAVAILABLE, whichever client library noticed it. A value the contract's ABI cannot
    encode is the client's: the checks before sending (check_input, the scalars) should
    have caught it, and this is the net under them."""
    try:
        yield
    except MismatchedABI as exc:
        raise ValidationFailed(
            "a value is outside the range the contract takes (too large, or negative)"
        ) from exc
    except (
        ChainError,
        ConnectionError,  # the embedded node's socket (deployments.ipc.NodeUnreachable)
        requests.ConnectionError,
        requests.Timeout,
        BadFunctionCallOutput,  # no code at a module's address: a node still being rebuilt
    ) as exc:
        raise Unavailable(
            "the chain node cannot be reached; the platform is reconnecting: retry shortly"
        ) from exc


IDEMPOTENCY_KEY = (
    "Optional: a key of your choosing. Sending the same mutation with the same key again "
    "returns the first result and changes nothing."
)
