"""What an ERP relies on to stay in sync: idempotency keys (the same key again returns the
first result and creates nothing) and the member's own event feed (`events(after, first)`:
in chain order, nothing skipped or repeated, only the member's own records)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from cooperative.api.ids import key_of
from cooperative.commitments import verify
from cooperative.marketplace import Marketplace
from cooperative.platform import Platform
from cooperative.store.models import (
    IdempotentRequest,
    OrderRecord,
    OutboxEntry,
    OutboxState,
    QuoteRequestRecord,
)
from tests.conftest import EVENTS, Api, feed
from tests.test_marketplace_api import (
    ACCEPT,
    ACK,
    COMPLETE,
    PLACE,
    RESPOND,
    count,
    request_quote,
    soon,
)

REQUEST_WITH_KEY = "mutation($in: RequestQuoteInput!) { requestQuote(input: $in) { requestId quotes { id seller state } errors { code message field } } }"


def request_input(sellers: list[str], template: str, **changes: Any) -> dict[str, Any]:
    return {
        "sellers": sellers,
        "slaTemplate": template,
        "respondBy": soon(2),
        "expiresAt": soon(5),
        "requestedDelivery": soon(30),
        "site": {"address": "Kungsgatan 2, Stockholm"},
        "bandwidthMbps": 100,
        "termMonths": 12,
        **changes,
    }


def test_the_same_idempotency_key_returns_the_first_result_and_creates_nothing(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, _ = as_member
    variables = {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-req-1")}
    first = aurora(REQUEST_WITH_KEY, variables)["requestQuote"]
    requests_after_first = count(platform, QuoteRequestRecord)
    again = aurora(REQUEST_WITH_KEY, variables)["requestQuote"]
    assert first["errors"] == [] and again == first
    assert count(platform, QuoteRequestRecord) == requests_after_first
    assert platform.governance.handle("Ordering").functions.request_count().call() == key_of(
        first["requestId"], "QuoteRequest", "requestId"
    )

    # an order step: the replay answers with the first payload, the chain is not asked again
    quote = first["quotes"][0]["id"]
    borealis(
        RESPOND,
        {
            "in": {
                "quoteId": quote,
                "currency": "SEK",
                "mrc": "90000",
                "nrc": "0",
                "validUntil": soon(9),
            }
        },
    )
    aurora(ACCEPT, {"id": quote})
    place = {
        "in": {"quoteId": quote, "requestedDelivery": soon(20), "idempotencyKey": "erp-order-1"}
    }
    order = aurora(PLACE, place)["placeOrder"]
    orders = count(platform, OrderRecord)
    assert order["errors"] == [] and aurora(PLACE, place)["placeOrder"] == order
    assert count(platform, OrderRecord) == orders


def test_a_key_answered_by_an_earlier_release_is_told_so_and_changes_nothing(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora = as_member[0]
    variables = {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-req-old")}
    first = aurora(REQUEST_WITH_KEY, variables)["requestQuote"]
    assert first["errors"] == []
    with Session(platform.engine) as session:  # as a release before global ids stored it
        (row,) = session.exec(
            select(IdempotentRequest).where(IdempotentRequest.key == "erp-req-old")
        ).all()
        assert row.result is not None and row.result["format"] == 2
        row.result = {**row.result["payload"], "requestId": 1}
        session.add(row)
        session.commit()
    before = count(platform, QuoteRequestRecord)
    again = aurora(REQUEST_WITH_KEY, variables)["requestQuote"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"], again
    assert "earlier release" in again["errors"][0]["message"]
    assert again["requestId"] is None and count(platform, QuoteRequestRecord) == before


def test_an_idempotency_key_reused_for_other_input_is_refused(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora = as_member[0]
    aurora(
        REQUEST_WITH_KEY,
        {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-req-2")},
    )
    before = count(platform, QuoteRequestRecord)
    other = aurora(
        REQUEST_WITH_KEY,
        {"in": request_input([addresses[2]], template_id, idempotencyKey="erp-req-2")},
    )["requestQuote"]
    assert [(e["code"], e["field"]) for e in other["errors"]] == [("VALIDATION", "idempotencyKey")]
    assert "already used for a different request" in other["errors"][0]["message"]
    assert count(platform, QuoteRequestRecord) == before


def test_a_refused_mutation_releases_its_key(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora = as_member[0]
    bad = request_input([addresses[1]], template_id, idempotencyKey="erp-req-3", respondBy=soon(-1))
    refused = aurora(REQUEST_WITH_KEY, {"in": bad})["requestQuote"]
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
    fixed = aurora(
        REQUEST_WITH_KEY,
        {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-req-3")},
    )["requestQuote"]
    assert fixed["errors"] == [] and key_of(fixed["requestId"], "QuoteRequest", "requestId") > 0


def test_keys_belong_to_the_member_who_sent_them(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """Another member's identical key is a different key: it neither replays nor blocks."""
    aurora, _, cirrus = as_member
    variables = {"in": request_input([addresses[1]], template_id, idempotencyKey="shared-key")}
    mine = aurora(REQUEST_WITH_KEY, variables)["requestQuote"]
    theirs = cirrus(REQUEST_WITH_KEY, variables)["requestQuote"]
    assert mine["errors"] == [] and theirs["errors"] == []
    assert theirs["requestId"] != mine["requestId"]


