"""The one translation of the chain's refusals into the error vocabulary.

A contract's revert reason says what went wrong; here it becomes a code a client can act
on: INVALID_STATE for "not now" (a sender without funds for gas too), FORBIDDEN for "not
you", VALIDATION for bad values, CHAIN_REVERT for anything else, UNAVAILABLE when the node
cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cooperative.errors import ChainReverted, Forbidden, InvalidState, Unavailable, ValidationFailed
from deployments.chain import ChainError, ChainRevert, InsufficientFunds
from governance.service import GovernanceError

_INVALID_STATE_REASONS = (
    # Governor and Timelock
    "voting is closed",
    "proposal not successful",
    "proposal not queued",
    "timelock delay not over",
    "proposal is final",
    "votes were cast",
    "voting is over",
    "already voted",
    "proposal exists",
    "operation not ready",
    "operation expired",
    # Ordering
    "already withdrawn",
    "the request is closed",
    "the request expired",
    "already answered",
    "the quote expired",
    "already ordered",
    "no accepted quote",
    "no quote from this seller",
    "can no longer",
    "cannot be completed",
    "not in the right state",
    "not awaiting confirmation",
    # Assurance, Billing, Settlement
    "the period is not over",
    "already endorsed",
    "the credit is disputed",
    "no credit for the period",
    "only a calculated credit",
    "resolution window is over",
    "the ticket exists",
    "starts in a closed period",
    "the ticket is not",
    "cannot be resolved",
    "already invoiced",
    "not payment due",
    "already in a settlement cycle",
    "already confirmed",
    "not awaiting confirmations",
    "SLA credit disputed",
    "not endorsed by both parties",
    "SLA period not closed",
    "no longer generated",
    "service already ended",
    "service not active",
)
_FORBIDDEN_REASONS = (
    "not a member at the snapshot",
    "proposer is not a member",
    "only the proposer or the guardian",
    "Ordering: not a member",
    "Assurance: not a member",
    "Billing: not a member",
    "Settlement: not a member",
    "Assurance: not your service",
    "not the ticket's seller",
    "not the ticket's buyer",
    "not a party",
    "only a member or the operator",
    "not your invoice",
    "not between this seller and buyer",
    "only the settlement module",
    "not a party to this payment",
)
_VALIDATION_REASONS = (
    "in the past",
    "ISO 4217",
    "zero MRC",
    "amount too large",
    "not adopted",
    "expires before",
    "cannot ask itself",
    "listed twice",
    "cannot sell to itself",
    "cannot start in the future",
    "needs an SLA template",
    "no sellers",
    "nothing to register",
    "service in another currency",
    "invoice in another currency",
    "ends before it starts",
    "cannot end in the future",
    "unknown impact",
    "unknown root cause",
    "end in the past",
    "end before the service started",
)


@contextmanager
def chain_errors() -> Iterator[None]:
    """Run a chain interaction; its refusals come out as CoopErrors with codes."""
    try:
        yield
    except GovernanceError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from exc
    except ChainRevert as exc:
        reason = exc.reason
        if any(r in reason for r in _INVALID_STATE_REASONS):
            raise InvalidState(f"refused by the contract: {reason}") from exc
        if any(r in reason for r in _FORBIDDEN_REASONS):
            raise Forbidden(f"refused by the contract: {reason}") from exc
        if any(r in reason for r in _VALIDATION_REASONS):
            raise ValidationFailed(f"refused by the contract: {reason}") from exc
        raise ChainReverted(f"the transaction reverted: {reason}") from exc
    except InsufficientFunds as exc:
        raise InvalidState(f"{exc}; the operator funds the cooperative's accounts") from exc
    except ChainError as exc:
        message = str(exc)
        if "retry" not in message:
            message += " (the platform is reconnecting: retry shortly)"
        raise Unavailable(message) from exc
