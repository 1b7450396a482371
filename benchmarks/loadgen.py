"""Closed-loop HTTP load generator for GraphQL, run as its own process.

    python -m benchmarks.loadgen --url URL --keys-file CREDENTIALS --query QUERY
        [--clients 32] [--seconds 10] [--warmup 2]

N clients (asyncio + aiohttp, keep-alive) each send one request at a time, as fast as answers
come, with a member's API key. One JSON object with the results is printed on stdout.

It runs apart from the benchmark driver (and from the server) so that its CPU use is its own
process's and the driver's bookkeeping never delays a request.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

REQUEST_TIMEOUT_SECONDS = 10.0  # bounds the run even if the server stops answering
MAX_ERROR_SAMPLES = 5


@dataclass
class Tally:
    """What one phase (warm-up or measured) saw; latencies in seconds."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        # Keep the distinct kinds only, so a run of failures does not flood the report.
        if kind in self.error_samples or len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples[kind] = self.error_samples.get(kind, 0) + 1


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def classify(status: int, body: bytes) -> str | None:
    """None for a good answer, else a short description of the error."""
    if status != 200:
        return f"HTTP {status}: {body[:120].decode(errors='replace')}"
    # Fast path without a JSON parse: the client shares the machine's CPUs with the server.
    if body.startswith(b'{"data"') and b'"errors"' not in body:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:120].decode(errors='replace')}"
    if not isinstance(document, dict):
        return "not a JSON object"
    if document.get("errors"):
        first = document["errors"][0]
        message = first.get("message") if isinstance(first, dict) else first
        return f"GraphQL error: {message}"
    if document.get("data") is None:
        return "no data"
    return None


async def client(
    session: aiohttp.ClientSession,
    url: str,
    payload: Callable[[], bytes],
    api_key: str,
    measure_start: float,
    deadline: float,
    warmup: Tally,
    measured: Tally,
) -> None:
    """Send requests one after another until the deadline; book each one by when it ended."""
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    clock = time.perf_counter
    while (started := clock()) < deadline:
        error: str | None
        try:
            async with session.post(url, data=payload(), headers=headers) as response:
                body = await response.read()
                error = classify(response.status, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        ended = clock()
        if ended > deadline:
            break  # finished after the window: counting it would inflate requests/s
        tally = measured if ended >= measure_start else warmup
        tally.latencies.append(ended - started)
        if error is not None:
            tally.error(error)


async def run_load(
    url: str,
    query: str,
    keys: list[str],
    clients: int,
    seconds: float,
    warmup_seconds: float,
    vary: bool = False,
    uncached: bool = False,
) -> dict[str, Any]:
    fixed = json.dumps({"query": query}).encode()
    serial = itertools.count()

    def payload() -> bytes:
        if vary:
            # a comment makes every request's text new: no parse or validation cache helps
            return json.dumps({"query": f"{query}\n# {next(serial)}"}).encode()
        if uncached:
            # an unused variable makes every body new: no answer is kept for it
            # (cooperative.api.answers); the document's parse and validation still are
            return json.dumps({"query": query, "variables": {"_": next(serial)}}).encode()
        return fixed

    warmup, measured = Tally(), Tally()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    # One connection per client, kept alive for the whole run (limit = clients, no churn).
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        measure_start = start + warmup_seconds
        deadline = measure_start + seconds
        tasks = [
            client(
                session,
                url,
                payload,
                keys[i % len(keys)],
                measure_start,
                deadline,
                warmup,
                measured,
            )
            for i in range(clients)
        ]
        # Each client stops by itself at the deadline; this outer bound covers a request that
        # was in flight at the deadline (at most one request timeout more).
        await asyncio.wait_for(
            asyncio.gather(*tasks),
            timeout=warmup_seconds + seconds + REQUEST_TIMEOUT_SECONDS + 5,
        )
    latencies = sorted(measured.latencies)
    requests = len(latencies)
    return {
        "url": url,
        "clients": clients,
        "keys": len(keys),
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "requests": requests,
        "requests_per_second": requests / seconds if seconds > 0 else 0.0,
        "latency_ms": {
            "p50": percentile(latencies, 0.50) * 1000,
            "p90": percentile(latencies, 0.90) * 1000,
            "p99": percentile(latencies, 0.99) * 1000,
            "max": (latencies[-1] * 1000) if latencies else 0.0,
            "mean": (sum(latencies) / requests * 1000) if requests else 0.0,
        },
        "errors": measured.errors,
        "error_samples": measured.error_samples,
        "warmup_requests": len(warmup.latencies),
        "warmup_errors": warmup.errors,
        "warmup_error_samples": warmup.error_samples,
        "loadgen_pid": os.getpid(),
    }


def read_keys(path: Path) -> list[str]:
    """Member API keys from a demo-credentials.json file (kept off the command line, where
    `ps` would show them)."""
    credentials = json.loads(path.read_text())
    keys = [member["apiKey"] for member in credentials.get("members", [])]
    if not keys:
        raise SystemExit(f"no member API keys in {path}")
    return keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("--url", required=True, help="GraphQL endpoint")
    parser.add_argument("--keys-file", type=Path, required=True, help="demo-credentials.json")
    parser.add_argument("--query", required=True, help="GraphQL query document")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--vary", action="store_true", help="make every request's text unique (defeats caches)"
    )
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="make every request's body unique (defeats the answer cache only)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("need --clients >= 1, --seconds > 0, --warmup >= 0")
    result = asyncio.run(
        run_load(
            args.url,
            args.query,
            read_keys(args.keys_file),
            args.clients,
            args.seconds,
            args.warmup,
            args.vary,
            args.uncached,
        )
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
