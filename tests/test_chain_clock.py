"""The cooperative's clock follows the wall clock on the embedded node, with nobody
touching the node: `coop serve` seals an empty block once the chain has been idle
(Platform.keep_clock), so a proposal passes, queues and executes in real time, and a
ticket whose outage started a second ago opens (the API judges times by the next
block's, not by the latest, stale one)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crash_harness import CONFIRM, EXECUTE, OPEN, PROPOSE, QUEUE, REGISTER, VOTE, Client
from tests.crash_harness import Platform as ServedPlatform
from tests.test_governance_api import GOLD

pytestmark = pytest.mark.e2e

STATE = "query($id: ID!) { proposal(id: $id) { state eta } }"
DEADLINE_SECONDS = 60.0


def _wait_for_state(client: Client, proposal: str, wanted: str, seen: list[str]) -> dict[str, Any]:
    """Poll the proposal (reads only) until it shows `wanted`; records every state seen."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        answer = client(STATE, {"id": proposal})["proposal"]
        if not seen or seen[-1] != answer["state"]:
            seen.append(answer["state"])
        if answer["state"] == wanted:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"proposal never became {wanted}; states seen: {seen}")


def _latest_block(served: ServedPlatform) -> tuple[int, int]:
    block = served.rpc("eth_getBlockByNumber", "latest", False)
    return int(block["number"], 16), int(block["timestamp"], 16)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir: Path = tmp_path_factory.mktemp("clock") / "coop"
    platform = ServedPlatform(data_dir, data_dir.parent / "serve.log")
    platform.start(voting_period=3, timelock_delay=2)
    yield platform
    platform.stop()


def test_an_idle_chain_keeps_time_with_the_wall_clock(served: ServedPlatform) -> None:
    first, _ = _latest_block(served)
    time.sleep(5)
    number, stamp = _latest_block(served)
    assert number > first, "no block was sealed while the chain was idle"
    assert abs(stamp - time.time()) <= 4, "the latest block's time lags the wall clock"


def test_a_proposal_passes_queues_and_executes_in_real_time(served: ServedPlatform) -> None:
    credentials = served.credentials()
    admin = Client(served, credentials["admin"]["apiKey"])
    members = [Client(served, m["apiKey"]) for m in credentials["members"]]
    proposal = members[0].ok(PROPOSE, {"in": GOLD})["proposal"]["id"]
    seen: list[str] = []
    _wait_for_state(members[0], proposal, "ACTIVE", seen)
    for member in members:
        member.ok(VOTE, {"id": proposal})
    _wait_for_state(members[0], proposal, "SUCCEEDED", seen)
    assert admin.ok(QUEUE, {"id": proposal})["proposal"]["state"] == "QUEUED"
    eta = datetime.fromisoformat(members[0](STATE, {"id": proposal})["proposal"]["eta"])
    time.sleep(max(0.0, (eta - datetime.now(UTC)).total_seconds()))
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:  # the block that shows the eta passed comes within a clock tick
        executed = admin(EXECUTE, {"id": proposal})["executeProposal"]
        if not executed["errors"] or time.monotonic() > deadline:
            break
        assert executed["errors"][0]["code"] == "INVALID_STATE", executed["errors"]
        time.sleep(0.5)
    assert executed["errors"] == [] and executed["proposal"]["state"] == "EXECUTED"
    assert [s for s in seen if s != "PENDING"] == ["ACTIVE", "SUCCEEDED"]


def test_a_ticket_that_started_a_second_ago_opens(served: ServedPlatform) -> None:
    credentials = served.credentials()
    buyer, seller = (Client(served, m["apiKey"]) for m in credentials["members"][:2])
    started = datetime.now(UTC) - timedelta(days=3)
    circuit = {
        "slaTemplate": "SlaTemplate:1",
        "currency": "EUR",
        "mrc": "100000",
        "startedAt": started.isoformat(),
        "details": {"circuit": "C-clock"},
    }
    buyer_address = credentials["members"][0]["address"]
    registered = seller.ok(REGISTER, {"in": {"buyer": buyer_address, "circuits": [circuit]}})
    (service,) = [s["id"] for s in registered["services"]]
    buyer.ok(CONFIRM, {"ids": [service]})
    time.sleep(4)  # the chain idles: its latest block is seconds old
    ticket = {
        "serviceId": service,
        "impact": "down",
        "startedAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
        "description": "fibre cut a second ago",
    }
    opened = buyer.ok(OPEN, {"in": {"tickets": [ticket]}})["tickets"]
    assert [t["serviceId"] for t in opened] == [service]
    ticket["startedAt"] = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    (refused,) = buyer(OPEN, {"in": {"tickets": [ticket]}})["openTroubleTicket"]["errors"]
    assert refused["code"] == "VALIDATION" and "future" in refused["message"]
