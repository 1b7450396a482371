"""What every module's projector shares: the event, the documents its transaction kept,
the run it is applied in (see cooperative.projectors)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlmodel import Session, col, select

from cooperative import outbox
from cooperative.store.models import MemberEvent, OutboxEntry

if TYPE_CHECKING:
    from cooperative.projectors.projection import Projection

CURSOR = "chain"  # the follower's one cursor: the last block applied, across every module


@dataclass(frozen=True)
class Event:
    """One decoded contract event, where it happened."""

    name: str
    args: dict[str, Any]
    block: int
    tx: str  # 0x-hex, lower case
    log_index: int
    timestamp: int  # the block's

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


class Documents:
    """The private documents (with their salts) and notes the outbox kept for each
    transaction: the running request's own from memory, any other from the store."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_tx: dict[str, list[dict[str, Any]]] = {}

    def preload(self, tx_hashes: Iterable[str]) -> None:
        wanted = [tx for tx in set(tx_hashes) if tx not in self._by_tx]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for tx_hash, documents in self.session.exec(
                select(OutboxEntry.tx_hash, OutboxEntry.documents).where(
                    col(OutboxEntry.tx_hash).in_(chunk)
                )
            ):
                self._by_tx[tx_hash] = documents
            for tx in chunk:
                self._by_tx.setdefault(tx, [])

    def _of(self, tx: str) -> list[dict[str, Any]]:
        running = outbox.documents_of(tx)
        if running is not None:
            return running
        if tx not in self._by_tx:
            self.preload([tx])
        return self._by_tx[tx]

    def committed(self, event: Event, commitment: bytes | str) -> tuple[str, dict[str, Any]]:
        """(salt, document) of the commitment the event's transaction carries; ("", {}) if
        the platform never held that document (a transaction another tool sent)."""
        wanted = commitment if isinstance(commitment, str) else "0x" + bytes(commitment).hex()
        for kept in self._of(event.tx):
            if kept.get("commitment") == wanted.lower():
                return kept["salt"], kept["document"]
        return "", {}

    def note(self, event: Event, name: str) -> Any:
        for kept in self._of(event.tx):
            if kept.get("note") == name:
                return kept["document"]
        return None


@dataclass
class Run:
    """One application of events: the session it writes in, and what it writes."""

    session: Session
    documents: Documents
    records: bool = True  # the module records (False: a mutation projected them already)
    feeds: bool = True  # the member feed (only the follower: it writes in chain order)
    chain: dict[Any, Any] = field(default_factory=dict)  # what projectors prefetched

    def feed(self, event: Event, member: str, kind: str, **subject: Any) -> None:
        if not self.feeds:
            return
        # No existence check: the cursor moves in the same transaction as the rows, and the
        # unique (member, tx, log_index) key refuses a replay by a second process.
        self.session.add(
            MemberEvent(
                member=member,
                type=kind,
                subject=subject,
                block=event.block,
                tx=event.tx,
                log_index=event.log_index,
                occurred_at=event.time,
            )
        )


Handler = Callable[[Run, Event], None]


class Projector:
    """One module's projector: its contract's events into its records and feed entries.
    A handler writes records only when `run.records` and feed entries through `run.feed`
    (which writes only when `run.feeds`)."""

    contract_name: ClassVar[str]

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.contract = projection.handle(self.contract_name)

    def handlers(self) -> dict[str, Handler]:
        raise NotImplementedError

    def prefetch(self, run: Run, events: list[Event]) -> None:
        """Read from the chain, in one batch, what the handlers of `events` will need
        (into `run.chain`); by default nothing."""
