"""What every cooperative module's service shares: the acting member and its key, one
transaction to the module, its events, and the chain's clock.

Each step of a module is one transaction signed by the acting member's own key (custodial,
or signed by the member itself and relayed: cooperative.signing).
A service validates, sends, and reads back the records its receipt's events made: it
never writes a read model itself (the module's projector does, cooperative.projectors), in
the request's one DB transaction, so a refused step leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from web3.contract import Contract

from cooperative import outbox
from cooperative.access import DataAccess
from cooperative.errors import CoopError, Forbidden
from cooperative.platform import Platform
from cooperative.store.models import Role
from cooperative.transactions import chain_errors
from deployments.chain import Receipt, Signer, events_in

R = TypeVar("R")


@dataclass
class ModuleService:
    platform: Platform
    access: DataAccess

    module: ClassVar[str]  # the module's name in the ModuleRegistry

    @property
    def contract(self) -> Contract:
        return self.platform.governance.handle(self.module)

    def _member(self) -> tuple[str, Signer]:
        """The acting member's address and signer (its custodial key, or the relay of its
        own signatures); FORBIDDEN for an admin or auditor key."""
        viewer = self.access.viewer
        if viewer.role is not Role.MEMBER or viewer.member_address is None:
            raise Forbidden(f"only a member acts in {self.module}")
        return viewer.member_address, self.platform.keystore.account(viewer.member_address)

    def _send(
        self,
        account: Signer,
        function: str,
        *args: Any,
        gas: int | None = None,
        project: bool = True,
    ) -> Receipt:
        """One transaction to the module, projected into the read models before it returns
        (the records it wrote are then in the session). `gas` fixes the limit instead of
        estimating it; `project=False` leaves the projection to a later `_project`, for a
        step of several transactions (the store is written after the last one, so the
        outbox can commit each one's entry before it is sent)."""
        with chain_errors():
            receipt = self.platform.gateway.transact(
                account, getattr(self.contract.functions, function)(*args), gas
            )
        if project:
            self._project(receipt)
        return receipt

    def _project(self, *receipts: Receipt) -> None:
        self.platform.projection.project_receipts(self.access.session, receipts)

    def _projected(self, model: type[R], record_id: Any) -> R:
        """A record the step's receipt made or moved, as the module's projector wrote it."""
        record = self.access.session.get(model, record_id)
        if record is None:
            raise RuntimeError(f"the projection wrote no {model.__name__} {record_id}")
        return record

    @staticmethod
    def _refuse_unless(condition: bool, error: CoopError) -> None:
        """A refusal that depends on the store's state (a ticket's, a quote's), made before
        anything is sent. In the retry of an interrupted request the recorded
        transactions' effects may be projected already; the retry is answered from those
        transactions, so their effects are no reason to refuse it."""
        if not condition and not outbox.replaying():
            raise error

    def _events(self, receipt: Receipt, name: str) -> list[Any]:
        return events_in(receipt, getattr(self.contract.events, name))

    def _event(self, receipt: Receipt, name: str) -> Any:
        return self._events(receipt, name)[0]

    def chain_now(self) -> int:
        """The time the contracts will judge a step sent now by (its block's timestamp).
        An answer that read it is the clock's as well as the store's (not kept)."""
        self.access.read_the_clock = True
        return self.platform.gateway.next_block_time()
