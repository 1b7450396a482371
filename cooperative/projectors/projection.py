"""The projection: every module's projector, routed by contract address and event topic
(see cooperative.projectors)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session
from web3 import Web3
from web3.contract import Contract

from cooperative.outbox import Outbox
from cooperative.projectors.assurance import AssuranceProjector
from cooperative.projectors.base import Documents, Event, Handler, Projector, Run
from cooperative.projectors.billing import BillingProjector, SettlementProjector
from cooperative.projectors.commitments import append_leaves
from cooperative.projectors.governance import GovernanceProjector, MembershipProjector
from cooperative.projectors.ordering import OrderingProjector
from cooperative.store.models import IndexedBlock, ProjectedTransaction, ServiceRecord
from deployments.abi import decode_event, event_topic
from deployments.chain import ChainGateway, Receipt
from deployments.compiler import Compiler
from deployments.deploy import contract
from deployments.records import Deployment


class Projection:
    """Every module's projector, routed by contract address and event topic."""

    def __init__(self, gateway: ChainGateway, compiler: Compiler, deployment: Deployment) -> None:
        self.gateway = gateway
        self._compiler, self._deployment = compiler, deployment
        self._handles: dict[str, Contract] = {}
        self._templates: dict[int, tuple[Any, ...]] = {}
        self.known_contracts = {
            Web3.to_checksum_address(item.address): (name, self.handle(name))
            for name, item in deployment.contracts.items()
            if not name.endswith(".implementation")
        }
        self.projectors: list[Projector] = [
            MembershipProjector(self),
            GovernanceProjector(self),
            OrderingProjector(self),
            AssuranceProjector(self),
            BillingProjector(self),
            SettlementProjector(self),
        ]
        # address (lower case) -> topic0 -> (event name, its ABI, its handler, its projector)
        self._routes: dict[str, dict[bytes, tuple[str, Any, Handler, Projector]]] = {}
        for projector in self.projectors:
            routes = self._routes.setdefault(projector.contract.address.lower(), {})
            for name, handler in projector.handlers().items():
                abi = getattr(projector.contract.events, name).abi
                routes[event_topic(abi)] = (name, abi, handler, projector)

    def parties_of_service(self, run: Run, service_id: int) -> tuple[str, str]:
        """(buyer, seller) of a service: from its record, else from the contract."""
        service = run.get(ServiceRecord, service_id)
        if service is not None:
            return service.buyer, service.seller
        on_chain = self.handle("Ordering").functions.services(service_id).call()
        return on_chain[0], on_chain[1]

    def template_terms(self, template: int) -> tuple[Any, ...]:
        """An SLA template as SlaTemplates.template() gives it (fixed once adopted)."""
        if template not in self._templates:
            self._templates[template] = tuple(
                self.handle("SlaTemplates").functions.template(template).call()
            )
        return self._templates[template]

    def handle(self, name: str) -> Contract:
        if name not in self._handles:
            self._handles[name] = contract(self.gateway, self._compiler, self._deployment, name)
        return self._handles[name]

    @property
    def addresses(self) -> list[str]:
        return list(self._routes)

    def decode(
        self, raw: dict[str, Any], block: int, tx: str
    ) -> tuple[Event, Handler, Projector] | None:
        """A log as an event, its handler and projector; None for a log none follows."""
        route = self._routes.get(raw["address"], {}).get(raw["topics"][0] if raw["topics"] else b"")
        if route is None:
            return None
        name, abi, handler, projector = route
        event = Event(
            name=name,
            args=decode_event(abi, raw),
            block=block,
            tx=tx.lower(),
            log_index=raw["logIndex"],
            timestamp=self.gateway.block_timestamp(block),
        )
        return event, handler, projector

    def apply(self, runs: Iterable[tuple[Run, dict[str, Any], int, str]]) -> int:
        """Apply logs, each in its run (log, block, tx hash), in their order; returns how
        many events were applied. What the handlers will read from the chain is read
        first, one batch per projector and run."""
        decoded = []
        for run, raw, block, tx in runs:
            found = self.decode(raw, block, tx)
            if found is not None:
                decoded.append((run, *found))
        wanted: dict[tuple[int, int], tuple[Run, Projector, list[Event]]] = {}
        for run, event, _handler, projector in decoded:
            wanted.setdefault((id(run), id(projector)), (run, projector, []))[2].append(event)
        for run, projector, events in wanted.values():
            projector.prefetch(run, events)
        for run, event, handler, _projector in decoded:
            handler(run, event)
        # The follower's runs (chain order) also extend the anchored commitment log.
        in_order = [(run, event) for run, event, _handler, _projector in decoded if run.feeds]
        if in_order:
            append_leaves(in_order[0][0].session, [event for _run, event in in_order])
        return len(decoded)

    # ------------------------------------------------------------------ a mutation's own

    def project_receipts(self, session: Session, receipts: Iterable[Receipt]) -> None:
        """A mutation's receipts into the read models, before it answers: the records
        only (the follower writes the feed in chain order). A transaction the follower or
        an earlier attempt projected already is left alone. Their outbox entries are
        settled in the same store transaction (see Outbox.settle)."""
        # Everything is read first and written in one flush at the end: the store's write
        # lock (SQLite has one) is then held from that flush to the request's commit only,
        # and other requests keep recording their transactions meanwhile.
        with session.no_autoflush:
            run = Run(session, Documents(session), records=True, feeds=False)
            # The records it wrote stay held until the request ends: the mutation reads
            # them back, and a session holds clean records only weakly.
            session.info.setdefault("projection_runs", []).append(run)
            for receipt in receipts:
                Outbox.settle(session, receipt, self.gateway.block_timestamp(receipt.block_number))
                if receipt.status != 1 or self._projected(session, receipt):
                    continue
                self.apply(
                    (run, raw, receipt.block_number, receipt.tx_hash) for raw in receipt.logs
                )
                session.add(
                    ProjectedTransaction(
                        tx_hash=receipt.tx_hash.lower(), block=receipt.block_number
                    )
                )
        session.flush()

    @staticmethod
    def _projected(session: Session, receipt: Receipt) -> bool:
        """Whether the transaction's records are written: by a mutation (marked), or by
        the follower (it applied the receipt's very block: same number, same hash)."""
        if session.get(ProjectedTransaction, receipt.tx_hash.lower()) is not None:
            return True
        indexed = session.get(IndexedBlock, receipt.block_number)
        return indexed is not None and indexed.hash.lower() == receipt.block_hash.lower()
