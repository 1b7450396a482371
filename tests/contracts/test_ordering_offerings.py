"""Ordering as a cooperative module (implementation locked, BeaconProxy initialized once
with the member register and the SLA templates) and its product offerings: published by
members with adopted SLA templates only, withdrawn by their seller only."""

import boa

from deployments.deploy import MODULES

from .helpers import ZERO_ADDRESS, events, revert_reason_data, solidity_initcode
from .ordering_fixtures import (
    adopt_template,
    commitment,
    refused,
    template_args,
)

# ------------------------------------------------------------------ the module


def test_proxy_is_initialized_with_the_registers(market):
    ordering, system = market.ordering, market.system
    assert ordering.initialized()
    assert ordering.membership() == system.membership.address
    assert ordering.sla_templates() == system.sla_templates.address
    assert ordering.version() == 1
    assert market.beacon.implementation() == market.implementation.address
    assert market.beacon.owner() == system.timelock.address
    counts = (
        ordering.offering_count(),
        ordering.request_count(),
        ordering.order_count(),
        ordering.service_count(),
    )
    assert counts == (0, 0, 0, 0)


def test_deploy_py_initializes_ordering_with_membership_and_sla_templates():
    spec = next(m for m in MODULES if m.name == "Ordering")

    class Deployment:
        def address(self, name):
            return f"<{name}>"

    assert spec.version == 1
    assert spec.initialize_args(Deployment()) == ["<Membership>", "<SlaTemplates>"]


def test_implementation_is_locked(market):
    implementation, system = market.implementation, market.system
    assert implementation.initialized()
    assert implementation.membership() == ZERO_ADDRESS
    with refused("already initialized"):
        implementation.initialize(
            system.membership.address, system.sla_templates.address, sender=market.stranger
        )
    assert implementation.membership() == ZERO_ADDRESS
    # nothing works on the bare implementation: it has no member register
    with boa.reverts():
        implementation.publish_offering([1], commitment("o"), sender=market.seller)


def test_proxy_refuses_a_second_initialize(market):
    for caller in (market.buyer, market.stranger):
        with refused("already initialized"):
            market.ordering.initialize(caller, caller, sender=caller)
    assert market.ordering.membership() == market.system.membership.address


def test_proxy_with_a_zero_register_cannot_be_deployed(market, compiler):
    system = market.system
    proxy = compiler.openzeppelin("BeaconProxy")
    for args in (
        (ZERO_ADDRESS, system.sla_templates.address),
        (system.membership.address, ZERO_ADDRESS),
    ):
        init = market.implementation.initialize.prepare_calldata(*args)
        _, computation = boa.env.deploy(
            bytecode=solidity_initcode(proxy, ["address", "bytes"], [market.beacon.address, init])
        )
        assert computation.is_error
        assert computation.output == revert_reason_data("Ordering: zero address")


# ------------------------------------------------------------------ offerings


def test_a_member_publishes_an_offering(market):
    ordering, seller = market.ordering, market.seller
    document = commitment("E-Line 1G, FR/PAR sites, 12/36 months")
    offering_id = ordering.publish_offering([market.template], document, sender=seller)

    assert offering_id == 1
    assert events(ordering, "OfferingPublished") == [
        {
            "offering_id": 1,
            "seller": seller,
            "sla_templates": [market.template],
            "commitment": document,
        }
    ]
    assert ordering.offerings(1) == (seller, True)
    assert ordering.offering_count() == 1

    second = ordering.publish_offering([market.template], commitment("2"), sender=market.buyer)
    assert second == 2
    assert ordering.offerings(2) == (market.buyer, True)
    assert ordering.offering_count() == 2


def test_an_offering_may_offer_several_adopted_templates(market):
    system = market.system
    silver = system.sla_templates.adopt(
        *template_args("Silver availability"), sender=system.timelock.address
    )
    ordering = market.ordering
    ordering.publish_offering([market.template, silver], commitment("o"), sender=market.seller)
    assert events(ordering, "OfferingPublished")[0]["sla_templates"] == [market.template, silver]


def test_only_members_publish(market):
    with refused("not a member"):
        market.ordering.publish_offering([market.template], commitment("o"), sender=market.stranger)
    assert market.ordering.offering_count() == 0


def test_an_offering_needs_an_sla_template(market):
    with refused("an offering needs an SLA template"):
        market.ordering.publish_offering([], commitment("o"), sender=market.seller)
    assert market.ordering.offering_count() == 0


def test_only_adopted_templates_may_be_offered(market):
    system, ordering = market.system, market.ordering
    unknown = market.template + 1
    with refused("SLA template not adopted"):
        ordering.publish_offering([unknown], commitment("o"), sender=market.seller)
    # one bad template among good ones is enough
    with refused("SLA template not adopted"):
        ordering.publish_offering([market.template, unknown], commitment("o"), sender=market.seller)
    # a retired template is no longer adopted
    silver = system.sla_templates.adopt(
        *template_args("Silver availability"), sender=system.timelock.address
    )
    system.sla_templates.retire(silver, sender=system.timelock.address)
    with refused("SLA template not adopted"):
        ordering.publish_offering([silver], commitment("o"), sender=market.seller)
    assert ordering.offering_count() == 0


def test_template_adopted_through_a_proposal_can_be_offered_and_quoted(market):
    ordering, platinum = market.ordering, market.template + 1
    with refused("SLA template not adopted"):
        ordering.publish_offering([platinum], commitment("o"), sender=market.seller)
    # propose, vote, queue, execute (ADOPT_SLA_TEMPLATE)
    assert adopt_template(market.system, "Platinum availability") == platinum
    ordering.publish_offering([platinum], commitment("o"), sender=market.seller)
    assert events(ordering, "OfferingPublished")[0]["sla_templates"] == [platinum]
    request_id = market.request(template=platinum)
    assert ordering.requests(request_id).sla_template == platinum


def test_the_seller_withdraws_its_offering_once(market):
    ordering, seller = market.ordering, market.seller
    ordering.publish_offering([market.template], commitment("o"), sender=seller)

    for other in (market.buyer, market.third, market.stranger):
        with refused("not your offering"):
            ordering.withdraw_offering(1, sender=other)
    assert ordering.offerings(1) == (seller, True)

    ordering.withdraw_offering(1, sender=seller)
    assert events(ordering, "OfferingWithdrawn") == [{"offering_id": 1}]
    assert ordering.offerings(1) == (seller, False)

    with refused("offering already withdrawn"):
        ordering.withdraw_offering(1, sender=seller)
    assert ordering.offerings(1) == (seller, False)


def test_an_unknown_offering_cannot_be_withdrawn(market):
    with refused("not your offering"):
        market.ordering.withdraw_offering(7, sender=market.seller)


def test_withdrawing_one_offering_leaves_the_others(market):
    ordering, seller = market.ordering, market.seller
    for i in range(3):
        ordering.publish_offering([market.template], commitment(f"o{i}"), sender=seller)
    ordering.withdraw_offering(2, sender=seller)
    assert [ordering.offerings(i).active for i in (1, 2, 3)] == [True, False, True]
