"""The outbox: the chain's write-ahead log in the store (DESIGN, Runtime → Outbox).

Every transaction the platform sends is first committed here, fully signed, with the
private documents (and their salts) whose commitments it carries and the idempotency key
of the request that caused it; only then does the chain gateway send it. So:

- a node that lost its last blocks (anvil dumps its state every few seconds; `kill -9`
  loses what came after) is rebuilt by `reconcile`: every entry the chain does not have
  is sent again, the same bytes, in the order and at the block times they first had;
- a server that died between sending and answering loses nothing: its entries are
  looked up by hash at the next start, and a retry with the same idempotency key finds
  them (see cooperative.api.context.mutate);
- nothing is applied twice: what is re-sent is the same signed bytes, which a chain
  accepts at most once (one nonce).
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from cooperative.errors import InvalidState
from cooperative.store.database import make_engine, session_scope
from cooperative.store.models import IdempotentRequest, OutboxEntry, OutboxState
from deployments.chain import ChainError, ChainGateway, NodeRefused, NonceTaken, Receipt

log = logging.getLogger("cooperative.outbox")


@dataclass
class RequestContext:
    """What the outbox attaches to the transactions a request sends: the request's
    idempotency key and the documents committed since its previous transaction."""

    principal: str | None = None
    key: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    tx_hashes: list[str] = field(default_factory=list)  # what this request recorded
    replay: list[OutboxEntry] | None = None  # a retry's recorded transactions, to answer from
    kept: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # tx hash -> documents
    running: bool = False  # an API request: its transactions are running until it ends
    salt_seed: bytes | None = None  # a request with a key: its salts derive from it
    salts_derived: dict[bytes, int] = field(default_factory=dict)  # document -> how many


_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "outbox_request", default=None
)
# The transactions of the requests running in this process, from their recording until the
# request's store transaction ended: the chain follower does not project past them, the
# request projects them itself (cooperative.projectors).
_running: set[str] = set()
_running_guard = threading.Lock()


def running_transactions() -> frozenset[str]:
    with _running_guard:
        return frozenset(_running)


@contextmanager
def no_new_running_transactions() -> Iterator[frozenset[str]]:
    """The transactions running now, with no request able to start running another until
    the block ends: the chain follower commits what it projected inside it, unless one of
    those transactions is a request's (that request projects it itself). A request marks
    its transaction running before it checks whether the follower projected it, so either
    the follower sees the mark and leaves the transaction, or the request sees its commit."""
    with _running_guard:
        yield frozenset(_running)


def _run(context: RequestContext, tx_hash: str, documents: list[dict[str, Any]]) -> None:
    context.tx_hashes.append(tx_hash)
    context.kept[tx_hash] = documents
    if context.running:
        with _running_guard:
            _running.add(tx_hash)


def documents_of(tx_hash: str) -> list[dict[str, Any]] | None:
    """The documents the running request kept with one of its transactions (None if the
    transaction is not this request's): what its own projection reads them from."""
    context = _request.get()
    return None if context is None else context.kept.get(tx_hash)


@contextmanager
def request_context(
    principal: str | None = None,
    key: str | None = None,
    replay: list[OutboxEntry] | None = None,
    salt_seed: bytes | None = None,
) -> Iterator[RequestContext]:
    """Run one request: its transactions carry its key and its documents; `replay` are the
    transactions an interrupted first attempt recorded, answered in their order instead
    of signing new ones; `salt_seed` (secret, one per principal and key) makes its
    commitments' salts the same in every attempt (see derived_salt)."""
    context = RequestContext(principal, key, running=True, salt_seed=salt_seed)
    if replay:
        context.replay = list(replay)
    token = _request.set(context)
    try:
        yield context
    finally:
        _request.reset(token)
        with _running_guard:
            _running.difference_update(context.tx_hashes)


def derived_salt(document: bytes) -> bytes | None:
    """The salt of a document committed in a request with an idempotency key: a keyed hash
    of the document (and how often the request committed it before) under the request's
    secret seed. Every attempt of the request commits the same document with the same
    salt, so its calldata is the same: the retry of an interrupted request writes records
    that match the commitments its first attempt put on chain, and what a member holding
    its own key signed for one attempt is what the next one sends (cooperative.signing).
    None outside such a request."""
    context = _request.get()
    if context is None or context.salt_seed is None:
        return None
    seen = context.salts_derived.get(document, 0)
    context.salts_derived[document] = seen + 1
    return hmac.new(context.salt_seed, document + b"#%d" % seen, hashlib.sha256).digest()


def unkeyed_commitments() -> bool:
    """Whether the running request committed documents without an idempotency key (their
    salts are random: another attempt would commit them differently)."""
    context = _request.get()
    return (
        context is not None
        and context.salt_seed is None
        and any(d.get("commitment") for d in context.documents)
    )


def replaying() -> bool:
    """In the retry of an interrupted request with recorded transactions still to answer
    from: checks of the store's state may find those transactions' effects already
    projected, and must not refuse them (the chain judged them when they were sent)."""
    context = _request.get()
    return context is not None and bool(context.replay)


def keep_document(commitment: str, salt: str, document: dict[str, Any]) -> None:
    """Called for every committed document (cooperative.commitments.commit): it goes into
    the outbox with the next transaction of the request, so its salt is never lost."""
    context = _request.get()
    if context is None:  # a caller outside the API (a tool, a benchmark): this thread's own
        context = RequestContext()
        _request.set(context)
    context.documents.append({"commitment": commitment, "salt": salt, "document": document})


def keep_note(name: str, value: Any) -> None:
    """Private data of the request's next transaction that no commitment covers (a
    resolution's notes): kept with it like its documents, for the projectors."""
    context = _request.get()
    if context is None:
        context = RequestContext()
        _request.set(context)
    context.documents.append({"note": name, "document": value})


class InFlight:
    """The keys whose request is running in this process: a retry of one of them is told
    to wait, instead of running beside it."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, principal: str, key: str) -> Iterator[None]:
        with self._guard:
            if (principal, key) in self._keys:
                raise InvalidState(
                    f"the request with idempotency key {key!r} is still running; retry shortly"
                )
            self._keys.add((principal, key))
        try:
            yield
        finally:
            with self._guard:
                self._keys.discard((principal, key))


@dataclass
class _Write:
    write: Callable[[Any], None]
    done: bool = False
    error: Exception | None = None


class GroupCommit:
    """Commits the writes of concurrent threads together, one store transaction per
    batch: whoever finds no commit running takes every write waiting and commits them;
    the others wait for it, then find theirs done or lead the next batch. A batch that
    fails is committed again one write at a time, so one bad write fails only itself."""

    def __init__(self, engine: Engine, prepare: Callable[[Any], None]) -> None:
        self.engine = engine
        self.prepare = prepare  # runs first in every batch's transaction
        self._guard = threading.Condition()
        self._waiting: list[_Write] = []
        self._leading = False

    def submit(self, write: Callable[[Any], None]) -> None:
        """Run `write(session)` in a committed store transaction; returns once committed."""
        item = _Write(write)
        with self._guard:
            self._waiting.append(item)
            while self._leading and not item.done:
                self._guard.wait()
            if not item.done:
                self._leading = True
                batch, self._waiting = self._waiting, []
            else:
                batch = []
        if batch:
            try:
                self._commit(batch)
            finally:
                with self._guard:
                    self._leading = False
                    self._guard.notify_all()
        if item.error is not None:
            raise item.error
        if not item.done:
            raise RuntimeError("the outbox write was interrupted")

    def _commit(self, batch: list[_Write]) -> None:
        try:
            self._transaction(batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:
                for item in batch:
                    try:
                        self._transaction([item])
                    except Exception as single:
                        item.error = single
        for item in batch:
            item.done = True

    def _transaction(self, batch: list[_Write]) -> None:
        with session_scope(self.engine) as session:
            self.prepare(session)
            for item in batch:
                item.write(session)


class Outbox:
    """The store's outbox as the chain gateway's journal."""

    def __init__(self, engine: Engine) -> None:
        # A pool of its own: the outbox commits while the request's session holds a
        # connection of the main pool; sharing one pool, enough concurrent requests would
        # each hold one connection and wait for a second.
        self.engine = make_engine(engine.url.render_as_string(hide_password=False))
        # Where mined transactions landed is written with the next commit, not one of its
        # own: until then the chain itself says so (reconciliation looks entries up by hash).
        self._mined: list[tuple[Receipt, int]] = []
        self._mined_guard = threading.Lock()
        self._commits = GroupCommit(self.engine, prepare=self._write_mined)

    # ------------------------------------------------------------------ the journal

    def next_nonce(self, sender: str, chain_next: int) -> int:
        with session_scope(self.engine) as session:
            highest = session.exec(
                select(func.max(OutboxEntry.nonce)).where(OutboxEntry.sender == sender)
            ).one()
        return max(chain_next, -1 if highest is None else highest + 1)

    def record(self, sender: str, nonce: int, raw: bytes, tx_hash: str) -> None:
        try:
            self._record(sender, nonce, raw, tx_hash)
        except IntegrityError as exc:  # (sender, nonce) is unique: another process took it
            raise NonceTaken(f"nonce {nonce} of {sender} is recorded already") from exc

    def _record(self, sender: str, nonce: int, raw: bytes, tx_hash: str) -> None:
        context = _request.get()
        entry = OutboxEntry(sender=sender, nonce=nonce, tx_hash=tx_hash, raw=raw)
        key: tuple[str, str] | None = None
        if context is not None:
            entry.documents = list(context.documents)
            entry.principal, entry.idempotency_key = context.principal, context.key
            if context.principal is not None and context.key is not None:
                key = (context.principal, context.key)
        self._commits.submit(lambda session: self._write_entry(session, entry, key))
        if context is not None:  # kept with the entry now
            context.documents = []
            _run(context, tx_hash, entry.documents)

    @staticmethod
    def _write_entry(session: Any, entry: OutboxEntry, key: tuple[str, str] | None) -> None:
        if key is not None:
            # From here the request's outcome is the chain's: the key is no longer released
            # on an error, a retry answers from these transactions.
            row = session.get(IdempotentRequest, key)
            if row is not None and row.state == "pending":
                row.state = "sent"
                session.add(row)
        session.add(entry)

    def replayed(self, sender: str) -> bytes | None:
        """In a retry of an interrupted request: the signed bytes its first attempt recorded
        for this step, to be answered from instead of signing anew."""
        context = _request.get()
        if context is None or not context.replay:
            return None
        if context.replay[0].sender != sender:
            return None  # the retry took another path than the first attempt: send anew
        entry = context.replay.pop(0)
        context.documents = []  # the first attempt's documents are kept with its entry
        _run(context, entry.tx_hash, entry.documents)
        return entry.raw

    def discard(self, tx_hash: str) -> None:
        context = _request.get()
        with session_scope(self.engine) as session:
            entry = session.exec(select(OutboxEntry).where(OutboxEntry.tx_hash == tx_hash)).first()
            if entry is None:
                return
            if context is not None:
                context.documents = entry.documents + context.documents
                if tx_hash in context.tx_hashes:
                    context.tx_hashes.remove(tx_hash)
                if context.key is not None and not context.tx_hashes:
                    row = session.get(IdempotentRequest, (context.principal, context.key))
                    if row is not None and row.state == "sent":
                        row.state = "pending"
                        session.add(row)
            session.delete(entry)

    def mined(self, receipt: Receipt, timestamp: int) -> None:
        with self._mined_guard:
            self._mined.append((receipt, timestamp))

    def _mined_on(self, gateway: ChainGateway, receipt: Receipt) -> None:
        self.mined(receipt, gateway.block_timestamp(receipt.block_number))

    def flush(self) -> None:
        """Write where the mined transactions landed (the follower does, every few seconds)."""
        with session_scope(self.engine) as session:
            self._write_mined(session)

    def _write_mined(self, session: Any) -> None:
        with self._mined_guard:
            mined, self._mined = self._mined, []
        try:
            for receipt, timestamp in mined:
                self._settle(session, receipt, timestamp)
        except BaseException:
            with self._mined_guard:  # not written: keep them for the next commit
                self._mined = mined + self._mined
            raise

    @staticmethod
    def settle(session: Any, receipt: Receipt, timestamp: int) -> None:
        """Write where a transaction landed, in `session`: a request settles its own entries
        in the store transaction that holds its answer, so an acknowledged write is never
        without its block's time (a lost block is rebuilt at it)."""
        Outbox._settle(session, receipt, timestamp)

    @staticmethod
    def _settle(session: Any, receipt: Receipt, timestamp: int) -> None:
        entry = session.exec(
            select(OutboxEntry).where(OutboxEntry.tx_hash == receipt.tx_hash.lower())
        ).first()
        if entry is None:
            return
        entry.state = OutboxState.MINED if receipt.status == 1 else OutboxState.REVERTED
        entry.block_number = receipt.block_number
        entry.block_hash = receipt.block_hash
        entry.tx_index = receipt.tx_index
        entry.block_timestamp = timestamp
        session.add(entry)

    def _drop(self, entry: OutboxEntry) -> None:
        with session_scope(self.engine) as session:
            row = session.get(OutboxEntry, entry.id)
            if row is not None:
                row.state = OutboxState.DROPPED
                session.add(row)

    # ------------------------------------------------------------------ reading

    def senders(self) -> list[str]:
        """Every account the outbox holds transactions of."""
        with session_scope(self.engine) as session:
            return list(session.exec(select(OutboxEntry.sender).distinct()).all())

    def entries_of_key(self, principal: str, key: str) -> list[OutboxEntry]:
        with session_scope(self.engine) as session:
            self._write_mined(session)
            return list(
                session.exec(
                    select(OutboxEntry)
                    .where(OutboxEntry.principal == principal, OutboxEntry.idempotency_key == key)
                    .order_by(col(OutboxEntry.id))
                )
            )

    # ------------------------------------------------------------------ reconciliation

    def reconcile(self, gateway: ChainGateway, *, set_timestamps: bool) -> ReconcileReport:
        """Make the chain hold every entry: look each unsettled one up by hash (mined →
        settled), and check the settled ones are still there (a node that lost blocks);
        what is missing is sent again, the same bytes, in the order and (with
        `set_timestamps`, the embedded node) at the block times it first had."""
        report = ReconcileReport()
        with gateway.sending.closed():
            with session_scope(self.engine) as session:
                self._write_mined(session)
                unsettled = list(
                    session.exec(select(OutboxEntry).where(OutboxEntry.state == OutboxState.SIGNED))
                )
            missing: list[OutboxEntry] = []
            for entry in unsettled:
                receipt = gateway.receipt(entry.tx_hash)
                if receipt is None:
                    missing.append(entry)
                else:
                    self._mined_on(gateway, receipt)
                    report.settled += 1
            missing += self._lost_blocks(gateway)
            if missing:
                report.resent = self._resend(gateway, missing, set_timestamps)
            gateway.forget_nonces()
        return report

    def _lost_blocks(self, gateway: ChainGateway) -> list[OutboxEntry]:
        """Settled entries whose block the chain no longer has (same height, other hash,
        or no such height): walk down the recorded blocks until one is still there; the
        chain below it is the one the entries were mined in."""
        lost: list[OutboxEntry] = []
        with session_scope(self.engine) as session:
            heights = session.exec(
                select(OutboxEntry.block_number, OutboxEntry.block_hash)
                .where(col(OutboxEntry.block_number).is_not(None))
                .distinct()
                .order_by(col(OutboxEntry.block_number).desc())
            )
            for number, block_hash in heights:
                if gateway.block_hash(number) == block_hash:
                    break
                lost += session.exec(
                    select(OutboxEntry).where(
                        OutboxEntry.block_number == number, OutboxEntry.block_hash == block_hash
                    )
                ).all()
        return lost

    def _resend(
        self, gateway: ChainGateway, missing: list[OutboxEntry], set_timestamps: bool
    ) -> int:
        # Blocks as they first were (their order, their time), then what was never mined,
        # in the order it was recorded. A sender's nonces must ascend: an entry whose
        # sender has a lower missing nonce still unsent goes with (after) that one.
        mined_before = sorted(
            (e for e in missing if e.block_number is not None),
            key=lambda e: (e.block_number, e.tx_index, e.id),
        )
        never_mined = sorted((e for e in missing if e.block_number is None), key=lambda e: e.id)
        by_sender: dict[str, list[OutboxEntry]] = {}
        for entry in sorted(missing, key=lambda e: e.nonce):
            by_sender.setdefault(entry.sender, []).append(entry)
        groups: list[tuple[int | None, list[OutboxEntry]]] = []
        for entry in mined_before:
            if groups and groups[-1][0] == entry.block_number:
                groups[-1][1].append(entry)
            else:
                groups.append((entry.block_number, [entry]))
        # What was never seen mined goes one transaction per block, at the time it was
        # recorded (a lower bound of when it first ran): a queue and the execute a timelock
        # delay later stay that far apart.
        groups += [(None, [entry]) for entry in never_mined]
        sent_ids: set[int | None] = set()
        resent = 0
        if set_timestamps:
            # From the chain's own time, not the restarted node's (see set_clock); back to
            # the wall clock once the lost blocks are rebuilt.
            gateway.set_clock(gateway.block_timestamp(gateway.head()[0]))
        try:
            resent = self._resend_groups(gateway, groups, by_sender, sent_ids, set_timestamps)
        finally:
            if set_timestamps:
                latest = gateway.block_timestamp(gateway.head()[0])
                # Rounded up: anvil stamps a block with its clock's whole seconds, so a
                # clock set to the truncated time would stamp blocks up to 2 s in the past.
                gateway.set_clock(max(math.ceil(time.time()), latest + 1))
        log.info("outbox: %d transactions sent again", resent)
        return resent

    def _resend_groups(
        self,
        gateway: ChainGateway,
        groups: list[tuple[int | None, list[OutboxEntry]]],
        by_sender: dict[str, list[OutboxEntry]],
        sent_ids: set[int | None],
        set_timestamps: bool,
    ) -> int:
        resent = 0
        for _block, group in groups:
            batch: list[OutboxEntry] = []
            for entry in group:
                for earlier in by_sender[entry.sender]:
                    if earlier.nonce > entry.nonce:
                        break
                    if earlier.id not in sent_ids:
                        sent_ids.add(earlier.id)
                        batch.append(earlier)
            if not batch:
                continue
            stamp = group[0].block_timestamp
            if stamp is None:
                stamp = int(_aware(group[0].created_at).timestamp())
            if set_timestamps:
                try:
                    gateway.set_next_block_timestamp(stamp)
                except ChainError as exc:
                    # The node's clock is already past it (a snapshot keeps the time it was
                    # taken at): the block is sealed at the node's time instead.
                    log.warning("rebuilding block %s at its time: %s", _block, exc)
            sent: list[OutboxEntry] = []
            for entry in batch:
                try:
                    gateway.send_raw(entry.raw)
                    sent.append(entry)
                except NodeRefused as exc:
                    # "nonce too low": a transaction of this nonce is already in the chain.
                    # If it is this one, its receipt settles it; else this one can never
                    # be mined (the chain took another at its nonce): dropped, loudly.
                    receipt = gateway.receipt(entry.tx_hash)
                    if receipt is not None:
                        self._mined_on(gateway, receipt)
                    else:
                        log.error("outbox entry %s dropped by the node: %s", entry.tx_hash, exc)
                        self._drop(entry)
            gateway.mine_pending([e.tx_hash for e in sent])
            for entry in sent:
                receipt = gateway.receipt(entry.tx_hash)
                if receipt is None:
                    raise ChainError(f"re-sent transaction {entry.tx_hash} was not mined")
                self._mined_on(gateway, receipt)
                resent += 1
        return resent


@dataclass
class ReconcileReport:
    settled: int = 0  # found mined, now recorded so
    resent: int = 0  # missing from the chain, sent again


def _aware(moment: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
