"""Billing and Settlement on the Ordering market, for the test_billing_* and
test_settlement_* files.

`books`: the `market` of ordering_fixtures (the governance system, Ordering behind its
BeaconProxy, an adopted SLA template), plus three modules deployed as
deployments/deploy.py deploys one (an implementation, an UpgradeableBeacon owned by the
Timelock, a BeaconProxy whose constructor calls `initialize`):

- AssuranceStub (tests/contracts/fixtures): a test double of the assurance module's
  IAssurance whose credits the tests set, behind a proxy like the real one will be;
- Billing, initialized with (membership, ordering, assurance);
- Settlement, initialized with (membership, billing, operator);

then the deployer wires Billing to Settlement with `billing.set_settlement(settlement)`.

Also a Python reference of the calendar (periods are UTC calendar months numbered from
January 1970) and of the pro-rating rule, written day by day, independently of the
contract's arithmetic.

Test modules import the fixtures (registered under the names `books` and the compiled
contracts'): `from .billing_fixtures import books_fixture, ...  # noqa: F401`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boa
import pytest

from cooperative.states import CreditState, CycleState, InvoiceState
from deployments.paths import CONTRACTS_DIR

from . import dao
from .ordering_fixtures import (
    DAY,
    EUR,
    Market,
    commitment,
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

# Invoice, SLA credit and settlement cycle states (cooperative.states)
GENERATED = InvoiceState.GENERATED
PAYMENT_DUE = InvoiceState.PAYMENT_DUE
SETTLED = InvoiceState.SETTLED
CREDIT_NONE = CreditState.NONE
CREDIT_CALCULATED = CreditState.CALCULATED
CREDIT_ENDORSED = CreditState.ENDORSED
CREDIT_DISPUTED = CreditState.DISPUTED
CONFIRMING = CycleState.CONFIRMING
CYCLE_SETTLED = CycleState.SETTLED
CANCELLED = CycleState.CANCELLED
# Payment confirmations (Settlement.vy)
BY_PAYER, BY_PAYEE, BY_BOTH = 1, 2, 3

MAX_LINES = 500  # Billing's batch
REGISTER_BATCH = 200  # Ordering's batch


def billing_refused(reason: str) -> Any:
    """`boa.reverts` for one of Billing's reasons, given without the "Billing: " prefix."""
    return boa.reverts(f"Billing: {reason}")


def settlement_refused(reason: str) -> Any:
    """`boa.reverts` for one of Settlement's reasons, without the "Settlement: " prefix."""
    return boa.reverts(f"Settlement: {reason}")


# ------------------------------------------------------------------ the calendar, in Python


def period_of(year: int, month: int) -> int:
    return (year - 1970) * 12 + month - 1


def year_month(period: int) -> tuple[int, int]:
    return 1970 + period // 12, period % 12 + 1


def period_start(period: int) -> int:
    year, month = year_month(period)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def period_end(period: int) -> int:
    return period_start(period + 1)


def period_at(timestamp: int) -> int:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return period_of(moment.year, moment.month)


def days_in(period: int) -> int:
    return calendar.monthrange(*year_month(period))[1]


def expected_line(mrc: int, started_at: int, ended_at: int, period: int) -> tuple[int, int]:
    """The reference pro-rating: (billable days, charge). A day of the period is billable
    when the service was active at any moment of it: started before the day's end and not
    ended by the day's start (ended_at 0: never ends). Charge = MRC * days // month days."""
    start = period_start(period)
    days = 0
    for day in range(days_in(period)):
        day_start, day_end = start + day * DAY, start + (day + 1) * DAY
        if started_at < day_end and (ended_at == 0 or ended_at > day_start):
            days += 1
    return days, mrc * days // days_in(period)


# ------------------------------------------------------------------ the deployed modules


