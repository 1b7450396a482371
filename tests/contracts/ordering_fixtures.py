"""The Ordering module on a deployed governance system, for the test_ordering_* files.

`market`: the system of conftest's `system` fixture (five founders, short rules), one SLA
template adopted by the Timelock (`adopt_template` takes one through a real
ADOPT_SLA_TEMPLATE proposal: vote, queue, execution), and Ordering deployed as
deployments/deploy.py deploys a cooperative module: an implementation, an OpenZeppelin
UpgradeableBeacon owned by the Timelock and a BeaconProxy whose constructor calls
`initialize(membership, sla_templates)`. The parties: a buyer, two sellers, a third member
who is party to nothing, and a stranger who is not a member.

Test modules import the fixtures (registered under the names `market` and
`ordering_contract`): `from .ordering_fixtures import market_fixture, ordering_contract_fixture`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_utils import keccak

from cooperative.states import AnswerState, OrderState, RequestState, ServiceState
from deployments.paths import CONTRACTS_DIR
from governance.rules import Kind

from . import dao

HOUR = 3600
DAY = 86400
EUR, USD = 978, 840
MAX_AMOUNT = 2**96 - 1

# Request, answer, order and service states, as Ordering.vy numbers them (cooperative.states)
REQUEST_OPEN = RequestState.OPEN
REQUEST_ACCEPTED = RequestState.ACCEPTED
REQUEST_REJECTED = RequestState.REJECTED
PENDING = AnswerState.PENDING
READY = AnswerState.READY
DECLINED = AnswerState.DECLINED
ACCEPTED = AnswerState.ACCEPTED
ORDERED = AnswerState.ORDERED
SUBMITTED = OrderState.SUBMITTED
ACKNOWLEDGED = OrderState.ACKNOWLEDGED
IN_PROGRESS = OrderState.IN_PROGRESS
COMPLETED = OrderState.COMPLETED
REJECTED = OrderState.REJECTED
CANCELLED = OrderState.CANCELLED
SERVICE_PENDING = ServiceState.PENDING_CONFIRMATION
SERVICE_ACTIVE = ServiceState.ACTIVE

TIERS = [(999_500, 1_000), (999_000, 2_500), (990_000, 10_000)]


def template_args(name: str = "Gold availability") -> tuple[Any, ...]:
    document = keccak(text=f"salted SLA document {name}")
    return (name, document, 0, 999_500, 0, TIERS, 3 * DAY, True)


def commitment(text: str) -> bytes:
    """A salted document commitment (the salt is part of the text here)."""
    return keccak(text=f"salt:{text}")


def refused(reason: str) -> Any:
    """`boa.reverts` for one of Ordering's reasons, given without the "Ordering: " prefix."""
    return boa.reverts(f"Ordering: {reason}")


@dataclass
class Market:
    system: dao.System
    ordering: Any  # the module, through its BeaconProxy
    implementation: Any
    beacon: Any
    template: int  # adopted
    buyer: str
    sellers: list[str]
    third: str  # a member, party to nothing
    stranger: str  # not a member

    @property
    def seller(self) -> str:
        return self.sellers[0]

    @property
    def now(self) -> int:
        return boa.env.timestamp

    # ------------------------------------------------------------------ shortcuts

    def request(
        self,
        sellers: list[str] | None = None,
        *,
        buyer: str | None = None,
        respond_in: int = DAY,
        expires_in: int = 2 * DAY,
        deliver_in: int = 30 * DAY,
        template: int | None = None,
        document: str = "request",
    ) -> int:
        """A quote request from the buyer (by default to both sellers); its id."""
        now = self.now
        return self.ordering.request_quote(
            self.sellers if sellers is None else sellers,
            self.template if template is None else template,
            now + respond_in,
            now + expires_in,
            now + deliver_in,
            commitment(document),
            sender=buyer or self.buyer,
        )

    def respond(
        self,
        request_id: int,
        seller: str | None = None,
        *,
        currency: int = EUR,
        mrc: int = 150_000,
        nrc: int = 50_000,
        valid_for: int = 7 * DAY,
    ) -> None:
        self.ordering.respond_to_quote(
            request_id,
            currency,
            mrc,
            nrc,
            self.now + valid_for,
            commitment(f"quote {request_id}"),
            sender=seller or self.seller,
        )

    def accepted(self, seller: str | None = None, **respond: Any) -> int:
        """A request to both sellers, answered by `seller` and accepted; its id."""
        seller = seller or self.seller
        request_id = self.request()
        self.respond(request_id, seller, **respond)
        self.ordering.accept_quote(request_id, seller, sender=self.buyer)
        return request_id

    def order(self, *, deliver_in: int = 30 * DAY, seller: str | None = None) -> int:
        """An order against a freshly accepted quote of `seller`; its id."""
        seller = seller or self.seller
        request_id = self.accepted(seller)
        return self.ordering.place_order(
            request_id,
            seller,
            self.now + deliver_in,
            commitment(f"order {request_id}"),
            sender=self.buyer,
        )

    def existing(
        self,
        n: int,
        *,
        currency: int = EUR,
        mrc: int = 80_000,
        started_ago: int = 365 * DAY,
        template: int | None = None,
    ) -> list[tuple[int, int, int, int, bytes]]:
        """`n` ExistingService entries (template, currency, MRC, start, commitment)."""
        template = self.template if template is None else template
        return [
            (template, currency, mrc + i, self.now - started_ago, commitment(f"circuit {i}"))
            for i in range(n)
        ]


@pytest.fixture(scope="session", name="ordering_contract")
def ordering_contract_fixture():
    return boa.load_partial(str(CONTRACTS_DIR / "cooperative" / "Ordering.vy"))


def deploy_ordering(
    ordering_contract: Any, system: dao.System, compiler: Any
) -> tuple[Any, Any, Any]:
    """Implementation, beacon and the module at its BeaconProxy, initialized with the
    system's Membership and SlaTemplates."""
    return dao.deploy_module(
        ordering_contract,
        [system.membership.address, system.sla_templates.address],
        system,
        compiler,
    )


def deploy_market(
    system: dao.System, ordering_contract: Any, compiler: Any, stranger: str | None = None
) -> Market:
    """The `market` fixture's deployment, callable in any environment (the gas tests build
    one in a fresh environment): a template adopted as by the Timelock executing an adopted
    proposal (`adopt_template` goes through a real one), and Ordering."""
    template = system.sla_templates.adopt(*template_args(), sender=system.timelock.address)
    implementation, beacon, ordering = deploy_ordering(ordering_contract, system, compiler)
    founders = system.founders
    return Market(
        system=system,
        ordering=ordering,
        implementation=implementation,
        beacon=beacon,
        template=template,
        buyer=founders[0],
        sellers=[founders[1], founders[2]],
        third=founders[3],
        stranger=stranger or boa.env.generate_address("stranger"),
    )


def adopt_template(system: dao.System, name: str = "Gold availability") -> int:
    """Adopt a template through a real proposal (propose, vote, queue, execute)."""
    action = dao.call(system.sla_templates, "adopt", *template_args(name))
    proposal = dao.propose(system, Kind.ADOPT_SLA_TEMPLATE, [action], name, system.founders[0])
    dao.enact(proposal, system.founders[:3])
    template_id = system.sla_templates.template_count()
    assert system.sla_templates.is_adopted(template_id)
    return template_id


@pytest.fixture(name="market")
def market_fixture(system, ordering_contract, compiler, stranger) -> Market:
    return deploy_market(system, ordering_contract, compiler, stranger)
