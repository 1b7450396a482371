"""The SQLModel engine: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine, text

from cooperative.errors import Unavailable
from cooperative.store import models  # noqa: F401  (registers the tables)


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
    except OperationalError as exc:
        raise Unavailable(f"the database cannot be reached: {exc.orig}") from exc
    return grown


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
