"""Settings shared by all benchmarks, from CLI flags with environment-variable defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECONDS = 10.0
DEFAULT_WARMUP = 2.0
DEFAULT_CLIENTS = 32


def env_float(name: str, default: float) -> float:
    """A float from the environment; a malformed value is an error, not silently the default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative, got {raw!r}")
    return value


@dataclass(frozen=True)
class BenchConfig:
    seconds: float = DEFAULT_SECONDS
    """Measured duration of each scenario."""
    warmup: float = DEFAULT_WARMUP
    """Load applied before measuring, so connections and caches are warm."""
    clients: int = DEFAULT_CLIENTS
    output: Path | None = None
    """Where to write the JSON results (env BENCH_OUTPUT); unset = print only."""


@dataclass
class BenchResult:
    """What one benchmark hands back to `__main__`: its figures and whether they are valid."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    valid: bool = True
    """False when the run had errors: such figures must not be used as a baseline."""
