"""Run the real `coop serve --demo` for a benchmark: fresh data directory, loopback port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"  # benchmarks never listen on anything but loopback
START_TIMEOUT_SECONDS = 300.0  # a cold start may compile the contracts first
STOP_TIMEOUT_SECONDS = 30.0  # the platform gives anvil up to 15 s to dump its state


class ServerError(RuntimeError):
    """The platform did not come up; the message carries the tail of its log."""


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    graphql_url: str
    credentials_path: Path
    credentials: dict
    data_dir: Path
    pid: int

    @property
    def member_keys(self) -> list[str]:
        return [member["apiKey"] for member in self.credentials["members"]]


def free_port() -> int:
    """A port the kernel says is free on loopback now (a race is possible but harmless here:
    `coop serve` checks the port itself and the start-up would fail loudly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def coop_command() -> list[str]:
    """The `coop` entry point of the interpreter running us (the project's venv)."""
    beside = Path(sys.executable).parent / "coop"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("coop")
    if found is None:
        raise ServerError("the `coop` command is not installed: run `make install`")
    return [found]


def clean_environment() -> dict[str, str]:
    """Our environment without COOP_* settings, so an external RPC node, database or port in
    the caller's shell cannot change what is measured: the baseline is embedded anvil + SQLite."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}


def _log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (the platform's clean stop, which also stops its anvil), then wait; if it hangs,
    kill its whole process group so no anvil is left behind."""
    if process.poll() is not None:
        return  # a clean exit has already stopped its anvil (platform.stop)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
        return
    except subprocess.TimeoutExpired:
        pass
    # Still alive, so its group id is still its own (start_new_session): this reaches only
    # the server and the anvil it started.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def demo_server(*, keep_data: bool = False) -> Iterator[DemoServer]:
    """Start `coop serve --demo` and yield once it serves; always stop it on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    log_path = data_dir.parent / f"{data_dir.name}.log"
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    credentials_path = data_dir / "demo-credentials.json"
    command = [
        *coop_command(),
        "serve",
        "--demo",
        "--data-dir",
        str(data_dir),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    process: subprocess.Popen[bytes] | None = None
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=clean_environment(),
                # cwd = the data directory, so no `.env` of the repository is read.
                cwd=data_dir,
                # Own process group: a Ctrl-C in our terminal is not delivered to it twice,
                # and a hung server can be killed together with its anvil.
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        # The credentials file is written just before uvicorn binds, so /health decides.
        while not (credentials_path.exists() and _health_ok(f"{base_url}/health")):
            if process.poll() is not None:
                raise ServerError(
                    f"`coop serve --demo` exited with {process.returncode} during start-up:\n"
                    + _log_tail(log_path)
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"`coop serve --demo` not ready after {START_TIMEOUT_SECONDS:.0f} s:\n"
                    + _log_tail(log_path)
                )
            time.sleep(0.25)
        credentials = json.loads(credentials_path.read_text())
        if not credentials.get("members"):
            raise ServerError(f"no member keys in {credentials_path}")
        yield DemoServer(
            base_url=base_url,
            graphql_url=f"{base_url}/graphql",
            credentials_path=credentials_path,
            credentials=credentials,
            data_dir=data_dir,
            pid=process.pid,
        )
    finally:
        if process is not None:
            _stop(process)
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
            log_path.unlink(missing_ok=True)


def loadgen_command(
    server: DemoServer, query: str, clients: int, seconds: float, warmup: float, *extra: str
) -> list[str]:
    """The load generator (`benchmarks.loadgen`, its own process) against `server`."""
    return [
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        "--url",
        server.graphql_url,
        "--keys-file",
        str(server.credentials_path),
        "--query",
        query,
        "--clients",
        str(clients),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        *extra,
    ]
