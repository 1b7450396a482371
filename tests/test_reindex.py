"""`coop reindex` rebuilds the store the live platform built: after a month's workload
(offering to service, tickets to settlement, a governance vote), every read model dropped
and projected again from the chain and the outbox's documents is row for row the same."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from cooperative.indexer import READ_MODELS
from cooperative.platform import Platform
from cooperative.store.database import create_schema
from cooperative.store.models import (
    ChainCursor,
    IndexedBlock,
    MemberEvent,
    MemberProfile,
    ProjectedTransaction,
    TroubleTicketRecord,
)
from tests import test_assurance_api as assurance_tests
from tests import test_marketplace_api as marketplace_tests
from tests.conftest import Api
from tests.test_assurance_api import services  # noqa: F401  (a fixture)


def rows(platform: Platform) -> dict[str, list[dict[str, Any]]]:
    """Every read model's rows, by table, in primary-key order (the follower's bookkeeping
    aside: which blocks it happened to stop at differs from run to run)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    bookkeeping = (IndexedBlock, ChainCursor, ProjectedTransaction)
    with Session(platform.engine) as session:
        for model in (*[m for m in READ_MODELS if m not in bookkeeping], MemberProfile):
            columns = [c.name for c in model.__table__.columns]  # type: ignore[attr-defined]
            key = [c.name for c in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
            found = [{c: getattr(r, c) for c in columns} for r in session.exec(select(model))]
            tables[model.__tablename__] = sorted(found, key=lambda r: [r[k] for k in key])  # type: ignore[attr-defined]
    return tables


# This module's platform lives a month first; the flows are the other modules' own tests.


def test_an_offering_becomes_a_service(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    marketplace_tests.test_the_erp_flow_from_offering_to_service(
        platform, as_member, addresses, template_id
    )


def test_then_a_month_from_ticket_to_settlement(
    platform: Platform,
    as_member: list[Api],
    as_admin: Api,
    addresses: list[str],
    services: list[str],  # noqa: F811
) -> None:
    assurance_tests.test_a_month_from_ticket_to_settlement(
        platform, as_member, as_admin, addresses, services
    )


def test_reindex_rebuilds_the_same_read_models(
    platform: Platform,
    as_member: list[Api],
    services: list[str],  # noqa: F811
) -> None:
    platform.sync()
    live = rows(platform)
    assert live["member_event"] and live["trouble_ticket"] and live["invoice"]
    assert live["settlement_payment"] and live["product_order"] and live["vote"]
    # the anchored commitment log: every record's commitment, once, in chain order
    leaves = live["commitment_leaf"]
    assert [leaf["index"] for leaf in leaves] == list(range(len(leaves)))
    order = [(leaf["block"], leaf["log_index"]) for leaf in leaves]
    assert order == sorted(order)
    committed = {leaf["commitment"] for leaf in leaves}
    for table in ("trouble_ticket", "invoice", "product_order", "quote"):
        assert {r["commitment"] for r in live[table] if r.get("commitment")} <= committed, table

    applied = platform.reindex()

    rebuilt = rows(platform)
    assert applied > 0
    for table, before in live.items():
        assert rebuilt[table] == before, table
    # and the private documents came back from the outbox, not from nowhere
    with Session(platform.engine) as session:
        ticket = session.exec(select(TroubleTicketRecord)).first()
        assert ticket is not None and ticket.document.get("description") and ticket.salt
        assert session.exec(select(MemberEvent)).first() is not None


def test_a_sync_in_small_batches_builds_the_same_read_models(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The follower commits a batch of whole blocks at a time: cut anywhere, the read
    models come out the same."""
    from cooperative import indexer

    platform.sync()
    live = rows(platform)
    monkeypatch.setattr(indexer, "MAX_LOGS_PER_BATCH", 3)
    commits = []
    real_commit = Session.commit
    monkeypatch.setattr(Session, "commit", lambda self: (commits.append(1), real_commit(self)))
    applied = platform.reindex()
    assert applied > 3 and len(commits) > 1  # a store transaction per batch, not one
    rebuilt = rows(platform)
    for table, before in live.items():
        assert rebuilt[table] == before, table


def test_a_release_adding_read_model_columns_fills_them_from_the_chain(
    platform: Platform,
) -> None:
    """A store from before a release that added columns (here: a quote's site) has rows
    without them: opening it adds the column and rebuilds the read models."""
    platform.sync()
    before = rows(platform)["quote"]
    assert before and all(q["site"] is not None for q in before)
    with platform.engine.begin() as connection:
        connection.execute(text("ALTER TABLE quote DROP COLUMN site"))
    grown = create_schema(platform.engine)
    assert grown == {"quote"}
    platform.fill_new_columns(grown)
    assert rows(platform)["quote"] == before
    assert create_schema(platform.engine) == set()  # nothing more to add
