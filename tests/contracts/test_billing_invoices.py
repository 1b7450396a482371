"""Billing: the seller invoices the buyer for a period that is over, in batches of lines;
each line is the pro-rated recurring charge of a service less its endorsed SLA credit
(capped at the charge); the finalized invoice is paymentDue with its document committed;
only the settlement module marks it settled. Every refusal names its reason and leaves
nothing behind."""

import boa
import pytest
from eth.exceptions import Revert

from . import dao
from .billing_fixtures import (
    CREDIT_CALCULATED,
    CREDIT_DISPUTED,
    CREDIT_ENDORSED,
    CREDIT_NONE,
    GENERATED,
    PAYMENT_DUE,
    SETTLED,
    billing_contracts_fixture,  # noqa: F401
    billing_refused,
    books_fixture,  # noqa: F401
    days_in,
    expected_line,
    period_end,
    period_start,
)
from .helpers import ZERO_ADDRESS, events, revert_reason_data
from .ordering_fixtures import DAY, EUR, USD, commitment


def full_month_services(books, n=3, *, mrc=100_000, **kwargs):
    """`n` services that run through the whole of the next period; (period, ids)."""
    period = books.next_period(2)
    ids = books.services(n, mrc=mrc, started_at=period_start(period) - 10 * DAY, **kwargs)
    books.after(period)
    return period, ids


# ------------------------------------------------------------------ deployment


def test_billing_is_wired_to_its_modules(books):
    billing, system = books.billing, books.system
    assert billing.initialized()
    assert billing.version() == 1
    assert billing.membership() == system.membership.address
    assert billing.ordering() == books.ordering.address
    assert billing.assurance() == books.assurance.address
    assert billing.settlement() == books.settlement.address
    assert billing.deployer() == ZERO_ADDRESS  # its role ended with the wiring
    assert billing.invoice_count() == 0


def test_initialize_and_wiring_happen_once(books):
    billing, system = books.billing, books.system
    args = (system.membership.address, books.ordering.address, books.assurance.address)
    with billing_refused("already initialized"):
        billing.initialize(*args, sender=dao.DEPLOYER)
    with billing_refused("already initialized"):  # the implementation is locked
        books.billing_implementation.initialize(*args, sender=dao.DEPLOYER)
    for caller in (dao.DEPLOYER, books.seller, system.timelock.address):
        with billing_refused("only the deployer, once"):
            billing.set_settlement(books.seller, sender=caller)
    assert billing.settlement() == books.settlement.address


def test_the_deployer_wires_the_settlement_module_once(books, billing_contracts, compiler):
    system = books.system
    _, _, billing = dao.deploy_module(
        billing_contracts.billing,
        [system.membership.address, books.ordering.address, books.assurance.address],
        system,
        compiler,
    )
    assert billing.deployer() == dao.DEPLOYER
    assert billing.settlement() == ZERO_ADDRESS
    with billing_refused("only the deployer, once"):
        billing.set_settlement(books.settlement.address, sender=books.seller)
    with billing_refused("zero settlement"):
        billing.set_settlement(ZERO_ADDRESS, sender=dao.DEPLOYER)
    with billing_refused("only the settlement module"):  # not wired: nobody settles
        billing.mark_settled([], 1, sender=ZERO_ADDRESS)
    billing.set_settlement(books.settlement.address, sender=dao.DEPLOYER)
    assert events(billing, "SettlementSet") == [{"settlement": books.settlement.address}]
    assert billing.settlement() == books.settlement.address


def test_zero_addresses_are_refused_at_initialize(books, billing_contracts, compiler):
    # the proxy's constructor reverts with the module's reason
    with pytest.raises(Revert) as error:
        dao.deploy_module(
            billing_contracts.billing,
            [books.system.membership.address, ZERO_ADDRESS, books.assurance.address],
            books.system,
            compiler,
        )
    assert error.value.args[0] == revert_reason_data("Billing: zero address")


# ------------------------------------------------------------------ the lifecycle


