"""Property: random invoice graphs among 2 to 20 members, netted against the reference
model (netting_model.py). The model's positions sum to zero and its greedy payment set
has at most (participants - 1) payments; the contract reports the model's positions and
accepts that set; a wrong set (a payment dropped, one unit more or less, reversed, an
extra payment, an outsider) is refused with the model's reason and locks nothing; every
payment is confirmed by payer and payee in a random order, a non-party's or a repeated
confirmation is refused, and only the last confirmation settles the cycle and its
invoices."""

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .billing_fixtures import (
    BY_BOTH,
    CONFIRMING,
    CYCLE_SETTLED,
    PAYMENT_DUE,
    SETTLED,
    billing_contracts_fixture,  # noqa: F401
    books_fixture,  # noqa: F401
    settlement_refused,
)
from .helpers import events
from .netting_model import as_seller_and_buyer, greedy_payments, participants, positions, refusal
from .ordering_fixtures import EUR

MEMBERS = 20


@pytest.fixture
def cooperative(books):
    """The books with 20 members (5 founders, 15 admitted) and a period that is over."""
    members = [*books.system.founders, *books.admit(MEMBERS - len(books.system.founders))]
    period = books.next_period(2)
    books.after(period)
    return books, members, period


amounts = st.one_of(st.integers(0, 1_000), st.integers(0, 10**12), st.sampled_from([100, 250]))


@st.composite
def invoice_graphs(draw):
    """(number of members, [(seller index, buyer index, amount due, credit)])."""
    n = draw(st.integers(min_value=2, max_value=MEMBERS))
    edge = st.tuples(
        st.integers(0, n - 1), st.integers(0, n - 1), amounts, st.sampled_from([0, 0, 1, 500])
    ).filter(lambda e: e[0] != e[1])
    return n, draw(st.lists(edge, min_size=1, max_size=24))


MUTATIONS = ["drop", "bump", "shave", "reverse", "extra", "outsider"]


def mutate(kind, payments, net, index, outsider):
    """A wrong payment set from the valid `payments` (index picks the payment touched)."""
    if not payments or kind == "extra":
        debtors = [m for m, v in net.items() if v < 0] or list(net)
        creditors = [m for m, v in net.items() if v > 0] or list(net)[::-1]
        return [*payments, (debtors[0], creditors[0], 1)]
    i = index % len(payments)
    payer, payee, amount = payments[i]
    changed = {
        "drop": None,
        "bump": (payer, payee, amount + 1),
        "shave": (payer, payee, amount - 1),
        "reverse": (payee, payer, amount),
        "outsider": (payer, outsider, amount),
    }[kind]
    return [*payments[:i], *([changed] if changed else []), *payments[i + 1 :]]


@settings(
    max_examples=30,
    deadline=None,
    # the deployed contracts are shared on purpose; each example runs in its own anchor
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    graph=invoice_graphs(),
    mutation=st.sampled_from(MUTATIONS),
    mutation_index=st.integers(0, 100),
    data=st.data(),
)
def test_netting_matches_the_reference_model(cooperative, graph, mutation, mutation_index, data):
    books, members, period = cooperative
    settlement, billing = books.settlement, books.billing
    n, edges = graph
    with boa.env.anchor():
        invoices, model_invoices = [], []
        for seller, buyer, amount, credit in edges:
            s, b = members[seller], members[buyer]
            credit = credit or (1 if amount == 0 else 0)  # a service has an MRC
            invoices.append(books.due_invoice(s, b, amount, period, credit=credit))
            model_invoices.append((s, b, amount))
        net = positions(model_invoices)
        assert sum(net.values()) == 0
        payments = greedy_payments(net)
        assert len(payments) <= len(participants(model_invoices)) - 1
        assert refusal(net, payments) is None
        runner = members[data.draw(st.integers(0, n - 1), label="runner")]

        # a wrong payment set is refused with the model's reason and leaves nothing
        wrong = mutate(mutation, payments, net, mutation_index, books.market.stranger)
        reason = refusal(net, wrong)
        assert reason is not None
        with settlement_refused(reason):
            settlement.run_settlement_cycle(EUR, invoices, wrong, sender=runner)
        assert settlement.cycle_count() == 0
        assert not any(settlement.is_locked(i) for i in invoices)

        # the model's set is accepted and the positions are the model's
        cycle_id = settlement.run_settlement_cycle(EUR, invoices, payments, sender=runner)
        totals = as_seller_and_buyer(model_invoices)
        assert events(settlement, "NetPosition") == [
            {
                "cycle_id": cycle_id,
                "member": member,
                "as_seller": totals[member][0],
                "as_buyer": totals[member][1],
                "net": position,
            }
            for member, position in net.items()
        ]
        assert [
            (e["payer"], e["payee"], e["amount"]) for e in events(settlement, "PaymentInstructed")
        ] == payments
        assert all(settlement.is_locked(i) for i in invoices)
        # locked in this cycle (or, settled at once, no longer payment due)
        with settlement_refused(
            "invoice already in a settlement cycle" if payments else "invoice not payment due"
        ):
            settlement.run_settlement_cycle(EUR, invoices[-1:], [], sender=runner)

        if not payments:  # every position was zero: settled at once
            assert settlement.cycles(cycle_id).state == CYCLE_SETTLED
            assert all(billing.invoices(i).state == SETTLED for i in invoices)
            return

        # every payment confirmed by payer and payee, in a random order
        confirmations = [(i, p[0]) for i, p in enumerate(payments)]
        confirmations += [(i, p[1]) for i, p in enumerate(payments)]
        order = data.draw(st.permutations(confirmations), label="confirmation order")
        for step, (index, member) in enumerate(order):
            payer, payee, _ = payments[index]
            outsiders = [m for m in members if m not in (payer, payee)]
            other = outsiders[step % len(outsiders)]
            with settlement_refused("not a party to this payment"):
                settlement.confirm_payment(cycle_id, index, sender=other)
            assert settlement.cycles(cycle_id).state == CONFIRMING
            assert all(billing.invoices(i).state == PAYMENT_DUE for i in invoices)

            settlement.confirm_payment(cycle_id, index, sender=member)
            with settlement_refused(
                "already confirmed" if step < len(order) - 1 else "cycle not awaiting confirmations"
            ):
                settlement.confirm_payment(cycle_id, index, sender=member)
            assert settlement.cycles(cycle_id).pending_confirmations == len(order) - step - 1

        assert settlement.cycles(cycle_id).state == CYCLE_SETTLED
        assert all(
            settlement.payments(cycle_id, i).confirmations == BY_BOTH for i in range(len(payments))
        )
        assert all(billing.invoices(i).state == SETTLED for i in invoices)
