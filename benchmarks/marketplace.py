"""Marketplace figures on the embedded default (`coop serve --demo`: anvil + SQLite):

- complete order lifecycles (request → answer → accept → order → acknowledge → complete)
  per second through GraphQL, and the gas one lifecycle costs;
- bulk registration of 10,000 existing services (seller registers, buyer confirms, 200 per
  call): seconds and gas per service;
- DESIGN's API budget: a member's `orders(first: 50)` under 32 clients (load generator in
  its own process, as the API baseline).

Gas is read from the node: every block between the first and last step holds only the
benchmark's own transactions (anvil mines one block per transaction).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from benchmarks.api_load import Scenario, run_both
from benchmarks.config import BenchConfig, BenchResult
from benchmarks.report import gas_since, print_table, usable_cores
from benchmarks.server import DemoServer, demo_server
from deployments.chain import ChainGateway
from deployments.node import running_node_url

NAME = "marketplace"
LIFECYCLES = 60
WORKERS = (
    6  # lifecycles in flight: each of the 3 demo members buys in one pair and sells in another
)
SERVICES = 10_000
BATCH = 200  # the contract's bound per registration/confirmation call
TEMPLATE = {
    "name": "Bench Gold",
    "document": "Bench Gold SLA: 99.95 % monthly availability",
    "objectivePpm": 999_500,
    "tiers": [{"floorPpm": 999_500, "creditBps": 1000}, {"floorPpm": 990_000, "creditBps": 5000}],
    "description": "Adopt the bench template",
}
ORDERS = Scenario(
    "orders",
    "{ orders(first: 50) { edges { node { id state buyer seller mrc currency requestedDelivery } } "
    "pageInfo { hasNextPage endCursor } } }",
)
TICKETS = 200  # opened by the buyer on as many of the registered services, for the query below
TROUBLE_TICKETS = Scenario(
    "troubleTickets",
    "{ troubleTickets(first: 50) { edges { node { id serviceId number state impact startedAt "
    "document } } pageInfo { hasNextPage endCursor } } }",
)


class Client:
    """GraphQL as one member (one keep-alive connection per thread)."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self._local = threading.local()

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = httpx.Client(timeout=120)
        response = http.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors'][0]}")
        data = body["data"]
        for payload in data.values():
            if isinstance(payload, dict) and payload.get("errors"):
                raise RuntimeError(f"refused: {payload['errors'][0]}")
        return data


def node_of(server: DemoServer) -> ChainGateway:
    """The server's embedded anvil (its URL is in <data-dir>/chain/node.json)."""
    url = running_node_url(server.data_dir / "chain")
    if url is None:
        raise RuntimeError("the demo server's node is not reachable")
    return ChainGateway(url)


