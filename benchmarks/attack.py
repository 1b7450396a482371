"""Under attack: `/health` latency while 4 clients send the worst queries a member's key
can send, and how long the server takes to answer each worst query once.

Scenarios: the nested-fragment bomb of issue 11 (20 and 39 levels; validation time
doubled per level before the cost limit), the widest query within the limits (15 aliases
of the longest list, 300 fields), the standard introspection query, and two bodies the
edge refuses before any GraphQL: 1 MiB of escaped quotes with no closing one (the depth
scan was quadratic in it) and 1 MiB of nested brackets. `/health` is probed every 20 ms
from this process, first on an idle server, then during each attack (the attackers run in
their own processes: the load generator, as in the `api` benchmark, or for the raw
bodies one process per client).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import threading
import time

import httpx

from benchmarks.config import BenchConfig, BenchResult
from benchmarks.loadgen import percentile
from benchmarks.report import print_table, usable_cores
from benchmarks.server import DemoServer, demo_server, loadgen_command
from cooperative.api.limits import MAX_BODY_BYTES
from graphql import get_introspection_query

NAME = "attack"
ATTACKERS = 4
PROBE_INTERVAL_SECONDS = 0.02
HEALTH_BUDGET_MS = 100.0
ONCE_TIMEOUT_SECONDS = 60.0


def fragment_bomb(levels: int) -> str:
    spreads = "".join(
        f"fragment F{i} on Me {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, levels + 1)
    )
    return f"fragment F0 on Me {{ role }}\n{spreads}{{ me {{ ...F{levels} }} }}"


def widest_query() -> str:
    """15 aliases (the limit) of members(first: 100), as many fields as 300 allows."""
    fields = "edges { cursor node { address name joinedBlock leftBlock country } }"
    aliases = " ".join(
        f"m{i}: members(first: 100, includeFormer: true) {{ {fields} }}" for i in range(15)
    )
    return f"{{ {aliases} }}"


SCENARIOS: dict[str, str | bytes] = {  # a query (str), or a raw request body (bytes)
    "fragments-20": fragment_bomb(20),
    "fragments-39": fragment_bomb(39),
    "widest": widest_query(),
    "introspection": get_introspection_query(descriptions=True),
    "quote-bomb": b'"' + b'\\"' * ((MAX_BODY_BYTES - 1) // 2),
    "deep-json": b"[" * (MAX_BODY_BYTES // 2) + b"]" * (MAX_BODY_BYTES // 2),
}
# e.g. BENCH_ATTACK_SCENARIOS=fragments-20,widest against a build that never answers F39
CHOSEN = [
    name.strip()
    for name in os.environ.get("BENCH_ATTACK_SCENARIOS", ",".join(SCENARIOS)).split(",")
    if name.strip()
]


def _request(scenario: str | bytes) -> dict:
    if isinstance(scenario, bytes):
        return {"content": scenario, "headers": {"Content-Type": "application/json"}}
    return {"json": {"query": scenario}}


def once_ms(server: DemoServer, scenario: str | bytes) -> tuple[float, str]:
    """One request's wall time and the code of its answer (OK or the first error's)."""
    started = time.perf_counter()
    request = _request(scenario)
    headers = {"Authorization": f"Bearer {server.member_keys[0]}", **request.pop("headers", {})}
    try:
        response = httpx.post(
            server.graphql_url, headers=headers, timeout=ONCE_TIMEOUT_SECONDS, **request
        )
    except httpx.TimeoutException:
        return ONCE_TIMEOUT_SECONDS * 1000, f"no answer in {ONCE_TIMEOUT_SECONDS:g} s"
    elapsed = (time.perf_counter() - started) * 1000
    errors = response.json().get("errors") if response.status_code < 500 else None
    code = errors[0]["extensions"]["code"] if errors else f"HTTP {response.status_code}"
    return elapsed, "OK" if response.status_code == 200 and not errors else code


def probe_health(server: DemoServer, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            http.get(f"{server.base_url}/health")
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(PROBE_INTERVAL_SECONDS)


def _send_raw(url: str, key: str, body: bytes, seconds: float, sent: multiprocessing.Queue) -> None:
    """One attacking client of a raw-body scenario: sends `body` for `seconds`."""
    count, deadline = 0, time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    with httpx.Client(timeout=60) as http:
        while time.monotonic() < deadline:
            http.post(url, content=body, headers=headers)
            count += 1
    sent.put(count)


def raw_attack(server: DemoServer, body: bytes, config: BenchConfig) -> float:
    """ATTACKERS processes send `body` for the measured seconds; their requests/s."""
    context = multiprocessing.get_context("spawn")
    sent = context.Queue()
    args = (server.graphql_url, server.member_keys[0], body, config.seconds, sent)
    clients = [context.Process(target=_send_raw, args=args) for _ in range(ATTACKERS)]
    for client in clients:
        client.start()
    counts = [sent.get(timeout=config.seconds + 120) for _ in clients]
    for client in clients:
        client.join()
    return sum(counts) / config.seconds


def health_during(server: DemoServer, query: str | bytes | None, config: BenchConfig) -> dict:
    latencies: list[float] = []
    stop = threading.Event()
    attack = None
    if isinstance(query, bytes):
        prober = threading.Thread(target=probe_health, args=(server, stop, latencies))
        prober.start()
        requests_per_second = raw_attack(server, query, config)
        stop.set()
        prober.join()
        return _summary(latencies, requests_per_second)
    if query is not None:
        attack = subprocess.Popen(
            loadgen_command(server, query, ATTACKERS, config.seconds, config.warmup, "--vary"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        time.sleep(config.warmup)
    prober = threading.Thread(target=probe_health, args=(server, stop, latencies))
    prober.start()
    if attack is not None:
        out, _err = attack.communicate(timeout=config.warmup + config.seconds + 120)
        load = json.loads(out) if attack.returncode == 0 else {}
    else:
        time.sleep(config.seconds)
        load = {}
    stop.set()
    prober.join()
    return _summary(latencies, load.get("requests_per_second", 0.0))


def _summary(latencies: list[float], attack_requests_per_second: float) -> dict:
    latencies.sort()
    return {
        "probes": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else 0.0,
        "attack_requests_per_second": attack_requests_per_second,
    }


def run(config: BenchConfig) -> BenchResult:
    print(f"[{NAME}] starting `coop serve --demo`…", flush=True)
    rows: list[dict] = []
    with demo_server() as server:
        for name in CHOSEN:
            elapsed, code = once_ms(server, SCENARIOS[name])
            rows.append({"scenario": name, "once_ms": elapsed, "answer": code})
        idle = health_during(server, None, config)
        for row in rows:
            print(f"[{NAME}] {ATTACKERS} clients send {row['scenario']}…", flush=True)
            row["health"] = health_during(server, SCENARIOS[row["scenario"]], config)
    print_table(
        ["scenario", "one request ms", "answer", "attack req/s", "/health p50", "p99", "max"],
        [["idle", "", "", "", f"{idle['p50']:.1f}", f"{idle['p99']:.1f}", f"{idle['max']:.1f}"]]
        + [
            [
                r["scenario"],
                f"{r['once_ms']:.1f}",
                r["answer"],
                f"{r['health']['attack_requests_per_second']:.1f}",
                f"{r['health']['p50']:.1f}",
                f"{r['health']['p99']:.1f}",
                f"{r['health']['max']:.1f}",
            ]
            for r in rows
        ],
    )
    print(
        f"/health probed every {PROBE_INTERVAL_SECONDS * 1000:.0f} ms for {config.seconds:g} s "
        f"per scenario; {ATTACKERS} attacking clients; cores: {usable_cores()} (shared)"
    )
    within = all(r["health"]["p99"] < HEALTH_BUDGET_MS for r in rows)
    print(f"/health p99 under {HEALTH_BUDGET_MS:.0f} ms in every scenario: {within}")
    return BenchResult(
        name=NAME,
        data={"idle": idle, "scenarios": rows, "health_p99_within_budget": within},
        valid=all(r["health"]["probes"] for r in rows),
    )
