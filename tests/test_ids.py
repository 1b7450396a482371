"""The API's one id type (cooperative/api/ids.py): `<Type>:<key>`, one spelling per record,
decoded with its type checked and its field named."""

from __future__ import annotations

import pytest

from cooperative.api.ids import KEY_KINDS, decode_reference, global_id, key_of
from cooperative.errors import ValidationFailed
from cooperative.store.models import MAX_COLUMN_INT


@pytest.mark.parametrize(
    ("type_name", "key"),
    [("Order", 12), ("Order", MAX_COLUMN_INT), ("Quote", "7-0xA1b2"), ("TroubleTicket", "5-0")],
)
def test_an_id_decodes_to_the_key_it_was_made_of(type_name: str, key: object) -> None:
    assert key_of(global_id(type_name, key), type_name, "id") == key


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("Invoice:3", "expected an id of type Order, got one of type Invoice"),
        ("Order:012", "is not an id of type Order"),  # one spelling per id
        ("Order:-1", "is not an id of type Order"),
        ("Order:1.0", "is not an id of type Order"),
        ("Order:١٢", "is not an id of type Order"),  # Arabic-Indic digits
        (f"Order:{MAX_COLUMN_INT + 1}", "is not an id of type Order"),  # no column holds it
        ("Order:", "is not an id this API returned"),
        ("12", "is not an id this API returned"),
        ("order:12", "is not an id this API returned"),
        ("Colour:red", "is not an id this API returned"),
    ],
)
def test_what_is_no_id_of_the_type_is_validation_naming_the_field(value: str, why: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        key_of(value, "Order", "orderId")
    assert refused.value.field == "orderId" and why in str(refused.value)


def test_a_list_names_the_item_that_is_wrong() -> None:
    assert decode_reference(["Service:1", "Service:2"], "Service", "serviceIds") == [1, 2]
    assert decode_reference(None, "Service", "serviceIds") is None
    with pytest.raises(ValidationFailed) as refused:
        decode_reference(["Service:1", "Order:2"], "Service", "tickets[0].serviceIds")
    assert refused.value.field == "tickets[0].serviceIds[1]"


def test_a_text_key_has_a_bounded_length() -> None:
    with pytest.raises(ValidationFailed):
        key_of("Quote:" + "x" * 201, "Quote", "quoteId")
    assert set(KEY_KINDS.values()) == {int, str}
