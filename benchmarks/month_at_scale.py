"""A month at scale (DESIGN's budget): 10,000 services among 20 members, 50,000 trouble
tickets through their whole lifecycle (open, acknowledge, resolve, close), the period
closed with its credits, both parties' endorsements of the credits that need them (a
service with no down ticket in the month is final at the close), one invoice per seller
-> buyer pair, and one settlement cycle among the 20 members with every payment confirmed
by both sides; end to end through the service layer on the embedded default (anvil +
SQLite).

Budget: the month under 120 s on 2 cores, under 40,000 gas per ticket lifecycle. Setting
up (deploying for 20 founders, adopting the SLA template, registering and confirming the
10,000 live circuits) is timed separately: it happens once, not every month.

BENCH_MONTHS=3 runs that many months one after the other on the same chain and store
(growth: does a month slow down as history accumulates?). BENCH_DATABASE_URL runs it on
that database (PostgreSQL: `postgresql+psycopg://…`; emptied first) instead of SQLite.
After the last month, a member's first 50 trouble tickets and invoices are read over
HTTP under 32 clients, as `python -m benchmarks marketplace` reads orders.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from benchmarks.api_load import Scenario
from benchmarks.config import BenchConfig, BenchResult
from benchmarks.report import gas_since, print_table, usable_cores
from cooperative import apikeys
from cooperative.access import DataAccess, Viewer
from cooperative.api.app import create_app
from cooperative.api.ids import key_of
from cooperative.assurance import Assurance, TicketOpening, TicketResolution
from cooperative.billing import Billing, Settlement
from cooperative.marketplace import Marketplace
from cooperative.outbox import request_context
from cooperative.periods import period_label, period_of, period_start
from cooperative.platform import Platform
from cooperative.settings import Settings
from cooperative.states import CreditState
from cooperative.store.database import session_scope
from cooperative.store.models import (
    CheckpointRecord,
    MemberProfile,
    Role,
    SettlementPaymentRecord,
)
from governance.rules import DEFAULT_RULES, Kind

NAME = "month"
MEMBERS = 20
# BENCH_MONTH_SCALE shrinks the workload for a quick run (e.g. 0.02); the budget is for 1.
SCALE = float(os.environ.get("BENCH_MONTH_SCALE", "1"))
SERVICES = max(1, int(10_000 * SCALE))
TICKETS = max(1, int(50_000 * SCALE))
# The server's clock (Platform.keep_clock: an empty block once the chain idles), on as
# `coop serve` runs it; BENCH_MONTH_CLOCK=0 measures the month without it.
CLOCK = os.environ.get("BENCH_MONTH_CLOCK", "1") != "0"
# and anchors checkpoints on its schedule (COOP_ANCHOR_EVERY_SECONDS / _BLOCKS, as `coop
# serve` does); BENCH_MONTH_ANCHOR=0 measures the month without it.
ANCHOR = os.environ.get("BENCH_MONTH_ANCHOR", "1") != "0"
MONTHS = max(1, int(os.environ.get("BENCH_MONTHS", "1")))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL") or None
BATCH = 500  # the Assurance and Billing contracts' bound per call
CLOSE_BATCH = 250  # a period close reads every ticket of its services: keep a block's gas in bounds
REGISTER_BATCH = 200  # Ordering's bound
SEED = 20261122
WORKERS = MEMBERS  # every member's ERP sends at the same time
TEMPLATE = {
    "name": "Month Gold",
    "document": "Month Gold SLA: 99.95 % monthly availability",
    "objectivePpm": 999_500,
    "tiers": [
        {"floorPpm": 999_500, "creditBps": 1_000},
        {"floorPpm": 999_000, "creditBps": 2_500},
        {"floorPpm": 990_000, "creditBps": 5_000},
    ],
    "description": "Adopt the month benchmark's SLA template",
}


class Month:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.members: list[str] = []
        self.gas_marks: list[int] = []

    # Each step runs as an API request does (outbox.request_context): its transactions are
    # marked running until its own projection commits, so the chain follower (the
    # anchoring schedule syncs it) leaves them to it instead of projecting them beside it.

    @contextmanager
    def as_member(self, address: str) -> Iterator[DataAccess]:
        with request_context(), session_scope(self.platform.engine) as session:
            yield DataAccess(session, Viewer(principal=address, role=Role.MEMBER, key_id="bench"))

    @contextmanager
    def as_admin(self) -> Iterator[DataAccess]:
        with request_context(), session_scope(self.platform.engine) as session:
            yield DataAccess(session, Viewer(principal="admin", role=Role.ADMIN, key_id="bench"))

    def now(self) -> datetime:
        return datetime.fromtimestamp(
            self.platform.gateway.w3.eth.get_block("latest")["timestamp"], UTC
        )

    def advance_to(self, moment: datetime) -> None:
        seconds = int((moment - self.now()).total_seconds())
        if seconds > 0:
            self.platform.gateway.increase_time(seconds)

    def block(self) -> int:
        return self.platform.gateway.latest_block()


def adopt_template(month: Month) -> int:
    """Through the API, as members and the operator would: propose, vote, queue, execute.
    The template's number (the service layer's key, not its API id)."""
    platform = month.platform
    client = TestClient(create_app(platform))
    with session_scope(platform.engine) as session:
        keys = [apikeys.issue(session, owner=m, role=Role.MEMBER).secret for m in month.members]
        admin = apikeys.issue(session, owner="admin", role=Role.ADMIN).secret

    def call(key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert "errors" not in body, body
        return body["data"]

    rules = DEFAULT_RULES[Kind.ADOPT_SLA_TEMPLATE]
    proposal = call(
        keys[0],
        "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { message } } }",
        {"in": TEMPLATE},
    )["proposeSlaTemplate"]["proposal"]["id"]
    platform.gateway.increase_time(rules.voting_delay + 1)
    for key in keys[: MEMBERS // 2 + 1]:
        call(
            key,
            "mutation($id: ID!) { castVote(input: {proposalId: $id, support: FOR}) { errors { message } } }",
            {"id": proposal},
        )
    platform.gateway.increase_time(rules.voting_period + 1)
    call(
        admin,
        "mutation($id: ID!) { queueProposal(input: {proposalId: $id}) { errors { message } } }",
        {"id": proposal},
    )
    platform.gateway.increase_time(rules.timelock_delay + 1)
    call(
        admin,
        "mutation($id: ID!) { executeProposal(input: {proposalId: $id}) { errors { message } } }",
        {"id": proposal},
    )
    template = call(keys[0], "{ slaTemplates { id } }", {})["slaTemplates"][-1]["id"]
    return key_of(template, "SlaTemplate", "id")


def register_services(
    month: Month, template: int, rng: random.Random
) -> dict[int, tuple[str, str]]:
    """10,000 live EUR circuits over the 380 seller -> buyer pairs, confirmed by the buyers."""
    pairs = [(s, b) for s in month.members for b in month.members if s != b]
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    for k in range(SERVICES):
        per_pair[pairs[k % len(pairs)]] += 1
    started = (month.now() - timedelta(days=365)).isoformat()
    parties: dict[int, tuple[str, str]] = {}
    for (seller, buyer), n in per_pair.items():
        circuits = [
            {
                "slaTemplate": template,
                "currency": "EUR",
                "mrc": rng.randrange(50_000, 500_000),
                "startedAt": datetime.fromisoformat(started),
                "details": {},
            }
            for _ in range(n)
        ]
        with month.as_member(seller) as access:
            created = Marketplace(month.platform, access).register_services(buyer, circuits)
            ids = [s.id for s in created]
        with month.as_member(buyer) as access:
            Marketplace(month.platform, access).confirm_services(ids)
        for service_id in ids:
            parties[service_id] = (seller, buyer)
    return parties


def in_parallel(work: dict[str, Callable[[], None]]) -> None:
    """Members' batches from several threads at once, as the carriers' systems would send
    them; their transactions share blocks."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(job) for job in work.values()]:
            future.result()


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def close_earlier_periods(month: Month, parties: dict[int, tuple[str, str]]) -> int:
    """Periods close in order from the month Assurance started in: close the (quiet) months
    the setup's governance votes moved the chain past. Returns the month to measure, with
    the chain at least 20 days into it."""
    period = period_of(month.now())
    month.advance_to(period_start(period) + timedelta(days=20))
    first = month.platform.governance.handle("Assurance").functions.first_period().call()
    by_seller: dict[str, list[int]] = defaultdict(list)
    for service_id, (seller, _buyer) in parties.items():
        by_seller[seller].append(service_id)
    for earlier in range(first, period):
        for seller, ids in by_seller.items():
            for chunk in batches(ids, CLOSE_BATCH):
                with month.as_member(seller) as access:
                    Assurance(month.platform, access).close_period(period_label(earlier), chunk)
    return period


