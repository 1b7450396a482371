"""The embedded chain node: anvil from node_modules, with its state in the data directory.

Started when no `COOP_RPC_URL` is configured. Its state file is loaded at start and
written every few seconds and on a clean stop, so a restart of the platform keeps the
chain. The snapshots are the platform's (`anvil_dumpState` while no block is being
sealed, written atomically), not anvil's own `--state` dumps: those can catch a block
half applied (an account's nonce past a block the dump does not hold), which no replay
can repair. What a kill loses after the last snapshot, the outbox sends again.

Only the platform can reach it: anvil serves JSON-RPC to any process that can connect,
with dev methods such as `anvil_impersonateAccount` that would let it act as a member.
The platform talks to it over its IPC socket in the state directory (mode 0600, the
directory 0700), and anvil runs in a network namespace of its own (`unshare --net`), so
its HTTP port exists only there. Where namespaces are not available (no `unshare`, or
unprivileged user namespaces disabled) the HTTP port stays on loopback, with a warning.
"""

from __future__ import annotations

import ctypes
import functools
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

from deployments.chain import ChainError, ChainGateway
from deployments.paths import NODE_MODULES

LOCAL_CHAIN_ID = 31337
SNAPSHOT_INTERVAL_SECONDS = 5  # at least; see SNAPSHOT_COST_SHARE
# A snapshot holds block sealing back while anvil dumps its whole state (seconds, on a big
# chain): the next one waits long enough that they take at most this share of the time.
SNAPSHOT_COST_SHARE = 0.02
START_TIMEOUT_SECONDS = 20.0
PR_SET_PDEATHSIG = 1  # prctl option, <linux/prctl.h>
MAX_SOCKET_PATH = 100  # a Unix socket's path is at most 107 bytes
log = logging.getLogger("deployments.node")


class NodeError(Exception):
    """The embedded node cannot be started; the message says what to do."""


def anvil_binary() -> Path:
    """The anvil binary shipped by the @foundry-rs/anvil npm package for this platform."""
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    system = platform.system().lower()
    candidate = NODE_MODULES / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
    if candidate.exists():
        return candidate
    raise NodeError(
        "anvil is not installed (node_modules/@foundry-rs/anvil): run `make run` to set up"
    )


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def check_state_file(path: Path) -> None:
    """Refuse a state file anvil could not load, before anvil starts and dies on it."""
    if not path.exists():
        return
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NodeError(
            f"the chain state file {path} is unreadable ({type(exc).__name__}); "
            "restore it from a backup, or move it away to start a new chain"
        ) from exc
    if not isinstance(state, dict) or "accounts" not in state:
        raise NodeError(
            f"the chain state file {path} is not an anvil state dump; "
            "restore it from a backup, or move it away to start a new chain"
        )


LOCAL_FUNDING_WEI = 10**24  # what a dev node gives an account for gas


def fund_for_gas(gateway: ChainGateway, address: str) -> None:
    """On a dev node only (anvil's or Hardhat's, whose ether is free: `set_balance`): give
    an account with none ether for gas. On a network nothing: it funds its accounts its
    own way."""
    if gateway.dev_node() is not None and gateway.balance(address) == 0:
        gateway.set_balance(address, LOCAL_FUNDING_WEI)


