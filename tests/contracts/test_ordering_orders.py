"""Product orders against an accepted quote: submitted -> acknowledged -> inProgress ->
completed (which creates the active service), rejected by the seller or cancelled by the
buyer; every step by its party only; delivery counters for the seller's reputation."""

import boa
import pytest

from .helpers import ZERO_BYTES32, events
from .ordering_fixtures import (
    ACCEPTED,
    ACKNOWLEDGED,
    CANCELLED,
    COMPLETED,
    DAY,
    EUR,
    HOUR,
    IN_PROGRESS,
    ORDERED,
    REJECTED,
    SERVICE_ACTIVE,
    SUBMITTED,
    commitment,
    refused,
)


def delivery(market, seller=None):
    r = market.ordering.reputation(seller or market.seller)
    return (r.orders_on_time, r.orders_late, r.rejected_after_acknowledgement)


def order_state(market, order_id):
    return market.ordering.orders(order_id).state


def order_event(market, order_id, state, document=ZERO_BYTES32, seller=None):
    return {
        "order_id": order_id,
        "buyer": market.buyer,
        "seller": seller or market.seller,
        "state": state,
        "commitment": document,
    }


# ------------------------------------------------------------------ placing an order


def test_buyer_orders_against_the_accepted_quote(market):
    ordering, seller = market.ordering, market.seller
    request_id = market.accepted(seller, currency=EUR, mrc=123_456, nrc=7_000)
    due = market.now + 45 * DAY
    document = commitment("order: site contacts, VLAN, handoff")
    order_id = ordering.place_order(request_id, seller, due, document, sender=market.buyer)

    assert order_id == 1
    assert events(ordering, "OrderChanged") == [order_event(market, 1, SUBMITTED, document)]
    assert ordering.orders(1) == (
        market.buyer,
        seller,
        request_id,
        market.template,
        EUR,
        123_456,
        due,
        SUBMITTED,
    )
    assert ordering.order_count() == 1
    assert ordering.answers(request_id, seller).state == ORDERED


def test_only_the_buyer_orders(market):
    ordering = market.ordering
    request_id = market.accepted()
    due = market.now + 30 * DAY
    for other in (*market.sellers, market.third, market.stranger):
        with refused("not your quote request"):
            ordering.place_order(request_id, market.seller, due, commitment("o"), sender=other)
    assert ordering.order_count() == 0
    assert ordering.answers(request_id, market.seller).state == ACCEPTED


def test_only_the_accepted_seller_is_ordered_from(market):
    ordering = market.ordering
    request_id = market.request()
    market.respond(request_id, market.sellers[0])
    market.respond(request_id, market.sellers[1])
    due = market.now + 30 * DAY
    # answered but not accepted yet
    with refused("no accepted quote from this seller"):
        ordering.place_order(
            request_id, market.sellers[0], due, commitment("o"), sender=market.buyer
        )

    ordering.accept_quote(request_id, market.sellers[0], sender=market.buyer)
    for other in (market.sellers[1], market.third):  # declined, not addressed
        with refused("no accepted quote from this seller"):
            ordering.place_order(request_id, other, due, commitment("o"), sender=market.buyer)
    assert ordering.order_count() == 0


def test_no_order_without_any_quote(market):
    with refused("not your quote request"):
        market.ordering.place_order(
            1, market.seller, market.now + DAY, commitment("o"), sender=market.buyer
        )
    rejected = market.request()
    market.respond(rejected, market.seller)
    market.ordering.reject_quote(rejected, sender=market.buyer)
    with refused("no accepted quote from this seller"):
        market.ordering.place_order(
            rejected, market.seller, market.now + DAY, commitment("o"), sender=market.buyer
        )