def _soon(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def adopt_template(members: list[Client], node: ChainGateway) -> str:
    """Propose, vote, queue and execute an SLA template (the chain's clock moved forward);
    its id."""
    proposal = members[0](
        "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { code message } } }",
        {"in": TEMPLATE},
    )["proposeSlaTemplate"]["proposal"]["id"]
    for member in members[:2]:
        member(
            "mutation($id: ID!) { castVote(input: {proposalId: $id, support: FOR}) { errors { code message } } }",
            {"id": proposal},
        )
    node.increase_time(3_600)
    for step in ("queueProposal", "executeProposal"):
        members[0](
            f"mutation($id: ID!) {{ {step}(input: {{proposalId: $id}}) {{ errors {{ code message }} }} }}",
            {"id": proposal},
        )
        node.increase_time(3_600)
    return members[0]("{ slaTemplates { id } }")["slaTemplates"][-1]["id"]


def lifecycle(buyer: Client, seller: Client, seller_address: str, template: str) -> None:
    requested = buyer(
        "mutation($in: RequestQuoteInput!) { requestQuote(input: $in) { quotes { id } errors { code message } } }",
        {
            "in": {
                "sellers": [seller_address],
                "slaTemplate": template,
                "respondBy": _soon(1),
                "expiresAt": _soon(3),
                "requestedDelivery": _soon(30),
                "site": {"address": "Bench street 1"},
                "bandwidthMbps": 1000,
                "termMonths": 36,
            }
        },
    )
    quote = requested["requestQuote"]["quotes"][0]["id"]
    seller(
        "mutation($in: RespondToQuoteInput!) { respondToQuote(input: $in) { errors { code message } } }",
        {
            "in": {
                "quoteId": quote,
                "currency": "EUR",
                "mrc": "150000",
                "nrc": "0",
                "validUntil": _soon(7),
            }
        },
    )
    buyer(
        "mutation($id: ID!) { acceptQuote(input: {quoteId: $id}) { errors { code message } } }",
        {"id": quote},
    )
    order = buyer(
        "mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { order { id } errors { code message } } }",
        {"in": {"quoteId": quote, "requestedDelivery": _soon(20)}},
    )["placeOrder"]["order"]["id"]
    for step in ("acknowledgeOrder", "completeOrder"):
        seller(
            f"mutation($id: ID!) {{ {step}(input: {{orderId: $id}}) {{ errors {{ code message }} }} }}",
            {"id": order},
        )


def timed(node: ChainGateway, work: Callable[[], None]) -> tuple[float, int]:
    """Wall seconds and gas of `work`."""
    first = node.latest_block() + 1
    started = time.perf_counter()
    work()
    return time.perf_counter() - started, gas_since(node, first)


def run(config: BenchConfig) -> BenchResult:
    print(f"[{NAME}] starting `coop serve --demo`…", flush=True)
    with demo_server() as server:
        members = [Client(server.graphql_url, key) for key in server.member_keys]
        addresses = [m("{ me { member { address } } }")["me"]["member"]["address"] for m in members]
        node = node_of(server)
        template = adopt_template(members, node)
        print(
            f"[{NAME}] template {template} adopted; {LIFECYCLES} lifecycles, {WORKERS} in flight…",
            flush=True,
        )

        def lifecycles() -> None:
            def one(i: int) -> None:
                b, s = i % len(members), (i + 1) % len(members)
                lifecycle(members[b], members[s], addresses[s], template)

            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(one, range(LIFECYCLES)))

        lifecycle_seconds, lifecycle_gas = timed(node, lifecycles)

        print(f"[{NAME}] registering and confirming {SERVICES} existing services…", flush=True)
        started_at = _soon(-365)
        ids: list[str] = []

        def register() -> None:
            for start in range(0, SERVICES, BATCH):
                circuits = [
                    {
                        "slaTemplate": template,
                        "currency": "EUR",
                        "mrc": str(80_000 + i),
                        "startedAt": started_at,
                        "details": {"circuitId": f"BENCH-{i}"},
                    }
                    for i in range(start, min(start + BATCH, SERVICES))
                ]
                created = members[1](
                    "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
                    {"in": {"buyer": addresses[0], "circuits": circuits}},
                )["registerServices"]["services"]
                ids.extend(s["id"] for s in created)

        def confirm() -> None:
            for start in range(0, len(ids), BATCH):
                members[0](
                    "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code message } } }",
                    {"ids": ids[start : start + BATCH]},
                )

        register_seconds, register_gas = timed(node, register)
        confirm_seconds, confirm_gas = timed(node, confirm)

        print(f"[{NAME}] the buyer opens {TICKETS} trouble tickets…", flush=True)
        opened = _soon(-2)
        csv = "service_id,impact,started_at,description\n" + "".join(
            f"{service},down,{opened},Bench outage {i}\n" for i, service in enumerate(ids[:TICKETS])
        )
        tickets = members[0](
            "mutation($csv: String!) { importTroubleTickets(input: {csv: $csv}) { tickets { id } rejected { line reason } errors { code message } } }",
            {"csv": csv},
        )["importTroubleTickets"]
        # Measure the steady state: let the indexer catch up with the 20,000 service events
        # first (`events` syncs before it answers).
        members[0]("{ events(first: 1) { pageInfo { endCursor } } }")
        queries = {}
        for scenario in (ORDERS, TROUBLE_TICKETS):
            print(
                f"[{NAME}] {scenario.name}(first: 50) under {config.clients} clients…", flush=True
            )
            queries[scenario.name] = run_both(server, scenario, config)

    figures = {
        "lifecycles": LIFECYCLES,
        "lifecycles_per_second": LIFECYCLES / lifecycle_seconds,
        "gas_per_lifecycle": lifecycle_gas / LIFECYCLES,
        "services": SERVICES,
        "register_seconds": register_seconds,
        "confirm_seconds": confirm_seconds,
        "register_gas_per_service": register_gas / SERVICES,
        "confirm_gas_per_service": confirm_gas / SERVICES,
        "tickets_opened": len(tickets["tickets"]),
        "queries": queries,
    }
    print_table(
        ["figure", "value"],
        [
            [
                "order lifecycles/s (GraphQL, 6 steps each)",
                f"{figures['lifecycles_per_second']:.2f}",
            ],
            ["gas per lifecycle", f"{figures['gas_per_lifecycle']:,.0f}"],
            [f"register {SERVICES:,} services (s)", f"{register_seconds:.1f}"],
            [f"confirm {SERVICES:,} services (s)", f"{confirm_seconds:.1f}"],
            ["gas per service registered", f"{figures['register_gas_per_service']:,.0f}"],
            ["gas per service confirmed", f"{figures['confirm_gas_per_service']:,.0f}"],
            *(
                [
                    f"{r['scenario'].replace(' (', '(first: 50) (', 1)} req/s · p50 / p99 ms",
                    f"{r['requests_per_second']:.1f} · "
                    f"{r['latency_ms']['p50']:.1f} / {r['latency_ms']['p99']:.1f}",
                ]
                for runs in queries.values()
                for r in runs
            ),
        ],
    )
    print(
        f"cores: {usable_cores()} (server, anvil and clients share them); DESIGN budget for a "
        "member's first 50 orders, tickets, invoices: ≥ 500 req/s, p99 < 50 ms"
    )
    valid = (
        all(r["errors"] == 0 and r["warmup_errors"] == 0 for runs in queries.values() for r in runs)
        and len(ids) == SERVICES
        and len(tickets["tickets"]) == TICKETS
    )
    return BenchResult(name=NAME, data=figures, valid=valid)
