"""Existing circuits: the seller registers live services in bulk (pending confirmation),
the buyer confirms them in bulk (active); a batch is all or nothing. And the gas of a
200-service batch of each, as a transaction would be charged (printed with pytest -s)."""

import boa
import pytest

from . import dao
from .helpers import ZERO_BYTES32, events
from .ordering_fixtures import (
    DAY,
    EUR,
    MAX_AMOUNT,
    SERVICE_ACTIVE,
    SERVICE_PENDING,
    USD,
    commitment,
    deploy_ordering,
    refused,
    template_args,
)

BATCH = 200  # Ordering's MAX_BATCH


def registered(market, n=3, **kwargs):
    """Register `n` circuits from the seller to the buyer; their ids."""
    first = market.ordering.register_services(
        market.buyer, market.existing(n, **kwargs), sender=market.seller
    )
    return list(range(first, first + n))


# ------------------------------------------------------------------ registration


def test_seller_registers_live_circuits_pending_the_buyers_confirmation(market):
    ordering = market.ordering
    entries = market.existing(3, currency=USD, mrc=80_000, started_ago=400 * DAY)
    first = ordering.register_services(market.buyer, entries, sender=market.seller)

    assert first == 1
    assert events(ordering, "ServiceChanged") == [
        {
            "service_id": i + 1,
            "buyer": market.buyer,
            "seller": market.seller,
            "state": SERVICE_PENDING,
            "order_id": 0,
            "commitment": entry[4],
        }
        for i, entry in enumerate(entries)
    ]
    assert ordering.service_count() == 3
    for i, (template, currency, mrc, started_at, _) in enumerate(entries):
        assert ordering.services(i + 1) == (
            market.buyer,
            market.seller,
            template,
            currency,
            mrc,
            started_at,
            SERVICE_PENDING,
        )
        assert not ordering.is_active_service(i + 1)
    assert [e[2] for e in entries] == [80_000, 80_001, 80_002]
    # ids are consecutive across batches
    assert registered(market, 2) == [4, 5]


