"""Under attack: `/health` latency while 4 clients send the worst queries a member's key
can send, and how long the server takes to answer each worst query once.

Scenarios: the nested-fragment bomb of issue 11 (20 and 39 levels; validation time
doubled per level before the cost limit), the widest query within the limits (15 aliases
of the longest list, 300 fields), and the standard introspection query. `/health` is
probed every 20 ms from this process, first on an idle server, then during each attack
(the load generator runs in its own process, as in the `api` benchmark).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import httpx

from benchmarks.config import BenchConfig, BenchResult
from benchmarks.loadgen import percentile
from benchmarks.report import print_table, usable_cores
from benchmarks.server import DemoServer, demo_server, loadgen_command
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


SCENARIOS = {
    "fragments-20": fragment_bomb(20),
    "fragments-39": fragment_bomb(39),
    "widest": widest_query(),
    "introspection": get_introspection_query(descriptions=True),
}
# e.g. BENCH_ATTACK_SCENARIOS=fragments-20,widest against a build that never answers F39
CHOSEN = [
    name.strip()
    for name in os.environ.get("BENCH_ATTACK_SCENARIOS", ",".join(SCENARIOS)).split(",")
    if name.strip()
]


def once_ms(server: DemoServer, query: str) -> tuple[float, str]:
    """One request's wall time and the code of its answer (OK or the first error's)."""
    started = time.perf_counter()
    try:
        response = httpx.post(
            server.graphql_url,
            json={"query": query},
            headers={"Authorization": f"Bearer {server.member_keys[0]}"},
            timeout=ONCE_TIMEOUT_SECONDS,
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


def health_during(server: DemoServer, query: str | None, config: BenchConfig) -> dict:
    latencies: list[float] = []
    stop = threading.Event()
    attack = None
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
    latencies.sort()
    return {
        "probes": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": latencies[-1] if latencies else 0.0,
        "attack_requests_per_second": load.get("requests_per_second", 0.0),
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
