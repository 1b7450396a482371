"""Gas of invoicing, measured in titanoboa as a transaction would be charged (as
test_gas.py measures: fresh warm/cold state at each transaction boundary, intrinsic cost
and calldata, capped refund): a batch of 500 lines, for a service's first invoiced period
(a fresh bitmap word per service) and for the next month (the word exists). Every module
is behind its BeaconProxy, the assurance stub included (a proxy hop per credit, as the
real module will have). Printed with `pytest -s`; the assertions only check the shape."""

import boa
from eth_account import Account
from eth_utils import keccak

from . import dao
from .billing_fixtures import (
    billing_contracts_fixture,  # noqa: F401
    deploy_books,
    period_start,
)
from .ordering_fixtures import DAY, EUR, commitment, deploy_market
from .test_gas import charged

BATCH = 500
PER_LINE_BUDGET = 60_000


def test_gas_per_invoice_line(governance_contracts, billing_contracts, compiler):
    # a separate environment, swapped in inside the test (after the plugin's anchor on the
    # shared one): its state is committed between calls, which no anchor would survive
    fresh_env = boa.Env()
    with boa.swap_env(fresh_env):
        figures = measure_invoicing(fresh_env, governance_contracts, billing_contracts, compiler)
    print()
    for name, (gas, lines) in figures.items():
        per_line = f", {gas // lines:,} per line" if lines > 1 else ""
        print(f"{name}: {gas:,} gas{per_line}")
    assert figures["first month, 500 lines"][0] // BATCH < PER_LINE_BUDGET
    assert figures["next month, 500 lines"][0] < figures["first month, 500 lines"][0]


def measure_invoicing(fresh_env, governance_contracts, billing_contracts, compiler):
    founders = [Account.from_key(keccak(text=f"gas founder {i}")).address for i in range(5)]
    system = dao.deploy_system(governance_contracts, founders)
    market = deploy_market(system, billing_contracts.ordering, compiler)
    books = deploy_books(billing_contracts, market, compiler, boa.env.generate_address("op"))
    billing = books.billing

    period = books.next_period(2)
    ids = books.services(BATCH, mrc=[80_000 + i for i in range(BATCH)])
    # a quarter of the services end inside the next month (pro-rated there)
    boa.env.timestamp = period_start(period) - DAY
    for service_id in ids[::4]:
        books.ordering.end_service(
            service_id, period_start(period + 1) + 10 * DAY, sender=books.buyer
        )
    books.after(period + 1)
    for p in (period, period + 1):
        books.endorse(ids, p)
        books.endorse(ids[::10], p, amount=8_000)  # one service in ten had a breach

    def transaction(call, contract):
        fresh_env.evm.vm.state.lock_changes()  # a transaction boundary
        result = call()
        return result, charged(fresh_env, contract).total

    figures = {}
    for name, p in (("first month", period), ("next month", period + 1)):
        invoice_id, gas = transaction(
            lambda p=p: billing.issue_invoice(books.buyer, p, EUR, ids, sender=books.seller),
            billing,
        )
        figures[f"{name}, {BATCH} lines"] = (gas, BATCH)
        _, gas = transaction(
            lambda i=invoice_id: billing.finalize_invoice(
                i, commitment("invoice"), sender=books.seller
            ),
            billing,
        )
        figures[f"{name}, finalize"] = (gas, 1)
        assert billing.invoices(invoice_id).lines == BATCH
    return figures