def run_month(
    month: Month, parties: dict[int, tuple[str, str]], rng: random.Random, period: int
) -> dict[str, Any]:
    platform = month.platform
    begin = period_start(period)
    span = int((month.now() - begin).total_seconds()) - 5 * 3_600  # outages end before now
    services = sorted(parties)
    tickets: list[tuple[int, TicketOpening, datetime]] = []
    for _ in range(TICKETS):
        service_id = rng.choice(services)
        start = begin + timedelta(seconds=rng.randrange(0, span))
        duration = timedelta(seconds=rng.randrange(300, 4 * 3_600))
        impact = rng.choice(["down", "down", "degraded", "intermittent"])
        tickets.append(
            (
                service_id,
                TicketOpening(service_id, impact, start, "outage seen by the buyer's NOC"),
                start + duration,
            )
        )
    timings: dict[str, float] = {}
    gas: dict[str, int] = {}

    def timed(name: str, work: Callable[[], None]) -> None:
        first_block = month.block() + 1
        started = time.perf_counter()
        work()
        timings[name] = time.perf_counter() - started
        gas[name] = gas_since(platform.gateway, first_block)  # (not timed)

    by_buyer: dict[str, list[tuple[TicketOpening, datetime]]] = defaultdict(list)
    for service_id, opening, end in tickets:
        by_buyer[parties[service_id][1]].append((opening, end))
    # filled from the members' threads: every key exists before they start
    opened: dict[str, list[Any]] = {m: [] for m in month.members}  # seller -> (ticket id, end)
    closing: dict[str, list[str]] = {m: [] for m in month.members}  # buyer -> ticket ids

    def open_all() -> None:
        def open_for(buyer: str, items: list[tuple[TicketOpening, datetime]]) -> None:
            for chunk in batches(items, BATCH):
                with month.as_member(buyer) as access:
                    records = Assurance(platform, access).open_tickets([o for o, _ in chunk])
                for record, (_o, end) in zip(records, chunk, strict=True):
                    opened[record.seller].append((record.id, end))
                    closing[buyer].append(record.id)

        in_parallel({b: partial(open_for, b, items) for b, items in by_buyer.items()})

    def acknowledge_all() -> None:
        def acknowledge_for(seller: str, items: list[tuple[str, datetime]]) -> None:
            for chunk in batches(items, BATCH):
                with month.as_member(seller) as access:
                    Assurance(platform, access).acknowledge_tickets([t for t, _ in chunk])

        in_parallel({s: partial(acknowledge_for, s, items) for s, items in opened.items()})

    causes = ["fiberCut", "power", "equipment", "configuration", "thirdParty", "unknown"]

    def resolve_all() -> None:
        cause_of = {t: rng.choice(causes) for items in opened.values() for t, _ in items}

        def resolve_for(seller: str, items: list[tuple[str, datetime]]) -> None:
            for chunk in batches(items, BATCH):
                with month.as_member(seller) as access:
                    Assurance(platform, access).resolve_tickets(
                        [TicketResolution(t, end, cause_of[t]) for t, end in chunk]
                    )

        in_parallel({s: partial(resolve_for, s, items) for s, items in opened.items()})

    def close_all() -> None:
        def close_for(buyer: str, ids: list[str]) -> None:
            for chunk in batches(ids, BATCH):
                with month.as_member(buyer) as access:
                    Assurance(platform, access).close_tickets(chunk)

        in_parallel({b: partial(close_for, b, ids) for b, ids in closing.items()})

    timed(f"open {TICKETS:,} tickets", open_all)
    timed("acknowledge", acknowledge_all)
    timed("resolve", resolve_all)
    timed("close", close_all)
    ticket_gas = sum(gas.values())

    # the month ends: close the period, endorse, invoice, settle
    month.advance_to(period_start(period + 1) + timedelta(days=1))
    label = period_label(period)
    by_seller: dict[str, list[int]] = defaultdict(list)
    for service_id, (seller, _buyer) in parties.items():
        by_seller[seller].append(service_id)
    credited: list[str] = []
    waiting: list[int] = []  # services whose credit awaits both endorsements

    def close_periods() -> None:
        def close_for(seller: str, ids: list[int]) -> None:
            for chunk in batches(ids, CLOSE_BATCH):
                with month.as_member(seller) as access:
                    credits = Assurance(platform, access).close_period(label, chunk)
                    credited.extend(c.id for c in credits if int(c.amount) > 0)
                    # a month with an outage fact (a down ticket) awaits both parties; one
                    # without is final at its close: nothing to endorse
                    waiting.extend(
                        c.service_id for c in credits if c.state == CreditState.CALCULATED.api
                    )

        in_parallel({s: partial(close_for, s, ids) for s, ids in by_seller.items()})

    def endorse() -> None:
        by_member: dict[str, list[int]] = defaultdict(list)
        for service_id in sorted(waiting):
            seller, buyer = parties[service_id]
            by_member[seller].append(service_id)
            by_member[buyer].append(service_id)

        def endorse_for(member: str, ids: list[int]) -> None:
            for chunk in batches(ids, BATCH):
                with month.as_member(member) as access:
                    Assurance(platform, access).endorse_credits(label, chunk)

        in_parallel({m: partial(endorse_for, m, ids) for m, ids in by_member.items()})

    invoices: list[int] = []

    def invoice() -> None:
        by_pair_seller: dict[str, list[str]] = defaultdict(list)
        for seller, buyer in sorted(set(parties.values())):
            by_pair_seller[seller].append(buyer)

        def invoice_for(seller: str, buyers: list[str]) -> None:
            for buyer in buyers:
                with month.as_member(seller) as access:
                    invoices.append(Billing(platform, access).issue_invoice(buyer, label, "EUR").id)

        in_parallel({s: partial(invoice_for, s, buyers) for s, buyers in by_pair_seller.items()})

    payments: list[tuple[str, str, str]] = []  # (payment id, payer, payee)

    def settle() -> None:
        with month.as_admin() as access:
            cycle = Settlement(platform, access).run_settlement_cycle("EUR")
            cycle_id = cycle.id
        with session_scope(platform.engine) as session:
            rows = session.exec(
                select(SettlementPaymentRecord).where(SettlementPaymentRecord.cycle_id == cycle_id)
            ).all()
            payments.extend((r.id, r.payer, r.payee) for r in rows)
        confirmations: dict[str, list[str]] = defaultdict(list)
        for payment_id, payer, payee in payments:
            confirmations[payer].append(payment_id)
            confirmations[payee].append(payment_id)

        def confirm_for(member: str, items: list[str]) -> None:
            for payment_id in items:
                with month.as_member(member) as access:
                    Settlement(platform, access).confirm_payment(payment_id)

        in_parallel({m: partial(confirm_for, m, items) for m, items in confirmations.items()})

    timed("close period (credits)", close_periods)
    timed("endorse (both parties)", endorse)
    timed("invoice (one per pair)", invoice)
    timed("settlement cycle + confirmations", settle)
    rest_gas = sum(gas.values()) - ticket_gas
    return {
        "timings": timings,
        "gas": gas,
        "month_seconds": sum(timings.values()),
        "ticket_gas_per_lifecycle": ticket_gas / TICKETS,
        "gas_after_tickets": rest_gas,
        "credits_above_zero": len(credited),
        "credits_to_endorse": len(waiting),
        "invoices": len(invoices),
        "payments": len(payments),
    }


