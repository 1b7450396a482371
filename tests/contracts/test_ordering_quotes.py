"""Quote requests (buyer -> addressed sellers), answers with price terms or declines,
acceptance of one answer (the others declined) or rejection, expiry, and the sellers'
reputation for answering within the requested window."""

import boa
import pytest

from .helpers import ZERO_ADDRESS, events
from .ordering_fixtures import (
    ACCEPTED,
    DAY,
    DECLINED,
    EUR,
    HOUR,
    MAX_AMOUNT,
    PENDING,
    READY,
    REQUEST_ACCEPTED,
    REQUEST_OPEN,
    REQUEST_REJECTED,
    USD,
    commitment,
    refused,
    template_args,
)


def reputation(market, seller):
    r = market.ordering.reputation(seller)
    return (r.quotes_in_time, r.quotes_late)


def answer_states(market, request_id):
    return [market.ordering.answers(request_id, s).state for s in market.sellers]


# ------------------------------------------------------------------ requests


def test_buyer_requests_quotes_from_two_sellers(market):
    ordering, now = market.ordering, market.now
    document = commitment("site FR-PAR-01, 1 Gbit/s, 36 months, firm")
    request_id = ordering.request_quote(
        market.sellers,
        market.template,
        now + DAY,
        now + 3 * DAY,
        now + 60 * DAY,
        document,
        sender=market.buyer,
    )

    assert request_id == 1
    assert events(ordering, "QuoteRequested") == [
        {
            "request_id": 1,
            "buyer": market.buyer,
            "sellers": market.sellers,
            "sla_template": market.template,
            "respond_by": now + DAY,
            "expires_at": now + 3 * DAY,
            "requested_delivery": now + 60 * DAY,
            "commitment": document,
        }
    ]
    assert ordering.requests(1) == (
        market.buyer,
        market.template,
        now + DAY,
        now + 3 * DAY,
        now + 60 * DAY,
        REQUEST_OPEN,
    )
    assert ordering.request_seller_list(1) == market.sellers
    assert ordering.request_count() == 1
    for seller in market.sellers:
        assert ordering.answers(1, seller) == (PENDING, 0, 0, 0, 0, 0)
    assert market.request() == 2  # ids are consecutive


