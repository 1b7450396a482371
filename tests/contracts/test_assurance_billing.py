"""Assurance and Billing together (the real modules, each behind its BeaconProxy, with
Settlement): what an invoice waits on. A service whose period had no outage fact (no down
ticket in it) is final when the period closes and is invoiced at once, with no
endorsement; a period with a ticket waits on both parties' endorsements even when its
credit is zero; a credit is subtracted from the charge once both endorsed.

Then the README's worked example ("A month in numbers", under "Assurance, billing,
settlement"), computed here by the contracts: every number the README states is asserted
below, so a change of a rule that changes one of them fails this test. Keep the two in
step."""

from datetime import UTC, datetime

import pytest
from eth_utils import keccak, to_checksum_address

from . import dao
from .assurance_fixtures import (
    CALCULATED,
    CLOSED,
    ENDORSED,
    RESOLVED,
    WINDOW,
    assurance_contract_fixture,  # noqa: F401
    desk_fixture,  # noqa: F401
    ticket_id,
)
from .billing_fixtures import (
    CYCLE_SETTLED,
    PAYMENT_DUE,
    SETTLED,
    billing_contracts_fixture,  # noqa: F401
    billing_refused,
)
from .credit_model import DEGRADED, PLANNED_MAINTENANCE, POWER, Outage, period_end, period_for
from .helpers import ZERO_ADDRESS, events
from .ordering_fixtures import DAY, EUR, HOUR, commitment

FEBRUARY, MARCH = period_for(2027, 2), period_for(2027, 3)


def at(*args: int) -> int:
    """A UTC time, as the chain's seconds."""
    return int(datetime(*args, tzinfo=UTC).timestamp())


# Billing and Settlement come from a deployer of their own: at the fixed deployer's next
# addresses, other test modules deploy other kinds of contract (see dao.deploy_module).
LEDGER_DEPLOYER = to_checksum_address(keccak(text="carriercoop test ledger deployer")[:20])


class Ledger:
    """The desk (Ordering and Assurance on the governance system) with Billing, initialized
    with the real Assurance proxy, and Settlement."""

    def __init__(self, desk, billing_contracts, compiler, operator):
        system = desk.market.system
        self.desk = desk
        _, _, self.billing = dao.deploy_module(
            billing_contracts.billing,
            [system.membership.address, desk.ordering.address, desk.assurance.address],
            system,
            compiler,
            deployer=LEDGER_DEPLOYER,
        )
        _, _, self.settlement = dao.deploy_module(
            billing_contracts.settlement,
            [system.membership.address, self.billing.address, operator],
            system,
            compiler,
            deployer=LEDGER_DEPLOYER,
        )
        self.billing.set_settlement(self.settlement.address, sender=LEDGER_DEPLOYER)

    def invoice(self, seller, buyer, period, service_ids):
        """Issue and finalize; the invoice id."""
        invoice_id = self.billing.issue_invoice(buyer, period, EUR, service_ids, sender=seller)
        self.billing.finalize_invoice(
            invoice_id, commitment(f"invoice {invoice_id}"), sender=seller
        )
        return invoice_id

    def lines(self):
        """The InvoiceLine events of the last call: (service, billable days, charge, credit)."""
        return [
            (e["service_id"], e["billable_days"], e["charge"], e["credit"])
            for e in events(self.billing, "InvoiceLine")
        ]


@pytest.fixture(name="ledger")
def ledger_fixture(desk, billing_contracts, compiler, operator):
    return Ledger(desk, billing_contracts, compiler, operator)


# ------------------------------------------------------------------ what an invoice waits on


def test_a_period_without_a_ticket_is_final_at_its_close_and_invoiced_at_once(ledger):
    desk = ledger.desk
    quiet = desk.services(2)
    desk.close_period(FEBRUARY, quiet)
    assert [desk.assurance.period_credit(s, FEBRUARY) for s in quiet] == [(ENDORSED, 0)] * 2
    # no endorse_credits call: the seller invoices straight away
    invoice_id = ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, quiet, sender=desk.seller)
    assert ledger.lines() == [(s, 28, 100_000, 0) for s in quiet]
    ledger.billing.finalize_invoice(invoice_id, commitment("quiet"), sender=desk.seller)
    assert ledger.billing.invoices(invoice_id).amount_due == 200_000


