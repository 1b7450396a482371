"""The crash harness: `coop serve` and its embedded node as real processes, concurrent
clients writing with idempotency keys, and SIGKILL of the server, of the node alone or of
both at seeded random moments. After each kill the platform is brought back (the server
restarted; a node killed alone is restarted by the server's supervisor) and the clients
send their unanswered requests again with the same keys.

Run by tests/test_crash.py (a few rounds in `make test`) and `make soak` (many more).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from deployments.chain import ChainGateway
from deployments.node import free_loopback_port
from tests.test_governance_api import GOLD

START_TIMEOUT = 120.0
ANSWER_TIMEOUT = 60.0
RETRYABLE = {"UNAVAILABLE", "INVALID_STATE"}  # INVALID_STATE only for "still running"

PROPOSE = "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { code message } } }"
VOTE = "mutation($id: ID!) { castVote(input: {proposalId: $id, support: FOR}) { errors { code message } } }"
QUEUE = "mutation($id: ID!) { queueProposal(input: {proposalId: $id}) { proposal { state } errors { code message } } }"
EXECUTE = "mutation($id: ID!) { executeProposal(input: {proposalId: $id}) { proposal { state } errors { code message } } }"
REGISTER = "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }"
CONFIRM = "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { services { id state } errors { code message } } }"
OPEN = "mutation($in: OpenTroubleTicketInput!) { openTroubleTicket(input: $in) { tickets { id serviceId number } errors { code message } } }"
PUBLISH = "mutation($in: PublishOfferingInput!) { publishOffering(input: $in) { offering { id } errors { code message } } }"
REQUEST = "mutation($in: RequestQuoteInput!) { requestQuote(input: $in) { requestId errors { code message } } }"
FEED = "query($after: String) { events(after: $after, first: 100) { edges { cursor node { type subjects block logIndex } } pageInfo { endCursor hasNextPage } } }"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class Write:
    """One client request with its idempotency key, sent until it is answered."""

    kind: str  # ticket, offering, quoteRequest
    key: str
    query: str
    variables: dict[str, Any]
    result: dict[str, Any] | None = None


@dataclass
class Tally:
    acknowledged: list[Write] = field(default_factory=list)
    refused: list[tuple[Write, Any]] = field(default_factory=list)  # a client error: a defect
    retries: int = 0


class Platform:
    """`coop serve --demo` on a data directory, as a process."""

    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, voting_period: int = 2, timelock_delay: int = 1) -> None:
        self.voting_period, self.timelock_delay = voting_period, timelock_delay
        self._start()

    def _start(self) -> None:
        env = {**os.environ, "COOP_DATA_DIR": str(self.data_dir), "COOP_PORT": str(self.port)}
        coop = Path(sys.executable).parent / "coop"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                # Short governance clocks, so the setup needs no evm_increaseTime (a clock
                # jump is no transaction: no outbox could replay it).
                [
                    str(coop),
                    "serve",
                    "--demo",
                    "--voting-period",
                    str(self.voting_period),
                    "--timelock-delay",
                    str(self.timelock_delay),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.wait_healthy()

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"coop serve exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).json().get("status") == "ok":
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"coop serve did not become healthy: {self.log.read_text()[-2000:]}")

    def node_pid(self) -> int | None:
        try:
            return int(json.loads((self.data_dir / "chain" / "node.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return None

    def node_url(self) -> str:
        return json.loads((self.data_dir / "chain" / "node.json").read_text())["rpc_url"]

    def kill(self, what: str) -> None:
        """SIGKILL the server, the node, or both (node first, then at once the server)."""
        node = self.node_pid()
        if what in ("node", "both") and node is not None:
            _kill(node)
        if what in ("server", "both") and self.process is not None:
            self.process.kill()
            self.process.wait()
            if node is not None:  # its node stops with it (it dumps its state): wait for it
                _wait_gone(node)
            self._start()
        else:
            time.sleep(0.3)
            self.wait_healthy()  # the server's supervisor restarts the node

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        node = self.node_pid()
        if node is not None:
            _wait_gone(node)

    def credentials(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "demo-credentials.json").read_text())

    def rpc(self, method: str, *params: Any) -> Any:
        """A dev-only JSON-RPC call to the node, over its socket (as only the platform may)."""
        provider = ChainGateway(self.node_url()).w3.provider
        return provider.make_request(method, list(params)).get("result")  # type: ignore[arg-type]


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_gone(pid)


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class Client:
    """GraphQL as one API key, against whatever process is up now."""

    def __init__(self, platform: Platform, key: str) -> None:
        self.platform = platform
        self.key = key

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.platform.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=ANSWER_TIMEOUT,
        )
        body = response.json()
        if response.status_code >= 500 or "data" not in body or body["data"] is None:
            raise AssertionError(f"HTTP {response.status_code}: {body}")
        return body["data"]

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        (payload,) = self(query, variables).values()
        assert payload["errors"] == [], payload["errors"]
        return payload

    def send(self, write: Write) -> str:
        """'ok', 'retry' (no answer, or a retryable one) or 'refused'."""
        try:
            (payload,) = self(write.query, write.variables).values()
        except (requests.RequestException, ValueError):
            return "retry"
        codes = {e["code"] for e in payload["errors"]}
        if not codes:
            write.result = payload
            return "ok"
        if codes <= RETRYABLE and all(
            e["code"] == "UNAVAILABLE" or "still running" in e["message"] for e in payload["errors"]
        ):
            return "retry"
        write.result = payload
        return "refused"


class Harness:
    def __init__(self, data_dir: Path, seed: int) -> None:
        self.platform = Platform(data_dir, data_dir.parent / f"{data_dir.name}-serve.log")
        self.random = random.Random(seed)
        self.tally = Tally()
        self.lock = threading.Lock()
        self.stop_clients = threading.Event()
        self.services: dict[str, tuple[Client, str]] = {}  # service id -> its buyer

    # ------------------------------------------------------------------ setup

    def set_up(self, services_per_pair: int = 3) -> None:
        self.platform.start()
        credentials = self.platform.credentials()
        self.admin = Client(self.platform, credentials["admin"]["apiKey"])
        self.members = [Client(self.platform, m["apiKey"]) for m in credentials["members"]]
        self.addresses = [m["address"] for m in credentials["members"]]
        proposal = self.members[0].ok(PROPOSE, {"in": GOLD})["proposal"]["id"]
        for member in self.members[:2]:
            member.ok(VOTE, {"id": proposal})
        # The server's clock (Platform.keep_clock) seals the blocks that end the vote and
        # the delay: steps are retried until they come due.
        self._when_due(self.admin, QUEUE, proposal)
        self._when_due(self.admin, EXECUTE, proposal)
        self.template = "SlaTemplate:1"
        started = datetime.now(UTC) - timedelta(days=40)
        # Two pairs: Borealis sells to Aurora, Cirrus to Borealis.
        for seller, buyer in ((1, 0), (2, 1)):
            circuits = [
                {
                    "slaTemplate": self.template,
                    "currency": "EUR",
                    "mrc": "100000",
                    "startedAt": _iso(started),
                    "details": {"circuit": f"C-{seller}-{i}"},
                }
                for i in range(services_per_pair)
            ]
            registered = self.members[seller].ok(
                REGISTER, {"in": {"buyer": self.addresses[buyer], "circuits": circuits}}
            )
            ids = [s["id"] for s in registered["services"]]
            self.members[buyer].ok(CONFIRM, {"ids": ids})
            for service_id in ids:
                self.services[service_id] = (self.members[buyer], self.addresses[buyer])

    @staticmethod
    def _when_due(client: Client, step: str, proposal: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            (payload,) = client(step, {"id": proposal}).values()
            if not payload["errors"]:
                return
            assert time.monotonic() < deadline, payload["errors"]
            time.sleep(0.5)

    # ------------------------------------------------------------------ workload

    def _new_write(self, client_index: int, serial: int) -> Write:
        key = f"c{client_index}-{serial}"
        kind = ("ticket", "offering", "quoteRequest")[client_index % 3]
        if kind == "ticket":
            service_id = self.random.choice(sorted(self.services))
            started = datetime.now(UTC) - timedelta(hours=1, seconds=self.random.randint(0, 3000))
            ticket = {
                "serviceId": service_id,
                "impact": "down",
                "startedAt": _iso(started),
                "description": f"outage {key}",
            }
            return Write(kind, key, OPEN, {"in": {"tickets": [ticket], "idempotencyKey": key}})
        if kind == "offering":
            offering = {
                "productType": "e-line",
                "bandwidthsMbps": [100 + serial],
                "servingArea": [{"country": "SE"}],
                "slaTemplates": [self.template],
                "termMonths": [12],
                "idempotencyKey": key,
            }
            return Write(kind, key, PUBLISH, {"in": offering})
        now = datetime.now(UTC)
        request = {
            "sellers": [self.addresses[1]],
            "slaTemplate": self.template,
            "respondBy": _iso(now + timedelta(days=2)),
            "expiresAt": _iso(now + timedelta(days=5)),
            "requestedDelivery": _iso(now + timedelta(days=30)),
            "site": {"address": f"Site {key}"},
            "bandwidthMbps": 100,
            "termMonths": 12,
            "idempotencyKey": key,
        }
        return Write(kind, key, REQUEST, {"in": request})

    def _client_for(self, write: Write) -> Client:
        if write.kind == "ticket":
            return self.services[write.variables["in"]["tickets"][0]["serviceId"]][0]
        if write.kind == "offering":
            return self.members[1]
        return self.members[2]

    def _run_client(self, index: int) -> None:
        serial = 0
        pending: Write | None = None
        while True:
            if pending is None:
                if self.stop_clients.is_set():
                    return
                with self.lock:
                    pending = self._new_write(index, serial)
                serial += 1
            outcome = self._client_for(pending).send(pending)
            with self.lock:
                if outcome == "ok":
                    self.tally.acknowledged.append(pending)
                elif outcome == "refused":
                    self.tally.refused.append((pending, pending.result))
                else:
                    self.tally.retries += 1
            if outcome == "retry":
                time.sleep(0.1)  # the platform is coming back: retry the same key
            else:
                pending = None

    def run(self, rounds: int, clients: int = 6) -> dict[str, int]:
        threads = [
            threading.Thread(target=self._run_client, args=(i,), daemon=True)
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        kills: Counter[str] = Counter()
        for round_number in range(rounds):
            time.sleep(self.random.uniform(0.3, 2.0))
            what = ("server", "node", "both")[round_number % 3]
            self.platform.kill(what)
            kills[what] += 1
        self.stop_clients.set()
        for thread in threads:
            thread.join(timeout=ANSWER_TIMEOUT * 3)
            assert not thread.is_alive(), "a client never got an answer"
        return dict(kills)
