"""What every cooperative module's service shares: the acting member and its key, one
transaction to the module, its events, and the chain's clock.

Each step of a module is one transaction signed by the acting member's own custodial key;
the service writes the store only after the chain accepted it, in the request's one DB
transaction, so a refused step leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from cooperative.access import DataAccess
from cooperative.errors import Forbidden
from cooperative.platform import Platform
from cooperative.store.keystore import KeystoreError
from cooperative.store.models import Role
from cooperative.transactions import chain_errors
from deployments.chain import Receipt, events_in


@dataclass
class ModuleService:
    platform: Platform
    access: DataAccess

    module: ClassVar[str]  # the module's name in the ModuleRegistry

    @property
    def contract(self) -> Contract:
        return self.platform.governance.handle(self.module)

    def _member(self) -> tuple[str, LocalAccount]:
        """The acting member's address and key; FORBIDDEN for an admin or auditor key."""
        viewer = self.access.viewer
        if viewer.role is not Role.MEMBER or viewer.member_address is None:
            raise Forbidden(f"only a member acts in {self.module}")
        try:
            return viewer.member_address, self.platform.keystore.account(viewer.member_address)
        except KeystoreError as exc:
            raise Forbidden("the platform holds no key for this member") from exc

    def _send(
        self, account: LocalAccount, function: str, *args: Any, gas: int | None = None
    ) -> Receipt:
        """One transaction to the module; `gas` fixes the limit instead of estimating it."""
        with chain_errors():
            return self.platform.gateway.transact(
                account, getattr(self.contract.functions, function)(*args), gas
            )

    def _events(self, receipt: Receipt, name: str) -> list[Any]:
        return events_in(receipt, getattr(self.contract.events, name))

    def _event(self, receipt: Receipt, name: str) -> Any:
        return self._events(receipt, name)[0]

    def chain_now(self) -> int:
        """The latest block's timestamp: the clock the contracts judge times by."""
        return int(self.platform.gateway.w3.eth.get_block("latest")["timestamp"])
