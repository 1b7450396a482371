"""Custom scalars. GraphQL `Int` is 32-bit: block numbers, chain ids and money go out as
strings of decimal digits (`BigInt`)."""

from __future__ import annotations

from typing import NewType

import strawberry


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("a BigInt is a string of decimal digits")
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError("a BigInt is a string of decimal digits") from exc


BigInt = strawberry.scalar(
    NewType("BigInt", int),
    name="BigInt",
    description="An integer of any size, as a string of decimal digits (GraphQL Int is 32-bit).",
    serialize=str,
    parse_value=_parse_big_int,
)
