"""The SQLModel engine: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, create_engine, text

from cooperative.errors import Unavailable
from cooperative.store import models  # noqa: F401  (registers the tables)
from cooperative.store.models import StoreVersion


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A request holds its session's connection while it waits for its block, and its
        # outbox write takes a second one: room for the month's 20 concurrent senders
        # (SQLite connections are cheap; its one writer lock is what serialises writes).
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=32,
            max_overflow=32,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# Columns added to existing tables since the first release (create_all adds only tables):
# (table, column, SQL type). Alembic takes over once the schema must evolve further.
ADDED_COLUMNS = [
    ("chain_cursor", "block_hash", "VARCHAR(66)"),
    ("api_key", "created_by", "VARCHAR(42)"),
    # what a quote's seller is asked (cooperative.projectors.ordering)
    ("quote", "sla_template", "INTEGER"),
    ("quote", "respond_by", "TIMESTAMP"),
    ("quote", "expires_at", "TIMESTAMP"),
    ("quote", "requested_delivery", "TIMESTAMP"),
    ("quote", "site", "JSON"),
    ("quote", "bandwidth_mbps", "INTEGER"),
    ("quote", "term_months", "INTEGER"),
    ("quote", "product_type", "VARCHAR(40)"),
    ("quote", "offering_id", "INTEGER"),
]


def create_schema(engine: Engine) -> set[str]:
    """Create what is missing; returns the tables that got new columns (a read model's
    new columns are filled by rebuilding it: Platform.start does)."""
    grown: set[str] = set()
    try:
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            inspector = inspect(connection)
            for table, column, kind in ADDED_COLUMNS:
                if column not in {c["name"] for c in inspector.get_columns(table)}:
                    connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
                    grown.add(table)
        _ensure_version_row(engine)
    except OperationalError as exc:
        raise Unavailable(f"the database cannot be reached: {exc.orig}") from exc
    return grown


# ------------------------------------------------------------------ the store's version

# The follower's bookkeeping: it moves with every block, empty ones too, and no query
# answers from it. A write to any other table changes the store's version.
BOOKKEEPING_TABLES = frozenset(
    {"chain_cursor", "indexed_block", "projected_transaction", "store_version"}
)
_CHANGED = "store_changed"  # (in Session.info: this transaction wrote what queries read)


class StoreVersionReader:
    """The store's version, read on a connection of its own (outside the pool, in
    autocommit, so each read sees the last commit): a few microseconds on SQLite, one
    round trip on PostgreSQL, against ~100 µs through the engine. It is read on the event
    loop, so it never waits long: a short lock timeout on SQLite, connect and statement
    timeouts on PostgreSQL, and after a failure no new attempt for RETRY_SECONDS (None
    meanwhile: the caller does without). Not thread-safe: one reader per thread."""

    SQL = "SELECT version FROM store_version WHERE id = 1"
    TIMEOUT_SECONDS = 0.5
    RETRY_SECONDS = 5.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Any = None
        self._failed_at = -math.inf

    def read(self) -> int | None:
        """The version, or None when the database cannot say now."""
        if time.monotonic() - self._failed_at < self.RETRY_SECONDS:
            return None
        try:
            if self._connection is None:
                self._connection = self._connect()
            cursor = self._connection.cursor()
            try:
                cursor.execute(self.SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
            return None if row is None else int(row[0])
        except Exception:
            self.close()
            self._failed_at = time.monotonic()
            return None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with suppress(Exception):
                connection.close()

    def _connect(self) -> Any:
        dialect = self.engine.dialect
        args, options = dialect.create_connect_args(self.engine.url)
        if dialect.name == "sqlite":
            options.update(
                timeout=self.TIMEOUT_SECONDS, check_same_thread=False, isolation_level=None
            )
            return dialect.loaded_dbapi.connect(*args, **options)
        options["connect_timeout"] = max(1, round(self.TIMEOUT_SECONDS))
        connection = dialect.loaded_dbapi.connect(*args, **options)
        connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute(f"SET statement_timeout = {round(self.TIMEOUT_SECONDS * 1000)}")
        cursor.close()
        return connection


def _ensure_version_row(engine: Engine) -> None:
    try:
        with Session(engine) as session:
            if session.get(StoreVersion, 1) is None:
                session.add(StoreVersion(id=1, version=0))
                session.commit()
    except IntegrityError:
        pass  # another process starting on the same empty database added it


@event.listens_for(OrmSession, "after_flush")
def _note_flushed_changes(session: OrmSession, _context: Any) -> None:
    if session.info.get(_CHANGED):
        return
    changed = chain(
        session.new, (o for o in session.dirty if session.is_modified(o)), session.deleted
    )
    if any(getattr(o, "__tablename__", None) not in BOOKKEEPING_TABLES for o in changed):
        session.info[_CHANGED] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _note_statement_changes(state: ORMExecuteState) -> None:
    """Bulk statements (`session.exec(delete(...))`) bypass the flush."""
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in BOOKKEEPING_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(OrmSession, "before_commit")
def _count_a_change(session: OrmSession) -> None:
    """The version moves in the transaction that changed the store, so no reader sees the
    change under the old number. Taken last, the row's lock (PostgreSQL) is held only
    while the transaction commits. (A savepoint's commit is not the transaction's.)"""
    if session.in_nested_transaction():
        return
    session.flush()
    if session.info.pop(_CHANGED, False):
        session.execute(
            update(StoreVersion)
            .where(StoreVersion.id == 1)  # type: ignore[arg-type]
            .values(version=StoreVersion.version + 1)
        )


@event.listens_for(OrmSession, "after_rollback")
def _forget_changes(session: OrmSession) -> None:
    if not session.in_nested_transaction():  # (a savepoint's rollback leaves the rest)
        session.info.pop(_CHANGED, None)


def is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception:
        return False
    return True


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed when the block succeeds and rolled back when it raises, so a
    failed request leaves nothing half-written."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
