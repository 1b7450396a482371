"""JSON-RPC over the embedded node's Unix socket (anvil `--ipc`), one connection per
thread: web3's IPCProvider serialises every thread on one socket and parses its buffer
again after every 4 KiB read, which a state dump of many megabytes cannot afford."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse


class NodeUnreachable(ConnectionError):
    """The node's socket cannot be reached or closed mid-answer (the node is restarting):
    one exception for every socket failure, so callers that map connection errors to
    UNAVAILABLE see this one too."""


class UnixSocketProvider(JSONBaseProvider):
    def __init__(self, path: str, timeout: float = 30.0) -> None:
        super().__init__()
        self.path = path
        self.timeout = timeout
        self._local = threading.local()

    def __str__(self) -> str:
        return f"<UnixSocketProvider {self.path}>"

    def _socket(self) -> socket.socket:
        sock = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            self._local.sock = sock
            self._local.buffer = b""
        return sock

    def _exchange(self, request: bytes) -> Any:
        sock = self._socket()
        try:
            sock.sendall(request + b"\n")
        except OSError:
            # the connection outlived its node (restarted since): nothing was read by
            # anyone, so the request goes once more on a new connection
            self._drop()
            sock = self._socket()
            sock.sendall(request + b"\n")
        chunks = [self._local.buffer]
        while b"\n" not in chunks[-1]:  # anvil ends every answer with a newline
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"the node closed {self.path}")
            chunks.append(chunk)
        line, _, self._local.buffer = b"".join(chunks).partition(b"\n")
        return json.loads(line)

    def _drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        if sock is not None:
            sock.close()
        self._local.sock = None
        self._local.buffer = b""

    def _answer(self, request: bytes) -> Any:
        try:
            return self._exchange(request)
        except (OSError, ValueError) as exc:  # (ValueError: an answer cut short)
            self._drop()  # the next request starts on a new connection
            raise NodeUnreachable(f"cannot reach the chain node at {self.path}: {exc}") from exc

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        return self._answer(self.encode_rpc_request(method, params))

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> Any:
        answers = self._answer(self.encode_batch_rpc_request(requests))
        if isinstance(answers, list):
            answers.sort(key=lambda answer: answer.get("id", 0))
        return answers

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            return "result" in self.make_request(RPCEndpoint("web3_clientVersion"), [])
        except (NodeUnreachable, ValueError):
            return False
