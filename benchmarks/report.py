"""Plain-text output shared by the benchmarks, and facts about the machine they ran on."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from deployments.chain import ChainGateway

REPO_ROOT = Path(__file__).resolve().parent.parent


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """A fixed-width table; the first column left-aligned, figures right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0])]
            + [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        )

    print()
    print(line(header))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))
    print()


def usable_cores() -> int:
    """CPUs this process may run on (affinity/cgroup-pinned runs see fewer than cpu_count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def git_revision() -> dict[str, Any]:
    """The commit measured and whether the work tree differed from it (figures from a dirty
    tree are not comparable with a commit's)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
    }


def gas_since(gateway: ChainGateway, first_block: int) -> int:
    """Gas used by the blocks from `first_block` to the latest: on a node that runs only
    the benchmark's transactions, the gas of what it did since then."""
    w3 = gateway.w3
    return sum(
        w3.eth.get_block(n)["gasUsed"] for n in range(first_block, gateway.latest_block() + 1)
    )