def test_no_order_after_the_quote_expired(market):
    ordering = market.ordering
    request_id = market.accepted(valid_for=DAY)
    valid_until = ordering.answers(request_id, market.seller).valid_until
    boa.env.timestamp = valid_until + 1
    with refused("the quote expired"):
        ordering.place_order(
            request_id, market.seller, valid_until + 30 * DAY, commitment("o"), sender=market.buyer
        )
    assert ordering.answers(request_id, market.seller).state == ACCEPTED

    boa.env.timestamp = valid_until  # the last moment
    ordering.place_order(
        request_id, market.seller, valid_until + 30 * DAY, commitment("o"), sender=market.buyer
    )
    assert ordering.answers(request_id, market.seller).state == ORDERED


@pytest.mark.parametrize("offset", [0, -1, -30 * DAY])
def test_requested_delivery_in_the_past_is_refused(market, offset):
    request_id = market.accepted()
    with refused("requested delivery date in the past"):
        market.ordering.place_order(
            request_id, market.seller, market.now + offset, commitment("o"), sender=market.buyer
        )
    assert market.ordering.order_count() == 0


def test_one_order_per_quote(market):
    ordering = market.ordering
    request_id = market.accepted()
    due = market.now + 30 * DAY
    ordering.place_order(request_id, market.seller, due, commitment("o"), sender=market.buyer)
    with refused("this quote was already ordered"):
        ordering.place_order(request_id, market.seller, due, commitment("o2"), sender=market.buyer)
    # not even after the first order is cancelled
    ordering.cancel_order(1, sender=market.buyer)
    with refused("this quote was already ordered"):
        ordering.place_order(request_id, market.seller, due, commitment("o3"), sender=market.buyer)
    assert ordering.order_count() == 1


def test_a_buyer_that_left_cannot_order(market):
    request_id = market.accepted()
    system = market.system
    system.membership.remove(market.buyer, sender=system.timelock.address)
    with refused("not a member"):
        market.ordering.place_order(
            request_id, market.seller, market.now + DAY, commitment("o"), sender=market.buyer
        )
    assert market.ordering.order_count() == 0


# ------------------------------------------------------------------ the lifecycle


def test_acknowledge_start_complete_creates_the_active_service(market):
    ordering, seller = market.ordering, market.seller
    order_id = market.order(deliver_in=30 * DAY)

    ordering.acknowledge_order(order_id, sender=seller)
    assert events(ordering, "OrderChanged") == [order_event(market, order_id, ACKNOWLEDGED)]
    assert order_state(market, order_id) == ACKNOWLEDGED

    boa.env.time_travel(seconds=DAY)
    ordering.start_order(order_id, sender=seller)
    assert events(ordering, "OrderChanged") == [order_event(market, order_id, IN_PROGRESS)]
    assert order_state(market, order_id) == IN_PROGRESS

    boa.env.time_travel(seconds=10 * DAY)
    document = commitment("circuit id FR-PAR-01/ETH/0042, handoff details")
    service_id = ordering.complete_order(order_id, document, sender=seller)
    completed_at = market.now
    assert service_id == 1
    assert events(ordering, "OrderChanged") == [order_event(market, order_id, COMPLETED)]
    assert events(ordering, "ServiceChanged") == [
        {
            "service_id": 1,
            "buyer": market.buyer,
            "seller": seller,
            "state": SERVICE_ACTIVE,
            "order_id": order_id,
            "commitment": document,
        }
    ]
    assert order_state(market, order_id) == COMPLETED
    assert ordering.services(1) == (
        market.buyer,
        seller,
        market.template,
        EUR,
        150_000,
        completed_at,
        SERVICE_ACTIVE,
    )
    service = ordering.services(1)
    assert (service.buyer, service.seller, service.started_at) == (
        market.buyer,
        seller,
        completed_at,
    )
    assert ordering.is_active_service(1)
    assert ordering.service_count() == 1
    assert delivery(market) == (1, 0, 0)


