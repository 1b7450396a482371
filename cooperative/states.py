"""The contracts' state numbers, with the names the store, the API and the feed give them.

Each contract numbers its states with constants (`TICKET_OPENED: constant(uint256) = 1` in
Assurance.vy), and the platform speaks of them by name (Sonata's and MEF's: an opened
ticket is "submitted"). Both used to be spelled in several places: the contract, a dict in
the service module, a tuple in the indexer, `range(9)` in the contract tests. Here is the
one vocabulary: one `IntEnum` per contract state set, whose values ARE the contract's
constants (tests/test_states.py reads the .vy sources and fails on any difference), each
member carrying

- `api`: the name the store records and the GraphQL API returns ("" for a contract's
  "nothing yet" number, which the store never holds);
- `event`: the type of the feed entry a move to the state writes ("" if none does).

So `TicketState(args["state"]).event` turns a TicketsChanged log into its feed type, and
`TicketState.CLOSED.api` is what a closed ticket's row says. The strings are the API's
contract with its users: change a value here and the stored rows and clients break.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Self


class _State(IntEnum):
    """A contract state number with its `api` name and feed `event` type (see above)."""

    api: str
    event: str

    def __new__(cls, value: int, api: str = "", event: str = "") -> Self:
        member = int.__new__(cls, value)
        member._value_ = value
        member.api = api
        member.event = event
        return member

    @classmethod
    def from_api(cls, name: str) -> Self:
        """The member the store/API calls `name`; ValueError if none does."""
        for member in cls:
            if member.api and member.api == name:
                return member
        raise ValueError(f"{name!r} is not a {cls.__name__} name")


# ---------------------------------------------------------------------------- Ordering.vy


class RequestState(_State):
    """A quote request (Ordering.vy `REQUEST_*`)."""

    OPEN = 0, "open", "quoteRequested"
    ACCEPTED = 1, "accepted", "quoteAccepted"
    REJECTED = 2, "rejected", "quoteRejected"


class AnswerState(_State):
    """A seller's answer to a quote request: a quote (Ordering.vy `ANSWER_*`)."""

    PENDING = 0, "inProgress"  # the seller has not answered
    READY = 1, "approved", "quoteAnswered"  # price terms given (Sonata approved.orderable)
    DECLINED = 2, "unableToProvide", "quoteDeclined"  # by the seller; see DECLINED_BY_BUYER
    ACCEPTED = 3, "accepted"
    ORDERED = 4, "ordered"


# The contract's ANSWER_DECLINED also stands for the quotes a buyer did not accept when it
# closed the request (accepting another seller's, or rejecting all): Sonata calls those
# "declined", the seller's own refusal "unableToProvide".
DECLINED_BY_BUYER = "declined"
QUOTE_STATES = (*(s.api for s in AnswerState), DECLINED_BY_BUYER)
# What a seller whose quote lost to another's is told: only that, about its own quote.
NOT_ACCEPTED_EVENT = "quoteNotAccepted"


class OrderState(_State):
    """A product order (Ordering.vy `ORDER_*`)."""

    SUBMITTED = 0, "submitted", "orderSubmitted"
    ACKNOWLEDGED = 1, "acknowledged", "orderAcknowledged"
    IN_PROGRESS = 2, "inProgress", "orderInProgress"
    COMPLETED = 3, "completed", "orderCompleted"
    REJECTED = 4, "rejected", "orderRejected"
    CANCELLED = 5, "cancelled", "orderCancelled"


class ServiceState(_State):
    """A service (Ordering.vy `SERVICE_*`; Assurance.vy and Billing.vy copy ACTIVE)."""

    PENDING_CONFIRMATION = 1, "pendingConfirmation", "servicePendingConfirmation"
    ACTIVE = 2, "active", "serviceActive"


SERVICE_ENDING_EVENT = "serviceEnding"  # the buyer ended the service (it stays active until then)


# ---------------------------------------------------------------------------- Assurance.vy


class TicketState(_State):
    """A trouble ticket (Assurance.vy `TICKET_*`), by Sonata's names where it has one: an
    opened ticket the seller has not acknowledged yet is "submitted", a state Sonata lacks
    (its seller acknowledges a ticket in the answer that creates it; README: Sonata and
    TMF621 names)."""

    NONE = 0
    OPENED = 1, "submitted", "troubleTicketsOpened"
    ACKNOWLEDGED = 2, "acknowledged", "troubleTicketsAcknowledged"
    IN_PROGRESS = 3, "inProgress", "troubleTicketsInProgress"
    PENDING = 4, "pending", "troubleTicketsPending"  # the seller waits on the buyer
    RESOLVED = 5, "resolved", "troubleTicketsResolved"  # awaiting the buyer, or the window
    CLOSED = 6, "closed", "troubleTicketsClosed"
    REOPENED = 7, "reopened", "troubleTicketsReopened"
    CANCELLED = 8, "cancelled", "troubleTicketsCancelled"