def test_an_invoice_is_generated_in_batches_then_payment_due(books):
    billing = books.billing
    period, ids = full_month_services(books, 5, mrc=100_000)
    books.endorse(ids, period)  # no breach: endorsed zero credits
    books.assurance.set_credit(ids[1], period, CREDIT_ENDORSED, 2_500)

    invoice_id = billing.issue_invoice(books.buyer, period, EUR, ids[:3], sender=books.seller)
    assert invoice_id == 1
    assert events(billing, "InvoiceGenerated") == [
        {
            "invoice_id": 1,
            "seller": books.seller,
            "buyer": books.buyer,
            "period": period,
            "currency": EUR,
        }
    ]
    assert events(billing, "InvoiceLine") == [
        {
            "invoice_id": 1,
            "service_id": i,
            "billable_days": days_in(period),
            "charge": 100_000,
            "credit": 2_500 if i == ids[1] else 0,
        }
        for i in ids[:3]
    ]
    assert billing.invoices(1) == (
        books.seller,
        books.buyer,
        period,
        EUR,
        GENERATED,
        3,
        300_000,
        2_500,
        297_500,
    )

    billing.add_invoice_lines(1, ids[3:], sender=books.seller)
    assert [e["service_id"] for e in events(billing, "InvoiceLine")] == ids[3:]
    assert billing.invoices(1).lines == 5

    document = commitment("invoice 1")
    billing.finalize_invoice(1, document, sender=books.seller)
    assert events(billing, "InvoicePaymentDue") == [
        {
            "invoice_id": 1,
            "seller": books.seller,
            "buyer": books.buyer,
            "lines": 5,
            "charges": 500_000,
            "credits": 2_500,
            "amount_due": 497_500,
            "commitment": document,
        }
    ]
    # what the buyer sees
    invoice = billing.invoices(1)
    assert (invoice.state, invoice.charges, invoice.credits, invoice.amount_due) == (
        PAYMENT_DUE,
        500_000,
        2_500,
        497_500,
    )
    assert all(billing.is_invoiced(i, period) for i in ids)
    assert not any(billing.is_invoiced(i, period + 1) for i in ids)


def test_only_the_seller_adds_lines_or_finalizes_while_generated(books):
    billing = books.billing
    period, ids = full_month_services(books, 3)
    books.endorse(ids, period)
    invoice_id = books.issue(ids[:1], period)
    for other in (books.buyer, books.market.sellers[1], books.market.stranger):
        with billing_refused("not your invoice"):
            billing.add_invoice_lines(invoice_id, ids[1:2], sender=other)
        with billing_refused("not your invoice"):
            billing.finalize_invoice(invoice_id, commitment("x"), sender=other)
    with billing_refused("not your invoice"):
        billing.finalize_invoice(invoice_id + 1, commitment("x"), sender=books.seller)
    with billing_refused("no services"):
        billing.add_invoice_lines(invoice_id, [], sender=books.seller)

    billing.finalize_invoice(invoice_id, commitment("x"), sender=books.seller)
    with billing_refused("the invoice is no longer generated"):
        billing.add_invoice_lines(invoice_id, ids[1:2], sender=books.seller)
    with billing_refused("the invoice is no longer generated"):
        billing.finalize_invoice(invoice_id, commitment("x"), sender=books.seller)
    assert billing.invoices(invoice_id).lines == 1
    assert not billing.is_invoiced(ids[1], period)


def test_a_seller_that_left_cannot_go_on_with_its_invoice(books):
    billing, system = books.billing, books.system
    period, ids = full_month_services(books, 2)
    books.endorse(ids, period)
    invoice_id = books.issue(ids[:1], period)
    system.membership.remove(books.seller, sender=system.timelock.address)
    with billing_refused("not a member"):
        billing.add_invoice_lines(invoice_id, ids[1:], sender=books.seller)
    with billing_refused("not a member"):
        billing.finalize_invoice(invoice_id, commitment("x"), sender=books.seller)
    assert billing.invoices(invoice_id).state == GENERATED


# ------------------------------------------------------------------ credits


def test_endorsed_credits_are_subtracted_and_capped_at_the_line_charge(books):
    billing = books.billing
    period = books.next_period(2)
    # a full month, and one that starts on the 21st (a third or so of the month)
    full = books.services(1, mrc=90_000, started_at=period_start(period) - DAY)
    late_start = period_start(period) + 20 * DAY + 3600
    late = books.services(1, mrc=90_000, started_at=late_start)
    books.after(period)
    days, late_charge = expected_line(90_000, late_start, 0, period)
    assert days == days_in(period) - 20
    books.assurance.set_credit(full[0], period, CREDIT_ENDORSED, 9_000)  # 10 % of MRC
    books.assurance.set_credit(late[0], period, CREDIT_ENDORSED, 90_000)  # 100 % of MRC

    invoice_id = books.invoice(full + late, period)
    invoice = billing.invoices(invoice_id)
    assert invoice.charges == 90_000 + late_charge
    # the late starter's credit is capped at its pro-rated charge
    assert invoice.credits == 9_000 + late_charge
    assert invoice.amount_due == 81_000