def test_service_carries_the_quoted_terms(market):
    ordering, seller = market.ordering, market.sellers[1]
    request_id = market.request()
    market.respond(request_id, seller, currency=840, mrc=2**96 - 1, nrc=0)
    ordering.accept_quote(request_id, seller, sender=market.buyer)
    order_id = ordering.place_order(
        request_id, seller, market.now + DAY, commitment("o"), sender=market.buyer
    )
    ordering.acknowledge_order(order_id, sender=seller)
    service_id = ordering.complete_order(order_id, commitment("s"), sender=seller)
    service = ordering.services(service_id)
    assert (service.seller, service.currency, service.mrc) == (seller, 840, 2**96 - 1)
    assert service.sla_template == market.template


def test_an_acknowledged_order_may_complete_without_a_start(market):
    ordering = market.ordering
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    ordering.complete_order(order_id, commitment("s"), sender=market.seller)
    assert order_state(market, order_id) == COMPLETED
    assert ordering.is_active_service(1)


def test_steps_out_of_order_are_refused(market):
    ordering, seller = market.ordering, market.seller
    order_id = market.order()
    with refused("the order is not in the right state"):
        ordering.start_order(order_id, sender=seller)
    with refused("the order cannot be completed"):
        ordering.complete_order(order_id, commitment("s"), sender=seller)
    ordering.acknowledge_order(order_id, sender=seller)
    with refused("the order is not in the right state"):
        ordering.acknowledge_order(order_id, sender=seller)
    ordering.start_order(order_id, sender=seller)
    with refused("the order is not in the right state"):
        ordering.start_order(order_id, sender=seller)
    with refused("the order is not in the right state"):
        ordering.acknowledge_order(order_id, sender=seller)
    ordering.complete_order(order_id, commitment("s"), sender=seller)
    with refused("the order cannot be completed"):
        ordering.complete_order(order_id, commitment("s"), sender=seller)
    assert ordering.service_count() == 1


def test_each_step_by_its_party_only(market):
    ordering, seller = market.ordering, market.seller
    order_id = market.order()
    not_seller = (market.buyer, market.sellers[1], market.third, market.stranger)
    not_buyer = (seller, market.sellers[1], market.third, market.stranger)

    def seller_steps(other):
        return [
            lambda: ordering.acknowledge_order(order_id, sender=other),
            lambda: ordering.start_order(order_id, sender=other),
            lambda: ordering.complete_order(order_id, commitment("s"), sender=other),
            lambda: ordering.reject_order(order_id, commitment("r"), sender=other),
        ]

    for state_step in ("submitted", "acknowledged", "in progress"):
        for other in not_seller:
            for step in seller_steps(other):
                with refused("not your order"):
                    step()
        for other in not_buyer:
            with refused("not your order"):
                ordering.cancel_order(order_id, sender=other)
        if state_step == "submitted":
            ordering.acknowledge_order(order_id, sender=seller)
        elif state_step == "acknowledged":
            ordering.start_order(order_id, sender=seller)
    assert order_state(market, order_id) == IN_PROGRESS
    assert ordering.service_count() == 0


def test_unknown_orders_are_nobodys(market):
    ordering = market.ordering
    with refused("not your order"):
        ordering.acknowledge_order(1, sender=market.seller)
    with refused("not your order"):
        ordering.complete_order(1, commitment("s"), sender=market.seller)
    with refused("not your order"):
        ordering.cancel_order(1, sender=market.buyer)


# ------------------------------------------------------------------ reject / cancel


def test_seller_rejects_before_acknowledging_without_a_mark(market):
    ordering = market.ordering
    order_id = market.order()
    reason = commitment("no capacity on that route")
    ordering.reject_order(order_id, reason, sender=market.seller)
    assert events(ordering, "OrderChanged") == [order_event(market, order_id, REJECTED, reason)]
    assert order_state(market, order_id) == REJECTED
    assert delivery(market) == (0, 0, 0)


def test_rejecting_after_acknowledging_counts_against_the_seller(market):
    ordering = market.ordering
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    ordering.reject_order(order_id, commitment("r"), sender=market.seller)
    assert order_state(market, order_id) == REJECTED
    assert delivery(market) == (0, 0, 1)
    assert delivery(market, market.sellers[1]) == (0, 0, 0)