class Impact(_State):
    """How an outage hit the service (Assurance.vy `IMPACT_*`)."""

    DOWN = 1, "down"  # the only impact that counts against availability
    DEGRADED = 2, "degraded"
    INTERMITTENT = 3, "intermittent"


class RootCause(_State):
    """What caused an outage, as the seller resolves it (Assurance.vy `CAUSE_*`)."""

    FIBER_CUT = 1, "fiberCut"
    POWER = 2, "power"
    EQUIPMENT = 3, "equipment"
    CONFIGURATION = 4, "configuration"
    THIRD_PARTY = 5, "thirdParty"
    PLANNED_MAINTENANCE = 6, "plannedMaintenance"  # not outage where the template excludes it
    CUSTOMER_SIDE = 7, "customerSide"
    UNKNOWN = 8, "unknown"


# A ticket's id on chain is service_id << 32 | number; the store and the API call it
# "<service id>-<number>".
TICKET_NUMBER_BITS = 32


def chain_ticket_id(service_id: int, number: int) -> int:
    return service_id << TICKET_NUMBER_BITS | number


def split_ticket_id(ticket_id: int) -> tuple[int, int]:
    """(service id, number) of a chain ticket id."""
    return ticket_id >> TICKET_NUMBER_BITS, ticket_id & (2**TICKET_NUMBER_BITS - 1)


def ticket_key(service_id: int, number: int) -> str:
    return f"{service_id}-{number}"


class CreditState(_State):
    """A service's SLA credit for a period (Assurance.vy `CREDIT_*`, copied by Billing.vy).
    The feed names the chain's credit events, not the states: an endorsement by one party
    leaves the credit calculated. A period with no outage fact (no down ticket in it) is
    endorsed by its close: final at once, both endorsement flags set, nothing to endorse."""

    NONE = 0  # the period is not closed for the service
    CALCULATED = 1, "calculated"  # awaiting both parties' endorsement
    ENDORSED = 2, "endorsed"  # final: by both parties, or by the close (no outage fact)
    DISPUTED = 3, "disputed"


# The feed's credit entries, by the chain event they come from
CREDIT_EVENTS = {
    "CreditCalculated": "slaCreditCalculated",
    "CreditEndorsed": "slaCreditEndorsed",
    "CreditDisputed": "slaCreditDisputed",
}


# ---------------------------------------------------------------------------- Billing.vy, Settlement.vy


class InvoiceState(_State):
    """An invoice (Billing.vy `INVOICE_*`; Settlement.vy copies PAYMENT_DUE), MEF 141's
    names."""

    GENERATED = 1, "generated"  # the seller is adding lines
    PAYMENT_DUE = 2, "paymentDue", "invoicePaymentDue"
    SETTLED = 3, "settled", "invoiceSettled"


class CycleState(_State):
    """A settlement cycle (Settlement.vy `CYCLE_*`)."""

    CONFIRMING = 1, "open"  # payments instructed, awaiting confirmations
    SETTLED = 2, "settled", "settlementCycleSettled"
    CANCELLED = 3, "cancelled", "settlementCycleCancelled"


class PaymentState(_State):
    """A settlement payment, by its confirmation flags (Settlement.vy `CONFIRMED_BY_*`,
    or'ed into one word that starts at 0 when the payment is instructed)."""

    INSTRUCTED = 0, "instructed"
    PAYER = 1, "confirmedByPayer"  # the payer says it has paid
    PAYEE = 2, "confirmedByPayee"  # the payee says it has been paid
    BOTH = 3, "confirmed"


SETTLEMENT_POSITION_EVENT = "settlementPosition"
PAYMENT_INSTRUCTED_EVENT = "paymentInstructed"
PAYMENT_CONFIRMED_EVENT = "paymentConfirmed"


class Direction(StrEnum):
    """Which way an amount goes between the caller and a counterparty (the CFO view)."""

    PAYABLE = "payable"  # the caller owes it
    RECEIVABLE = "receivable"  # the counterparty owes it


# ---------------------------------------------------------------------------- the feed


def _moves(*states: type[_State]) -> list[str]:
    return [member.event for state in states for member in state if member.event]


# Every type a feed entry (MemberEvent.type) can have, module by module: the API's
# MemberEventType, and what the projectors may write (Run.feed checks it).
FEED_EVENTS: tuple[str, ...] = (
    *_moves(RequestState, AnswerState),
    NOT_ACCEPTED_EVENT,
    *_moves(OrderState, ServiceState),
    SERVICE_ENDING_EVENT,
    *_moves(TicketState),
    *CREDIT_EVENTS.values(),
    *_moves(InvoiceState),
    SETTLEMENT_POSITION_EVENT,
    PAYMENT_INSTRUCTED_EVENT,
    PAYMENT_CONFIRMED_EVENT,
    *_moves(CycleState),
)
