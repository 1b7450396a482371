"""Gas of a settlement cycle among 20 members, measured in titanoboa as transactions would
be charged (as test_gas.py measures): every member invoices every other (380 invoices),
the greedy payment set clears the positions (at most 19 payments), each payment is
confirmed by payer and payee, and the last confirmation settles the 380 invoices through
Billing. Printed with `pytest -s`; the assertions only check the shape."""

import boa
from eth_account import Account
from eth_utils import keccak

from . import dao
from .billing_fixtures import (
    CYCLE_SETTLED,
    SETTLED,
    billing_contracts_fixture,  # noqa: F401
    deploy_books,
)
from .netting_model import greedy_payments, positions
from .ordering_fixtures import EUR, deploy_market
from .test_gas import charged

MEMBERS = 20
BLOCK_GAS_LIMIT = 30_000_000


def test_gas_of_a_settlement_cycle_of_20_members(governance_contracts, billing_contracts, compiler):
    fresh_env = boa.Env()
    with boa.swap_env(fresh_env):
        figures, shape = measure_a_cycle(
            fresh_env, governance_contracts, billing_contracts, compiler
        )
    print(f"\nsettlement cycle of {MEMBERS} members, {shape}")
    for name, gas in figures.items():
        print(f"{name}: {gas:,} gas")
    assert figures["run_settlement_cycle"] < BLOCK_GAS_LIMIT // 2
    assert figures["confirm_payment (last, settles the invoices)"] < BLOCK_GAS_LIMIT // 2


def measure_a_cycle(fresh_env, governance_contracts, billing_contracts, compiler):
    founders = [Account.from_key(keccak(text=f"gas founder {i}")).address for i in range(5)]
    system = dao.deploy_system(governance_contracts, founders)
    market = deploy_market(system, billing_contracts.ordering, compiler)
    books = deploy_books(billing_contracts, market, compiler, boa.env.generate_address("op"))
    settlement = books.settlement
    members = [*founders, *books.admit(MEMBERS - len(founders))]
    period = books.next_period(2)
    books.after(period)

    invoices, model = [], []
    for i, seller in enumerate(members):
        for j, buyer in enumerate(members):
            if i != j:
                amount = 50_000 + (i * 7_919 + j * 104_729) % 900_000
                invoices.append(books.due_invoice(seller, buyer, amount, period))
                model.append((seller, buyer, amount))
    payments = greedy_payments(positions(model))
    assert len(payments) <= MEMBERS - 1

    def transaction(call):
        fresh_env.evm.vm.state.lock_changes()  # a transaction boundary
        result = call()
        return result, charged(fresh_env, settlement).total

    figures = {}
    cycle_id, figures["run_settlement_cycle"] = transaction(
        lambda: settlement.run_settlement_cycle(EUR, invoices, payments, sender=members[0])
    )
    confirmations = [(i, p[0]) for i, p in enumerate(payments)]
    confirmations += [(i, p[1]) for i, p in enumerate(payments)]
    gas = [
        transaction(lambda i=i, m=m: settlement.confirm_payment(cycle_id, i, sender=m))[1]
        for i, m in confirmations
    ]
    figures["confirm_payment (first)"] = gas[0]
    figures["confirm_payment (typical)"] = sorted(gas[:-1])[len(gas) // 2]
    figures["confirm_payment (last, settles the invoices)"] = gas[-1]
    figures["whole cycle"] = figures["run_settlement_cycle"] + sum(gas)
    assert settlement.cycles(cycle_id).state == CYCLE_SETTLED
    assert all(books.billing.invoices(i).state == SETTLED for i in invoices)
    return figures, f"{len(invoices)} invoices, {len(payments)} payments"
