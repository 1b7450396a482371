"""The outbox as the chain's write-ahead log, and the follower in chain order, on a real
embedded node: a node that lost its last blocks is rebuilt from the outbox with the same
transactions; read models built on lost blocks are rolled back and built again."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cooperative.platform import Platform, reconcile
from cooperative.settings import Settings
from cooperative.store.models import MemberEvent, OutboxEntry, OutboxState, QuoteRequestRecord
from tests.conftest import Api
from tests.test_marketplace_sync import REQUEST_WITH_KEY, request_input

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of this module's own: its node is killed here."""
    started = Platform.start(Settings(data_dir=tmp_path_factory.mktemp("outbox")), demo=True)
    yield started
    started.stop()


def requested_on_chain(platform: Platform) -> list[int]:
    ordering = platform.governance.handle("Ordering")
    return [log.args["request_id"] for log in ordering.events.QuoteRequested.get_logs(from_block=0)]


def feed_positions(platform: Platform, member: str) -> list[tuple[int, int, str]]:
    with Session(platform.engine) as session:
        rows = session.exec(
            select(MemberEvent).where(MemberEvent.member == member).order_by(MemberEvent.id)
        ).all()
    return [(row.block, row.log_index, row.type) for row in rows]


def ask(api: Api, seller: str, template: int, key: str) -> int:
    answer = api(REQUEST_WITH_KEY, {"in": request_input([seller], template, idempotencyKey=key)})
    assert answer["requestQuote"]["errors"] == []
    return answer["requestQuote"]["requestId"]


def test_a_node_killed_after_its_snapshot_is_rebuilt_from_the_outbox(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: int
) -> None:
    assert platform.node is not None
    platform.node.snapshot()
    before = requested_on_chain(platform)
    ids = [ask(as_member[0], addresses[1], template_id, f"lost-{i}") for i in range(4)]
    assert requested_on_chain(platform) == before + ids
    head_before = platform.gateway.latest_block()

    os.kill(platform.node.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
    platform.node.process.wait()  # type: ignore[union-attr]
    with platform.gateway.sending.closed():
        platform.node.start()
        assert platform.gateway.latest_block() < head_before  # the last blocks are gone
        reconcile(platform.outbox, platform.gateway, platform.keystore, embedded=True)

    assert requested_on_chain(platform) == before + ids  # the same ids, in the same order
    with Session(platform.engine) as session:
        stored = {r.id for r in session.exec(select(QuoteRequestRecord))}
        unsettled = session.exec(
            select(OutboxEntry).where(OutboxEntry.state == OutboxState.SIGNED)
        ).all()
    assert set(ids) <= stored and unsettled == []
    # The next request gets the next id: chain and store agree.
    assert ask(as_member[0], addresses[1], template_id, "after-rebuild") == max(ids) + 1


def test_read_models_built_on_lost_blocks_are_rolled_back_and_built_again(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: int
) -> None:
    platform.sync()
    snapshot = platform.gateway._raw("evm_snapshot")["result"]
    ids = [ask(as_member[0], addresses[1], template_id, f"forked-{i}") for i in range(3)]
    platform.sync()
    seller_feed = feed_positions(platform, addresses[1])
    assert sum(1 for p in seller_feed if p[2] == "quoteRequested") >= 3

    # The node goes back (as a node restarting from an older state would); other blocks
    # take the same heights before the follower looks again.
    assert platform.gateway._raw("evm_revert", snapshot)["result"] is True
    for _ in range(5):
        platform.gateway._raw("evm_mine")
    platform.sync()
    rolled_back = feed_positions(platform, addresses[1])
    assert len(rolled_back) == len(seller_feed) - 3  # the lost blocks' entries are gone
    assert rolled_back == seller_feed[: len(rolled_back)]

    # The outbox sends the lost transactions again; the feed has each entry once, in order.
    reconcile(platform.outbox, platform.gateway, platform.keystore, embedded=True)
    platform.sync()
    rebuilt = feed_positions(platform, addresses[1])
    assert len(rebuilt) == len(seller_feed)
    assert [(b, i) for b, i, _ in rebuilt] == sorted((b, i) for b, i, _ in rebuilt)
    assert [t for _, _, t in rebuilt] == [t for _, _, t in seller_feed]
    assert requested_on_chain(platform)[-3:] == ids


def test_the_node_supervisor_restarts_a_dead_node_and_health_follows(
    platform: Platform,
    client: TestClient,
    as_member: list[Api],
    addresses: list[str],
    template_id: int,
) -> None:
    platform.supervise_node(interval=0.1)
    assert client.get("/health").json()["status"] == "ok"
    pid = platform.node.process.pid  # type: ignore[union-attr]
    os.kill(pid, signal.SIGKILL)
    statuses: list[Any] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = client.get("/health").json()
        statuses.append(body["status"])
        if body["status"] == "ok" and platform.node.process.pid != pid:  # type: ignore[union-attr]
            break
        time.sleep(0.05)
    assert "degraded" in statuses and statuses[-1] == "ok"
    assert ask(as_member[0], addresses[1], template_id, "after-restart") > 0
    assert (
        json.loads((platform.settings.data_dir / "chain" / "node.json").read_text())["pid"] != pid
    )
