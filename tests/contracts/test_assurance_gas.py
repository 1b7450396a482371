"""Gas of a ticket's lifecycle (open, acknowledge, resolve, close), each step one batch
transaction through the proxy, as a transaction would be charged (intrinsic cost and
calldata included, as test_ordering_services.py computes it); printed with pytest -s.

The budget is 40,000 gas per lifecycle. Tickets are packed two to a storage word, the
word of tickets 2k and 2k + 1 of one service, so the figure depends on how a month's
tickets fall on services: `pairs` (two tickets per service, the packed case the budget is
for) and `singles` (one ticket per service: a fresh word each) are both measured."""

import boa

from . import dao
from .assurance_fixtures import assurance_contract_fixture, deploy_assurance, ticket_id  # noqa: F401
from .credit_model import FIBER_CUT, period_end, period_of
from .ordering_fixtures import DAY, EUR, HOUR, commitment, deploy_ordering, template_args
from .test_ordering_services import charged

BATCH = 500  # Assurance's MAX_BATCH
# A period close costs some 50,000-70,000 gas per service: 400 fit a 30M-gas block
CLOSE_BATCH = 400
BUDGET = 40_000


def lifecycle_gas(env, assurance, buyer, seller, ids, now):
    """Total gas of the four batches for `ids`, and each step's."""

    def transaction(call):
        env.evm.vm.state.lock_changes()  # a transaction boundary
        call()
        return charged(assurance._computation)

    steps = {
        "open": transaction(
            lambda: assurance.open_tickets(
                [(i, 1, now - 2 * HOUR, commitment(f"ticket {i}")) for i in ids], sender=buyer
            )
        ),
        "acknowledge": transaction(lambda: assurance.acknowledge_tickets(ids, sender=seller)),
        "resolve": transaction(
            lambda: assurance.resolve_tickets(
                [(i, now - HOUR, FIBER_CUT) for i in ids], sender=seller
            )
        ),
        "close": transaction(lambda: assurance.close_tickets(ids, sender=buyer)),
    }
    return sum(steps.values()), steps


def test_gas_per_ticket_lifecycle_in_batches(
    governance_contracts, ordering_contract, assurance_contract, compiler, founder_keys
):
    # A separate environment, as in test_gas.py: its state is committed between calls
    # (transaction boundaries), which no anchor would survive.
    fresh_env = boa.Env()
    with boa.swap_env(fresh_env):
        founders = [key.address for key in founder_keys]
        system = dao.deploy_system(governance_contracts, founders, with_modules=False)
        system.sla_templates.adopt(*template_args(), sender=system.timelock.address)
        _, _, ordering = deploy_ordering(ordering_contract, system, compiler)
        _, _, assurance = deploy_assurance(assurance_contract, system, ordering, compiler)
        buyer, seller = founders[0], founders[1]
        now = fresh_env.timestamp
        services = []
        for _ in range(4):  # 800 services
            entries = [(1, EUR, 80_000, now - 365 * DAY, commitment(f"c{i}")) for i in range(200)]
            first = ordering.register_services(buyer, entries, sender=seller)
            ids = list(range(first, first + 200))
            ordering.confirm_services(ids, sender=buyer)
            services += ids

        # two tickets on each of 250 services (their first, then their next two: ticket
        # 2k also reads the word of 2k - 1), then one ticket on each of 500 others
        rounds = {
            "pairs, tickets 0-1": [ticket_id(s, n) for s in services[:250] for n in (0, 1)],
            "pairs, tickets 2-3": [ticket_id(s, n) for s in services[:250] for n in (2, 3)],
            "singles, ticket 0": [ticket_id(s, 0) for s in services[250:750]],
        }
        results = {}
        for name, ids in rounds.items():
            fresh_env.timestamp += 3 * HOUR
            total, steps = lifecycle_gas(
                fresh_env, assurance, buyer, seller, ids, fresh_env.timestamp
            )
            results[name] = (total / len(ids), steps)
            assert [assurance.ticket(i).state for i in (ids[0], ids[-1])] == [6, 6]

        # the month's close of 400 services (250 with four tickets, 150 with one), both
        # parties' endorsements, and the next month's close (no tickets: final at once)
        period = period_of(now)
        fresh_env.timestamp = period_end(period + 1)
        batch = services[:CLOSE_BATCH]
        closing = {
            "close_periods (a service's first)": (assurance.close_periods, period, buyer),
            "endorse_credits (first party)": (assurance.endorse_credits, period, seller),
            "endorse_credits (second party)": (assurance.endorse_credits, period, buyer),
            "close_periods (the next)": (assurance.close_periods, period + 1, seller),
        }
        close_gas = {}
        for name, (method, closed_period, sender) in closing.items():
            fresh_env.evm.vm.state.lock_changes()
            method(closed_period, batch, sender=sender)
            close_gas[name] = charged(assurance._computation)
        assert assurance.period_credit(batch[0], period)[0] == 2  # endorsed
        # tickets 0 and 1 share an hour, tickets 2 and 3 another: counted once each
        assert assurance.credit(batch[0], period).outage_seconds == 2 * HOUR
        assert assurance.credit(batch[-1], period).outage_seconds == HOUR
        assert assurance.period_credit(batch[-1], period + 1) == (2, 0)  # nothing to endorse

    print()
    for name, (per_ticket, steps) in results.items():
        detail = ", ".join(f"{step} {gas / BATCH:,.0f}" for step, gas in steps.items())
        print(
            f"ticket lifecycle ({name}, {BATCH} per batch): {per_ticket:,.0f} gas per ticket ({detail})"
        )
    for name, gas in close_gas.items():
        print(f"{name} x{CLOSE_BATCH}: {gas:,} gas ({gas / CLOSE_BATCH:,.0f} per service)")
    assert results["pairs, tickets 0-1"][0] < BUDGET
    assert results["pairs, tickets 2-3"][0] < BUDGET
    for _, steps in results.values():
        assert all(gas < 30_000_000 for gas in steps.values())  # each batch fits a block
    assert all(gas < 30_000_000 for gas in close_gas.values())
