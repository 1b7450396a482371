"""The outbox as the chain's write-ahead log, and the follower in chain order, on a real
embedded node: a node that lost its last blocks is rebuilt from the outbox with the same
transactions; read models built on lost blocks are rolled back and built again."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cooperative.api.ids import global_id
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


def request_numbers_on_chain(platform: Platform) -> list[int]:
    ordering = platform.governance.handle("Ordering")
    return [log.args["request_id"] for log in ordering.events.QuoteRequested.get_logs(from_block=0)]


def requested_on_chain(platform: Platform) -> list[str]:
    """The quote requests on chain, in chain order, by the ids the API names them with."""
    return [global_id("QuoteRequest", n) for n in request_numbers_on_chain(platform)]


def stored_requests(session: Session) -> set[str]:
    """The quote requests in the store, by the ids the API names them with."""
    return {global_id("QuoteRequest", r.id) for r in session.exec(select(QuoteRequestRecord))}


def feed_positions(platform: Platform, member: str) -> list[tuple[int, int, str]]:
    with Session(platform.engine) as session:
        rows = session.exec(
            select(MemberEvent).where(MemberEvent.member == member).order_by(MemberEvent.id)
        ).all()
    return [(row.block, row.log_index, row.type) for row in rows]


def ask(api: Api, seller: str, template: str, key: str) -> str:
    answer = api(REQUEST_WITH_KEY, {"in": request_input([seller], template, idempotencyKey=key)})
    assert answer["requestQuote"]["errors"] == []
    return answer["requestQuote"]["requestId"]


def test_a_node_killed_after_its_snapshot_is_rebuilt_from_the_outbox(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
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
        stored = stored_requests(session)
        unsettled = session.exec(
            select(OutboxEntry).where(OutboxEntry.state == OutboxState.SIGNED)
        ).all()
    assert set(ids) <= stored and unsettled == []
    # The next request gets the next id: chain and store agree.
    following = max(request_numbers_on_chain(platform)[-len(ids) :]) + 1
    assert ask(as_member[0], addresses[1], template_id, "after-rebuild") == global_id(
        "QuoteRequest", following
    )


def test_read_models_built_on_lost_blocks_are_rolled_back_and_built_again(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
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
    template_id: str,
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
    assert ask(as_member[0], addresses[1], template_id, "after-restart") in requested_on_chain(
        platform
    )
    assert (
        json.loads((platform.settings.data_dir / "chain" / "node.json").read_text())["pid"] != pid
    )


def test_a_reorg_rolls_the_read_models_back_to_the_fork_and_the_outbox_restores_it(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    platform.sync()
    first = platform.gateway.latest_block() + 1
    ids = [ask(as_member[0], addresses[1], template_id, f"reorged-{i}") for i in range(3)]
    platform.sync()
    head = platform.gateway.latest_block()
    seller_feed = feed_positions(platform, addresses[1])

    # Another chain of the same height replaces the blocks from the first request on,
    # without its transactions (anvil_reorg: same height, other hashes).
    platform.gateway._raw("anvil_reorg", head - first + 1, [])
    assert platform.gateway.latest_block() == head
    assert requested_on_chain(platform)[-3:] != ids
    platform.sync()
    with Session(platform.engine) as session:
        assert not stored_requests(session) & set(ids)
    reorged = feed_positions(platform, addresses[1])
    assert reorged == seller_feed[: len(reorged)] and len(reorged) == len(seller_feed) - 3

    reconcile(platform.outbox, platform.gateway, platform.keystore, embedded=True)
    platform.sync()
    assert requested_on_chain(platform)[-3:] == ids
    with Session(platform.engine) as session:
        assert set(ids) <= stored_requests(session)
    assert [t for _, _, t in feed_positions(platform, addresses[1])] == [
        t for _, _, t in seller_feed
    ]


def test_a_node_killed_with_a_batch_of_concurrent_sends_unmined_loses_none_of_them(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """Eight requests sign, record and send; the node dies before any block takes them.
    The supervisor restarts it and the outbox sends the same bytes; each retry with its
    key answers its own request id: each once on chain."""
    assert platform.node is not None
    gateway = platform.gateway
    platform.supervise_node(interval=0.1)  # (on already if the test above ran)
    before = requested_on_chain(platform)
    keys = [f"batch-{i}" for i in range(8)]
    answers: dict[str, Any] = {}

    asked = {
        key: {"in": request_input([addresses[1]], template_id, idempotencyKey=key)} for key in keys
    }

    def send(key: str) -> None:
        answers[key] = as_member[0].post(REQUEST_WITH_KEY, asked[key]).json()

    with gateway._mining:  # no block is sealed: the batch waits in the node's pool
        threads = [threading.Thread(target=send, args=(key,)) for key in keys]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while int(gateway._raw("txpool_status")["result"]["pending"], 16) < len(keys):
            assert time.monotonic() < deadline, "the batch never reached the node"
            time.sleep(0.05)
        os.kill(platform.node.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
        platform.node.process.wait()  # type: ignore[union-attr]
    for thread in threads:
        thread.join(timeout=120)
    # Each request was answered: with its id (the supervisor restarted the node and sent
    # the outbox's entries again while it waited), or UNAVAILABLE, to be retried.
    first_answers: dict[str, str] = {}
    for key in keys:
        payload = answers[key]["data"]["requestQuote"]
        if payload["errors"]:
            assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
            assert "retry with the same idempotency key" in payload["errors"][0]["message"]
        else:
            first_answers[key] = payload["requestId"]
    deadline = time.monotonic() + 60
    while not (platform.node.is_running() and platform.chain_status == "ok"):
        assert time.monotonic() < deadline, "the node was not restarted"
        time.sleep(0.05)
    retried = [as_member[0](REQUEST_WITH_KEY, asked[key])["requestQuote"] for key in keys]
    assert all(r["errors"] == [] for r in retried)
    retried = [r["requestId"] for r in retried]
    assert {k: retried[keys.index(k)] for k in first_answers} == first_answers
    on_chain = requested_on_chain(platform)
    assert on_chain[: len(before)] == before
    assert sorted(on_chain[len(before) :]) == sorted(retried)  # each once, nothing else
    assert len(set(retried)) == len(keys)
    with Session(platform.engine) as session:
        assert set(retried) <= stored_requests(session)
        assert not session.exec(
            select(OutboxEntry).where(OutboxEntry.state == OutboxState.SIGNED)
        ).all()