@dataclass
class Books:
    market: Market
    billing: Any  # through its BeaconProxy
    settlement: Any  # through its BeaconProxy
    assurance: Any  # the AssuranceStub, through its BeaconProxy
    operator: str
    billing_implementation: Any
    settlement_implementation: Any

    @property
    def system(self) -> dao.System:
        return self.market.system

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
    def now(self) -> int:
        return boa.env.timestamp

    def next_period(self, months_ahead: int = 1) -> int:
        """A period that starts `months_ahead` months after the current one."""
        return period_at(self.now) + months_ahead

    def admit(self, n: int) -> list[str]:
        """Admit `n` more members (as the Timelock executing an admission)."""
        accounts = []
        for i in range(n):
            account = boa.env.generate_address(f"carrier {i}")
            self.system.membership.admit(
                account, f"Carrier {i}", sender=self.system.timelock.address
            )
            accounts.append(account)
        return accounts

    def services(
        self,
        n: int = 1,
        *,
        seller: str | None = None,
        buyer: str | None = None,
        currency: int = EUR,
        mrc: int | list[int] = 100_000,
        started_at: int | None = None,
        confirm: bool = True,
    ) -> list[int]:
        """`n` live circuits from `seller` to `buyer`, registered (started a year ago unless
        given; a start in the future moves the clock to it) and confirmed by the buyer;
        their ids."""
        seller, buyer = seller or self.seller, buyer or self.buyer
        mrcs = mrc if isinstance(mrc, list) else [mrc] * n
        start = self.now - 365 * DAY if started_at is None else started_at
        boa.env.timestamp = max(self.now, start)
        template = self.market.template
        ids: list[int] = []
        for chunk in range(0, n, REGISTER_BATCH):
            entries = [
                (template, currency, m, start, commitment(f"circuit {chunk + i}"))
                for i, m in enumerate(mrcs[chunk : chunk + REGISTER_BATCH])
            ]
            first = self.ordering.register_services(buyer, entries, sender=seller)
            batch = list(range(first, first + len(entries)))
            if confirm:
                self.ordering.confirm_services(batch, sender=buyer)
            ids += batch
        return ids

    def endorse(
        self,
        service_ids: list[int],
        period: int,
        amount: int = 0,
        state: int = CREDIT_ENDORSED,
    ) -> None:
        """Set the services' SLA credit for the period (endorsed by both parties unless
        another state is given)."""
        for chunk in range(0, len(service_ids), MAX_LINES):
            self.assurance.set_credits(
                service_ids[chunk : chunk + MAX_LINES], period, state, amount
            )

    def after(self, period: int) -> None:
        """Move the clock to the end of `period` (never backwards)."""
        boa.env.timestamp = max(self.now, period_end(period))

    def issue(
        self,
        service_ids: list[int],
        period: int,
        *,
        seller: str | None = None,
        buyer: str | None = None,
        currency: int = EUR,
    ) -> int:
        """Issue an invoice with the services (batched by MAX_LINES), not finalized."""
        seller, buyer = seller or self.seller, buyer or self.buyer
        invoice_id = self.billing.issue_invoice(
            buyer, period, currency, service_ids[:MAX_LINES], sender=seller
        )
        for chunk in range(MAX_LINES, len(service_ids), MAX_LINES):
            self.billing.add_invoice_lines(
                invoice_id, service_ids[chunk : chunk + MAX_LINES], sender=seller
            )
        return invoice_id

    def invoice(
        self,
        service_ids: list[int],
        period: int,
        *,
        seller: str | None = None,
        buyer: str | None = None,
        currency: int = EUR,
    ) -> int:
        """Issue and finalize an invoice: it is paymentDue."""
        seller = seller or self.seller
        invoice_id = self.issue(service_ids, period, seller=seller, buyer=buyer, currency=currency)
        self.billing.finalize_invoice(
            invoice_id, commitment(f"invoice {invoice_id}"), sender=seller
        )
        return invoice_id

    def due_invoice(
        self,
        seller: str,
        buyer: str,
        amount: int,
        period: int,
        *,
        currency: int = EUR,
        credit: int = 0,
    ) -> int:
        """A paymentDue invoice of one full-month service of MRC `amount + credit` with an
        endorsed credit `credit`: its amount due is `amount`. The period must be over."""
        (service_id,) = self.services(
            1,
            seller=seller,
            buyer=buyer,
            currency=currency,
            mrc=amount + credit,
            started_at=period_start(period) - DAY,
        )
        self.assurance.set_credit(service_id, period, CREDIT_ENDORSED, credit)
        return self.invoice([service_id], period, seller=seller, buyer=buyer, currency=currency)


# ------------------------------------------------------------------ deployment


@dataclass
class BillingContracts:
    """The compiled (not deployed) contracts, loaded once per session."""

    ordering: Any
    billing: Any
    settlement: Any
    assurance_stub: Any


def deploy_books(
    contracts: BillingContracts, market: Market, compiler: Any, operator: str
) -> Books:
    system = market.system
    _, _, assurance = dao.deploy_module(contracts.assurance_stub, [], system, compiler)
    billing_implementation, _, billing = dao.deploy_module(
        contracts.billing,
        [system.membership.address, market.ordering.address, assurance.address],
        system,
        compiler,
    )
    settlement_implementation, _, settlement = dao.deploy_module(
        contracts.settlement,
        [system.membership.address, billing.address, operator],
        system,
        compiler,
    )
    billing.set_settlement(settlement.address, sender=dao.DEPLOYER)
    return Books(
        market=market,
        billing=billing,
        settlement=settlement,
        assurance=assurance,
        operator=operator,
        billing_implementation=billing_implementation,
        settlement_implementation=settlement_implementation,
    )


@pytest.fixture(scope="session", name="billing_contracts")
def billing_contracts_fixture(ordering_contract):
    cooperative = CONTRACTS_DIR / "cooperative"
    return BillingContracts(
        ordering=ordering_contract,
        billing=boa.load_partial(str(cooperative / "Billing.vy")),
        settlement=boa.load_partial(str(cooperative / "Settlement.vy")),
        assurance_stub=boa.load_partial(str(FIXTURES_DIR / "AssuranceStub.vy")),
    )


@pytest.fixture(name="books")
def books_fixture(market, billing_contracts, compiler, operator) -> Books:
    return deploy_books(billing_contracts, market, compiler, operator)
