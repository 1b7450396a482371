"""A service ends when its buyer disconnects it: now or at a later date, once, an active
service only, by a member; the end is a view (`service_ended_at`, 0 while open-ended) and
a `ServiceEnded` event; the service's state and terms do not change."""

from deployments.paths import CONTRACTS_DIR

from .helpers import events
from .ordering_fixtures import DAY, SERVICE_ACTIVE, commitment, refused


def active_services(market, n=2, started_ago=30 * DAY):
    first = market.ordering.register_services(
        market.buyer, market.existing(n, started_ago=started_ago), sender=market.seller
    )
    ids = list(range(first, first + n))
    market.ordering.confirm_services(ids, sender=market.buyer)
    return ids


def test_the_buyer_ends_a_service_now_or_later(market):
    ordering = market.ordering
    now_id, later_id = active_services(market)
    assert ordering.service_ended_at(now_id) == 0

    ordering.end_service(now_id, market.now, sender=market.buyer)
    assert events(ordering, "ServiceEnded") == [
        {
            "service_id": now_id,
            "buyer": market.buyer,
            "seller": market.seller,
            "ended_at": market.now,
        }
    ]
    later = market.now + 45 * DAY
    ordering.end_service(later_id, later, sender=market.buyer)
    assert events(ordering, "ServiceEnded")[0]["ended_at"] == later

    assert ordering.service_ended_at(now_id) == market.now
    assert ordering.service_ended_at(later_id) == later
    # the state and the terms stay as they were: the end is a fact of its own
    for service_id in (now_id, later_id):
        service = ordering.services(service_id)
        assert service.state == SERVICE_ACTIVE
        assert ordering.is_active_service(service_id)
        assert (service.buyer, service.seller) == (market.buyer, market.seller)


def test_a_service_ends_only_once(market):
    ordering = market.ordering
    (service_id,) = active_services(market, 1)
    ordering.end_service(service_id, market.now + DAY, sender=market.buyer)
    for ended_at in (market.now + DAY, market.now + 2 * DAY, market.now):
        with refused("service already ended"):
            ordering.end_service(service_id, ended_at, sender=market.buyer)
    assert ordering.service_ended_at(service_id) == market.now + DAY


def test_only_the_buyer_ends_a_service(market):
    ordering = market.ordering
    (service_id,) = active_services(market, 1)
    for other in (market.seller, market.sellers[1], market.third, market.stranger):
        with refused("not your service"):
            ordering.end_service(service_id, market.now + DAY, sender=other)
    assert ordering.service_ended_at(service_id) == 0


def test_an_end_in_the_past_or_before_the_start_is_refused(market):
    ordering = market.ordering
    (service_id,) = active_services(market, 1)
    with refused("end in the past"):
        ordering.end_service(service_id, market.now - 1, sender=market.buyer)

    # a service from an order starts now: it cannot end at its start
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    started = ordering.complete_order(order_id, commitment("s"), sender=market.seller)
    assert ordering.services(started).started_at == market.now
    with refused("end before the service started"):
        ordering.end_service(started, market.now, sender=market.buyer)
    ordering.end_service(started, market.now + 1, sender=market.buyer)
    assert ordering.service_ended_at(started) == market.now + 1
    assert ordering.service_ended_at(service_id) == 0


def test_a_registered_circuit_ends_no_earlier_than_its_start_even_if_scheduled(market):
    # a live circuit registered with a start in the past, confirmed, ended the same second
    ordering = market.ordering
    (service_id,) = active_services(market, 1, started_ago=0)
    assert ordering.services(service_id).started_at == market.now
    with refused("end before the service started"):
        ordering.end_service(service_id, market.now, sender=market.buyer)


def test_only_an_active_service_ends(market):
    ordering = market.ordering
    first = ordering.register_services(market.buyer, market.existing(1), sender=market.seller)
    with refused("service not active"):
        ordering.end_service(first, market.now + DAY, sender=market.buyer)
    with refused("not your service"):  # unknown: nobody's service
        ordering.end_service(first + 1, market.now + DAY, sender=market.buyer)
    assert ordering.service_ended_at(first) == 0


def test_a_buyer_that_left_cannot_end_a_service(market):
    ordering = market.ordering
    (service_id,) = active_services(market, 1)
    system = market.system
    system.membership.remove(market.buyer, sender=system.timelock.address)
    with refused("not a member"):
        ordering.end_service(service_id, market.now + DAY, sender=market.buyer)
    assert ordering.service_ended_at(service_id) == 0


def test_the_end_is_appended_to_the_storage_layout():
    """Upgrade safety: the new mapping comes after every variable of the first version."""
    from vyper.compiler import compile_code
    from vyper.compiler.input_bundle import FilesystemInputBundle

    path = CONTRACTS_DIR / "cooperative" / "Ordering.vy"
    out = compile_code(
        path.read_text(),
        contract_path=path,
        input_bundle=FilesystemInputBundle([CONTRACTS_DIR]),
        output_formats=["layout"],
    )
    layout = out["layout"]["storage_layout"]
    last = max(slot["slot"] for name, slot in layout.items() if name != "service_end")
    assert layout["service_end"]["slot"] == last + 1
    assert layout["reputation"]["slot"] == 13  # where version 1 put its last variable


def test_ending_a_service_leaves_the_others_open(market):
    ordering = market.ordering
    ids = active_services(market, 3)
    ordering.end_service(ids[1], market.now + 40 * DAY, sender=market.buyer)
    assert [ordering.service_ended_at(i) for i in ids] == [0, market.now + 40 * DAY, 0]
