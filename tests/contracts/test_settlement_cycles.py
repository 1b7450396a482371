"""Settlement cycles: a member (or the operator) nets paymentDue invoices of one currency;
the contract computes every participant's position, checks the proposed payments clear
them (debtors to creditors, at most members - 1) and locks the invoices; payer and payee
confirm each payment; the last confirmation settles the cycle and its invoices."""

import boa
import pytest
from eth.exceptions import Revert

from . import dao
from .billing_fixtures import (
    BY_BOTH,
    BY_PAYEE,
    BY_PAYER,
    CANCELLED,
    CONFIRMING,
    CYCLE_SETTLED,
    GENERATED,
    PAYMENT_DUE,
    SETTLED,
    billing_contracts_fixture,  # noqa: F401
    books_fixture,  # noqa: F401
    period_start,
    settlement_refused,
)
from .helpers import ZERO_ADDRESS, events, revert_reason_data
from .netting_model import greedy_payments, positions
from .ordering_fixtures import DAY, EUR, USD


class Triangle:
    """Three members, A sells B 100,000, B sells C 70,000, C sells A 20,000 (EUR):
    A is owed 80,000 net, B owes 30,000, C owes 50,000; C pays A 50,000, B pays A 30,000."""

    def __init__(self, books):
        self.books = books
        self.a, self.b, self.c = books.seller, books.market.sellers[1], books.buyer
        self.period = books.next_period(2)
        books.after(self.period)
        self.invoices = [
            books.due_invoice(self.a, self.b, 100_000, self.period),
            books.due_invoice(self.b, self.c, 70_000, self.period),
            books.due_invoice(self.c, self.a, 20_000, self.period, credit=5_000),
        ]
        self.payments = [(self.c, self.a, 50_000), (self.b, self.a, 30_000)]

    def run(self, payments=None, *, sender=None, invoices=None):
        return self.books.settlement.run_settlement_cycle(
            EUR,
            self.invoices if invoices is None else invoices,
            self.payments if payments is None else payments,
            sender=sender or self.a,
        )


@pytest.fixture
def triangle(books):
    return Triangle(books)


# ------------------------------------------------------------------ deployment


def test_settlement_is_wired(books):
    settlement, system = books.settlement, books.system
    assert settlement.initialized()
    assert settlement.version() == 1
    assert settlement.membership() == system.membership.address
    assert settlement.billing() == books.billing.address
    assert settlement.operator() == books.operator
    assert settlement.cycle_count() == 0
    args = (system.membership.address, books.billing.address, books.operator)
    with settlement_refused("already initialized"):
        settlement.initialize(*args, sender=dao.DEPLOYER)
    with settlement_refused("already initialized"):
        books.settlement_implementation.initialize(*args, sender=dao.DEPLOYER)


def test_zero_addresses_are_refused_at_initialize(books, billing_contracts, compiler):
    with pytest.raises(Revert) as error:
        dao.deploy_module(
            billing_contracts.settlement,
            [books.system.membership.address, books.billing.address, ZERO_ADDRESS],
            books.system,
            compiler,
        )
    assert error.value.args[0] == revert_reason_data("Settlement: zero address")


# ------------------------------------------------------------------ a cycle


def test_a_cycle_nets_the_invoices_and_instructs_the_payments(triangle):
    books, t = triangle.books, triangle
    settlement = books.settlement
    assert (
        greedy_payments(positions([(t.a, t.b, 100_000), (t.b, t.c, 70_000), (t.c, t.a, 20_000)]))
        == t.payments
    )

    cycle_id = t.run()
    assert cycle_id == 1
    assert events(settlement, "SettlementCycleOpened") == [
        {
            "cycle_id": 1,
            "runner": t.a,
            "currency": EUR,
            "participant_count": 3,
            "payment_count": 2,
            "invoice_ids": t.invoices,
        }
    ]
    assert events(settlement, "NetPosition") == [
        {"cycle_id": 1, "member": t.a, "as_seller": 100_000, "as_buyer": 20_000, "net": 80_000},
        {"cycle_id": 1, "member": t.b, "as_seller": 70_000, "as_buyer": 100_000, "net": -30_000},
        {"cycle_id": 1, "member": t.c, "as_seller": 20_000, "as_buyer": 70_000, "net": -50_000},
    ]
    assert events(settlement, "PaymentInstructed") == [
        {"cycle_id": 1, "payer": t.c, "payee": t.a, "payment_index": 0, "amount": 50_000},
        {"cycle_id": 1, "payer": t.b, "payee": t.a, "payment_index": 1, "amount": 30_000},
    ]
    assert settlement.cycles(1) == (EUR, CONFIRMING, t.a, 3, 3, 2, 4, books.now)
    assert settlement.payments(1, 0) == (t.c, t.a, 50_000, 0)
    assert settlement.payments(1, 1) == (t.b, t.a, 30_000, 0)
    assert settlement.cycle_invoice_ids(1) == t.invoices
    assert all(settlement.is_locked(i) for i in t.invoices)
    # the invoices stay paymentDue until the cycle settles
    assert all(books.billing.invoices(i).state == PAYMENT_DUE for i in t.invoices)


