"""The indexer: follows contract events into read-model tables, from a stored cursor.

The read models can always be rebuilt from the chain: drop them and the cursors, and the
next sync replays every event. One sync runs at a time per process (a lock), and the
tables' unique keys make a replay by a second process harmless.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, delete, select
from web3 import Web3

from cooperative.states import (
    AnswerState,
    CycleState,
    InvoiceState,
    OrderState,
    RequestState,
    ServiceState,
    TicketState,
)
from cooperative.store.models import (
    ChainCursor,
    IndexedBlock,
    MemberEvent,
    MemberProfile,
    OrderRecord,
    ProposalEvent,
    ProposalRecord,
    QuoteRecord,
    QuoteRequestRecord,
    ServiceRecord,
    VoteRecord,
    utcnow,
)
from deployments.abi import decode_event, event_topic
from deployments.chain import ChainGateway
from deployments.compiler import Compiler
from deployments.deploy import contract
from deployments.records import Deployment
from governance.actions import decode_action

log = logging.getLogger("cooperative.indexer")
CURSOR = "chain"  # the one cursor: the last block applied, across every module

MEMBERSHIP_EVENTS = ["MemberAdmitted", "MemberRemoved"]
ORDERING_EVENTS = [
    "QuoteRequested",
    "QuoteAnswered",
    "QuoteRequestClosed",
    "OrderChanged",
    "ServiceChanged",
    "ServiceEnded",
]
ASSURANCE_EVENTS = [
    "TicketsOpened",
    "TicketsResolved",
    "TicketsChanged",
    "CreditCalculated",
    "CreditEndorsed",
    "CreditDisputed",
]
BILLING_EVENTS = ["InvoicePaymentDue", "InvoiceSettled"]
SETTLEMENT_EVENTS = [
    "NetPosition",
    "PaymentInstructed",
    "PaymentConfirmed",
    "SettlementCycleSettled",
]
GOVERNOR_EVENTS = [
    "ProposalCreated",
    "VoteCast",
    "VotingExtended",
    "ProposalQueued",
    "ProposalExecuted",
    "ProposalCanceled",
]


def _hex(value: bytes | str) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


class Indexer:
    def __init__(self, gateway: ChainGateway, compiler: Compiler, deployment: Deployment) -> None:
        self.gateway = gateway
        self.membership = contract(gateway, compiler, deployment, "Membership")
        self.governor = contract(gateway, compiler, deployment, "Governor")
        self.ordering = contract(gateway, compiler, deployment, "Ordering")
        self.assurance = contract(gateway, compiler, deployment, "Assurance")
        self.billing = contract(gateway, compiler, deployment, "Billing")
        self.settlement = contract(gateway, compiler, deployment, "Settlement")
        self.known_contracts = {
            Web3.to_checksum_address(item.address): (
                name,
                contract(gateway, compiler, deployment, name),
            )
            for name, item in deployment.contracts.items()
            if not name.endswith(".implementation")
        }
        self._lock = threading.Lock()
        self._timestamps: dict[int, int] = {}
        # address (lower case) -> topic0 -> (event name, its ABI, the handler applying it)
        self._routes_by_address: dict[str, dict[bytes, tuple[str, Any, Any]]] = {}
        for handle, names, apply in (
            (self.membership, MEMBERSHIP_EVENTS, self._member_event),
            (self.governor, GOVERNOR_EVENTS, self._governor_event),
            (self.ordering, ORDERING_EVENTS, self._ordering_event),
            (self.assurance, ASSURANCE_EVENTS, self._assurance_event),
            (self.billing, BILLING_EVENTS, self._billing_event),
            (self.settlement, SETTLEMENT_EVENTS, self._settlement_event),
        ):
            routes = self._routes_by_address.setdefault(handle.address.lower(), {})
            for name in names:
                abi = getattr(handle.events, name).abi
                routes[event_topic(abi)] = (name, abi, apply)

    def sync(self, session: Session) -> int:
        """Apply every event up to the latest block, in chain order across all modules;
        returns how many were applied. If the chain no longer has the block the read models
        were built to (the node lost blocks, or reorganised), what was built on the lost
        blocks is rolled back first and built again from the chain as it now is."""
        with self._lock:
            latest, latest_hash = self.gateway.head()
            cursor = self._cursor(session)
            if (
                cursor.block >= 0
                and cursor.block_hash is not None
                and self.gateway.block_hash(cursor.block) != cursor.block_hash
            ):
                self._roll_back(session, cursor)
            if latest <= cursor.block:
                return 0
            logs = self.gateway.logs(list(self._routes_by_address), cursor.block + 1, latest)
            blocks: dict[int, str] = {}
            for raw in logs:
                route = self._routes_by_address[raw["address"]].get(raw["topics"][0])
                if route is None:
                    continue  # an event no read model follows
                name, abi, apply = route
                apply(session, {**raw, "event": name, "args": decode_event(abi, raw)})
                blocks[raw["blockNumber"]] = raw["blockHash"]
            blocks[latest] = latest_hash
            for number, block_hash in blocks.items():
                session.merge(IndexedBlock(number=number, hash=block_hash))
            cursor.block, cursor.block_hash = latest, latest_hash
            session.add(cursor)
            session.flush()
            return len(logs)

    def _cursor(self, session: Session) -> ChainCursor:
        cursor = session.get(ChainCursor, CURSOR)
        if cursor is not None:
            return cursor
        # A store indexed by an earlier version, one cursor per module (all at one block):
        # go on from there.
        legacy = session.exec(select(ChainCursor)).all()
        start = min((c.block for c in legacy), default=-1)
        return ChainCursor(name=CURSOR, block=start, block_hash=None)

    def _roll_back(self, session: Session, cursor: ChainCursor) -> None:
        """Find the last indexed block the chain still has (same hash) and remove what the
        follower built on the blocks after it; the sync then applies them again."""
        fork = -1
        for number, block_hash in session.exec(
            select(IndexedBlock.number, IndexedBlock.hash)
            .where(IndexedBlock.number <= cursor.block)
            .order_by(col(IndexedBlock.number).desc())
        ):
            if self.gateway.block_hash(number) == block_hash:
                fork = number
                break
        log.warning("the chain forked from the read models after block %d: rebuilding", fork)
        for table in (MemberEvent, ProposalEvent, VoteRecord):
            session.exec(delete(table).where(col(table.block) > fork))  # type: ignore[call-overload]
        session.exec(delete(ProposalRecord).where(col(ProposalRecord.created_block) > fork))  # type: ignore[call-overload]
        session.exec(delete(IndexedBlock).where(col(IndexedBlock.number) > fork))  # type: ignore[call-overload]
        session.flush()
        self._timestamps.clear()
        cursor.block = fork
        cursor.block_hash = self.gateway.block_hash(fork) if fork >= 0 else None

    # ------------------------------------------------------------------ membership

    def _member_event(self, session: Session, log: Any) -> None:
        address = log["args"]["member"]
        profile = session.get(MemberProfile, address)
        if log["event"] == "MemberAdmitted":
            if profile is None:
                profile = MemberProfile(address=address, name=log["args"]["name"], joined_block=0)
            profile.name = log["args"]["name"]
            profile.joined_block = log["blockNumber"]
            profile.left_block = None
        elif profile is not None:
            profile.left_block = log["blockNumber"]
        if profile is not None:
            profile.updated_at = utcnow()
            session.add(profile)

    # ------------------------------------------------------------------ governance

    def _governor_event(self, session: Session, log: Any) -> None:
        args = log["args"]
        proposal_id = _hex(args["proposal_id"])
        tx = _hex(log["transactionHash"])
        if log["event"] == "ProposalCreated":
            calldatas = [bytes(c) for c in args["calldatas"]]
            session.add(
                ProposalRecord(
                    id=proposal_id,
                    proposer=args["proposer"],
                    kind=args["kind"],
                    targets=list(args["targets"]),
                    values=[str(v) for v in args["values"]],
                    calldatas=[_hex(c) for c in calldatas],
                    actions=[
                        decode_action(self.known_contracts, t, c)
                        for t, c in zip(args["targets"], calldatas, strict=True)
                    ],
                    description=args["description"],
                    snapshot=args["snapshot"],
                    eligible=args["eligible"],
                    vote_start=args["vote_start"],
                    vote_end=args["vote_end"],
                    created_block=log["blockNumber"],
                    created_tx=tx,
                )
            )
            detail: dict[str, Any] = {"voteStart": args["vote_start"], "voteEnd": args["vote_end"]}
        elif log["event"] == "VoteCast":
            session.add(
                VoteRecord(
                    proposal_id=proposal_id,
                    voter=args["voter"],
                    support=args["support"],
                    reason=args["reason"],
                    block=log["blockNumber"],
                    tx=tx,
                )
            )
            return
        elif log["event"] == "VotingExtended":
            detail = {"voteEnd": args["vote_end"]}
            record = session.get(ProposalRecord, proposal_id)
            if record is not None:
                record.vote_end = args["vote_end"]
                session.add(record)
        elif log["event"] == "ProposalQueued":
            detail = {"eta": args["eta"]}
        elif log["event"] == "ProposalCanceled":
            detail = {"by": args["by"]}
        else:
            detail = {}
        session.add(
            ProposalEvent(
                proposal_id=proposal_id,
                name=log["event"],
                block=log["blockNumber"],
                timestamp=self._timestamp(log["blockNumber"]),
                tx=tx,
                log_index=log["logIndex"],
                detail=detail,
            )
        )

    # ------------------------------------------------------------------ ordering

    def _ordering_event(self, session: Session, log: Any) -> None:
        """Keep the marketplace records' states in step with the chain (the API path sets
        the same states right after its own transactions; applying one twice is harmless)
        and write each party's feed entry."""
        args, event = log["args"], log["event"]
        if event == "QuoteRequested":
            request_id = args["request_id"]
            for seller in args["sellers"]:
                self._feed(
                    session,
                    log,
                    seller,
                    RequestState.OPEN.event,
                    requestId=request_id,
                    quoteId=f"{request_id}-{seller}",
                )
            self._feed(session, log, args["buyer"], RequestState.OPEN.event, requestId=request_id)
        elif event == "QuoteAnswered":
            request_id, seller = args["request_id"], args["seller"]
            quote_id = f"{request_id}-{seller}"
            quote = session.get(QuoteRecord, quote_id)
            answer = AnswerState(args["state"])  # READY or DECLINED
            if quote is not None and quote.state == AnswerState.PENDING.api:
                quote.state = answer.api
                session.add(quote)
            kind = answer.event
            for member in (self._buyer_of_request(request_id), seller):
                self._feed(session, log, member, kind, requestId=request_id, quoteId=quote_id)
        elif event == "QuoteRequestClosed":
            request_id = args["request_id"]
            closed = RequestState(args["state"])  # ACCEPTED or REJECTED
            accepted = args["accepted_seller"] if closed == RequestState.ACCEPTED else None
            request = session.get(QuoteRequestRecord, request_id)
            if request is not None:
                request.state = closed.api
                session.add(request)
            kind = closed.event
            sellers = self.ordering.functions.request_seller_list(request_id).call()
            for member in [self._buyer_of_request(request_id), *sellers]:
                subject: dict[str, Any] = {"requestId": request_id}
                if accepted:
                    subject["quoteId"] = f"{request_id}-{accepted}"
                self._feed(session, log, member, kind, **subject)
        elif event == "OrderChanged":
            order_state = OrderState(args["state"])
            order = session.get(OrderRecord, args["order_id"])
            if order is not None and order.state != order_state.api:
                order.state = order_state.api
                session.add(order)
            kind = order_state.event
            for member in (args["buyer"], args["seller"]):
                self._feed(session, log, member, kind, orderId=args["order_id"])
        elif event == "ServiceEnded":
            for member in (args["buyer"], args["seller"]):
                self._feed(
                    session,
                    log,
                    member,
                    "serviceEnding",
                    serviceId=args["service_id"],
                    endedAt=args["ended_at"],
                )
        elif event == "ServiceChanged":
            service_state = ServiceState(args["state"])
            service = session.get(ServiceRecord, args["service_id"])
            if service is not None and service.state != service_state.api:
                service.state = service_state.api
                session.add(service)
            subject = {"serviceId": args["service_id"]}
            if args["order_id"]:
                subject["orderId"] = args["order_id"]
            kind = service_state.event
            for member in (args["buyer"], args["seller"]):
                self._feed(session, log, member, kind, **subject)

    # ------------------------------------------------------------------ assurance, billing, settlement
    # The feed only: the API path writes these records; a batch of tickets is one entry
    # per party, naming its tickets.

    def _assurance_event(self, session: Session, log: Any) -> None:
        args, event = log["args"], log["event"]
        if event in ("TicketsOpened", "TicketsResolved", "TicketsChanged"):
            if event == "TicketsOpened":
                ids, kind = [o["ticket_id"] for o in args["openings"]], TicketState.OPENED.event
            elif event == "TicketsResolved":
                ids = [r["ticket_id"] for r in args["resolutions"]]
                kind = TicketState.RESOLVED.event
            else:
                ids = list(args["ticket_ids"])
                kind = TicketState(args["state"]).event or "troubleTicketsChanged"
            by_member: dict[str, list[str]] = {}
            for ticket_id in ids:
                service_id, number = ticket_id >> 32, ticket_id & (2**32 - 1)
                for member in self._parties_of_service(session, service_id):
                    by_member.setdefault(member, []).append(f"{service_id}-{number}")
            for member, tickets in by_member.items():
                self._feed(session, log, member, kind, ticketIds=tickets)
            return
        service_id, period = args["service_id"], args["period"]
        kind = {
            "CreditCalculated": "slaCreditCalculated",
            "CreditEndorsed": "slaCreditEndorsed",
        }.get(event, "slaCreditDisputed")
        for member in self._parties_of_service(session, service_id):
            self._feed(
                session, log, member, kind, creditId=f"{service_id}-{period}", serviceId=service_id
            )

    def _billing_event(self, session: Session, log: Any) -> None:
        args = log["args"]
        state = (
            InvoiceState.PAYMENT_DUE
            if log["event"] == "InvoicePaymentDue"
            else InvoiceState.SETTLED
        )
        kind = state.event
        for member in (args["seller"], args["buyer"]):
            self._feed(session, log, member, kind, invoiceId=args["invoice_id"])

    def _settlement_event(self, session: Session, log: Any) -> None:
        args, event = log["args"], log["event"]
        cycle_id = args["cycle_id"]
        if event == "NetPosition":
            self._feed(session, log, args["member"], "settlementPosition", cycleId=cycle_id)
        elif event == "PaymentInstructed":
            for member in (args["payer"], args["payee"]):
                self._feed(
                    session,
                    log,
                    member,
                    "paymentInstructed",
                    cycleId=cycle_id,
                    paymentIndex=args["payment_index"],
                )
        elif event == "PaymentConfirmed":
            payment = self.settlement.functions.payments(cycle_id, args["payment_index"]).call()
            for member in {payment[0], payment[1]}:
                self._feed(
                    session,
                    log,
                    member,
                    "paymentConfirmed",
                    cycleId=cycle_id,
                    paymentIndex=args["payment_index"],
                )
        else:  # settled or cancelled: every member with a position in the cycle
            state = (
                CycleState.SETTLED if event == "SettlementCycleSettled" else CycleState.CANCELLED
            )
            kind = state.event
            members = {
                m.args["member"]
                for m in self.settlement.events.NetPosition.get_logs(
                    from_block=0,
                    to_block=log["blockNumber"],
                    argument_filters={"cycle_id": cycle_id},
                )
            }
            for member in sorted(members):
                self._feed(session, log, member, kind, cycleId=cycle_id)

    def _parties_of_service(self, session: Session, service_id: int) -> tuple[str, str]:
        service = session.get(ServiceRecord, service_id)
        if service is not None:
            return service.buyer, service.seller
        on_chain = self.ordering.functions.services(service_id).call()
        return on_chain[0], on_chain[1]

    def _buyer_of_request(self, request_id: int) -> str:
        request = self.ordering.functions.requests(request_id).call()
        return request[0]

    def _feed(self, session: Session, log: Any, member: str, kind: str, **subject: Any) -> None:
        # No existence check: the cursor moves in the same transaction as the rows, and the
        # unique (member, tx, log_index) key refuses a replay by a second process.
        session.add(
            MemberEvent(
                member=member,
                type=kind,
                subject=subject,
                block=log["blockNumber"],
                tx=_hex(log["transactionHash"]),
                log_index=log["logIndex"],
                occurred_at=datetime.fromtimestamp(self._timestamp(log["blockNumber"]), UTC),
            )
        )

    def _timestamp(self, block: int) -> int:
        if block not in self._timestamps:
            self._timestamps[block] = self.gateway.w3.eth.get_block(block)["timestamp"]
        return self._timestamps[block]
