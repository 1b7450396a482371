"""End to end: the real `coop serve --demo`, called over HTTP, stopped and started again
on the same data directory: on its embedded anvil, and on Hardhat's nodes (COOP_RPC_URL,
COOP_ANCHOR_RPC_URL), so that nothing anvil-only is left on the external node's path."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.node import free_loopback_port
from tests.conftest import nodes_for

pytestmark = pytest.mark.e2e
COOP = [sys.executable, "-m", "cooperative.cli"]
START_TIMEOUT = 90.0


@pytest.fixture(params=["anvil", "hardhat"])
def chain_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The COOP_ variables that put `coop serve` on the chain: none for its embedded anvil."""
    with nodes_for(request.param, tmp_path) as nodes:
        yield {f"COOP_{name.upper()}": url for name, url in nodes.items()}


@contextmanager
def coop_serve(
    data_dir: Path, port: int, chain_env: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Run `coop serve --demo` (on `chain_env`'s nodes, else its own) until the block ends;
    yields the credentials file's content."""
    credentials = data_dir / "demo-credentials.json"
    started_at = time.time()
    log = (data_dir.parent / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [*COOP, "serve", "--demo", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("COOP_")} | (chain_env or {}),
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"coop serve exited: {Path(log.name).read_text()}")
            if credentials.exists() and credentials.stat().st_mtime >= started_at - 1:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            if time.monotonic() > deadline:
                pytest.fail(f"coop serve did not come up: {Path(log.name).read_text()}")
            time.sleep(0.2)
        yield json.loads(credentials.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    assert process.returncode == 0, Path(log.name).read_text()


def graphql(
    url: str, key: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = httpx.post(
        url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def test_serve_demo_then_restart_keeps_everything(
    tmp_path: Path, chain_env: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    port = free_loopback_port()
    with coop_serve(data_dir, port, chain_env) as credentials:
        url = credentials["graphql_url"]
        assert url == f"http://127.0.0.1:{port}/graphql"
        assert stat.S_IMODE((data_dir / "demo-credentials.json").stat().st_mode) == 0o600
        assert [m["name"] for m in credentials["members"]] == [
            "Aurora Telecom",
            "Borealis Networks",
            "Cirrus Fiber",
        ]

        for member in credentials["members"]:
            me = graphql(url, member["apiKey"], "{ me { role member { address name } } }")["me"]
            assert me == {
                "role": "MEMBER",
                "member": {"address": member["address"], "name": member["name"]},
            }
        members = graphql(
            url, credentials["admin"]["apiKey"], "{ members { edges { node { address name } } } }"
        )
        assert {e["node"]["address"] for e in members["members"]["edges"]} == {
            m["address"] for m in credentials["members"]
        }

        created = graphql(
            url,
            credentials["members"][1]["apiKey"],
            'mutation { createApiKey(input: {label: "before restart"}) { secret errors { code } } }',
        )["createApiKey"]
        assert created["errors"] == []
        health_before = httpx.get(f"http://127.0.0.1:{port}/health").json()

    with coop_serve(data_dir, port, chain_env) as again:
        assert again == credentials  # same keys, same members, same addresses
        health_after = httpx.get(f"http://127.0.0.1:{port}/health").json()
        assert health_after["contracts"] == health_before["contracts"]
        assert int(health_after["latestBlock"]) >= int(health_before["latestBlock"])
        me = graphql(url, created["secret"], "{ me { member { name } } }")["me"]
        assert me == {"member": {"name": "Borealis Networks"}}
        members = graphql(
            url, again["admin"]["apiKey"], "{ members { edges { node { address } } } }"
        )
        assert len(members["members"]["edges"]) == 3
    # On Hardhat's nodes no embedded node was started: no state directory of one
    embedded = [name for name in ("chain", "anchor") if (data_dir / name).is_dir()]
    assert embedded == ([] if chain_env else ["chain", "anchor"])