def test_the_answer_window_may_end_when_the_request_expires(market):
    request_id = market.request(respond_in=DAY, expires_in=DAY)
    request = market.ordering.requests(request_id)
    assert request.respond_by == request.expires_at


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stranger buyer", "not a member"),
        ("no sellers", "no sellers"),
        ("buyer asks itself", "a buyer cannot ask itself"),
        ("stranger seller", "not a member"),
        ("seller twice", "seller listed twice"),
        ("unknown template", "SLA template not adopted"),
        ("retired template", "SLA template not adopted"),
        ("window closes now", "answer window in the past"),
        ("window in the past", "answer window in the past"),
        ("expires before window", "request expires before its answer window"),
        ("delivery now", "requested delivery date in the past"),
        ("delivery in the past", "requested delivery date in the past"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(market, case, reason):
    system = market.system
    kwargs = {}
    sellers = list(market.sellers)
    buyer = market.buyer
    if case == "stranger buyer":
        buyer = market.stranger
    elif case == "no sellers":
        sellers = []
    elif case == "buyer asks itself":
        sellers = [market.seller, market.buyer]
    elif case == "stranger seller":
        sellers = [market.seller, market.stranger]
    elif case == "seller twice":
        sellers = [market.seller, market.sellers[1], market.seller]
    elif case == "unknown template":
        kwargs["template"] = market.template + 1
    elif case == "retired template":
        silver = system.sla_templates.adopt(
            *template_args("Silver"), sender=system.timelock.address
        )
        system.sla_templates.retire(silver, sender=system.timelock.address)
        kwargs["template"] = silver
    elif case == "window closes now":
        kwargs["respond_in"] = 0
    elif case == "window in the past":
        kwargs["respond_in"] = -1
        kwargs["expires_in"] = DAY
    elif case == "expires before window":
        kwargs["respond_in"] = DAY
        kwargs["expires_in"] = DAY - 1
    elif case == "delivery now":
        kwargs["deliver_in"] = 0
    elif case == "delivery in the past":
        kwargs["deliver_in"] = -DAY

    with refused(reason):
        market.request(sellers, buyer=buyer, **kwargs)
    assert market.ordering.request_count() == 0
    assert market.ordering.request_seller_list(1) == []
    assert market.ordering.requests(1).buyer == ZERO_ADDRESS


# ------------------------------------------------------------------ answers


def test_seller_answers_with_price_terms(market):
    ordering, seller = market.ordering, market.seller
    request_id = market.request()
    boa.env.time_travel(seconds=HOUR)
    now = market.now
    document = commitment("quote: 1,500.00 EUR/month, 500.00 EUR install")
    ordering.respond_to_quote(
        request_id, EUR, 150_000, 50_000, now + 7 * DAY, document, sender=seller
    )

    assert events(ordering, "QuoteAnswered") == [
        {
            "request_id": request_id,
            "seller": seller,
            "state": READY,
            "currency": EUR,
            "mrc": 150_000,
            "nrc": 50_000,
            "valid_until": now + 7 * DAY,
            "commitment": document,
        }
    ]
    assert ordering.answers(request_id, seller) == (READY, EUR, 150_000, 50_000, now + 7 * DAY, now)
    assert ordering.answers(request_id, market.sellers[1]).state == PENDING
    assert ordering.requests(request_id).state == REQUEST_OPEN
    assert reputation(market, seller) == (1, 0)


def test_seller_declines_as_unable_to_provide(market):
    ordering, seller = market.ordering, market.sellers[1]
    request_id = market.request()
    reason = commitment("no coverage at that site")
    ordering.decline_quote(request_id, reason, sender=seller)

    assert events(ordering, "QuoteAnswered") == [
        {
            "request_id": request_id,
            "seller": seller,
            "state": DECLINED,
            "currency": 0,
            "mrc": 0,
            "nrc": 0,
            "valid_until": 0,
            "commitment": reason,
        }
    ]
    assert ordering.answers(request_id, seller) == (DECLINED, 0, 0, 0, 0, market.now)
    assert reputation(market, seller) == (1, 0)  # a timely "unable to provide" is an answer


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        ({"currency": 0}, "not an ISO 4217 numeric currency"),
        ({"currency": 1000}, "not an ISO 4217 numeric currency"),
        ({"currency": 2**255}, "not an ISO 4217 numeric currency"),
        ({"mrc": 0}, "zero MRC"),
        ({"mrc": MAX_AMOUNT + 1}, "amount too large"),
        ({"nrc": MAX_AMOUNT + 1}, "amount too large"),
        ({"mrc": 2**256 - 1}, "amount too large"),
        ({"valid_for": 0}, "quote valid until a past date"),
        ({"valid_for": -DAY}, "quote valid until a past date"),
    ],
)
def test_bad_price_terms_are_refused_and_write_nothing(market, terms, reason):
    request_id = market.request()
    with refused(reason):
        market.respond(request_id, **terms)
    assert market.ordering.answers(request_id, market.seller) == (PENDING, 0, 0, 0, 0, 0)
    assert reputation(market, market.seller) == (0, 0)


@pytest.mark.parametrize(
    "terms",
    [
        {"currency": 1},
        {"currency": 999},
        {"currency": USD},
        {"mrc": 1, "nrc": 0},
        {"mrc": MAX_AMOUNT, "nrc": MAX_AMOUNT},
        {"valid_for": 1},
    ],
)
def test_price_terms_at_the_edges_are_accepted(market, terms):
    request_id = market.request()
    market.respond(request_id, **terms)
    answer = market.ordering.answers(request_id, market.seller)
    assert answer.state == READY
    if "currency" in terms:
        assert answer.currency == terms["currency"]
    if "mrc" in terms:
        assert (answer.mrc, answer.nrc) == (terms["mrc"], terms["nrc"])


def test_only_addressed_sellers_answer(market):
    ordering = market.ordering
    request_id = market.request([market.seller])
    outsiders = (market.sellers[1], market.third, market.buyer, market.stranger)
    for outsider in outsiders:
        with refused("no such request for you"):
            market.respond(request_id, outsider)
        with refused("no such request for you"):
            ordering.decline_quote(request_id, commitment("x"), sender=outsider)
        assert ordering.answers(request_id, outsider).state == PENDING
    # an unknown request is nobody's
    with refused("no such request for you"):
        market.respond(request_id + 1, market.seller)


def test_a_seller_answers_once(market):
    ordering, seller = market.ordering, market.seller
    first = market.request()
    market.respond(first, seller, mrc=100)
    with refused("already answered"):
        market.respond(first, seller, mrc=90)
    with refused("already answered"):
        ordering.decline_quote(first, commitment("x"), sender=seller)
    assert ordering.answers(first, seller).mrc == 100

    second = market.request()
    ordering.decline_quote(second, commitment("x"), sender=seller)
    with refused("already answered"):
        market.respond(second, seller)
    assert ordering.answers(second, seller).state == DECLINED
    assert reputation(market, seller) == (2, 0)  # counted once per request