def test_payer_and_payee_confirm_and_the_last_confirmation_settles(triangle):
    books, t = triangle.books, triangle
    settlement, billing = books.settlement, books.billing
    cycle_id = t.run()

    settlement.confirm_payment(cycle_id, 0, sender=t.c)  # C: sent
    assert events(settlement, "PaymentConfirmed") == [
        {"cycle_id": 1, "member": t.c, "payment_index": 0, "confirmations": BY_PAYER}
    ]
    settlement.confirm_payment(cycle_id, 1, sender=t.a)  # A: received from B
    assert events(settlement, "PaymentConfirmed")[0]["confirmations"] == BY_PAYEE
    settlement.confirm_payment(cycle_id, 0, sender=t.a)  # A: received from C
    assert events(settlement, "PaymentConfirmed")[0]["confirmations"] == BY_BOTH
    assert settlement.payments(1, 0).confirmations == BY_BOTH
    assert settlement.cycles(1).state == CONFIRMING
    assert settlement.cycles(1).pending_confirmations == 1
    assert all(billing.invoices(i).state == PAYMENT_DUE for i in t.invoices)

    settlement.confirm_payment(cycle_id, 1, sender=t.b)  # B: sent, the last one
    assert events(settlement, "SettlementCycleSettled") == [
        {"cycle_id": 1, "currency": EUR, "invoice_count": 3}
    ]
    assert events(billing, "InvoiceSettled", settlement._computation) == [
        {"invoice_id": t.invoices[0], "seller": t.a, "buyer": t.b, "cycle_id": 1},
        {"invoice_id": t.invoices[1], "seller": t.b, "buyer": t.c, "cycle_id": 1},
        {"invoice_id": t.invoices[2], "seller": t.c, "buyer": t.a, "cycle_id": 1},
    ]
    assert settlement.cycles(1).state == CYCLE_SETTLED
    assert settlement.cycles(1).pending_confirmations == 0
    assert all(billing.invoices(i).state == SETTLED for i in t.invoices)
    # settled invoices stay locked and cannot be netted again
    assert all(settlement.is_locked(i) for i in t.invoices)
    with settlement_refused("invoice not payment due"):
        t.run()


def test_confirming_is_for_the_payments_parties_once(triangle):
    books, t = triangle.books, triangle
    settlement = books.settlement
    cycle_id = t.run()
    market = books.market
    for other in (t.b, market.third, market.stranger, books.operator):
        with settlement_refused("not a party to this payment"):
            settlement.confirm_payment(cycle_id, 0, sender=other)  # C pays A
    settlement.confirm_payment(cycle_id, 0, sender=t.c)
    with settlement_refused("already confirmed"):
        settlement.confirm_payment(cycle_id, 0, sender=t.c)
    with settlement_refused("no such payment"):
        settlement.confirm_payment(cycle_id, 2, sender=t.c)
    with settlement_refused("cycle not awaiting confirmations"):
        settlement.confirm_payment(cycle_id + 1, 0, sender=t.c)
    assert settlement.cycles(cycle_id).pending_confirmations == 3

    for index, member in [(0, t.a), (1, t.a), (1, t.b)]:
        settlement.confirm_payment(cycle_id, index, sender=member)
    assert settlement.cycles(cycle_id).state == CYCLE_SETTLED
    with settlement_refused("cycle not awaiting confirmations"):
        settlement.confirm_payment(cycle_id, 0, sender=t.a)


def test_a_party_that_left_may_still_confirm(triangle):
    books, t = triangle.books, triangle
    cycle_id = t.run()
    books.system.membership.remove(t.b, sender=books.system.timelock.address)
    books.settlement.confirm_payment(cycle_id, 1, sender=t.b)
    assert books.settlement.payments(cycle_id, 1).confirmations == BY_PAYER


