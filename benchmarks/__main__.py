"""`python -m benchmarks [NAME ...]`: run the named benchmarks (default: all) in turn.

Exit status 0 only if every benchmark ran and produced valid figures (no errors).
Environment: BENCH_SECONDS, BENCH_WARMUP (per scenario), BENCH_OUTPUT (JSON results path).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    api_load,
    attack,
    governance_gas,
    marketplace,
    month_at_scale,
    verification,
)
from benchmarks.config import (
    DEFAULT_CLIENTS,
    DEFAULT_SECONDS,
    DEFAULT_WARMUP,
    BenchConfig,
    BenchResult,
    env_float,
)
from benchmarks.report import git_revision, machine, usable_cores

# Later benchmarks (gas, workload throughput) add a module with `run(config)` and a line here;
# the order is the order they run in.
BENCHMARKS: dict[str, Callable[[BenchConfig], BenchResult]] = {
    api_load.NAME: api_load.run,
    attack.NAME: attack.run,
    governance_gas.NAME: governance_gas.run,
    marketplace.NAME: marketplace.run,
    month_at_scale.NAME: month_at_scale.run,
    verification.NAME: verification.run,
}


def parse_args(argv: list[str] | None) -> tuple[list[str], BenchConfig]:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=env_float("BENCH_SECONDS", DEFAULT_SECONDS),
        help="measured seconds per scenario (env BENCH_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=env_float("BENCH_WARMUP", DEFAULT_WARMUP),
        help="warm-up seconds per scenario (env BENCH_WARMUP; default %(default)s)",
    )
    parser.add_argument(
        "--clients", type=int, default=DEFAULT_CLIENTS, help="concurrent clients (%(default)s)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ["BENCH_OUTPUT"]) if os.environ.get("BENCH_OUTPUT") else None,
        help="write the results as JSON here (env BENCH_OUTPUT)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if args.seconds <= 0 or args.warmup < 0 or args.clients < 1:
        parser.error("need --seconds > 0, --warmup >= 0, --clients >= 1")
    config = BenchConfig(
        seconds=args.seconds, warmup=args.warmup, clients=args.clients, output=args.output
    )
    return args.names or list(BENCHMARKS), config


def _terminate(signum: int, _frame: object) -> None:
    # Unwind like Ctrl-C, so each benchmark's `finally` stops the server it started.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    names, config = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    print(f"cores: {usable_cores()} usable ({os.cpu_count()} on the machine)", flush=True)
    results: list[BenchResult] = []
    for name in names:
        try:
            results.append(BENCHMARKS[name](config))
        except Exception as exc:
            # One broken benchmark must not hide the others' figures, but fails the run.
            traceback.print_exc()
            results.append(BenchResult(name=name, data={"error": str(exc)}, valid=False))
    document = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "revision": git_revision(),
        "config": {"seconds": config.seconds, "warmup": config.warmup, "clients": config.clients},
        "benchmarks": {r.name: {"valid": r.valid, **r.data} for r in results},
    }
    if config.output is not None:
        config.output.parent.mkdir(parents=True, exist_ok=True)
        config.output.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results written to {config.output}")
    invalid = [r.name for r in results if not r.valid]
    if invalid:
        print(f"INVALID (errors): {', '.join(invalid)} — not usable as figures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # The servers are already stopped by then (their `finally`); no figures were valid.
        print("interrupted", file=sys.stderr)
        sys.exit(130)
