"""The Assurance module on the Ordering market, for the test_assurance_* files.

`desk`: the `market` of ordering_fixtures.py (five founders, one adopted template: tiers
99.95 % -> 10 %, 99.9 % -> 25 %, 99 % -> 100 %, a three-day resolution window, planned
maintenance excluded; Ordering behind its BeaconProxy) and Assurance deployed as a
cooperative module is: an implementation, an UpgradeableBeacon owned by the Timelock and a
BeaconProxy whose constructor calls `initialize(membership, sla_templates, ordering)`. The
clock starts at the beginning of a calendar month (`START`), so tests know which period
they are in. Active services come from the seller's bulk registration, confirmed by the
buyer (`desk.services(n)`).

Test modules import the fixtures (registered under the names `desk` and
`assurance_contract`): `from .assurance_fixtures import assurance_contract_fixture, desk_fixture`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_utils import keccak

from cooperative.states import CreditState, TicketState
from deployments.paths import CONTRACTS_DIR

from . import dao
from .credit_model import (
    DOWN,
    FIBER_CUT,
    Outage,
    period_end,
    period_for,
    period_start,
)
from .ordering_fixtures import DAY, EUR, Market, commitment

# Ticket and credit states, as Assurance.vy numbers them (cooperative.states)
NONE = TicketState.NONE
OPENED = TicketState.OPENED
ACKNOWLEDGED = TicketState.ACKNOWLEDGED
IN_PROGRESS = TicketState.IN_PROGRESS
PENDING = TicketState.PENDING
RESOLVED = TicketState.RESOLVED
CLOSED = TicketState.CLOSED
REOPENED = TicketState.REOPENED
CANCELLED = TicketState.CANCELLED
CREDIT_NONE = CreditState.NONE
CALCULATED = CreditState.CALCULATED
ENDORSED = CreditState.ENDORSED
DISPUTED = CreditState.DISPUTED

MINUTE = 60
WINDOW = 3 * DAY  # the market template's resolution window
MRC = 100_000
# The clock of every `desk` test starts at midnight UTC, 1 February 2027 (period START_PERIOD)
START_PERIOD = period_for(2027, 2)
START = period_start(START_PERIOD)


def ticket_id(service_id: int, n: int) -> int:
    return service_id << 32 | n


def refused(reason: str) -> Any:
    """`boa.reverts` for one of Assurance's reasons, given without the "Assurance: " prefix."""
    return boa.reverts(f"Assurance: {reason}")


@pytest.fixture(scope="session", name="assurance_contract")
def assurance_contract_fixture():
    return boa.load_partial(str(CONTRACTS_DIR / "cooperative" / "Assurance.vy"))


def deploy_assurance(
    assurance_contract: Any, system: dao.System, ordering: Any, compiler: Any
) -> tuple[Any, Any, Any]:
    """Implementation, beacon and the module at its BeaconProxy, initialized with the
    system's Membership and SlaTemplates and the Ordering proxy."""
    return dao.deploy_module(
        assurance_contract,
        [system.membership.address, system.sla_templates.address, ordering.address],
        system,
        compiler,
    )