def test_balanced_invoices_need_no_payment_and_settle_at_once(books):
    a, b = books.seller, books.buyer
    period = books.next_period(2)
    books.after(period)
    invoices = [
        books.due_invoice(a, b, 40_000, period),
        books.due_invoice(b, a, 40_000, period),
        books.due_invoice(a, b, 0, period, credit=3_000),  # credits ate the whole charge
    ]
    cycle_id = books.settlement.run_settlement_cycle(EUR, invoices, [], sender=books.operator)
    assert [e["net"] for e in events(books.settlement, "NetPosition")] == [0, 0]
    assert events(books.settlement, "SettlementCycleSettled") == [
        {"cycle_id": cycle_id, "currency": EUR, "invoice_count": 3}
    ]
    assert books.settlement.cycles(cycle_id).state == CYCLE_SETTLED
    assert all(books.billing.invoices(i).state == SETTLED for i in invoices)


# ------------------------------------------------------------------ payment sets refused


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("missing payment", "payments do not clear the positions"),
        ("one unit short", "payments do not clear the positions"),
        ("one unit too much", "payments do not clear the positions"),
        ("reversed", "payer is not a net debtor"),
        ("to a debtor", "payee is not a net creditor"),
        ("zero payment", "zero payment"),
        ("outsider payer", "payment party not in the cycle"),
        ("outsider payee", "payment party not in the cycle"),
        ("too many payments", "more payments than members - 1"),
        ("through a middleman", "payee is not a net creditor"),
    ],
)
def test_a_wrong_payment_set_is_refused(triangle, case, reason):
    books, t = triangle.books, triangle
    c_to_a, b_to_a = t.payments
    outsider = books.market.third
    payments = {
        "missing payment": [c_to_a],
        "one unit short": [c_to_a, (t.b, t.a, 29_999)],
        "one unit too much": [c_to_a, (t.b, t.a, 30_001)],
        "reversed": [(t.a, t.c, 50_000), b_to_a],
        "to a debtor": [(t.c, t.b, 20_000), (t.c, t.a, 30_000)],
        "zero payment": [c_to_a, (t.b, t.a, 0)],
        "outsider payer": [(outsider, t.a, 50_000), b_to_a],
        "outsider payee": [(t.c, outsider, 50_000), b_to_a],
        "too many payments": [(t.c, t.a, 25_000), (t.c, t.a, 25_000), b_to_a],
        # C pays B what B owes A: sums clear, but B is a debtor, not a creditor
        "through a middleman": [(t.c, t.b, 30_000), (t.c, t.a, 20_000)],
    }[case]
    with settlement_refused(reason):
        t.run(payments)
    # nothing locked, nothing counted: the right set still runs
    assert books.settlement.cycle_count() == 0
    assert not any(books.settlement.is_locked(i) for i in t.invoices)
    assert t.run() == 1


# ------------------------------------------------------------------ invoices refused


def test_an_invoice_is_in_one_cycle_at_a_time(triangle):
    books, t = triangle.books, triangle
    settlement = books.settlement
    t.run()
    extra = books.due_invoice(t.a, t.c, 10_000, t.period)
    for invoices in ([t.invoices[1], extra], [extra, t.invoices[0]]):
        with settlement_refused("invoice already in a settlement cycle"):
            settlement.run_settlement_cycle(EUR, invoices, [(t.c, t.a, 10_000)], sender=t.a)
    with settlement_refused("invoice already in a settlement cycle"):  # twice in one call
        settlement.run_settlement_cycle(EUR, [extra, extra], [(t.c, t.a, 20_000)], sender=t.a)
    assert settlement.run_settlement_cycle(EUR, [extra], [(t.c, t.a, 10_000)], sender=t.a) == 2


def test_only_payment_due_invoices_of_the_currency_enter_a_cycle(triangle):
    books, t = triangle.books, triangle
    settlement = books.settlement
    (service_id,) = books.services(1, started_at=period_start(t.period) - DAY)
    books.endorse([service_id], t.period)
    generated = books.issue([service_id], t.period)
    assert books.billing.invoices(generated).state == GENERATED
    in_usd = books.due_invoice(t.b, t.c, 30_000, t.period, currency=USD)
    for bad in (generated, 999):
        with settlement_refused("invoice not payment due"):
            t.run(invoices=[*t.invoices, bad])
    with settlement_refused("invoice in another currency"):
        t.run(invoices=[*t.invoices, in_usd])
    with settlement_refused("invoice in another currency"):
        settlement.run_settlement_cycle(USD, t.invoices, t.payments, sender=t.a)
    # the USD invoice goes in a USD cycle
    cycle_id = settlement.run_settlement_cycle(USD, [in_usd], [(t.c, t.b, 30_000)], sender=t.b)
    assert settlement.cycles(cycle_id).currency == USD


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stranger runs it", "only a member or the operator runs a cycle"),
        ("no invoices", "no invoices"),
        ("currency zero", "not an ISO 4217 numeric currency"),
        ("a party left", "a party is not a member"),
    ],
)
def test_bad_cycles_are_refused(triangle, case, reason):
    books, t = triangle.books, triangle
    settlement = books.settlement
    sender, invoices, currency = t.a, t.invoices, EUR
    if case == "stranger runs it":
        sender = books.market.stranger
    elif case == "no invoices":
        invoices = []
    elif case == "currency zero":
        currency = 0
    elif case == "a party left":
        books.system.membership.remove(t.b, sender=books.system.timelock.address)
    with settlement_refused(reason):
        settlement.run_settlement_cycle(currency, invoices, t.payments, sender=sender)
    assert settlement.cycle_count() == 0