def test_registered_values_at_the_edges_are_kept_exactly(market):
    ordering = market.ordering
    entries = [
        (market.template, 1, 1, 0, ZERO_BYTES32),
        (market.template, 999, MAX_AMOUNT, market.now, commitment("x")),
    ]
    ordering.register_services(market.buyer, entries, sender=market.seller)
    assert ordering.services(1)[2:6] == (market.template, 1, 1, 0)
    assert ordering.services(2)[2:6] == (market.template, 999, MAX_AMOUNT, market.now)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stranger seller", "not a member"),
        ("stranger buyer", "not a member"),
        ("seller to itself", "a seller cannot sell to itself"),
        ("empty batch", "nothing to register"),
        ("template not adopted", "SLA template not adopted"),
        ("currency zero", "not an ISO 4217 numeric currency"),
        ("currency 1000", "not an ISO 4217 numeric currency"),
        ("amount too large", "amount too large"),
        ("starts in the future", "a live circuit cannot start in the future"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(market, case, reason):
    seller, buyer = market.seller, market.buyer
    entries = market.existing(3)
    bad = list(entries[1])
    if case == "stranger seller":
        seller = market.stranger
    elif case == "stranger buyer":
        buyer = market.stranger
    elif case == "seller to itself":
        buyer = seller
    elif case == "empty batch":
        entries = []
    elif case == "template not adopted":
        bad[0] = market.template + 1
    elif case == "currency zero":
        bad[1] = 0
    elif case == "currency 1000":
        bad[1] = 1000
    elif case == "amount too large":
        bad[2] = MAX_AMOUNT + 1
    elif case == "starts in the future":
        bad[3] = market.now + 1
    if entries:
        entries[1] = tuple(bad)  # one bad entry among good ones

    with refused(reason):
        market.ordering.register_services(buyer, entries, sender=seller)
    assert market.ordering.service_count() == 0
    assert market.ordering.services(1).buyer == dao.ZERO_ADDRESS


def test_a_seller_that_left_cannot_register(market):
    system = market.system
    system.membership.remove(market.seller, sender=system.timelock.address)
    with refused("not a member"):
        registered(market)
    system.membership.remove(market.buyer, sender=system.timelock.address)
    with refused("not a member"):
        market.ordering.register_services(
            market.buyer, market.existing(1), sender=market.sellers[1]
        )
    assert market.ordering.service_count() == 0


# ------------------------------------------------------------------ confirmation


def test_buyer_confirms_in_bulk_and_the_services_become_active(market):
    ordering = market.ordering
    ids = registered(market, 4)
    ordering.confirm_services(ids[:3], sender=market.buyer)

    assert events(ordering, "ServiceChanged") == [
        {
            "service_id": i,
            "buyer": market.buyer,
            "seller": market.seller,
            "state": SERVICE_ACTIVE,
            "order_id": 0,
            "commitment": ZERO_BYTES32,
        }
        for i in ids[:3]
    ]
    assert [ordering.is_active_service(i) for i in ids] == [True, True, True, False]
    assert [ordering.services(i).state for i in ids] == [2, 2, 2, 1]
    # confirmation changes the state only: parties, terms and start are as registered
    for i, entry in zip(ids, market.existing(4), strict=True):
        assert ordering.services(i)[:6] == (market.buyer, market.seller, *entry[:4])


def test_only_the_buyer_confirms(market):
    ordering = market.ordering
    ids = registered(market)
    for other in (market.seller, market.sellers[1], market.third, market.stranger):
        with refused("not your service"):
            ordering.confirm_services(ids, sender=other)
    assert not any(ordering.is_active_service(i) for i in ids)


def test_confirming_twice_is_refused(market):
    ordering = market.ordering
    ids = registered(market)
    ordering.confirm_services(ids, sender=market.buyer)
    with refused("service not awaiting confirmation"):
        ordering.confirm_services(ids[:1], sender=market.buyer)
    assert all(ordering.is_active_service(i) for i in ids)


def test_a_service_from_an_order_needs_no_confirmation(market):
    ordering = market.ordering
    order_id = market.order()
    ordering.acknowledge_order(order_id, sender=market.seller)
    service_id = ordering.complete_order(order_id, commitment("s"), sender=market.seller)
    with refused("service not awaiting confirmation"):
        ordering.confirm_services([service_id], sender=market.buyer)
    assert ordering.is_active_service(service_id)


@pytest.mark.parametrize("bad", ["unknown id", "another buyer's", "confirmed", "listed twice"])
def test_a_batch_with_one_bad_id_confirms_nothing(market, bad):
    ordering = market.ordering
    ids = registered(market, 5)
    # a circuit of another buyer (the third member), registered by the same seller
    others = ordering.register_services(market.third, market.existing(1), sender=market.seller)
    batch = list(ids)
    if bad == "unknown id":
        batch.insert(2, 999)
        reason = "not your service"
    elif bad == "another buyer's":
        batch.insert(2, others)
        reason = "not your service"
    elif bad == "confirmed":
        ordering.confirm_services([ids[4]], sender=market.buyer)
        batch = ids
        reason = "service not awaiting confirmation"
    else:
        batch = [*ids[:3], ids[1]]
        reason = "service not awaiting confirmation"
    with refused(reason):
        ordering.confirm_services(batch, sender=market.buyer)
    expected = [False] * 4 + [bad == "confirmed"]
    assert [ordering.is_active_service(i) for i in ids] == expected
    assert not ordering.is_active_service(others)


def test_a_batch_is_at_most_200(market):
    ordering = market.ordering
    ids = registered(market, BATCH)
    assert ids[-1] == BATCH
    # the ABI decoder refuses a longer array (a revert without a reason)
    with boa.reverts():
        ordering.confirm_services([*ids, BATCH + 1], sender=market.buyer)
    with boa.reverts():
        ordering.register_services(market.buyer, market.existing(BATCH + 1), sender=market.seller)
    assert ordering.service_count() == BATCH
    assert not ordering.is_active_service(1)


# ------------------------------------------------------------------ gas


def charged(computation):
    """Gas as a transaction is charged (as test_gas.py computes it): intrinsic 21,000 plus
    calldata, execution, minus the capped refund, with Prague's calldata floor."""
    assert not computation.is_error
    data = bytes(computation.msg.data)
    zeros = data.count(0)
    tokens = zeros + 4 * (len(data) - zeros)
    used = 21_000 + 4 * tokens + computation.get_gas_used()
    refund = min(computation.get_gas_refund(), used // 5)
    return max(used - refund, 21_000 + 10 * tokens)


def test_gas_per_registered_and_per_confirmed_service(
    governance_contracts, ordering_contract, compiler, founder_keys
):
    # A separate environment, as in test_gas.py: its state is committed between calls
    # (transaction boundaries), which no anchor would survive.
    fresh_env = boa.Env()
    with boa.swap_env(fresh_env):
        founders = [key.address for key in founder_keys]
        system = dao.deploy_system(governance_contracts, founders, with_modules=False)
        system.sla_templates.adopt(*template_args(), sender=system.timelock.address)
        _, _, ordering = deploy_ordering(ordering_contract, system, compiler)
        buyer, seller = founders[0], founders[1]
        now = fresh_env.timestamp
        entries = [
            (1, EUR, 80_000 + i, now - 365 * DAY, commitment(f"circuit {i}")) for i in range(BATCH)
        ]

        fresh_env.evm.vm.state.lock_changes()
        first = ordering.register_services(buyer, entries, sender=seller)
        register = charged(ordering._computation)
        fresh_env.evm.vm.state.lock_changes()
        ordering.confirm_services(list(range(first, first + BATCH)), sender=buyer)
        confirm = charged(ordering._computation)
        assert all(ordering.is_active_service(i) for i in (1, BATCH // 2, BATCH))

    per_register, per_confirm = register / BATCH, confirm / BATCH
    print(
        f"\nregister_services x{BATCH}: {register:,} gas ({per_register:,.0f} per service)"
        f"\nconfirm_services  x{BATCH}: {confirm:,} gas ({per_confirm:,.0f} per service)"
    )
    # two fresh storage words (2 x 22,100) and an event per registered service; one word
    # rewritten, one read and an event per confirmed one
    assert 44_200 < per_register < 60_000
    assert 5_000 < per_confirm < 15_000
    assert register < 30_000_000  # fits a block with room to spare
