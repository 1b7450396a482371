"""Defects found while testing Ordering, now fixed in the contract; each test states the
behaviour the issue and SlaTemplates ask for: no new order under a retired SLA template,
no registered circuit without an MRC, no answering, accepting, delivering or confirming by
a member who left the cooperative (who may still wind down: reject, cancel, withdraw).

And the reputation rules around closing a request, as they are today (a passing test that
documents them; see the report of the Ordering tests)."""

import boa

from .ordering_fixtures import (
    ACKNOWLEDGED,
    CANCELLED,
    DAY,
    PENDING,
    REJECTED,
    REQUEST_OPEN,
    REQUEST_REJECTED,
    SUBMITTED,
    commitment,
    refused,
)


def remove(market, member):
    system = market.system
    system.membership.remove(member, sender=system.timelock.address)
    assert not system.membership.is_member(member)


# ------------------------------------------------------------------ retired templates


def test_no_new_order_under_a_retired_template(market):
    system = market.system
    request_id = market.accepted()
    system.sla_templates.retire(market.template, sender=system.timelock.address)
    with refused("SLA template not adopted"):
        market.ordering.place_order(
            request_id, market.seller, market.now + DAY, commitment("o"), sender=market.buyer
        )


# ------------------------------------------------------------------ zero amounts


def test_a_registered_circuit_needs_an_mrc(market):
    with refused("zero MRC"):
        market.ordering.register_services(
            market.buyer, market.existing(1, mrc=0), sender=market.seller
        )


# ------------------------------------------------------------------ members who left


def test_a_seller_that_left_cannot_answer(market):
    request_id = market.request()
    remove(market, market.seller)
    with refused("not a member"):
        market.respond(request_id, market.seller)
    with refused("not a member"):
        market.ordering.decline_quote(request_id, commitment("d"), sender=market.seller)
    assert market.ordering.answers(request_id, market.seller).state == PENDING


def test_a_buyer_that_left_cannot_accept(market):
    request_id = market.request()
    market.respond(request_id, market.seller)
    remove(market, market.buyer)
    with refused("not a member"):
        market.ordering.accept_quote(request_id, market.seller, sender=market.buyer)
    assert market.ordering.requests(request_id).state == REQUEST_OPEN


def test_a_seller_that_left_cannot_acknowledge_or_start(market):
    ordering = market.ordering
    submitted, acknowledged = market.order(), market.order()
    ordering.acknowledge_order(acknowledged, sender=market.seller)
    remove(market, market.seller)
    with refused("not a member"):
        ordering.acknowledge_order(submitted, sender=market.seller)
    with refused("not a member"):
        ordering.start_order(acknowledged, sender=market.seller)
    assert [ordering.orders(i).state for i in (submitted, acknowledged)] == [
        SUBMITTED,
        ACKNOWLEDGED,
    ]


def test_a_seller_that_left_cannot_complete_an_order(market):
    ordering = market.ordering
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    remove(market, market.seller)
    # completing would create an active service with a non-member
    with refused("not a member"):
        ordering.complete_order(order_id, commitment("s"), sender=market.seller)
    assert ordering.orders(order_id).state == ACKNOWLEDGED


def test_a_buyer_that_left_cannot_confirm_services(market):
    ordering = market.ordering
    first = ordering.register_services(market.buyer, market.existing(2), sender=market.seller)
    remove(market, market.buyer)
    with refused("not a member"):
        ordering.confirm_services([first, first + 1], sender=market.buyer)
    assert not ordering.is_active_service(first)


def test_a_member_that_left_can_still_wind_down(market):
    """Rejecting, cancelling and withdrawing stay open to a member who left, so its
    counterparties are not left with open requests and orders."""
    ordering = market.ordering
    ordering.publish_offering([market.template], commitment("o"), sender=market.seller)
    to_reject, to_cancel = market.order(), market.order()
    open_request = market.request()
    remove(market, market.seller)
    ordering.reject_order(to_reject, commitment("r"), sender=market.seller)
    ordering.withdraw_offering(1, sender=market.seller)
    remove(market, market.buyer)
    ordering.cancel_order(to_cancel, sender=market.buyer)
    ordering.reject_quote(open_request, sender=market.buyer)
    assert ordering.orders(to_reject).state == REJECTED
    assert ordering.orders(to_cancel).state == CANCELLED
    assert ordering.requests(open_request).state == REQUEST_REJECTED
    assert not ordering.offerings(1).active


# ------------------------------------------------------------------ reputation at closing


def test_an_abandoned_request_never_counts_its_silent_sellers(market):
    """Today: a buyer who never accepts nor rejects leaves the sellers that never answered
    uncounted for ever, while closing the request would count them late."""
    request_id = market.request(respond_in=DAY, expires_in=2 * DAY)
    boa.env.time_travel(seconds=30 * DAY)
    with refused("the request expired"):
        market.respond(request_id, market.seller)
    assert tuple(market.ordering.reputation(market.seller))[:2] == (0, 0)