class LocalNode:
    """An anvil process on a free loopback port, stopped cleanly (state dumped) on `stop()`."""

    def __init__(
        self, state_dir: Path, port: int | None = None, chain_id: int = LOCAL_CHAIN_ID
    ) -> None:
        self.state_dir = state_dir
        self.chain_id = chain_id
        self.state_file = state_dir / "anvil-state.json"
        self.address_file = state_dir / "node.json"  # where a running node can be found
        self.log_file = state_dir / "anvil.log"
        self.port = port or free_loopback_port()
        self.ipc_path = state_dir.resolve() / "node.ipc"
        if len(str(self.ipc_path)) > MAX_SOCKET_PATH:  # a deep data directory
            self.ipc_path = Path(tempfile.mkdtemp(prefix="coop-node-")) / "node.ipc"
        self.process: subprocess.Popen[bytes] | None = None
        self.gateway: ChainGateway | None = None  # one for the node's life, restarts included
        self._stopping = threading.Event()

    @property
    def rpc_url(self) -> str:
        return str(self.ipc_path)

    def start(self) -> ChainGateway:
        binary = anvil_binary()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)
        self._stop_previous()
        check_state_file(self.state_file)
        self.ipc_path.unlink(missing_ok=True)
        args = [
            *private_network(),
            str(binary),
            "--ipc", str(self.ipc_path),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            *(["--load-state", str(self.state_file)] if self.state_file.exists() else []),
            "--no-mining",  # the gateway mines on demand: see ChainGateway._mines_on_demand
            # Past states stay in memory only (the last 500 blocks'): anvil otherwise
            # writes every block's whole state under ~/.foundry/anvil/tmp and never
            # removes it (3.8 GB in one month benchmark). Blocks and logs are all kept.
            "--max-persisted-states", "0",
        ]  # fmt: skip
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_stop_with_parent
            )
        first_start = self.gateway is None
        if self.gateway is None:
            self.gateway = ChainGateway(self.rpc_url)
        gateway = self.gateway
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not gateway.is_reachable():
            if self.process.poll() is not None:
                tail = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
                raise NodeError(f"anvil exited at start: {' '.join(tail) or 'no output'}")
            if time.monotonic() > deadline:
                self.stop()
                raise NodeError(
                    f"anvil did not answer on {self.rpc_url} within {START_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(0.05)
        self.ipc_path.chmod(0o600)
        self.address_file.write_text(json.dumps({"rpc_url": self.rpc_url, "pid": self.process.pid}))
        if first_start:
            threading.Thread(target=self._snapshots, name="node-snapshots", daemon=True).start()
        return gateway

    def snapshot(self) -> None:
        """Write the node's whole state to the state file, atomically, between blocks."""
        if self.gateway is None or not self.is_running():
            return
        with self.gateway.between_blocks():
            dumped = self.gateway.dump_state()
        tmp = self.state_file.with_suffix(".tmp")
        with tmp.open("wb") as file:
            file.write(dumped)
            file.flush()
            os.fsync(file.fileno())
        tmp.replace(self.state_file)

    def _snapshots(self) -> None:
        interval, taken_at = SNAPSHOT_INTERVAL_SECONDS, None
        while not self._stopping.wait(interval):
            started = time.monotonic()
            with suppress(Exception):  # the node is restarting: the next one will do
                head = self.gateway.head() if self.gateway is not None else None
                if head != taken_at:  # an idle chain is not dumped again
                    self.snapshot()
                    taken_at = head
            cost = time.monotonic() - started
            interval = max(SNAPSHOT_INTERVAL_SECONDS, cost / SNAPSHOT_COST_SHARE)

    def _stop_previous(self) -> None:
        """A node a killed platform left behind on this state directory (it gets SIGINT
        when its parent dies, and is dumping its state) must be gone before a new one
        loads the file: two nodes would each write their own chain into it."""
        try:
            pid = int(json.loads(self.address_file.read_text())["pid"])
        except (OSError, ValueError, KeyError):
            return
        if self.process is not None and self.process.pid == pid:
            return
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while _alive(pid) and _is_node_on(pid, self.state_file):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGINT)
            time.sleep(0.1)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Snapshot the state, then stop anvil with SIGINT."""
        self._stopping.set()
        if self.process is None or self.process.poll() is not None:
            self.address_file.unlink(missing_ok=True)
            return
        with suppress(Exception):  # else the last periodic snapshot stands; the outbox has the rest
            self.snapshot()
        self.address_file.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ChainGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_node_on(pid: int, state_file: Path) -> bool:
    """Whether `pid` is an anvil on `state_file` (not another process that got its pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False  # not Linux, or gone: nothing to wait for
    return bool(args) and args[0].endswith(b"anvil") and str(state_file).encode() in args


def running_node_url(state_dir: Path) -> str | None:
    """The RPC URL of the embedded node another process (`coop serve`) is running on this
    state directory, so commands can attach to it instead of starting a second one."""
    try:
        url = json.loads((state_dir / "node.json").read_text())["rpc_url"]
    except (OSError, ValueError, KeyError):
        return None
    return url if ChainGateway(url, request_timeout=2).is_reachable() else None


@functools.cache
def private_network() -> list[str]:
    """The command prefix that starts a process in a network namespace of its own, or
    nothing (with a warning) where this machine cannot make one."""
    prefix = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    if shutil.which("unshare") is not None:
        with suppress(OSError, subprocess.SubprocessError):
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
    log.warning(
        "no network namespace for the embedded node (unshare --net failed): its JSON-RPC "
        "also listens on 127.0.0.1, where any local process can reach it"
    )
    return []


def _stop_with_parent() -> None:
    """In the child, before exec: on Linux, have the kernel send anvil SIGINT if the
    platform process dies without stopping it. (The signal follows the thread that started
    the node: start it from the main thread or a thread that lives as long as the process.)"""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def ensure_tools() -> None:
    """Fail early and clearly when the node toolchain is missing."""
    if shutil.which("node") is None:
        raise NodeError("node is not installed: run `make run` on a machine with Node.js")
    anvil_binary()


__all__ = ["ChainError", "LocalNode", "NodeError", "anvil_binary", "check_state_file"]