def test_a_credit_as_large_as_the_charges_leaves_nothing_due(books):
    period, ids = full_month_services(books, 2, mrc=50_000)
    books.endorse(ids, period, amount=60_000)
    invoice_id = books.invoice(ids, period)
    invoice = books.billing.invoices(invoice_id)
    assert (invoice.charges, invoice.credits, invoice.amount_due) == (100_000, 100_000, 0)
    assert invoice.state == PAYMENT_DUE


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (CREDIT_NONE, "SLA period not closed for the service"),
        (CREDIT_CALCULATED, "SLA credit not endorsed by both parties"),
        (CREDIT_DISPUTED, "SLA credit disputed"),
        (7, "unknown SLA credit state"),
    ],
)
def test_a_credit_not_endorsed_keeps_the_service_off_the_invoice(books, state, reason):
    billing = books.billing
    period, ids = full_month_services(books, 3)
    books.endorse(ids, period)
    books.assurance.set_credit(ids[2], period, state, 1_000)
    with billing_refused(reason):
        billing.issue_invoice(books.buyer, period, EUR, ids, sender=books.seller)
    assert billing.invoice_count() == 0
    assert not any(billing.is_invoiced(i, period) for i in ids)

    invoice_id = books.issue(ids[:2], period)
    with billing_refused(reason):
        billing.add_invoice_lines(invoice_id, ids[2:], sender=books.seller)
    assert billing.invoices(invoice_id).lines == 2
    # once the credit is endorsed, the service is billed
    books.assurance.set_credit(ids[2], period, CREDIT_ENDORSED, 1_000)
    billing.add_invoice_lines(invoice_id, ids[2:], sender=books.seller)
    assert billing.invoices(invoice_id).credits == 1_000


def test_the_credit_of_another_period_does_not_count(books):
    period, ids = full_month_services(books, 1)
    books.endorse(ids, period - 1, amount=5_000)
    with billing_refused("SLA period not closed for the service"):
        books.issue(ids, period)


# ------------------------------------------------------------------ once per service-period


def test_a_service_period_is_invoiced_only_once(books):
    billing = books.billing
    period, ids = full_month_services(books, 3)
    books.endorse(ids, period)
    books.endorse(ids, period + 1)
    first = books.invoice(ids[:2], period)
    for batch in ([ids[0]], [ids[2], ids[1]]):
        with billing_refused("service already invoiced for the period"):
            books.issue(batch, period)
    second = books.issue(ids[2:], period)
    with billing_refused("service already invoiced for the period"):
        billing.add_invoice_lines(second, [ids[0]], sender=books.seller)
    with billing_refused("service already invoiced for the period"):  # within one batch
        billing.add_invoice_lines(second, [ids[2]], sender=books.seller)
    assert billing.invoices(first).lines == 2
    assert billing.invoices(second).lines == 1

    # the next period is a new line
    books.after(period + 1)
    third = books.invoice(ids, period + 1)
    assert billing.invoices(third).lines == 3
    assert [billing.is_invoiced(ids[0], p) for p in (period - 1, period, period + 1)] == [
        False,
        True,
        True,
    ]


def test_the_bitmap_keeps_periods_256_apart_apart(books):
    """Periods p and p + 256 share a bit position in different words."""
    billing = books.billing
    period = books.next_period(2)
    ids = books.services(1, started_at=period_start(period) - DAY)
    books.after(period + 256)
    books.endorse(ids, period)
    books.endorse(ids, period + 256)
    books.invoice(ids, period + 256)
    assert not billing.is_invoiced(ids[0], period)
    books.invoice(ids, period)
    assert billing.is_invoiced(ids[0], period) and billing.is_invoiced(ids[0], period + 256)


