"""The checks every mutation's input passes before its work starts, in one place: no
text longer than MAX_TEXT_CHARS (a field may allow more, see `long_text`) and no negative
whole number (every `Int` an input takes is an id, a count, a rate or a duration, and the
contracts take them unsigned). Each id (a `reference` field) is decoded to its record's
key, in place, so the resolvers get keys (and an input is checked once: `mutate` does it).
A failure is VALIDATION with the field's path, e.g. `tickets[2].serviceId`. Lone
surrogates never get this far (see limits)."""

from __future__ import annotations

from typing import Any

from strawberry.types.base import has_object_definition
from strawberry.utils.str_converters import to_camel_case

from cooperative.api.ids import REFERENCE, decode_reference
from cooperative.errors import ValidationFailed

MAX_TEXT_CHARS = 10_000  # a description, a reason, a label, an id; a CSV document more
LONG_TEXT = "max_chars"


def long_text(max_chars: int) -> dict[str, int]:
    """A field's metadata that lets its text grow to `max_chars`."""
    return {LONG_TEXT: max_chars}


def check_input(value: Any, path: str = "", max_chars: int = MAX_TEXT_CHARS) -> None:
    """Raise ValidationFailed for the first value of `value` (a Strawberry input, a list,
    a scalar) outside the rules above."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        if len(value) > max_chars:
            raise ValidationFailed(f"{path} is longer than {max_chars:,} characters", field=path)
    elif isinstance(value, int):
        if value < 0:
            raise ValidationFailed(f"{path} cannot be negative", field=path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_input(item, f"{path}[{index}]", max_chars)
    elif isinstance(value, dict):
        _check_json(value, path)
    elif has_object_definition(value):
        for field in type(value).__strawberry_definition__.fields:
            name = field.graphql_name or to_camel_case(field.python_name)
            if REFERENCE in field.metadata:  # an id: decoded to its record's key, in place
                field_path = f"{path}.{name}" if path else name
                key = decode_reference(
                    getattr(value, field.python_name), field.metadata[REFERENCE], field_path
                )
                setattr(value, field.python_name, key)
                continue
            check_input(
                getattr(value, field.python_name),
                f"{path}.{name}" if path else name,
                field.metadata.get(LONG_TEXT, MAX_TEXT_CHARS),
            )


def _check_json(value: Any, path: str) -> None:
    """A JSON input (circuit details, terms): any numbers, text of the usual length."""
    if isinstance(value, str):
        check_input(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, path)
            _check_json(item, f"{path}.{key}")