def test_a_period_with_a_ticket_waits_on_both_endorsements_even_for_a_zero_credit(ledger):
    desk = ledger.desk
    (s,) = desk.services(1)
    t = at(2027, 2, 10, 9)
    desk.outages(s, [Outage(t, t + 10)])  # ten seconds down: no tier, credit zero
    desk.close_period(FEBRUARY, [s])
    assert desk.assurance.credit(s, FEBRUARY) == (CALCULATED, 0, 0, 999_995, 10, False, False)
    with billing_refused("SLA credit not endorsed by both parties"):
        ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)
    desk.endorse(FEBRUARY, [s], desk.seller)
    with billing_refused("SLA credit not endorsed by both parties"):  # one is not enough
        ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)
    desk.endorse(FEBRUARY, [s], desk.buyer)
    ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)
    assert ledger.lines() == [(s, 28, 100_000, 0)]


def test_a_credit_is_subtracted_once_both_parties_endorse_it(ledger):
    desk = ledger.desk
    (s,) = desk.services(1)
    t = at(2027, 2, 10, 9)
    desk.outages(s, [Outage(t, t + HOUR)])  # 99.8511 %: the 25 % tier
    desk.close_period(FEBRUARY, [s])
    with billing_refused("SLA credit not endorsed by both parties"):
        ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)
    desk.endorse(FEBRUARY, [s])
    invoice_id = ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)
    assert ledger.lines() == [(s, 28, 100_000, 25_000)]
    ledger.billing.finalize_invoice(invoice_id, commitment("credit"), sender=desk.seller)
    assert ledger.billing.invoices(invoice_id).amount_due == 75_000


def test_a_disputed_credit_keeps_the_service_off_the_invoice(ledger):
    desk = ledger.desk
    (s,) = desk.services(1)
    t = at(2027, 2, 10, 9)
    (tid,) = desk.outages(s, [Outage(t, t + HOUR)])
    desk.close_period(FEBRUARY, [s])
    desk.assurance.dispute_credit(s, FEBRUARY, [tid], b"\x01" * 32, sender=desk.buyer)
    with billing_refused("SLA credit disputed"):
        ledger.billing.issue_invoice(desk.buyer, FEBRUARY, EUR, [s], sender=desk.seller)


# ------------------------------------------------------------------ the README's example


