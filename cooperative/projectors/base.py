"""What every module's projector shares: the event, the documents its transaction kept,
the run it is applied in (see cooperative.projectors)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from cooperative import outbox
from cooperative.states import FEED_EVENTS
from cooperative.store.models import MemberEvent, OutboxEntry

if TYPE_CHECKING:
    from cooperative.projectors.projection import Projection

R = TypeVar("R")
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


def chain_time(seconds: int) -> datetime:
    """A time the chain holds (seconds since the epoch) as the store keeps it."""
    return datetime.fromtimestamp(seconds, UTC)


def hex32(value: bytes | str) -> str:
    """A bytes32 (a commitment, a proposal id) as the store keeps it: 0x-hex, lower case."""
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def type_primary_key(model: type) -> str:
    (column,) = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    return str(column.name)


class Documents:
    """The private documents (with their salts) and notes the outbox kept for each
    transaction: the running request's own from memory, any other from the store."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_tx: dict[str, list[dict[str, Any]]] = {}
        self._index: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {}

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
        if event.tx not in self._index:
            self._index[event.tx] = {
                kept["commitment"]: (kept["salt"], kept["document"])
                for kept in self._of(event.tx)
                if kept.get("commitment")
            }
        return self._index[event.tx].get(wanted.lower(), ("", {}))

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

    _added: dict[tuple[type, Any], Any] = field(default_factory=dict, init=False, repr=False)
    _loaded: list[Any] = field(default_factory=list, init=False, repr=False)

    def get_many(self, model: type[R], keys: list[Any]) -> list[R | None]:
        """Records by primary key, in `keys`' order: what the session holds already (a
        mutation's own records) without a query, the rest in few queries."""
        held = {
            key: found
            for key in keys
            if (found := self._added.get((model, key)) or self._held(model, key)) is not None
        }
        missing = [key for key in keys if key not in held]
        if missing:
            wanted, column = set(missing), type_primary_key(model)
            before = len(self._loaded)
            self.load(model, missing)
            for record in self._loaded[before:]:
                if getattr(record, column) in wanted:
                    held[getattr(record, column)] = record
        return [held.get(key) for key in keys]

    def _held(self, model: type, key: Any) -> Any:
        found = self.session.identity_map.get(identity_key(model, key))
        if found is not None:
            self._loaded.append(found)  # kept: the session holds clean records weakly
        return found

    def load(self, model: type, keys: list[Any]) -> None:
        """Read many records by primary key in few queries, so the handlers' `get`s find
        them in the session (held here: the session keeps only what is referenced). What
        the session holds already (a mutation's own reads) is not asked again."""
        keys = [
            key
            for key in keys
            if (model, key) not in self._added and self._held(model, key) is None
        ]
        column = getattr(model, type_primary_key(model))
        for start in range(0, len(keys), 500):
            self._loaded += self.session.exec(
                select(model).where(column.in_(keys[start : start + 500]))
            ).all()

    def get(self, model: type[R], key: Any) -> R | None:
        """A record by primary key, including one this run added and did not flush yet (a
        mutation's run flushes once, at its end: the store's write lock is held briefly)."""
        added = self._added.get((model, key))
        return added if added is not None else self.session.get(model, key)

    def add(self, record: Any) -> None:
        self.session.add(record)
        key = inspect(record).identity or tuple(
            getattr(record, c.name) for c in type(record).__table__.primary_key.columns
        )
        self._added[(type(record), key[0] if len(key) == 1 else key)] = record

    def feed(self, event: Event, member: str, kind: str, **subject: Any) -> None:
        if kind not in FEED_EVENTS:  # the API's MemberEventType names every type there is
            raise ValueError(f"{kind!r} is not a feed event type (cooperative.states)")
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
