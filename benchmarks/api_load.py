"""API baseline: GraphQL requests/s and latency of `me` and `members` under 32 clients.

The real `coop serve --demo` runs in its own process; the load generator in another
(`benchmarks.loadgen`), one run per scenario, against the same server. Each scenario runs
twice, side by side: every body new (`--uncached`: each answer computed, as the first
poll after a change is) and the same body again (answered from the answer cache while
nothing changes, as an ERP's repeated polls are; cooperative.api.answers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass

from benchmarks.config import BenchConfig, BenchResult
from benchmarks.report import print_table, usable_cores
from benchmarks.server import DemoServer, demo_server, loadgen_command

NAME = "api"


@dataclass(frozen=True)
class Scenario:
    name: str
    query: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("me", "{ me { role member { address name } } }"),
    Scenario(
        "members",
        "{ members(first: 50) { edges { node { address name joinedBlock } } "
        "pageInfo { hasNextPage endCursor } } }",
    ),
)


def run_scenario(
    server: DemoServer, scenario: Scenario, config: BenchConfig, *, uncached: bool = False
) -> dict:
    """One load-generator process against the server; its JSON result plus the scenario."""
    command = loadgen_command(
        server,
        scenario.query,
        config.clients,
        config.seconds,
        config.warmup,
        *(["--uncached"] if uncached else []),
    )
    # The load generator bounds itself; this timeout only guards against a hung process.
    limit = config.warmup + config.seconds + 60
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=limit, stdin=subprocess.DEVNULL
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"load generator failed ({completed.returncode}) in scenario {scenario.name}:\n"
            + completed.stderr[-2000:]
        )
    result = json.loads(completed.stdout)
    name = f"{scenario.name} ({'computed' if uncached else 'cached'})"
    return {"scenario": name, "query": scenario.query, "uncached": uncached, **result}


def run_both(server: DemoServer, scenario: Scenario, config: BenchConfig) -> list[dict]:
    """The scenario with every answer computed, then with answers kept."""
    return [
        run_scenario(server, scenario, config, uncached=True),
        run_scenario(server, scenario, config),
    ]


def run(config: BenchConfig) -> BenchResult:
    print(f"[{NAME}] starting `coop serve --demo` (fresh data directory, 127.0.0.1)…", flush=True)
    results: list[dict] = []
    with demo_server() as server:
        print(
            f"[{NAME}] serving at {server.base_url}; {len(server.member_keys)} member keys; "
            f"{config.clients} clients, {config.warmup:g} s warm-up + {config.seconds:g} s "
            "per scenario",
            flush=True,
        )
        for scenario in SCENARIOS:
            print(f"[{NAME}] scenario {scenario.name}…", flush=True)
            results.extend(run_both(server, scenario, config))
    print_table(
        ["scenario", "requests", "requests/s", "p50 ms", "p99 ms", "errors"],
        [
            [
                r["scenario"],
                f"{r['requests']}",
                f"{r['requests_per_second']:.1f}",
                f"{r['latency_ms']['p50']:.2f}",
                f"{r['latency_ms']['p99']:.2f}",
                f"{r['errors']}"
                + (f" (+{r['warmup_errors']} warm-up)" if r["warmup_errors"] else ""),
            ]
            for r in results
        ],
    )
    print(
        f"{config.clients} clients, {config.seconds:g} s per scenario after "
        f"{config.warmup:g} s warm-up; cores: {usable_cores()} (server and clients share them)"
    )
    # Errors during the warm-up count too: they mean the server misbehaves under this load.
    errors = sum(r["errors"] + r["warmup_errors"] for r in results)
    for r in results:
        kinds = Counter(r["warmup_error_samples"]) + Counter(r["error_samples"])
        for kind, count in kinds.items():
            print(f"  {r['scenario']}: {count} x {kind}", file=sys.stderr)
    data = {"clients": config.clients, "scenarios": results}
    return BenchResult(
        name=NAME, data=data, valid=errors == 0 and all(r["requests"] for r in results)
    )