READS = (
    Scenario(
        "troubleTickets",
        "{ troubleTickets(first: 50) { edges { node { id serviceId number state impact "
        "startedAt endedAt rootCause } } pageInfo { hasNextPage endCursor } } }",
    ),
    Scenario(
        "invoices",
        "{ invoices(first: 50) { edges { node { id seller buyer period currency state charges "
        "credits amountDue } } pageInfo { hasNextPage endCursor } } }",
    ),
)


def empty_database(url: str) -> None:
    """A benchmark's own database, emptied: the month starts from a fresh deployment."""
    from sqlmodel import SQLModel

    from cooperative.store.database import make_engine

    engine = make_engine(url)
    SQLModel.metadata.drop_all(engine)
    engine.dispose()


def read_under_load(month: Month, config: BenchConfig, folder: Path) -> list[dict[str, Any]]:
    """The members' first 50 tickets and invoices over HTTP (the real app, uvicorn in a
    thread of this process), under the load generator in its own process: every answer
    computed, then answers kept (benchmarks.api_load)."""
    import json
    import threading

    import uvicorn

    from benchmarks.api_load import run_both
    from benchmarks.server import HOST, DemoServer, free_port

    with session_scope(month.platform.engine) as session:
        keys = [apikeys.issue(session, owner=m, role=Role.MEMBER).secret for m in month.members]
    credentials = {"members": [{"apiKey": key} for key in keys]}
    path = folder / "bench-credentials.json"
    path.write_text(json.dumps(credentials))
    path.chmod(0o600)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(month.platform), host=HOST, port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    base = f"http://{HOST}:{port}"
    demo = DemoServer(base, f"{base}/graphql", path, credentials, folder, os.getpid())
    try:
        return [r for scenario in READS for r in run_both(demo, scenario, config)]
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def run(config: BenchConfig) -> BenchResult:
    rng = random.Random(SEED)
    store = "PostgreSQL" if DATABASE_URL and DATABASE_URL.startswith("postgres") else "SQLite"
    if DATABASE_URL:
        empty_database(DATABASE_URL)
    with tempfile.TemporaryDirectory(prefix="coop-month-") as tmp:
        print(f"[{NAME}] deploying for {MEMBERS} founders ({store})…", flush=True)
        started = time.perf_counter()
        platform = Platform.start(
            Settings(data_dir=Path(tmp), database_url=DATABASE_URL),
            founders=[f"Carrier {i:02d}" for i in range(MEMBERS)],
        )
        try:
            month = Month(platform)
            if CLOCK:
                platform.keep_clock()
            if ANCHOR:
                platform.anchor_periodically()
            platform.sync()
            with session_scope(platform.engine) as session:
                month.members = [
                    p.address
                    for p in session.exec(
                        select(MemberProfile).order_by(MemberProfile.joined_block)
                    ).all()
                ]
            template = adopt_template(month)
            print(f"[{NAME}] registering and confirming {SERVICES:,} live circuits…", flush=True)
            parties = register_services(month, template, rng)
            period = close_earlier_periods(month, parties)
            setup_seconds = time.perf_counter() - started
            print(
                f"[{NAME}] the month: {TICKETS:,} tickets, period close, credits, invoices, settlement…",
                flush=True,
            )
            clock_blocks = platform.clock_blocks
            anchored, anchoring_seconds = platform.anchored_checkpoints, platform.anchoring_seconds
            with session_scope(platform.engine) as session:
                before = len(session.exec(select(CheckpointRecord.index)).all())
            figures = run_month(month, parties, rng, period)
            months = [figures]
            for _later in range(1, MONTHS):
                period += 1
                month.advance_to(period_start(period) + timedelta(days=20))
                print(f"[{NAME}] month {len(months) + 1} on the same chain…", flush=True)
                months.append(run_month(month, parties, rng, period))
                print(
                    f"[{NAME}] month {len(months)}: {months[-1]['month_seconds']:.1f} s "
                    f"(month 1: {figures['month_seconds']:.1f} s)",
                    flush=True,
                )
            figures["months"] = [
                {"seconds": m["month_seconds"], "gas": sum(m["gas"].values())} for m in months
            ]
            figures["clock_blocks"] = platform.clock_blocks - clock_blocks
            figures["month_checkpoints"] = platform.anchored_checkpoints - anchored
            figures["month_anchoring_seconds"] = platform.anchoring_seconds - anchoring_seconds
            with session_scope(platform.engine) as session:
                posted = session.exec(
                    select(CheckpointRecord).order_by(CheckpointRecord.index)
                ).all()[before:]
            figures["month_anchor_gas"] = sum(
                platform.anchoring().chain.gateway.receipt(c.anchor_tx).gas_used for c in posted
            )
            # Not part of the month either: one checkpoint of it on the anchor chain (the
            # commitment log's tree over everything so far, one transaction).
            platform.sync()
            anchoring = platform.anchoring()
            started = time.perf_counter()
            checkpoint = anchoring.checkpoint()  # None: the schedule's last one covers it all
            figures["anchor_seconds"] = time.perf_counter() - started
            figures["anchor_commitments"] = checkpoint.tree_size if checkpoint else 0
            figures["anchor_gas"] = (
                anchoring.chain.gateway.receipt(checkpoint.anchor_tx).gas_used if checkpoint else 0
            )
            # Not part of the month: what `coop reindex` takes to rebuild every read model
            # from the chain and the outbox's documents after it (issue 10's figure).
            platform.sync()
            started = time.perf_counter()
            figures["reindex_events"] = platform.reindex()
            figures["reindex_seconds"] = time.perf_counter() - started
            print(f"[{NAME}] a member's first 50 tickets and invoices under load…", flush=True)
            figures["reads"] = read_under_load(month, config, Path(tmp))
        finally:
            platform.stop()
    figures["setup_seconds"] = setup_seconds
    rows = [
        [f"{name} (s / gas)", f"{seconds:.1f} / {figures['gas'][name]:,}"]
        for name, seconds in figures["timings"].items()
    ]
    rows += [
        ["the month, total (s)  [budget < 120]", f"{figures['month_seconds']:.1f}"],
        [
            "gas per ticket lifecycle  [budget < 40,000]",
            f"{figures['ticket_gas_per_lifecycle']:,.0f}",
        ],
        ["gas: close, endorse, invoice, settle (total)", f"{figures['gas_after_tickets']:,}"],
        [
            f"empty blocks the clock sealed in the month (clock {'on' if CLOCK else 'off'})",
            f"{figures['clock_blocks']:,}",
        ],
        ["services with a credit > 0", f"{figures['credits_above_zero']:,}"],
        [
            "credits endorsed by both / final at the close (no down ticket)",
            f"{figures['credits_to_endorse']:,} / {SERVICES - figures['credits_to_endorse']:,}",
        ],
        ["invoices / payments", f"{figures['invoices']} / {figures['payments']}"],
        [
            "checkpoints anchored during the month (count / s / anchor gas; "
            f"anchoring {'on' if ANCHOR else 'off'})",
            f"{figures['month_checkpoints']} / {figures['month_anchoring_seconds']:.2f} / "
            f"{figures['month_anchor_gas']:,}",
        ],
        [
            f"a checkpoint of {figures['anchor_commitments']:,} commitments (s / anchor gas)",
            f"{figures['anchor_seconds']:.2f} / {figures['anchor_gas']:,}",
        ],
        [
            f"reindex after the month: {figures['reindex_events']:,} events (s)",
            f"{figures['reindex_seconds']:.1f}",
        ],
        [
            f"setup: deploy, template, {SERVICES:,} circuits, earlier months (s)",
            f"{setup_seconds:.1f}",
        ],
    ]
    rows += [
        [
            f"{r['scenario'].replace(' (', '(first: 50) (', 1)} req/s · p50 / p99 ms",
            f"{r['requests_per_second']:.1f} · "
            f"{r['latency_ms']['p50']:.1f} / {r['latency_ms']['p99']:.1f}",
        ]
        for r in figures["reads"]
    ]
    print_table(["step", "value"], rows)
    if MONTHS > 1:
        first = figures["months"][0]
        print_table(
            ["month", "seconds", "gas", "seconds / month 1"],
            [
                [
                    f"{n}",
                    f"{m['seconds']:.1f}",
                    f"{m['gas']:,}",
                    f"{m['seconds'] / first['seconds']:.3f}",
                ]
                for n, m in enumerate(figures["months"], start=1)
            ],
        )
    print(f"cores: {usable_cores()} (the platform, its anvil and {store} share them)")
    figures["store"] = store
    pairs = min(SERVICES, MEMBERS * (MEMBERS - 1))
    valid = (
        figures["invoices"] == pairs
        and figures["payments"] <= MEMBERS - 1
        and all(r["errors"] == 0 and r["warmup_errors"] == 0 for r in figures["reads"])
    )
    return BenchResult(name=NAME, data=figures, valid=valid)