def test_any_member_or_the_operator_runs_a_cycle(triangle):
    books, t = triangle.books, triangle
    cycle_id = t.run(sender=books.operator)
    assert books.settlement.cycles(cycle_id).runner == books.operator
    books.settlement.cancel_settlement_cycle(cycle_id, sender=books.operator)
    cycle_id = t.run(sender=books.market.third)  # a member party to nothing
    assert books.settlement.cycles(cycle_id).runner == books.market.third


def test_at_most_twenty_members_in_a_cycle(books):
    members = [books.seller, books.buyer, *books.admit(19)]
    period = books.next_period(2)
    books.after(period)
    # a chain: member i sells member i + 1 (21 members)
    invoices = [books.due_invoice(members[i], members[i + 1], 1_000, period) for i in range(20)]
    payments = [(members[20], members[0], 1_000)]
    with settlement_refused("more than 20 members in a cycle"):
        books.settlement.run_settlement_cycle(EUR, invoices, payments, sender=books.seller)
    # 20 of them are fine
    cycle_id = books.settlement.run_settlement_cycle(
        EUR, invoices[:19], [(members[19], members[0], 1_000)], sender=books.seller
    )
    assert books.settlement.cycles(cycle_id).participant_count == 20


# ------------------------------------------------------------------ cancellation


def test_the_runner_or_the_operator_cancels_before_any_confirmation(triangle):
    books, t = triangle.books, triangle
    settlement = books.settlement
    cycle_id = t.run(sender=t.b)
    for other in (t.a, t.c, books.market.stranger):
        with settlement_refused("only the runner or the operator cancels"):
            settlement.cancel_settlement_cycle(cycle_id, sender=other)
    settlement.cancel_settlement_cycle(cycle_id, sender=t.b)
    assert events(settlement, "SettlementCycleCancelled") == [{"cycle_id": cycle_id, "by": t.b}]
    assert settlement.cycles(cycle_id).state == CANCELLED
    assert not any(settlement.is_locked(i) for i in t.invoices)
    with settlement_refused("cycle not awaiting confirmations"):
        settlement.cancel_settlement_cycle(cycle_id, sender=t.b)
    with settlement_refused("cycle not awaiting confirmations"):
        settlement.confirm_payment(cycle_id, 0, sender=t.c)

    # the unlocked invoices go in a new cycle; once a payment is confirmed it cannot be
    # cancelled, by the runner or the operator
    again = t.run(sender=t.a)
    settlement.confirm_payment(again, 1, sender=t.a)
    for who in (t.a, books.operator):
        with settlement_refused("payments already confirmed"):
            settlement.cancel_settlement_cycle(again, sender=who)
    assert settlement.cycles(again).state == CONFIRMING


def test_the_operator_cancels_a_members_cycle(triangle):
    books, t = triangle.books, triangle
    cycle_id = t.run(sender=t.c)
    books.settlement.cancel_settlement_cycle(cycle_id, sender=books.operator)
    assert books.settlement.cycles(cycle_id).state == CANCELLED
    assert t.run() == cycle_id + 1


def test_packed_invoice_ids_round_trip(books):
    """Ids are kept four to a word: any count, in the order given."""
    a, b = books.seller, books.buyer
    period = books.next_period(2)
    books.after(period)
    invoices = [books.due_invoice(a, b, 10 + i, period) for i in range(9)]
    order = invoices[::-1]
    for count in (1, 4, 5, 9):
        with boa.env.anchor():
            chosen = order[:count]
            amount = sum(books.billing.invoices(i).amount_due for i in chosen)
            cycle_id = books.settlement.run_settlement_cycle(
                EUR, chosen, [(b, a, amount)], sender=a
            )
            assert books.settlement.cycle_invoice_ids(cycle_id) == chosen
