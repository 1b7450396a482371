"""The chain follower: applies every module's events to the read models in chain order,
from one cursor (a block and its hash), through the projectors (cooperative.projectors).

One log query over all module addresses per sync, applied in (block, log index) order, so
one member's feed lists events across modules as they happened. If the block at the cursor
no longer has the hash the read models were built on (the node lost blocks, or
reorganised), every read model is rebuilt from the chain as it now is: the same as
`coop reindex`. One sync runs at a time per process (a lock); the cursor moves in the same
store transaction as the rows, so a crash mid-sync applies nothing twice.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from cooperative import outbox
from cooperative.projectors import CURSOR, Documents, Projection, Run
from cooperative.store.models import (
    ChainCursor,
    CommitmentLeaf,
    IndexedBlock,
    InvoiceRecord,
    MemberEvent,
    OfferingRecord,
    OrderRecord,
    ProjectedTransaction,
    ProposalEvent,
    ProposalRecord,
    QuoteRecord,
    QuoteRequestRecord,
    ServiceRecord,
    SettlementCycleRecord,
    SettlementPaymentRecord,
    SettlementPositionRecord,
    SlaCreditRecord,
    TroubleTicketRecord,
    VoteRecord,
)

log = logging.getLogger("cooperative.indexer")
# Events per store transaction of a sync (whole blocks): about 10 s of SQLite's write lock.
MAX_LOGS_PER_BATCH = 10_000

# Everything the projectors write and a rebuild drops. (A member's profile is kept: its
# on-chain half is written again from the register, its off-chain half is the member's.)
READ_MODELS = (
    MemberEvent,
    ProposalEvent,
    VoteRecord,
    ProposalRecord,
    OfferingRecord,
    QuoteRecord,
    QuoteRequestRecord,
    OrderRecord,
    ServiceRecord,
    TroubleTicketRecord,
    SlaCreditRecord,
    InvoiceRecord,
    SettlementPaymentRecord,
    SettlementPositionRecord,
    SettlementCycleRecord,
    CommitmentLeaf,
    ProjectedTransaction,
    IndexedBlock,
    ChainCursor,
)


class Indexer:
    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.gateway = projection.gateway
        self._lock = threading.Lock()
        # (first block, last block, logs): what a sync's batch left of the range it read
        self._rest: tuple[int, int, list[dict]] | None = None  # type: ignore[type-arg]

    def sync(self, session: Session) -> int:
        """Apply every event up to the latest block; returns how many were applied. Stops
        before a block holding a transaction of a request still running in this process:
        that request projects it itself, and the next sync goes on from there. Commits
        the session once per batch of whole blocks of about MAX_LOGS_PER_BATCH events
        (see outbox.no_new_running_transactions)."""
        applied = 0
        with self._lock:
            while True:
                batch, more = self._sync_batch(session)
                applied += batch
                if not more:
                    return applied

    def _sync_batch(self, session: Session) -> tuple[int, bool]:
        """One store transaction of the sync: (events applied, whether more are due).
        Bounded, because SQLite has one writer: a month's events in one transaction would
        hold its write lock for as long as projecting them takes, and every request's
        outbox write would wait on it."""
        cursor = self._cursor(session)
        if (
            cursor.block >= 0
            and cursor.block_hash is not None
            and self.gateway.block_hash(cursor.block) != cursor.block_hash
        ):
            log.warning(
                "the chain no longer has block %d as the read models saw it: rebuilding them",
                cursor.block,
            )
            self.reset(session)
            cursor = self._cursor(session)
        latest, latest_hash = self.gateway.head()
        if latest <= cursor.block:
            return 0, False
        logs = self._logs(cursor.block + 1, latest)
        more = len(logs) > MAX_LOGS_PER_BATCH
        if more:  # up to the block of the batch's last event, whole
            cut = logs[MAX_LOGS_PER_BATCH - 1]["blockNumber"]
            # the rest, for the next batch: the range is read from the node once
            self._rest = (cut + 1, latest, [r for r in logs if r["blockNumber"] > cut])
            logs = [r for r in logs if r["blockNumber"] <= cut]
            latest, latest_hash = cut, logs[-1]["blockHash"]
        running = outbox.running_transactions()
        held = next(
            (r["blockNumber"] for r in logs if r["transactionHash"].lower() in running), None
        )
        if held is not None:
            logs = [r for r in logs if r["blockNumber"] < held]
            latest, more = held - 1, False
            if latest <= cursor.block:
                return 0, False
            latest_hash = self.gateway.block_hash(latest)
        applied = self._apply(session, logs)
        blocks = {r["blockNumber"]: r["blockHash"] for r in logs}
        blocks[latest] = latest_hash
        for number, block_hash in blocks.items():
            session.merge(IndexedBlock(number=number, hash=block_hash))
        session.exec(delete(ProjectedTransaction).where(col(ProjectedTransaction.block) <= latest))  # type: ignore[call-overload]
        cursor.block, cursor.block_hash = latest, latest_hash
        session.add(cursor)
        try:
            session.flush()
        except IntegrityError:  # a request committed one of these transactions since
            session.rollback()
            log.info("a request projected a transaction of blocks up to %d first", latest)
            return 0, False
        with outbox.no_new_running_transactions() as running:
            # A retry may have started replaying one of these since `running` was read.
            if running & {r["transactionHash"].lower() for r in logs}:
                session.rollback()
                return 0, False
            session.commit()
        return applied, more

    def _logs(self, first: int, last: int) -> list[dict]:  # type: ignore[type-arg]
        """The modules' logs of blocks `first` to `last`: what the last batch left of them,
        and the node's for the blocks after that."""
        rest, self._rest = self._rest, None
        if rest is not None and rest[0] == first and rest[1] <= last:
            first, kept = rest[1] + 1, rest[2]
        else:
            kept = []
        if first > last:
            return kept
        return kept + self.gateway.logs(self.projection.addresses, first, last)

    def _apply(self, session: Session, logs: list[dict]) -> int:  # type: ignore[type-arg]
        """The feed for every log; the records for those of transactions no mutation
        projected."""
        tx_hashes = {r["transactionHash"].lower() for r in logs}
        projected: set[str] = set()
        wanted = list(tx_hashes)
        for start in range(0, len(wanted), 500):
            projected.update(
                session.exec(
                    select(ProjectedTransaction.tx_hash).where(
                        col(ProjectedTransaction.tx_hash).in_(wanted[start : start + 500])
                    )
                ).all()
            )
        documents = Documents(session)
        documents.preload(tx_hashes - projected)
        everything = Run(session, documents, records=True, feeds=True)
        feed_only = Run(session, documents, records=False, feeds=True)
        return self.projection.apply(
            (
                feed_only if r["transactionHash"].lower() in projected else everything,
                r,
                r["blockNumber"],
                r["transactionHash"],
            )
            for r in logs
        )

    def reset(self, session: Session) -> None:
        """Drop every read model and the cursor: the next sync rebuilds them from block 0
        (the chain, plus the documents the outbox kept)."""
        for table in READ_MODELS:
            session.exec(delete(table))  # type: ignore[call-overload]
        session.flush()
        self.gateway.forget_blocks()

    def _cursor(self, session: Session) -> ChainCursor:
        cursor = session.get(ChainCursor, CURSOR)
        if cursor is not None:
            return cursor
        # A store indexed by an earlier version, one cursor per module (all at one block):
        # go on from there.
        legacy = session.exec(select(ChainCursor)).all()
        start = min((c.block for c in legacy), default=-1)
        return ChainCursor(name=CURSOR, block=start, block_hash=None)
