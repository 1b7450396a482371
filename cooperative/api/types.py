"""GraphQL object types. Names here are the published API (graphql/schema.graphql)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import strawberry

from cooperative import errors, states
from cooperative.access import Page
from cooperative.api.ids import REFERENCE, global_id
from cooperative.api.scalars import BigInt
from cooperative.errors import CoopError, SignatureRequired
from cooperative.store import models

T = TypeVar("T")

ErrorCode = strawberry.enum(errors.ErrorCode, description="Machine-readable error codes.")
Role = strawberry.enum(models.Role, description="What an API key may do.")


# ------------------------------------------------------------------ the modules' vocabularies


def vocabulary(name: str, values: Iterable[str], description: str) -> type[StrEnum]:
    """A GraphQL enum of one of the modules' closed sets (cooperative.states), each value
    the name the store and the API have always given it, Sonata's camelCase as it is
    (`inProgress`): the value on the wire is the string in Sonata's JSON, and a client that
    read the old String fields reads the same answers. Its Python members are `str`, so a
    filter argument goes to the store as it is."""
    return strawberry.enum(
        StrEnum(name, [(value, value) for value in values]), description=description
    )


def _names(state: type[states._State]) -> list[str]:
    return [member.api for member in state if member.api]


TroubleTicketState = vocabulary(
    "TroubleTicketState",
    _names(states.TicketState),
    "A trouble ticket's state: Sonata's names, and submitted (opened, not acknowledged yet).",
)
OutageImpact = vocabulary(
    "OutageImpact",
    _names(states.Impact),
    "How an outage hit the service; only down counts against availability.",
)
RootCause = vocabulary("RootCause", _names(states.RootCause), "What caused an outage.")
SlaCreditState = vocabulary(
    "SlaCreditState",
    _names(states.CreditState),
    "An SLA credit's state: calculated (awaiting both parties), endorsed (final: by both "
    "parties, or by the period's close when the service had no outage), disputed.",
)
QuoteState = vocabulary(
    "QuoteState",
    states.QUOTE_STATES,
    "A seller's quote (Sonata's names): declined when the buyer accepted another or "
    "rejected all, unableToProvide when the seller declined.",
)
OrderState = vocabulary("OrderState", _names(states.OrderState), "A product order's state.")
ServiceState = vocabulary("ServiceState", _names(states.ServiceState), "A service's state.")
InvoiceState = vocabulary(
    "InvoiceState", _names(states.InvoiceState), "An invoice's state (MEF 141's names)."
)
SettlementCycleState = vocabulary(
    "SettlementCycleState", _names(states.CycleState), "A settlement cycle's state."
)
SettlementPaymentState = vocabulary(
    "SettlementPaymentState",
    _names(states.PaymentState),
    "Which of a payment's parties have confirmed it.",
)
LiabilityDirection = vocabulary(
    "LiabilityDirection", [d.value for d in states.Direction], "payable: the caller owes it."
)
MemberEventType = vocabulary(
    "MemberEventType",
    states.FEED_EVENTS,
    "What a feed entry says happened. slaCreditEndorsed comes from a party's endorsement, "
    "or from the period's close when the service had no outage (final at once).",
)


# ------------------------------------------------------------------ records and their ids


@strawberry.interface(
    description="A record with a global id: refetch it with `node(id:)` (the same isolation "
    "applies as to the record's own query)."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque and stable (it reads `<Type>:<key>`, for people; do not parse it)."
    )


def copy_fields(cls: type[T], row: Any, **overrides: Any) -> T:
    """An API object from a store row: each field of the GraphQL type takes the row's
    attribute of the same name, unless given in `overrides` (for converted values). A
    Node's `id` and each `reference` field turn the row's keys into global ids."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for f in definition.fields:
        if f.base_resolver or f.python_name in overrides:
            continue
        value = getattr(row, f.python_name)
        type_name = (f.metadata or {}).get(REFERENCE)
        if f.python_name == "id" and issubclass(cls, Node):
            type_name = definition.name
        values[f.python_name] = as_ids(type_name, value) if type_name else value
    return cls(**values, **overrides)


def as_ids(type_name: str, value: Any) -> Any:
    """A key, a list of keys or None as global ids of `type_name`."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [global_id(type_name, v) for v in value]
    return global_id(type_name, value)


@strawberry.type(
    description="A transaction prepared for a member that holds its own key, to sign as it "
    "is (EIP-1559, type 2) and send back in the request's extensions.signedTransactions."
)
class UnsignedTransaction:
    type: int
    chain_id: BigInt  # type: ignore[valid-type]
    from_: str = strawberry.field(name="from")
    to: str | None
    nonce: BigInt  # type: ignore[valid-type]
    value: BigInt  # type: ignore[valid-type]
    data: str
    gas: BigInt  # type: ignore[valid-type]
    max_fee_per_gas: BigInt  # type: ignore[valid-type]
    max_priority_fee_per_gas: BigInt  # type: ignore[valid-type]
    function: str = strawberry.field(description="What the transaction calls, in words.")


@strawberry.type(description="A problem with a mutation's input or the records it touches.")
class UserError:
    code: ErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None = None
    transaction: UnsignedTransaction | None = strawberry.field(
        default=None, description="With SIGNATURE_REQUIRED: the transaction to sign."
    )

    @classmethod
    def from_error(cls, error: CoopError) -> UserError:
        return cls(code=ErrorCode(error.code.value), message=error.message, field=error.field)

    @classmethod
    def signature_required(
        cls, error: SignatureRequired, describe: Callable[[str | None, str], str]
    ) -> UserError:
        tx = error.transaction
        transaction = UnsignedTransaction(
            type=int(tx["type"]),  # type: ignore[call-overload]
            chain_id=tx["chainId"],
            from_=str(tx["from"]),
            to=None if tx["to"] is None else str(tx["to"]),
            nonce=tx["nonce"],
            value=tx["value"],
            data=str(tx["data"]),
            gas=tx["gas"],
            max_fee_per_gas=tx["maxFeePerGas"],
            max_priority_fee_per_gas=tx["maxPriorityFeePerGas"],
            function=describe(None if tx["to"] is None else str(tx["to"]), str(tx["data"])),
        )
        error_row = cls.from_error(error)
        error_row.transaction = transaction
        return error_row


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
        edges = [
            Edge(cursor=cursor, node=convert(row))
            for cursor, row in zip(page.cursors, page.items, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type(description="A carrier that is (or was) a member of the cooperative.")
class Member(Node):
    address: str
    name: str
    joined_block: BigInt  # type: ignore[valid-type]
    left_block: BigInt | None  # type: ignore[valid-type]
    is_member: bool
    country: str | None

    @classmethod
    def from_row(cls, row: models.MemberProfile) -> Member:
        return copy_fields(cls, row, id=global_id("Member", row.address))


@strawberry.type(description="An API key (its secret is shown once, when created).")
class ApiKey(Node):
    label: str
    role: Role  # type: ignore[valid-type]
    created_by: str | None = strawberry.field(
        description="Who issued the key: the owner itself, or `admin` (a member's first key)."
    )
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return copy_fields(cls, row)