def test_no_answer_after_the_request_expires(market):
    ordering = market.ordering
    request_id = market.request(respond_in=DAY, expires_in=2 * DAY)
    expires_at = ordering.requests(request_id).expires_at

    boa.env.timestamp = expires_at  # the last moment
    market.respond(request_id, market.sellers[0])
    boa.env.timestamp = expires_at + 1
    with refused("the request expired"):
        market.respond(request_id, market.sellers[1])
    with refused("the request expired"):
        ordering.decline_quote(request_id, commitment("x"), sender=market.sellers[1])
    assert answer_states(market, request_id) == [READY, PENDING]


def test_no_answer_to_a_closed_request(market):
    ordering = market.ordering
    accepted = market.request()
    market.respond(accepted, market.seller)
    ordering.accept_quote(accepted, market.seller, sender=market.buyer)
    rejected = market.request()
    ordering.reject_quote(rejected, sender=market.buyer)

    for request_id in (accepted, rejected):
        for seller in market.sellers:
            with refused("the request is closed"):
                market.respond(request_id, seller)
            with refused("the request is closed"):
                ordering.decline_quote(request_id, commitment("x"), sender=seller)
    assert answer_states(market, accepted) == [ACCEPTED, DECLINED]
    assert answer_states(market, rejected) == [DECLINED, DECLINED]


# ------------------------------------------------------------------ accept / reject


def test_buyer_accepts_one_answer_and_the_others_are_declined(market):
    ordering = market.ordering
    sellers = [*market.sellers, market.third]
    request_id = market.request(sellers)
    market.respond(request_id, sellers[0], mrc=150_000)
    market.respond(request_id, sellers[1], mrc=140_000)
    # sellers[2] never answers

    ordering.accept_quote(request_id, sellers[1], sender=market.buyer)

    assert events(ordering, "QuoteRequestClosed") == [
        {"request_id": request_id, "state": REQUEST_ACCEPTED, "accepted_seller": sellers[1]}
    ]
    assert ordering.requests(request_id).state == REQUEST_ACCEPTED
    assert [ordering.answers(request_id, s).state for s in sellers] == [
        DECLINED,
        ACCEPTED,
        DECLINED,
    ]
    # the accepted answer keeps its terms; a declined answer keeps its own (for the record)
    assert ordering.answers(request_id, sellers[1])[1:3] == (EUR, 140_000)
    assert ordering.answers(request_id, sellers[0]).mrc == 150_000


def test_buyer_rejects_every_answer(market):
    ordering = market.ordering
    request_id = market.request()
    market.respond(request_id, market.seller)
    ordering.reject_quote(request_id, sender=market.buyer)

    assert events(ordering, "QuoteRequestClosed") == [
        {"request_id": request_id, "state": REQUEST_REJECTED, "accepted_seller": ZERO_ADDRESS}
    ]
    assert ordering.requests(request_id).state == REQUEST_REJECTED
    assert answer_states(market, request_id) == [DECLINED, DECLINED]


def test_only_a_ready_answer_can_be_accepted(market):
    ordering = market.ordering
    request_id = market.request()
    ordering.decline_quote(request_id, commitment("x"), sender=market.sellers[0])
    for seller in (*market.sellers, market.third):  # declined, not answered, not addressed
        with refused("no quote from this seller to accept"):
            ordering.accept_quote(request_id, seller, sender=market.buyer)
    assert ordering.requests(request_id).state == REQUEST_OPEN


def test_accepting_after_valid_until_is_refused(market):
    ordering = market.ordering
    request_id = market.request()
    market.respond(request_id, market.seller, valid_for=HOUR)
    valid_until = ordering.answers(request_id, market.seller).valid_until

    boa.env.timestamp = valid_until + 1
    with refused("the quote expired"):
        ordering.accept_quote(request_id, market.seller, sender=market.buyer)
    assert ordering.requests(request_id).state == REQUEST_OPEN
    assert ordering.answers(request_id, market.seller).state == READY

    # still rejectable
    ordering.reject_quote(request_id, sender=market.buyer)
    assert ordering.requests(request_id).state == REQUEST_REJECTED


def test_a_quote_is_acceptable_until_its_valid_until_even_after_the_request_expired(market):
    ordering = market.ordering
    request_id = market.request(respond_in=HOUR, expires_in=2 * HOUR)
    market.respond(request_id, market.seller, valid_for=5 * DAY)
    answer = ordering.answers(request_id, market.seller)
    assert answer.valid_until > ordering.requests(request_id).expires_at

    boa.env.timestamp = answer.valid_until  # the last moment
    ordering.accept_quote(request_id, market.seller, sender=market.buyer)
    assert ordering.answers(request_id, market.seller).state == ACCEPTED