def test_the_readme_worked_example(ledger):
    """March 2027 (31 days, 2,678,400 s) between Aurora (A) and Borealis (B), on the Gold
    template (below 99.95 % -> 10 %, below 99.9 % -> 25 %, below 99 % -> 100 % of the MRC;
    resolution window 3 days; planned maintenance left out). B provides A:
    S1 (MRC 1,000.00 EUR, all month), S2 (600.00, started 27 March 09:30), S3 (400.00, all
    month, no ticket); A provides B S4 (500.00, all month, no ticket). Amounts in cents."""
    desk = ledger.desk
    a, b = desk.buyer, desk.seller
    assert period_end(MARCH) - period_end(FEBRUARY) == 2_678_400
    assert WINDOW == 3 * DAY
    (s1,) = desk.services(1, mrc=100_000)
    (s3,) = desk.services(1, mrc=40_000)
    (s4,) = desk.services(1, mrc=50_000, buyer=b, seller=a)
    # Periods close in order from the first the module computes (February here): a quiet
    # February, final at its close.
    desk.close_period(FEBRUARY, [s1, s3, s4], sender=b)
    assert {desk.assurance.period_credit(s, FEBRUARY) for s in (s1, s3, s4)} == {(ENDORSED, 0)}

    # S1, 4 March: down 10:00-11:30 (fiber cut, A closes the ticket) and 11:00-12:00
    # (power, resolved at 12:30, A does not answer: deemed closed 3 days later)
    desk.at(at(2027, 3, 4, 12, 30))
    t1, t2 = ticket_id(s1, 0), ticket_id(s1, 1)
    desk.open([(t1, at(2027, 3, 4, 10)), (t2, at(2027, 3, 4, 11))])
    desk.acknowledge([t1, t2])
    desk.resolve([(t1, at(2027, 3, 4, 11, 30)), (t2, at(2027, 3, 4, 12), POWER)])
    desk.close([t1])
    desk.at(at(2027, 3, 7, 12, 30) - 1)
    assert desk.state(t2) == RESOLVED
    desk.at(at(2027, 3, 7, 12, 30))
    assert desk.state(t2) == CLOSED  # deemed closed: the window is over
    # S1, 12 March: degraded from 08:00 (never resolved: it neither counts nor holds the
    # close); 20 March: planned maintenance 02:00-04:00 (left out)
    desk.at(at(2027, 3, 20, 4))
    t3, t4 = ticket_id(s1, 2), ticket_id(s1, 3)
    desk.open([(t3, at(2027, 3, 12, 8), DEGRADED), (t4, at(2027, 3, 20, 2))])
    desk.acknowledge([t4])
    desk.resolve([(t4, at(2027, 3, 20, 4), PLANNED_MAINTENANCE)])
    desk.close([t4])

    # S2 starts on 27 March at 09:30; down on 28 March 08:00-09:00
    desk.at(at(2027, 3, 27, 9, 30))
    (s2,) = desk.services(1, mrc=60_000, started_at=at(2027, 3, 27, 9, 30))
    desk.outages(s2, [Outage(at(2027, 3, 28, 8), at(2027, 3, 28, 9))])

    # 1 April: B closes March for all four
    desk.close_period(MARCH, [s1, s2, s3, s4], sender=b)
    assert [e["service_id"] for e in events(desk.assurance, "CreditEndorsed")] == [s3, s4]
    assert {e["party"] for e in events(desk.assurance, "CreditEndorsed")} == {ZERO_ADDRESS}
    # state, amount, bps, availability ppm, outage seconds, endorsed by A, by B
    assert [desk.assurance.credit(s, MARCH) for s in (s1, s2, s3, s4)] == [
        (CALCULATED, 25_000, 2_500, 997_311, 7_200, False, False),
        (CALCULATED, 15_000, 2_500, 998_655, 3_600, False, False),
        (ENDORSED, 0, 0, 1_000_000, 0, True, True),
        (ENDORSED, 0, 0, 1_000_000, 0, True, True),
    ]
    # periods met and breached, per seller: B's February S1 and S3, March S3; S1 and S2
    assert tuple(desk.assurance.compliance(b)) == (3, 2)
    assert tuple(desk.assurance.compliance(a)) == (2, 0)  # S4, February and March

    # A invoices B for S4 at once: nothing to endorse
    a_to_b = ledger.invoice(a, b, MARCH, [s4])
    assert tuple(ledger.billing.invoices(a_to_b))[4:] == (PAYMENT_DUE, 1, 50_000, 0, 50_000)
    # B's invoice waits for S1 and S2: both parties endorse them (two calls, one each)
    with billing_refused("SLA credit not endorsed by both parties"):
        ledger.billing.issue_invoice(a, MARCH, EUR, [s1, s2, s3], sender=b)
    desk.endorse(MARCH, [s1, s2])
    b_to_a = ledger.billing.issue_invoice(a, MARCH, EUR, [s1, s2, s3], sender=b)
    assert ledger.lines() == [
        (s1, 31, 100_000, 25_000),
        (s2, 5, 9_677, 9_677),  # 60,000 * 5 // 31; the credit 15,000 capped at the charge
        (s3, 31, 40_000, 0),
    ]
    ledger.billing.finalize_invoice(b_to_a, commitment("March"), sender=b)
    assert tuple(ledger.billing.invoices(b_to_a))[4:] == (PAYMENT_DUE, 3, 149_677, 34_677, 115_000)

    # netting: B is owed 115,000 - 50,000 = 65,000 net, A owes as much: one payment
    cycle = ledger.settlement.run_settlement_cycle(
        EUR, [b_to_a, a_to_b], [(a, b, 65_000)], sender=b
    )
    nets = {e["member"]: e["net"] for e in events(ledger.settlement, "NetPosition")}
    assert nets == {b: 65_000, a: -65_000}
    ledger.settlement.confirm_payment(cycle, 0, sender=a)  # sent
    ledger.settlement.confirm_payment(cycle, 0, sender=b)  # received: the cycle settles
    assert ledger.settlement.cycles(cycle).state == CYCLE_SETTLED
    assert [ledger.billing.invoices(i).state for i in (b_to_a, a_to_b)] == [SETTLED, SETTLED]