def test_a_request_interrupted_after_sending_is_finished_by_its_retry_from_the_outbox(
    platform: Platform,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failure between the send and the store's commit (as a crash there) loses nothing:
    the document and its salt are in the outbox with the signed transaction, the key says
    `sent`, and the retry with the key answers from that transaction — one quote request on
    chain, its record committed with the salt the chain's commitment was made with."""
    ordering = platform.governance.handle("Ordering")
    on_chain_before = len(ordering.events.QuoteRequested.get_logs(from_block=0))
    real_event = Marketplace._event

    def crash_after_send(self: Marketplace, receipt: Any, name: str) -> Any:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(Marketplace, "_event", crash_after_send)
    variables = {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-crashed")}
    before = count(platform, QuoteRequestRecord)
    as_member[0].post(REQUEST_WITH_KEY, variables)  # answered with an error
    assert count(platform, QuoteRequestRecord) == before
    with Session(platform.engine) as session:
        row = session.get(IdempotentRequest, (addresses[0], "erp-crashed"))
        assert row is not None and row.state == "sent"
        (entry,) = session.exec(
            select(OutboxEntry).where(OutboxEntry.idempotency_key == "erp-crashed")
        ).all()
    assert entry.state == OutboxState.MINED
    (kept,) = entry.documents
    assert verify(kept["document"], kept["salt"], kept["commitment"])

    monkeypatch.setattr(Marketplace, "_event", real_event)
    answer = as_member[0](REQUEST_WITH_KEY, variables)["requestQuote"]
    assert answer["errors"] == []
    assert len(ordering.events.QuoteRequested.get_logs(from_block=0)) == on_chain_before + 1
    with Session(platform.engine) as session:
        record = session.get(
            QuoteRequestRecord, key_of(answer["requestId"], "QuoteRequest", "requestId")
        )
        row = session.get(IdempotentRequest, (addresses[0], "erp-crashed"))
    assert record is not None and record.salt == kept["salt"]
    assert record.commitment == kept["commitment"]
    assert row is not None and row.state == "done"
    again = as_member[0](REQUEST_WITH_KEY, variables)["requestQuote"]
    assert again["requestId"] == answer["requestId"]
    assert count(platform, QuoteRequestRecord) == before + 1


def test_a_request_refused_before_sending_releases_its_key(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """An unexpected failure before anything was sent (a year-0001 time) leaves the key
    free: the corrected request with the same key goes through."""
    wrong = request_input(
        [addresses[1]], template_id, idempotencyKey="erp-fix", respondBy="0001-01-01T00:00:00Z"
    )
    as_member[0].post(REQUEST_WITH_KEY, {"in": wrong})
    with Session(platform.engine) as session:
        assert session.get(IdempotentRequest, (addresses[0], "erp-fix")) is None
    right = {"in": request_input([addresses[1]], template_id, idempotencyKey="erp-fix")}
    assert as_member[0](REQUEST_WITH_KEY, right)["requestQuote"]["errors"] == []


def test_the_event_feed_follows_a_lifecycle_for_both_parties_only(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    starts = {
        name: feed(api)[-1]["cursor"] if feed(api) else None
        for name, api in zip("abc", as_member, strict=True)
    }

    requested = request_quote(aurora, [addresses[1]], template_id)
    quote = requested["quotes"][0]["id"]
    borealis(
        RESPOND,
        {
            "in": {
                "quoteId": quote,
                "currency": "EUR",
                "mrc": "1000",
                "nrc": "0",
                "validUntil": soon(9),
            }
        },
    )
    aurora(ACCEPT, {"id": quote})
    order = aurora(PLACE, {"in": {"quoteId": quote, "requestedDelivery": soon(20)}})["placeOrder"][
        "order"
    ]
    borealis(ACK, {"id": order["id"]})
    service = borealis(COMPLETE, {"id": order["id"]})["completeOrder"]["service"]

    expected = [
        ("quoteRequested", [requested["requestId"]]),
        ("quoteAnswered", [quote, requested["requestId"]]),
        ("quoteAccepted", [quote, requested["requestId"]]),
        ("orderSubmitted", [order["id"]]),
        ("orderAcknowledged", [order["id"]]),
        ("orderCompleted", [order["id"]]),
        ("serviceActive", [order["id"], service["id"]]),
    ]
    buyer_events = [(e["type"], e["subjects"]) for e in feed(aurora, starts["a"])]
    assert buyer_events == expected
    seller_events = [(e["type"], e["subjects"]) for e in feed(borealis, starts["b"])]
    assert seller_events == [
        (
            ("quoteRequested", [quote, requested["requestId"]])
            if kind == "quoteRequested"
            else (kind, subjects)
        )
        for kind, subjects in expected
    ]
    # the third member saw none of it
    assert feed(cirrus, starts["c"]) == []


def test_polling_in_small_pages_never_skips_or_repeats(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora = as_member[0]
    for _ in range(3):
        request_quote(aurora, [addresses[1]], template_id)
    whole = feed(aurora, first=100)
    polled = feed(aurora, first=2)
    assert [e["cursor"] for e in polled] == [e["cursor"] for e in whole]
    assert len({e["cursor"] for e in whole}) == len(whole) >= 3
    # a replay of the chain writes no duplicates
    platform.sync()
    assert feed(aurora, first=100) == whole


def test_a_bad_cursor_is_a_validation_error(as_member: list[Api]) -> None:
    response = as_member[0].post(EVENTS, {"after": "not a cursor!", "first": 5}).json()
    assert response["errors"][0]["extensions"]["code"] == "VALIDATION"
