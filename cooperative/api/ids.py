"""Global ids: every record's `id`, and every reference to a record, is one GraphQL `ID`.

An id reads `<Type>:<key>` (`Order:12`, `Quote:7-0xA1…`, `TroubleTicket:5-0`): the GraphQL
type's name, a colon, and the record's key. It is opaque to clients, who store it and send
it back as they got it; it is readable so that a person can tell what a log line or a
support ticket is about. It is stable: a record keeps its id for as long as it exists.

The API decodes every id it is sent with the expected type checked (an `Invoice:3` where
an order is expected is VALIDATION, with the field), and `node(id:)` refetches any record
through that type's own isolated getter, so an id grants nothing by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from cooperative.errors import NotFound, ValidationFailed
from cooperative.store.models import whole_number

MAX_TEXT_KEY = 200

# Each record type and the kind of its key. `QuoteRequest` names a buyer's request (its
# quotes carry it as `requestId`); it is not a record `node` returns.
KEY_KINDS: dict[str, type] = {
    "ApiKey": str,
    "Invoice": int,
    "Member": str,
    "Offering": int,
    "Order": int,
    "Proposal": str,
    "Quote": str,
    "QuoteRequest": int,
    "Service": int,
    "SettlementCycle": int,
    "SettlementPayment": str,
    "SlaCredit": str,
    "SlaTemplate": int,
    "TroubleTicket": str,
}


def global_id(type_name: str, key: Any) -> strawberry.ID:
    """The id of the record of `type_name` with `key`."""
    assert type_name in KEY_KINDS, type_name
    return strawberry.ID(f"{type_name}:{key}")


def type_of(value: str, field: str) -> str:
    """The type an id names; VALIDATION for anything that is not an id."""
    named, sep, key = str(value).partition(":")
    if not sep or named not in KEY_KINDS or not key:
        raise ValidationFailed(
            f"{field}: {str(value)[:80]!r} is not an id this API returned", field=field
        )
    return named


def key_of(value: str, type_name: str, field: str) -> Any:
    """The key in `value`, which must be an id of a `type_name`; VALIDATION otherwise."""
    named = type_of(value, field)
    key = str(value)[len(named) + 1 :]
    if named != type_name:
        raise ValidationFailed(
            f"{field}: expected an id of type {type_name}, got one of type {named}", field=field
        )
    if KEY_KINDS[type_name] is int:
        number = whole_number(key)
        if number is None or str(number) != key:  # one spelling per id: no leading zeros
            raise ValidationFailed(
                f"{field}: {str(value)[:80]!r} is not an id of type {type_name}", field=field
            )
        return number
    if len(key) > MAX_TEXT_KEY:
        raise ValidationFailed(f"{field}: the id is too long for type {type_name}", field=field)
    return key


REFERENCE = "coop.reference"


def reference(type_name: str, **options: Any) -> Any:
    """A field holding the id (or ids) of `type_name` records. In a type, `copy_fields`
    turns the store's key into the id; in an input, `check_input` turns the id the client
    sent into the key (VALIDATION with the field's path otherwise), so a resolver gets keys."""
    return strawberry.field(metadata={REFERENCE: type_name}, **options)


def decode_reference(value: Any, type_name: str, path: str) -> Any:
    """An input's or an argument's id, list of ids or None as keys (see `reference`); an
    item's path has its index (`serviceIds[2]`)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [key_of(item, type_name, f"{path}[{index}]") for index, item in enumerate(value)]
    return key_of(value, type_name, path)


# ------------------------------------------------------------------ node(id:)

# type name -> the getter `node(id:)` calls with (info, key); each API module registers the
# getter its own by-id query uses, so `node` applies the same isolation rule.
NodeGetter = Callable[[Any, Any], Any]
_GETTERS: dict[str, NodeGetter] = {}


def refetchable(type_name: str) -> Callable[[NodeGetter], NodeGetter]:
    """Register `getter` as the way `node(id:)` fetches a `type_name`."""

    def register(getter: NodeGetter) -> NodeGetter:
        assert type_name in KEY_KINDS and type_name not in _GETTERS, type_name
        _GETTERS[type_name] = getter
        return getter

    return register


def fetch_node(info: Any, value: str) -> Any:
    named = type_of(value, "id")
    if named not in _GETTERS:
        raise NotFound(f"node(id:) returns no {named}: {', '.join(sorted(_GETTERS))} only")
    record = _GETTERS[named](info, key_of(value, named, "id"))
    if record.id != value:  # e.g. an abbreviated proposal id: node answers its exact id only
        raise NotFound(f"no {named} has the id {str(value)[:80]!r}")
    return record
