"""The one translation of the chain's refusals into the error vocabulary.

A contract's revert reason says what went wrong; here it becomes a code a client can act
on. `REVERT_REASONS` names every reason the contracts in contracts/ can give, by its full
text, with the code for what a client can do about it:

- VALIDATION: the caller's values are wrong (a check before sending could catch them);
- INVALID_STATE: the record is not in a state that allows the step now (a sender without
  funds for gas is one too);
- FORBIDDEN: this caller may not take the step;
- NOT_FOUND: the record the call names does not exist;
- CHAIN_REVERT: an internal invariant of the contracts a client cannot cause (each such
  entry says why), and any reason the table does not know (a contract version newer
  than this table: logged once per reason, to be added here).

UNAVAILABLE is for a node that cannot be reached. tests/test_revert_reasons.py reads the
contracts and fails on a reason missing here, and on an entry no contract gives any more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

from cooperative.errors import (
    ChainReverted,
    CoopError,
    ErrorCode,
    Forbidden,
    InvalidState,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from deployments.chain import NO_REASON, ChainError, ChainRevert, InsufficientFunds
from governance.service import GovernanceError

log = logging.getLogger(__name__)

# The table's codes.
VALIDATION = ErrorCode.VALIDATION
INVALID_STATE = ErrorCode.INVALID_STATE
FORBIDDEN = ErrorCode.FORBIDDEN
NOT_FOUND = ErrorCode.NOT_FOUND
CHAIN_REVERT = ErrorCode.CHAIN_REVERT

_REVERT_REASONS: dict[str, ErrorCode] = {
    # ------------------------------------------------------------ Membership
    "Membership: zero timelock": VALIDATION,
    "Membership: no founders": VALIDATION,
    "Membership: founders and names differ in length": VALIDATION,
    # a vote by an account that was not a member when the proposal was made
    "Membership: not a member at the snapshot": FORBIDDEN,
    "Membership: proposer is not a member": FORBIDDEN,
    "Membership: only the timelock": FORBIDDEN,
    # removing an account that is not (or no longer) a member
    "Membership: not a member": INVALID_STATE,
    "Membership: zero address": VALIDATION,
    "Membership: empty name": VALIDATION,
    "Membership: already a member": INVALID_STATE,
    # the account's record keeps 16 earlier periods: it cannot be admitted again
    "Membership: too many re-admissions": INVALID_STATE,
    # ------------------------------------------------------------ Governor
    "Governor: unknown kind": VALIDATION,
    "Governor: no actions": VALIDATION,
    "Governor: actions differ in length": VALIDATION,
    "Governor: action without a function": VALIDATION,
    "Governor: action not allowed for this kind": VALIDATION,
    "Governor: proposal exists": INVALID_STATE,
    # A relayed ballot's signature is its authority (anyone may relay it): one that is
    # malformed or recovers another signer (another key, or a ballot signed over a used
    # nonce) is a wrong value, as a custody confirmation that does not verify is.
    "Governor: signature must be 65 bytes": VALIDATION,
    "Governor: malleable signature": VALIDATION,
    "Governor: bad signature": VALIDATION,
    "Governor: signature is not the voter's": VALIDATION,
    "Governor: nonces exhausted": CHAIN_REVERT,  # invariant: 2**32 signed ballots of one member
    "Governor: proposal not successful": INVALID_STATE,
    "Governor: proposal not queued": INVALID_STATE,
    "Governor: timelock delay not over": INVALID_STATE,
    "Governor: proposal is final": INVALID_STATE,
    "Governor: only the proposer or the guardian": FORBIDDEN,
    "Governor: voting is over": INVALID_STATE,
    "Governor: votes were cast": INVALID_STATE,
    "Governor: only the timelock": FORBIDDEN,
    "Governor: unknown proposal": NOT_FOUND,
    "Governor: voting is closed": INVALID_STATE,
    "Governor: invalid vote": VALIDATION,
    "Governor: already voted": INVALID_STATE,
    # a kind's rules: at construction, or in a CHANGE_RULES proposal
    "Governor: quorum denominator out of range": VALIDATION,
    "Governor: quorum must be a fraction in (0, 1]": VALIDATION,
    "Governor: approval denominator out of range": VALIDATION,
    "Governor: approval must be a fraction in (0, 1)": VALIDATION,
    "Governor: zero voting period": VALIDATION,
    "Governor: extension longer than the voting period": VALIDATION,
    "Governor: period too long": VALIDATION,
    "Governor: delay too long": VALIDATION,
    "Governor: delay below the timelock's minimum": VALIDATION,
    "Governor: too many members": CHAIN_REVERT,  # invariant: 16 bits of the proposal word (65,535 members)
    "Governor: register epoch out of range": CHAIN_REVERT,  # invariant: 24 bits of the proposal word (16.7 M admissions and removals)
    # ------------------------------------------------------------ Timelock
    "Timelock: delay below the floor": VALIDATION,
    "Timelock: only the deployer, once": FORBIDDEN,
    "Timelock: zero governor": VALIDATION,
    "Timelock: only the governor": FORBIDDEN,
    "Timelock: only through a proposal": FORBIDDEN,
    # Only the Governor schedules, executes and cancels, and it checks each of these first
    # on the same proposal (its state, eta and actions): a client cannot cause them.
    "Timelock: delay too short": CHAIN_REVERT,  # invariant: the Governor queues at >= the minimum delay
    "Timelock: operation already scheduled": CHAIN_REVERT,  # invariant: the Governor queues a proposal once
    "Timelock: actions differ in length": CHAIN_REVERT,  # invariant: such actions hash to no proposal
    "Timelock: operation not scheduled": CHAIN_REVERT,  # invariant: the Governor executes queued proposals only
    "Timelock: operation not ready": CHAIN_REVERT,  # invariant: the Governor checks the same eta first
    "Timelock: operation expired": CHAIN_REVERT,  # invariant: the Governor's same grace period expires it first
    "Timelock: operation not pending": CHAIN_REVERT,  # invariant: the Governor cancels queued proposals only
    # ------------------------------------------------------------ SlaTemplates
    "SlaTemplates: zero timelock": VALIDATION,
    "SlaTemplates: only the timelock": FORBIDDEN,
    # retiring a template never adopted or already retired
    "SlaTemplates: not in force": INVALID_STATE,
    "SlaTemplates: empty name": VALIDATION,
    "SlaTemplates: no document commitment": VALIDATION,
    "SlaTemplates: unknown metric": VALIDATION,
    "SlaTemplates: unknown measurement period": VALIDATION,
    "SlaTemplates: zero objective": VALIDATION,
    "SlaTemplates: objective over 100 %": VALIDATION,
    "SlaTemplates: no credit tiers": VALIDATION,
    "SlaTemplates: tier floors must fall and not exceed the objective": VALIDATION,
    "SlaTemplates: credits must rise as availability falls": VALIDATION,
    "SlaTemplates: credit over 100 % of MRC": VALIDATION,
    # ------------------------------------------------------------ ModuleRegistry
    "ModuleRegistry: zero owner": VALIDATION,
    "ModuleRegistry: modules and names differ in length": VALIDATION,
    "ModuleRegistry: only the owner": FORBIDDEN,
    "ModuleRegistry: unknown module": NOT_FOUND,
    "ModuleRegistry: version must increase": VALIDATION,
    # recording an upgrade before the beacon points at the new implementation
    "ModuleRegistry: beacon not upgraded": INVALID_STATE,
    "ModuleRegistry: not the implementation's version": VALIDATION,
    "ModuleRegistry: empty name": VALIDATION,
    "ModuleRegistry: name taken": INVALID_STATE,
    "ModuleRegistry: zero address": VALIDATION,
    "ModuleRegistry: zero version": VALIDATION,
    # ------------------------------------------------------------ Ordering
    "Ordering: already initialized": INVALID_STATE,
    "Ordering: zero address": VALIDATION,
    "Ordering: an offering needs an SLA template": VALIDATION,
    "Ordering: not your offering": FORBIDDEN,
    "Ordering: offering already withdrawn": INVALID_STATE,
    "Ordering: no sellers": VALIDATION,
    "Ordering: answer window in the past": VALIDATION,
    "Ordering: request expires before its answer window": VALIDATION,
    "Ordering: requested delivery date in the past": VALIDATION,
    "Ordering: a buyer cannot ask itself": VALIDATION,
    "Ordering: seller listed twice": VALIDATION,
    "Ordering: not an ISO 4217 numeric currency": VALIDATION,
    "Ordering: zero MRC": VALIDATION,
    "Ordering: amount too large": VALIDATION,
    "Ordering: quote valid until a past date": VALIDATION,
    "Ordering: no quote from this seller to accept": INVALID_STATE,
    "Ordering: the quote expired": INVALID_STATE,
    "Ordering: not your quote request": FORBIDDEN,
    "Ordering: this quote was already ordered": INVALID_STATE,
    "Ordering: no accepted quote from this seller": INVALID_STATE,
    "Ordering: not your order": FORBIDDEN,
    "Ordering: the order can no longer be rejected": INVALID_STATE,
    "Ordering: the order can no longer be cancelled": INVALID_STATE,
    "Ordering: the order cannot be completed": INVALID_STATE,
    "Ordering: a seller cannot sell to itself": VALIDATION,
    "Ordering: nothing to register": VALIDATION,
    "Ordering: a live circuit cannot start in the future": VALIDATION,
    "Ordering: not your service": FORBIDDEN,
    "Ordering: service not awaiting confirmation": INVALID_STATE,
    "Ordering: service not active": INVALID_STATE,
    "Ordering: service already ended": INVALID_STATE,
    "Ordering: end in the past": VALIDATION,
    "Ordering: end before the service started": VALIDATION,
    # the caller, mostly (also a seller asked for a quote, or the buyer of registered circuits)
    "Ordering: not a member": FORBIDDEN,
    "Ordering: SLA template not adopted": VALIDATION,
    # a request that does not exist, or was not addressed to the caller
    "Ordering: no such request for you": NOT_FOUND,
    "Ordering: the request is closed": INVALID_STATE,
    "Ordering: the request expired": INVALID_STATE,
    "Ordering: already answered": INVALID_STATE,
    "Ordering: the order is not in the right state": INVALID_STATE,
    "Ordering: value out of range": CHAIN_REVERT,  # invariant: adopted template ids and starts (<= now) fit the service word
    # ------------------------------------------------------------ Assurance
    "Assurance: already initialized": INVALID_STATE,
    "Assurance: zero address": VALIDATION,
    "Assurance: not your service": FORBIDDEN,
    "Assurance: the service is not active": INVALID_STATE,
    "Assurance: member index out of range": CHAIN_REVERT,  # invariant: 16 bits of the ticket word (65,535 admissions)
    "Assurance: unknown impact": VALIDATION,
    "Assurance: the outage cannot start in the future": VALIDATION,
    "Assurance: the outage starts before the service": VALIDATION,
    "Assurance: the outage starts in a closed period": INVALID_STATE,
    "Assurance: the ticket exists": INVALID_STATE,
    # a ticket number that skips one: the buyer numbers its tickets 0, 1, 2, ...
    "Assurance: the previous ticket number is not taken": VALIDATION,
    "Assurance: a ticket moves to inProgress or pending only": VALIDATION,
    "Assurance: no such ticket": NOT_FOUND,
    "Assurance: not the ticket's seller": FORBIDDEN,
    "Assurance: the ticket is not acknowledged": INVALID_STATE,
    "Assurance: the ticket cannot be resolved": INVALID_STATE,
    "Assurance: unknown root cause": VALIDATION,
    "Assurance: the outage ends before it starts": VALIDATION,
    "Assurance: the outage cannot end in the future": VALIDATION,
    "Assurance: the resolution window is over": INVALID_STATE,
    # more than 1,024 tickets of a service since its last closed period: the close
    # cannot read them all
    "Assurance: too many tickets to scan": INVALID_STATE,
    "Assurance: the period is not over": INVALID_STATE,
    "Assurance: not a party to the service": FORBIDDEN,
    "Assurance: the service ended before the period": VALIDATION,
    "Assurance: no credit for the period": INVALID_STATE,
    "Assurance: the credit is disputed": INVALID_STATE,
    "Assurance: the credit is final": INVALID_STATE,
    "Assurance: already endorsed": INVALID_STATE,
    "Assurance: only a calculated credit can be disputed": INVALID_STATE,
    "Assurance: you endorsed the credit": INVALID_STATE,
    # a later period was closed since
    "Assurance: only the latest closed period can be disputed": INVALID_STATE,
    "Assurance: a dispute names the contested tickets": VALIDATION,
    "Assurance: not a ticket of the service": VALIDATION,
    "Assurance: only down tickets count toward the credit": VALIDATION,
    "Assurance: the ticket is not closed": INVALID_STATE,
    "Assurance: the ticket is not in the period": VALIDATION,
    "Assurance: not a member": FORBIDDEN,
    "Assurance: not the ticket's buyer": FORBIDDEN,
    "Assurance: the ticket is not awaiting acknowledgement": INVALID_STATE,
    "Assurance: the ticket is not resolved": INVALID_STATE,
    "Assurance: the ticket can no longer be cancelled": INVALID_STATE,
    "Assurance: the ticket cannot move to that state": INVALID_STATE,
    # a period before the service started (or before Assurance was deployed): never closed
    "Assurance: the period is before the service's first SLA period": VALIDATION,
    "Assurance: an earlier period is not closed": INVALID_STATE,
    "Assurance: the period is already closed": INVALID_STATE,
    "Assurance: the previous period is disputed": INVALID_STATE,
    "Assurance: a down ticket of the period is not closed": INVALID_STATE,
    # more than 256 separate outages in one month: the close cannot hold them
    "Assurance: too many separate outages in the period": INVALID_STATE,
    # ------------------------------------------------------------ Billing
    "Billing: already initialized": INVALID_STATE,
    "Billing: zero address": VALIDATION,
    "Billing: only the deployer, once": FORBIDDEN,
    "Billing: zero settlement": VALIDATION,
    "Billing: a seller cannot invoice itself": VALIDATION,
    "Billing: period out of range": VALIDATION,
    "Billing: the period is not over": INVALID_STATE,
    "Billing: not an ISO 4217 numeric currency": VALIDATION,
    "Billing: no services": VALIDATION,
    "Billing: only the settlement module": FORBIDDEN,
    "Billing: invoice not payment due": CHAIN_REVERT,  # invariant: Settlement takes paymentDue invoices only, each in one cycle
    # the caller, mostly (also the buyer an invoice is issued to)
    "Billing: not a member": FORBIDDEN,
    "Billing: not your invoice": FORBIDDEN,
    "Billing: the invoice is no longer generated": INVALID_STATE,
    # a service the seller does not provide to the invoice's buyer
    "Billing: service not between this seller and buyer": FORBIDDEN,
    "Billing: service in another currency": VALIDATION,
    "Billing: service not active": INVALID_STATE,
    # the service started after the period or ended before it: no billable day
    "Billing: service not active during the period": VALIDATION,
    "Billing: service already invoiced for the period": INVALID_STATE,
    "Billing: SLA period not closed for the service": INVALID_STATE,
    "Billing: SLA credit not endorsed by both parties": INVALID_STATE,
    "Billing: SLA credit disputed": INVALID_STATE,
    "Billing: unknown SLA credit state": CHAIN_REVERT,  # invariant: Assurance reports states 0-3 only
    "Billing: amount too large": VALIDATION,
    # ------------------------------------------------------------ Settlement
    "Settlement: already initialized": INVALID_STATE,
    "Settlement: zero address": VALIDATION,
    "Settlement: only a member or the operator runs a cycle": FORBIDDEN,
    "Settlement: not an ISO 4217 numeric currency": VALIDATION,
    "Settlement: no invoices": VALIDATION,
    "Settlement: invoice not payment due": INVALID_STATE,
    "Settlement: invoice in another currency": VALIDATION,
    "Settlement: more than 20 members in a cycle": VALIDATION,
    # a party of an invoice left the cooperative
    "Settlement: a party is not a member": INVALID_STATE,
    "Settlement: positions do not sum to zero": CHAIN_REVERT,  # invariant: each invoice adds its amount to a seller and a buyer
    "Settlement: more payments than members - 1": VALIDATION,
    "Settlement: zero payment": VALIDATION,
    "Settlement: payment party not in the cycle": VALIDATION,
    "Settlement: payer is not a net debtor": VALIDATION,
    "Settlement: payee is not a net creditor": VALIDATION,
    "Settlement: payments do not clear the positions": VALIDATION,
    # also an unknown cycle (state 0)
    "Settlement: cycle not awaiting confirmations": INVALID_STATE,
    "Settlement: no such payment": NOT_FOUND,
    "Settlement: not a party to this payment": FORBIDDEN,
    "Settlement: already confirmed": INVALID_STATE,
    "Settlement: only the runner or the operator cancels": FORBIDDEN,
    "Settlement: payments already confirmed": INVALID_STATE,
    "Settlement: invoice id out of range": CHAIN_REVERT,  # invariant: a paymentDue invoice's id is Billing's counter, checked first
    "Settlement: invoice already in a settlement cycle": INVALID_STATE,
    # ------------------------------------------------------------ Anchor
    "Anchor: already initialized": INVALID_STATE,
    "Anchor: zero operator": VALIDATION,
    "Anchor: only the operator": FORBIDDEN,
    "Anchor: empty root": VALIDATION,
    # ------------------------------------------------------------ CheckpointLog (anchor chain)
    "CheckpointLog: zero operator": VALIDATION,
    "CheckpointLog: only the operator": FORBIDDEN,
    "CheckpointLog: empty block hash": VALIDATION,
    "CheckpointLog: empty state root": VALIDATION,
    # a checkpoint of this block (or a later one) is posted already
    "CheckpointLog: not after the last checkpoint": INVALID_STATE,
    "CheckpointLog: the tree cannot shrink": VALIDATION,
}

REVERT_REASONS: Mapping[str, ErrorCode] = MappingProxyType(_REVERT_REASONS)
"""Every revert reason of the contracts, by its full text, and its error code."""

_ERRORS: Mapping[ErrorCode, type[CoopError]] = {
    VALIDATION: ValidationFailed,
    INVALID_STATE: InvalidState,
    FORBIDDEN: Forbidden,
    NOT_FOUND: NotFound,
    CHAIN_REVERT: ChainReverted,
}

# What deployments.chain reports for a revert that carried no reason: not a contract's
# refusal of the table (an out-of-gas transaction, say), so nothing to add to it.
_NO_REASON = frozenset({"reverted", NO_REASON})

# Unknown reasons already logged (bounded: past it, further ones are not logged).
_MAX_WARNED = 256
_warned: set[str] = set()
_warned_lock = threading.Lock()


def reason_code(reason: str) -> ErrorCode | None:
    """The code of a contract's revert reason; None for a reason the table does not know.

    The node gives the reason as the contract wrote it (deployments.chain decodes it from
    Error(string)); a node message still carrying "execution reverted: " is matched too.
    """
    text = reason.strip()
    code = _REVERT_REASONS.get(text)
    if code is None and text.startswith("execution reverted:"):
        code = _REVERT_REASONS.get(text.removeprefix("execution reverted:").strip())
    return code


def refusal(reason: str) -> CoopError:
    """The CoopError for a contract's revert `reason`."""
    code = reason_code(reason)
    if code is None:
        _warn_unknown(reason)
        return ChainReverted(f"the transaction reverted: {reason}")
    return _ERRORS[code](f"refused by the contract: {reason}")


def _warn_unknown(reason: str) -> None:
    if reason in _NO_REASON:
        return
    with _warned_lock:
        if reason in _warned or len(_warned) >= _MAX_WARNED:
            return
        _warned.add(reason)
    log.warning(
        "a contract reverted with a reason cooperative.transactions does not map: %r "
        "(answered CHAIN_REVERT; add it to REVERT_REASONS)",
        reason,
    )


@contextmanager
def chain_errors() -> Iterator[None]:
    """Run a chain interaction; its refusals come out as CoopErrors with codes."""
    try:
        yield
    except GovernanceError as exc:
        raise ValidationFailed(exc.message, field=exc.field) from exc
    except ChainRevert as exc:
        raise refusal(exc.reason) from exc
    except InsufficientFunds as exc:
        raise InvalidState(f"{exc}; the operator funds the cooperative's accounts") from exc
    except ChainError as exc:
        message = str(exc)
        if "retry" not in message:
            message += " (the platform is reconnecting: retry shortly)"
        raise Unavailable(message) from exc
