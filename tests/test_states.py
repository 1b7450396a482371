"""cooperative.states against the contracts: each enum has exactly the members and values
of its contract's `PREFIX_X: constant(uintN) = n` lines, and every other contract that
copies some of those constants has the same numbers. The names the store, the API and the
feed use are pinned too: they are what clients see."""

from __future__ import annotations

import re
from enum import IntEnum

import pytest

from cooperative.api import types as api_types
from cooperative.states import (
    DECLINED_BY_BUYER,
    FEED_EVENTS,
    QUOTE_STATES,
    AnswerState,
    CreditState,
    CycleState,
    Impact,
    InvoiceState,
    OrderState,
    PaymentState,
    RequestState,
    RootCause,
    ServiceState,
    TicketState,
)
from deployments.paths import CONTRACTS_DIR

SOURCES = CONTRACTS_DIR / "cooperative"
# enum, the constants' prefix, the contract that defines the set, contracts copying some
VOCABULARIES = [
    (TicketState, "TICKET_", "Assurance.vy", []),
    (CreditState, "CREDIT_", "Assurance.vy", ["Billing.vy"]),
    (RequestState, "REQUEST_", "Ordering.vy", []),
    (AnswerState, "ANSWER_", "Ordering.vy", []),
    (OrderState, "ORDER_", "Ordering.vy", []),
    (ServiceState, "SERVICE_", "Ordering.vy", ["Assurance.vy", "Billing.vy"]),
    (InvoiceState, "INVOICE_", "Billing.vy", ["Settlement.vy"]),
    (CycleState, "CYCLE_", "Settlement.vy", []),
    (Impact, "IMPACT_", "Assurance.vy", []),
    (RootCause, "CAUSE_", "Assurance.vy", []),
    (PaymentState, "CONFIRMED_BY_", "Settlement.vy", []),
]
# Settlement.vy's confirmation word starts at 0 (no flag set); no constant names that
IMPLICIT_ZERO = {PaymentState: "INSTRUCTED"}
# Assurance.vy's packing: field widths and offsets, not states
NOT_STATES = {"TICKET_BITS", "IMPACT_SHIFT", "CAUSE_SHIFT"}
CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]*): constant\(uint\d+\) = ([0-9_]+)[ \t]*(?:#.*)?$", re.M)


def constants(contract: str, prefix: str) -> dict[str, int]:
    """The contract's `PREFIX_X: constant(uintN) = n` lines, as {X: n}."""
    text = (SOURCES / contract).read_text()
    return {
        name.removeprefix(prefix): int(value)
        for name, value in CONSTANT.findall(text)
        if name.startswith(prefix) and name not in NOT_STATES
    }


def members(enum: type[IntEnum]) -> dict[str, int]:
    return {member.name: member.value for member in enum}


@pytest.mark.parametrize(
    ("enum", "prefix", "contract"),
    [(enum, prefix, contract) for enum, prefix, contract, _ in VOCABULARIES],
    ids=[enum.__name__ for enum, *_ in VOCABULARIES],
)
def test_enum_is_the_contracts_state_set(enum, prefix, contract):
    expected = constants(contract, prefix)
    if enum in IMPLICIT_ZERO:
        expected[IMPLICIT_ZERO[enum]] = 0
    assert members(enum) == expected


@pytest.mark.parametrize(
    ("enum", "prefix", "copy"),
    [(enum, prefix, copy) for enum, prefix, _, copies in VOCABULARIES for copy in copies],
    ids=[f"{enum.__name__}-{copy}" for enum, _, _, copies in VOCABULARIES for copy in copies],
)
def test_contracts_copying_states_agree(enum, prefix, copy):
    copied = constants(copy, prefix)
    assert copied, f"{copy} no longer copies any {prefix} constant: update VOCABULARIES"
    assert {name: members(enum).get(name) for name in copied} == copied


def test_the_parser_reads_values_not_expressions():
    """A constant whose value is an expression (a mask) is no state; a comment is no value."""
    assert constants("Assurance.vy", "TICKET_")["RESOLVED"] == 5
    assert "MASK" not in constants("Assurance.vy", "TICKET_")


def test_api_names():
    """What the store holds and the API returns: changing one breaks clients and rows."""
    assert {s: s.api for s in TicketState if s.api} == {
        TicketState.OPENED: "submitted",
        TicketState.ACKNOWLEDGED: "acknowledged",
        TicketState.IN_PROGRESS: "inProgress",
        TicketState.PENDING: "pending",
        TicketState.RESOLVED: "resolved",
        TicketState.CLOSED: "closed",
        TicketState.REOPENED: "reopened",
        TicketState.CANCELLED: "cancelled",
    }
    assert [s.api for s in CreditState] == ["", "calculated", "endorsed", "disputed"]
    assert [s.api for s in RequestState] == ["open", "accepted", "rejected"]
    assert [s.api for s in AnswerState] == [
        "inProgress",
        "approved",
        "unableToProvide",
        "accepted",
        "ordered",
    ]
    assert DECLINED_BY_BUYER == "declined"
    assert [s.api for s in OrderState] == [
        "submitted",
        "acknowledged",
        "inProgress",
        "completed",
        "rejected",
        "cancelled",
    ]
    assert [s.api for s in ServiceState] == ["pendingConfirmation", "active"]
    assert [s.api for s in InvoiceState] == ["generated", "paymentDue", "settled"]
    assert [s.api for s in CycleState] == ["open", "settled", "cancelled"]
    assert [s.api for s in PaymentState] == [
        "instructed",
        "confirmedByPayer",
        "confirmedByPayee",
        "confirmed",
    ]
    assert [s.api for s in Impact] == ["down", "degraded", "intermittent"]
    assert [s.api for s in RootCause] == [
        "fiberCut",
        "power",
        "equipment",
        "configuration",
        "thirdParty",
        "plannedMaintenance",
        "customerSide",
        "unknown",
    ]


def test_feed_event_types():
    assert [s.event for s in TicketState] == [
        "",
        "troubleTicketsOpened",
        "troubleTicketsAcknowledged",
        "troubleTicketsInProgress",
        "troubleTicketsPending",
        "troubleTicketsResolved",
        "troubleTicketsClosed",
        "troubleTicketsReopened",
        "troubleTicketsCancelled",
    ]
    assert [s.event for s in RequestState] == ["quoteRequested", "quoteAccepted", "quoteRejected"]
    assert [s.event for s in AnswerState] == ["", "quoteAnswered", "quoteDeclined", "", ""]
    assert [s.event for s in OrderState] == [
        "orderSubmitted",
        "orderAcknowledged",
        "orderInProgress",
        "orderCompleted",
        "orderRejected",
        "orderCancelled",
    ]
    assert [s.event for s in ServiceState] == ["servicePendingConfirmation", "serviceActive"]
    assert [s.event for s in InvoiceState] == ["", "invoicePaymentDue", "invoiceSettled"]
    assert [s.event for s in CycleState] == [
        "",
        "settlementCycleSettled",
        "settlementCycleCancelled",
    ]


@pytest.mark.parametrize("enum", [enum for enum, *_ in VOCABULARIES], ids=lambda e: e.__name__)
def test_from_api_finds_each_named_member(enum):
    named = [member for member in enum if member.api]
    assert len({member.api for member in named}) == len(named)  # unique within the set
    for member in named:
        assert enum.from_api(member.api) is member
    with pytest.raises(ValueError):
        enum.from_api("")
    with pytest.raises(ValueError):
        enum.from_api("noSuchState")


def test_the_feed_names_each_type_once_and_every_move_of_state():
    assert len(set(FEED_EVENTS)) == len(FEED_EVENTS) == 33
    for enum, *_ in VOCABULARIES:
        assert {m.event for m in enum if m.event} <= set(FEED_EVENTS)


# GraphQL enum -> the vocabulary it publishes, value for value and in order
API_ENUMS = [
    (api_types.TroubleTicketState, [s.api for s in TicketState if s.api]),
    (api_types.OutageImpact, [s.api for s in Impact]),
    (api_types.RootCause, [s.api for s in RootCause]),
    (api_types.SlaCreditState, [s.api for s in CreditState if s.api]),
    (api_types.QuoteState, list(QUOTE_STATES)),
    (api_types.OrderState, [s.api for s in OrderState]),
    (api_types.ServiceState, [s.api for s in ServiceState]),
    (api_types.InvoiceState, [s.api for s in InvoiceState]),
    (api_types.SettlementCycleState, [s.api for s in CycleState]),
    (api_types.SettlementPaymentState, [s.api for s in PaymentState]),
    (api_types.LiabilityDirection, ["payable", "receivable"]),
    (api_types.MemberEventType, list(FEED_EVENTS)),
]


@pytest.mark.parametrize(("enum", "names"), API_ENUMS, ids=lambda e: getattr(e, "__name__", ""))
def test_each_graphql_enum_is_its_vocabulary(enum, names):
    assert [member.value for member in enum] == names
    assert [member.name for member in enum] == names  # the GraphQL value is the API name