def test_rejection_ends_at_the_start_of_work(market):
    ordering, seller = market.ordering, market.seller
    started = market.order()
    ordering.acknowledge_order(started, sender=seller)
    ordering.start_order(started, sender=seller)
    with refused("the order can no longer be rejected"):
        ordering.reject_order(started, commitment("r"), sender=seller)
    assert order_state(market, started) == IN_PROGRESS

    rejected = market.order()
    ordering.reject_order(rejected, commitment("r"), sender=seller)
    with refused("the order can no longer be rejected"):
        ordering.reject_order(rejected, commitment("r"), sender=seller)
    with refused("the order is not in the right state"):
        ordering.acknowledge_order(rejected, sender=seller)
    with refused("the order cannot be completed"):
        ordering.complete_order(rejected, commitment("s"), sender=seller)
    with refused("the order can no longer be cancelled"):
        ordering.cancel_order(rejected, sender=market.buyer)
    assert delivery(market) == (0, 0, 0)


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_buyer_cancels_before_completion(market, steps):
    ordering, seller = market.ordering, market.seller
    order_id = market.order()
    if steps >= 1:
        ordering.acknowledge_order(order_id, sender=seller)
    if steps >= 2:
        ordering.start_order(order_id, sender=seller)
    ordering.cancel_order(order_id, sender=market.buyer)
    assert events(ordering, "OrderChanged") == [order_event(market, order_id, CANCELLED)]
    assert order_state(market, order_id) == CANCELLED

    with refused("the order cannot be completed"):
        ordering.complete_order(order_id, commitment("s"), sender=seller)
    with refused("the order can no longer be cancelled"):
        ordering.cancel_order(order_id, sender=market.buyer)
    with refused("the order can no longer be rejected"):
        ordering.reject_order(order_id, commitment("r"), sender=seller)
    with refused("the order is not in the right state"):
        ordering.start_order(order_id, sender=seller)
    assert order_state(market, order_id) == CANCELLED
    assert ordering.service_count() == 0
    assert delivery(market) == (0, 0, 0)


def test_a_completed_order_cannot_be_cancelled(market):
    ordering = market.ordering
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    ordering.complete_order(order_id, commitment("s"), sender=market.seller)
    with refused("the order can no longer be cancelled"):
        ordering.cancel_order(order_id, sender=market.buyer)
    assert order_state(market, order_id) == COMPLETED
    assert ordering.is_active_service(1)


# ------------------------------------------------------------------ delivery reputation


def test_completion_by_the_requested_date_is_on_time_after_it_late(market):
    ordering, seller = market.ordering, market.seller
    on_time, late, early = market.order(), market.order(), market.order()
    for order_id in (on_time, late, early):
        ordering.acknowledge_order(order_id, sender=seller)
    due = ordering.orders(on_time).requested_delivery

    ordering.complete_order(early, commitment("s"), sender=seller)
    assert delivery(market) == (1, 0, 0)
    boa.env.timestamp = due  # the requested day itself is on time
    ordering.complete_order(on_time, commitment("s"), sender=seller)
    assert delivery(market) == (2, 0, 0)
    boa.env.timestamp = due + 1
    ordering.complete_order(late, commitment("s"), sender=seller)
    assert delivery(market) == (2, 1, 0)
    assert ordering.services(3).started_at == due + 1
    assert ordering.service_count() == 3


def test_late_delivery_weeks_after_the_request(market):
    ordering, seller = market.ordering, market.sellers[1]
    order_id = market.order(seller=seller, deliver_in=14 * DAY)
    ordering.acknowledge_order(order_id, sender=seller)
    ordering.start_order(order_id, sender=seller)
    boa.env.time_travel(seconds=21 * DAY + HOUR)
    ordering.complete_order(order_id, commitment("s"), sender=seller)
    assert delivery(market, seller) == (0, 1, 0)
    assert delivery(market, market.sellers[0]) == (0, 0, 0)