def test_a_closed_request_cannot_be_accepted_or_rejected_again(market):
    ordering, buyer = market.ordering, market.buyer
    accepted = market.request()
    market.respond(accepted, market.sellers[0])
    market.respond(accepted, market.sellers[1])
    ordering.accept_quote(accepted, market.sellers[0], sender=buyer)
    for seller in market.sellers:
        with refused("the request is closed"):
            ordering.accept_quote(accepted, seller, sender=buyer)
    with refused("the request is closed"):
        ordering.reject_quote(accepted, sender=buyer)
    assert answer_states(market, accepted) == [ACCEPTED, DECLINED]

    rejected = market.request()
    market.respond(rejected, market.sellers[0])
    ordering.reject_quote(rejected, sender=buyer)
    with refused("the request is closed"):
        ordering.accept_quote(rejected, market.sellers[0], sender=buyer)
    with refused("the request is closed"):
        ordering.reject_quote(rejected, sender=buyer)
    assert ordering.requests(rejected).state == REQUEST_REJECTED


def test_only_the_buyer_accepts_or_rejects(market):
    ordering = market.ordering
    request_id = market.request()
    market.respond(request_id, market.seller)
    for other in (market.third, market.stranger, *market.sellers):
        with refused("not your quote request"):
            ordering.accept_quote(request_id, market.seller, sender=other)
        with refused("not your quote request"):
            ordering.reject_quote(request_id, sender=other)
    assert ordering.requests(request_id).state == REQUEST_OPEN
    assert answer_states(market, request_id) == [READY, PENDING]
    with refused("not your quote request"):
        ordering.reject_quote(request_id + 1, sender=market.buyer)  # unknown


# ------------------------------------------------------------------ reputation


def test_answers_within_the_window_count_in_time_later_ones_late(market):
    first, second = market.sellers
    request_id = market.request([first, second, market.third], respond_in=DAY, expires_in=3 * DAY)
    respond_by = market.ordering.requests(request_id).respond_by

    boa.env.timestamp = respond_by  # the last moment of the window
    market.respond(request_id, first)
    boa.env.timestamp = respond_by + 1  # late, but before expiry: still accepted
    market.respond(request_id, second)
    boa.env.timestamp = respond_by + DAY
    market.ordering.decline_quote(request_id, commitment("x"), sender=market.third)

    assert reputation(market, first) == (1, 0)
    assert reputation(market, second) == (0, 1)
    assert reputation(market, market.third) == (0, 1)
    assert market.ordering.answers(request_id, second).state == READY


def test_never_answered_sellers_count_late_when_the_request_closes(market):
    ordering = market.ordering
    first, second = market.sellers
    accepted = market.request([first, second, market.third])
    market.respond(accepted, first)
    boa.env.time_travel(seconds=2 * DAY)  # the window is over
    assert reputation(market, second) == (0, 0)  # not counted until the request closes
    ordering.accept_quote(accepted, first, sender=market.buyer)
    assert reputation(market, first) == (1, 0)
    assert reputation(market, second) == (0, 1)
    assert reputation(market, market.third) == (0, 1)

    rejected = market.request([first, second])
    market.respond(rejected, second)
    boa.env.time_travel(seconds=2 * DAY)  # first stays silent past its window
    ordering.reject_quote(rejected, sender=market.buyer)
    assert reputation(market, first) == (1, 1)
    assert reputation(market, second) == (1, 1)  # answered in time this time


def test_a_late_answer_is_not_counted_again_when_the_request_closes(market):
    request_id = market.request(respond_in=HOUR, expires_in=DAY)
    boa.env.time_travel(seconds=2 * HOUR)
    market.respond(request_id, market.sellers[1])  # late
    market.ordering.reject_quote(request_id, sender=market.buyer)
    assert reputation(market, market.sellers[1]) == (0, 1)
    assert reputation(market, market.sellers[0]) == (0, 1)  # never answered


def test_closing_before_the_window_ends_does_not_count_silent_sellers_late(market):
    """A buyer who accepts within minutes cuts the other sellers off while their window
    is still open; that is not held against them."""
    request_id = market.request(respond_in=DAY)
    market.respond(request_id, market.sellers[0])
    market.ordering.accept_quote(request_id, market.sellers[0], sender=market.buyer)
    assert market.now < market.ordering.requests(request_id).respond_by
    assert reputation(market, market.sellers[1]) == (0, 0)


def test_reputation_is_per_seller(market):
    request_id = market.request()
    market.respond(request_id, market.sellers[0])
    assert reputation(market, market.sellers[0]) == (1, 0)
    assert reputation(market, market.sellers[1]) == (0, 0)
    assert reputation(market, market.buyer) == (0, 0)