@dataclass
class Desk:
    market: Market
    assurance: Any  # the module, through its BeaconProxy
    implementation: Any
    beacon: Any

    @property
    def ordering(self) -> Any:
        return self.market.ordering

    @property
    def buyer(self) -> str:
        return self.market.buyer

    @property
    def seller(self) -> str:
        return self.market.seller

    @property
    def third(self) -> str:
        return self.market.third

    @property
    def stranger(self) -> str:
        return self.market.stranger

    @property
    def template(self) -> int:
        return self.market.template

    @property
    def now(self) -> int:
        return boa.env.timestamp

    @staticmethod
    def at(timestamp: int) -> None:
        """Move the clock (forward) to `timestamp`."""
        assert timestamp >= boa.env.timestamp
        boa.env.timestamp = timestamp

    # ------------------------------------------------------------------ services

    def services(
        self,
        n: int = 1,
        *,
        mrc: int = MRC,
        started_at: int | None = None,
        template: int | None = None,
        buyer: str | None = None,
        seller: str | None = None,
        confirm: bool = True,
    ) -> list[int]:
        """`n` live circuits from the seller to the buyer, confirmed (active); their ids."""
        buyer, seller = buyer or self.buyer, seller or self.seller
        started_at = START - 30 * DAY if started_at is None else started_at
        template = self.template if template is None else template
        ids: list[int] = []
        for offset in range(0, n, 200):  # Ordering's MAX_BATCH
            size = min(200, n - offset)
            entries = [
                (template, EUR, mrc, started_at, commitment(f"circuit {offset + i}"))
                for i in range(size)
            ]
            first = self.ordering.register_services(buyer, entries, sender=seller)
            ids += range(first, first + size)
        if confirm:
            for offset in range(0, n, 200):
                self.ordering.confirm_services(ids[offset : offset + 200], sender=buyer)
        return ids

    # ------------------------------------------------------------------ tickets

    def open(
        self,
        tickets: Iterable[tuple[int, int] | tuple[int, int, int]],
        *,
        sender: str | None = None,
    ) -> None:
        """Open tickets given as (ticket id, start) or (ticket id, start, impact)."""
        openings = []
        for entry in tickets:
            tid, start, *rest = entry
            impact = rest[0] if rest else DOWN
            openings.append((tid, impact, start, commitment(f"ticket {tid}")))
        self.assurance.open_tickets(openings, sender=sender or self.buyer)

    def acknowledge(self, ids: list[int], *, sender: str | None = None) -> None:
        self.assurance.acknowledge_tickets(ids, sender=sender or self.seller)

    def resolve(
        self,
        tickets: Iterable[tuple[int, int] | tuple[int, int, int]],
        *,
        sender: str | None = None,
    ) -> None:
        """Resolve tickets given as (ticket id, end) or (ticket id, end, cause)."""
        resolutions = []
        for entry in tickets:
            tid, end, *rest = entry
            resolutions.append((tid, end, rest[0] if rest else FIBER_CUT))
        self.assurance.resolve_tickets(resolutions, sender=sender or self.seller)

    def close(self, ids: list[int], *, sender: str | None = None) -> None:
        self.assurance.close_tickets(ids, sender=sender or self.buyer)

    def outage(
        self,
        tid: int,
        start: int,
        end: int,
        *,
        impact: int = DOWN,
        cause: int = FIBER_CUT,
        close: bool = True,
    ) -> None:
        """One ticket through open, acknowledge, resolve and (by default) close; the clock
        must be past `end`."""
        self.open([(tid, start, impact)])
        self.acknowledge([tid])
        self.resolve([(tid, end, cause)])
        if close:
            self.close([tid])

    def outages(
        self, service_id: int, outages: Iterable[Outage], *, close: bool = True
    ) -> list[int]:
        """Tickets for `outages` (start, end, impact, cause) on the service, numbered on
        from its next free number, each through open, acknowledge, resolve and (by
        default) close, in one batch per step; their ids. The clock moves past the last
        end if need be."""
        outages = list(outages)
        if not outages:
            return []
        latest = max(o.end for o in outages)
        if self.now < latest:
            self.at(latest)
        first = self.assurance.next_ticket_number(service_id)
        ids = [ticket_id(service_id, first + i) for i in range(len(outages))]
        self.open([(i, o.start, o.impact) for i, o in zip(ids, outages, strict=True)])
        self.acknowledge(ids)
        self.resolve([(i, o.end, o.cause) for i, o in zip(ids, outages, strict=True)])
        if close:
            self.close(ids)
        return ids

    def state(self, tid: int) -> int:
        return self.assurance.ticket(tid).state

    # ------------------------------------------------------------------ periods

    def close_period(
        self, period: int, service_ids: list[int], *, sender: str | None = None
    ) -> None:
        """Close `period` of the services, the clock moved past its end if need be."""
        if self.now < period_end(period):
            self.at(period_end(period))
        self.assurance.close_periods(period, service_ids, sender=sender or self.buyer)

    def endorse(self, period: int, service_ids: list[int], *parties: str) -> None:
        for party in parties or (self.buyer, self.seller):
            self.assurance.endorse_credits(period, service_ids, sender=party)


def adopt(system: dao.System, tiers: list[tuple[int, int]], **changes: Any) -> int:
    """Adopt a template with `tiers` (as the Timelock executing a passed proposal); its id."""
    args = {
        "name": "Custom availability",
        "document": keccak(text="salted custom SLA document"),
        "metric": 0,
        "objective_ppm": tiers[0][0],
        "measurement_period": 0,
        "tiers": tiers,
        "resolution_window": WINDOW,
        "exclude_planned_maintenance": True,
    }
    args.update(changes)
    return system.sla_templates.adopt(*args.values(), sender=system.timelock.address)


@pytest.fixture(name="desk")
def desk_fixture(market, assurance_contract, compiler) -> Desk:
    boa.env.timestamp = START
    implementation, beacon, assurance = deploy_assurance(
        assurance_contract, market.system, market.ordering, compiler
    )
    return Desk(market=market, assurance=assurance, implementation=implementation, beacon=beacon)
