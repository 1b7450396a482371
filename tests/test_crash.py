"""Nothing acknowledged is lost or applied twice, whatever process dies when (DESIGN
principle 8), proven with SIGKILL: see tests/crash_harness.py. `CRASH_ROUNDS` sets the
rounds (`make soak` runs many more), `CRASH_SEED` the random moments."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cooperative.store.database import make_engine
from cooperative.store.models import (
    IdempotentRequest,
    OfferingRecord,
    OutboxEntry,
    OutboxState,
    QuoteRequestRecord,
    TroubleTicketRecord,
)
from deployments import records
from deployments.chain import ChainGateway
from deployments.compiler import Compiler
from deployments.deploy import contract
from tests.crash_harness import FEED, OPEN, Harness

pytestmark = pytest.mark.e2e

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "21"))
SEED = int(os.environ.get("CRASH_SEED", "20261202"))


def key_of(global_id: str) -> str:
    """The record key in an API id (`TroubleTicket:5-0` -> `5-0`), to compare with the store."""
    return global_id.partition(":")[2]


def feed_of(client: object) -> list[dict]:
    events: list[dict] = []
    after = None
    while True:
        page = client(FEED, {"after": after})["events"]  # type: ignore[operator]
        events.extend(edge["node"] for edge in page["edges"])
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return events


def test_sigkill_of_server_node_or_both_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path,
) -> None:
    harness = Harness(tmp_path / "coop", SEED)
    harness.set_up()
    try:
        kills = harness.run(ROUNDS)
        tally = harness.tally
        assert tally.refused == [], tally.refused[:3]
        acknowledged = Counter(w.kind for w in tally.acknowledged)
        assert all(acknowledged[k] > 0 for k in ("ticket", "offering", "quoteRequest"))
        platform = harness.platform

        # The store has every acknowledged write, once.
        engine = make_engine(f"sqlite:///{platform.data_dir / 'coop.db'}")
        with Session(engine) as session:
            tickets = {t.id: t for t in session.exec(select(TroubleTicketRecord))}
            offerings = {o.id for o in session.exec(select(OfferingRecord))}
            requests_ = {r.id for r in session.exec(select(QuoteRequestRecord))}
            unfinished = session.exec(
                select(IdempotentRequest).where(IdempotentRequest.state != "done")
            ).all()
        answered = {
            "ticket": [
                w.result["tickets"][0]["id"] for w in tally.acknowledged if w.kind == "ticket"
            ],  # type: ignore[index]
            "offering": [
                w.result["offering"]["id"] for w in tally.acknowledged if w.kind == "offering"
            ],  # type: ignore[index]
            "quoteRequest": [
                w.result["requestId"] for w in tally.acknowledged if w.kind == "quoteRequest"
            ],  # type: ignore[index]
        }
        answered = {kind: [key_of(i) for i in ids] for kind, ids in answered.items()}
        answered["offering"] = [int(i) for i in answered["offering"]]
        answered["quoteRequest"] = [int(i) for i in answered["quoteRequest"]]
        assert set(answered["ticket"]) <= set(tickets)
        assert set(answered["offering"]) <= offerings
        assert set(answered["quoteRequest"]) <= requests_
        for kind, ids in answered.items():  # no two keys answered with one record
            assert len(ids) == len(set(ids)), kind
        assert unfinished == [], "idempotency keys left unfinished"

        # The chain has every one of them, and nothing twice: one chain object per key.
        gateway = ChainGateway(platform.node_url())
        deployment = records.load(platform.data_dir / "deployments" / "local.json")
        assert deployment is not None
        compiler = Compiler()
        ordering = contract(gateway, compiler, deployment, "Ordering")
        assurance = contract(gateway, compiler, deployment, "Assurance")
        opened = [
            o["ticket_id"]
            for log in assurance.events.TicketsOpened.get_logs(from_block=0)
            for o in log.args["openings"]
        ]
        on_chain_tickets = {f"{t >> 32}-{t & 0xFFFFFFFF}" for t in opened}
        assert len(opened) == len(on_chain_tickets) == len(answered["ticket"])
        assert on_chain_tickets == set(tickets) == set(answered["ticket"])
        published = [
            log.args["offering_id"]
            for log in ordering.events.OfferingPublished.get_logs(from_block=0)
        ]
        assert sorted(published) == sorted(offerings) == sorted(answered["offering"])
        requested = [
            log.args["request_id"] for log in ordering.events.QuoteRequested.get_logs(from_block=0)
        ]
        assert sorted(requested) == sorted(requests_) == sorted(answered["quoteRequest"])
        for ticket in tickets.values():  # the store's facts are the chain's
            on_chain = assurance.functions.ticket(ticket.service_id << 32 | ticket.number).call()
            assert on_chain[0] == ticket.service_id and on_chain[1] == ticket.number
            assert on_chain[5] == int(ticket.started_at.replace(tzinfo=UTC).timestamp())
        for service in harness.services:  # the next number the store gives is the chain's
            service_id = int(key_of(service))
            numbers = [t.number for t in tickets.values() if t.service_id == service_id]
            next_number = assurance.functions.next_ticket_number(service_id).call()
            assert next_number == (max(numbers) + 1 if numbers else 0)

        # Every service can still open tickets.
        for service_id, (buyer, _address) in harness.services.items():
            more = {
                "serviceId": service_id,
                "impact": "degraded",
                "startedAt": "2026-12-01T00:00:00+00:00",
                "description": "after the crashes",
            }
            opened_now = buyer.ok(OPEN, {"in": {"tickets": [more]}})
            assert len(opened_now["tickets"]) == 1

        # Each buyer's feed has every ticket opening once, in chain order.
        for index, member in enumerate(harness.members[:2]):
            events = feed_of(member)
            positions = [(int(e["block"]), e["logIndex"]) for e in events]
            assert positions == sorted(positions) and len(set(positions)) == len(positions)
            in_feed = Counter(
                ticket
                for e in events
                if e["type"] == "troubleTicketsOpened"
                for ticket in map(key_of, e["subjects"])
            )
            own = {t.id for t in tickets.values() if t.buyer == harness.addresses[index]}
            assert set(in_feed) >= own and all(n == 1 for n in in_feed.values())
        # Stopped, the platform has written where every transaction landed.
        platform.stop()
        with Session(engine) as session:
            unsettled = session.exec(
                select(OutboxEntry).where(OutboxEntry.state == OutboxState.SIGNED)
            ).all()
        assert unsettled == [], "outbox entries never settled"
        print(
            f"crash harness: {ROUNDS} rounds {kills}, {len(tally.acknowledged)} acknowledged "
            f"{dict(acknowledged)}, {tally.retries} retries; lost 0, duplicated 0, stuck 0, jammed 0"
        )
    finally:
        harness.platform.stop()