# ------------------------------------------------------------------ what may be invoiced


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("another seller's service", "service not between this seller and buyer"),
        ("another buyer's service", "service not between this seller and buyer"),
        ("unknown service", "service not between this seller and buyer"),
        ("another currency", "service in another currency"),
        ("awaiting confirmation", "service not active"),
        ("starts after the period", "service not active during the period"),
        ("ended before the period", "service not active during the period"),
        ("ended at the period's first midnight", "service not active during the period"),
    ],
)
def test_a_service_that_does_not_belong_on_the_invoice_is_refused(books, case, reason):
    billing, market = books.billing, books.market
    period = books.next_period(3)
    before = period_start(period) - 20 * DAY
    good = books.services(2, started_at=before)
    if case == "another seller's service":
        bad = books.services(1, seller=market.sellers[1], started_at=before)[0]
    elif case == "another buyer's service":
        bad = books.services(1, buyer=market.third, started_at=before)[0]
    elif case == "unknown service":
        bad = 10_000
    elif case == "another currency":
        bad = books.services(1, currency=USD, started_at=before)[0]
    elif case == "awaiting confirmation":
        bad = books.services(1, started_at=before, confirm=False)[0]
    elif case == "starts after the period":
        bad = books.services(1, started_at=period_end(period))[0]
    else:
        bad = books.services(1, started_at=before)[0]
        ended_at = period_start(period) - (DAY if case == "ended before the period" else 0)
        books.ordering.end_service(bad, ended_at, sender=books.buyer)
    books.after(period)
    books.endorse([*good, bad], period)

    with billing_refused(reason):
        books.issue([*good, bad], period)
    assert billing.invoice_count() == 0
    invoice_id = books.issue(good, period)
    with billing_refused(reason):
        billing.add_invoice_lines(invoice_id, [bad], sender=books.seller)
    assert billing.invoices(invoice_id).lines == 2
    assert not billing.is_invoiced(bad, period)


def test_the_period_must_be_over(books):
    billing = books.billing
    period = books.next_period(2)
    ids = books.services(1, started_at=period_start(period) - DAY)
    books.endorse(ids, period)
    boa.env.timestamp = period_end(period) - 1
    with billing_refused("the period is not over"):
        billing.issue_invoice(books.buyer, period, EUR, ids, sender=books.seller)
    with billing_refused("the period is not over"):  # a later period, even more so
        billing.issue_invoice(books.buyer, period + 1, EUR, ids, sender=books.seller)
    boa.env.timestamp = period_end(period)  # its last second is over
    assert billing.issue_invoice(books.buyer, period, EUR, ids, sender=books.seller) == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stranger seller", "not a member"),
        ("stranger buyer", "not a member"),
        ("seller to itself", "a seller cannot invoice itself"),
        ("no services", "no services"),
        ("currency zero", "not an ISO 4217 numeric currency"),
        ("currency 1000", "not an ISO 4217 numeric currency"),
        ("period out of range", "period out of range"),
    ],
)
def test_bad_invoices_are_refused(books, case, reason):
    billing, market = books.billing, books.market
    period, ids = full_month_services(books, 1)
    books.endorse(ids, period)
    seller, buyer, currency, batch = books.seller, books.buyer, EUR, ids
    if case == "stranger seller":
        seller = market.stranger
    elif case == "stranger buyer":
        buyer = market.stranger
    elif case == "seller to itself":
        buyer = seller
    elif case == "no services":
        batch = []
    elif case == "currency zero":
        currency = 0
    elif case == "currency 1000":
        currency = 1000
    elif case == "period out of range":
        period = 2**32
    with billing_refused(reason):
        billing.issue_invoice(buyer, period, currency, batch, sender=seller)
    assert billing.invoice_count() == 0


# ------------------------------------------------------------------ settled


def test_only_the_settlement_module_marks_invoices_settled(books):
    billing = books.billing
    period, ids = full_month_services(books, 2)
    books.endorse(ids, period)
    due = books.invoice(ids[:1], period)
    generated = books.issue(ids[1:], period)
    for caller in (books.seller, books.buyer, books.operator, dao.DEPLOYER):
        with billing_refused("only the settlement module"):
            billing.mark_settled([due], 1, sender=caller)
    settlement = books.settlement.address
    for invoice_id in (generated, generated + 1):
        with billing_refused("invoice not payment due"):
            billing.mark_settled([due, invoice_id], 1, sender=settlement)
    assert billing.invoices(due).state == PAYMENT_DUE

    billing.mark_settled([due], 7, sender=settlement)
    assert events(billing, "InvoiceSettled") == [
        {"invoice_id": due, "seller": books.seller, "buyer": books.buyer, "cycle_id": 7}
    ]
    assert billing.invoices(due).state == SETTLED
    with billing_refused("invoice not payment due"):
        billing.mark_settled([due], 8, sender=settlement)
