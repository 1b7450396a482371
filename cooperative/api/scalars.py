"""Custom scalars. GraphQL `Int` is 32-bit: block numbers, chain ids and money go out as
strings of decimal digits (`BigInt`)."""

from __future__ import annotations

from typing import NewType

import strawberry

from cooperative.store.models import whole_number

MAX_UINT256 = 2**256 - 1


def _parse_big_int(value: object) -> int:
    """An input BigInt is an amount the contracts take as an unsigned 256-bit number."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("a BigInt is a string of decimal digits")
    number = whole_number(str(value).strip(), MAX_UINT256)
    if number is None:
        raise ValueError("a BigInt here is a whole number from 0 to 2^256 - 1, in decimal digits")
    return number


BigInt = strawberry.scalar(
    NewType("BigInt", int),
    name="BigInt",
    description="An integer of any size, as a string of decimal digits (GraphQL Int is 32-bit).",
    serialize=str,
    parse_value=_parse_big_int,
)
