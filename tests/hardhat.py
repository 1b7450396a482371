"""Hardhat's node (npm `hardhat` 2.x, scripts/hardhat/hardhat.config.cjs): a second EVM
implementation for the tests, beside the embedded anvil. `COOP_TEST_EVM=hardhat` runs the
end-to-end tests on it (tests/conftest.py `rpc_url`); tests/test_hardhat.py always does."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deployments.chain import ChainGateway
from deployments.node import LOCAL_CHAIN_ID, free_loopback_port
from deployments.paths import NODE_MODULES, PROJECT_ROOT

HARDHAT = NODE_MODULES / ".bin" / "hardhat"
CONFIG = PROJECT_ROOT / "scripts" / "hardhat" / "hardhat.config.cjs"
START_TIMEOUT_SECONDS = 60.0


def evm_under_test() -> str:
    """The EVM the end-to-end tests run on: "anvil" (embedded) or "hardhat" (COOP_TEST_EVM)."""
    evm = os.environ.get("COOP_TEST_EVM", "anvil")
    if evm not in ("anvil", "hardhat"):
        raise ValueError(f"COOP_TEST_EVM={evm!r}: anvil or hardhat")
    return evm


@contextmanager
def hardhat_node(log_file: Path, chain_id: int = LOCAL_CHAIN_ID) -> Iterator[str]:
    """Hardhat's node on a free loopback port until the block ends; yields its HTTP URL."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(HARDHAT), "--config", str(CONFIG), "node", "--hostname", "127.0.0.1"]
    env = os.environ | {"HARDHAT_CHAIN_ID": str(chain_id), "HARDHAT_DISABLE_TELEMETRY_PROMPT": "1"}
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [*args, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        gateway, deadline = ChainGateway(url), time.monotonic() + START_TIMEOUT_SECONDS
        while not gateway.is_reachable():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Hardhat's node did not start: {log_file.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
