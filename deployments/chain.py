"""The chain gateway: the one way the platform sends transactions and reads the chain.

Per-sender nonces are kept here (so concurrent requests from one member never collide),
receipts are awaited with short polling, and a revert comes back as `ChainRevert` with
the contract's own reason string. Every signed transaction is handed to a journal before
it is sent (the platform's is the store's outbox, cooperative.outbox), so what a crash
interrupts can be sent again, the same bytes; a `Gate` holds senders and block sealing
back while that happens.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

import eth_abi
import eth_abi.exceptions
import requests
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from deployments.abi import decode_event, decode_output, encode_call, event_topic
from deployments.compiler import Artifact
from deployments.ipc import UnixSocketProvider

RECEIPT_POLL_SECONDS = 0.02  # anvil mines on arrival; a real chain answers within a block
FIRST_RECEIPT_POLL_SECONDS = 0.002  # doubled after each miss, up to RECEIPT_POLL_SECONDS
RECEIPT_TIMEOUT_SECONDS = 120.0
FEE_CACHE_SECONDS = 2.0  # fees change per block; asking per transaction doubles round trips
PRIORITY_FEE_WEI = 1_000_000_000  # 1 gwei tip
METHOD_NOT_FOUND = -32601  # JSON-RPC's code for a method the node does not have
DEV_DIALECTS = ("anvil", "hardhat")  # the dev nodes whose own methods the gateway knows
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string): a revert with a reason
NO_REASON = "reverted without a reason"


class ChainError(Exception):
    """The node could not be used (unreachable, wrong chain, timed out)."""


class NonceTaken(ChainError):
    """The journal already holds a transaction of this sender at this nonce (another
    process of the platform signed it): sign again with the next one."""


class NodeRefused(ChainError):
    """The node answered a sent transaction with an error: it will not take those bytes."""


class InsufficientFunds(ChainError):
    """The sender's account cannot pay for the transaction's gas."""


class ChainRevert(Exception):
    """A transaction or call was reverted; `reason` is the contract's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Receipt:
    """What callers need of a mined transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    status: int  # 1 succeeded, 0 reverted
    tx_index: int
    block_hash: str
    contract_address: str | None
    logs: list[dict[str, Any]]  # address (lower case), topics and data (bytes), logIndex


class Signer(Protocol):
    """Who signs a sender's transactions: a local key (eth_account's LocalAccount), or a
    relay of signatures the sender made itself (cooperative.signing.RelayedSigner)."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, tx: dict[str, Any]) -> Any:
        """An object with the signed `raw_transaction` and its `hash`."""


class TransactionJournal(Protocol):
    """Where the gateway records each signed transaction before it sends it. The platform's
    is the store's outbox (cooperative.outbox); without one, nothing outlives the process."""

    def next_nonce(self, sender: str, chain_next: int) -> int:
        """The sender's next nonce: the chain's, or past the journal's own if it is ahead."""

    def record(self, sender: str, nonce: int, raw: bytes, tx_hash: str) -> None:
        """Keep the signed bytes durably; returns only once they are kept. NonceTaken if
        the journal holds another transaction of the sender at that nonce."""

    def discard(self, tx_hash: str) -> None:
        """The node refused the bytes for good: forget them."""

    def replayed(self, sender: str) -> bytes | None:
        """The bytes to answer this step from instead of signing anew (a retry of an
        interrupted request), or None."""

    def mined(self, receipt: Receipt, timestamp: int) -> None:
        """The transaction is in a block (succeeded or reverted)."""


class MemoryJournal:
    """A journal that keeps nothing (tests, tools): nonces come from the chain."""

    def next_nonce(self, sender: str, chain_next: int) -> int:
        return chain_next

    def record(self, sender: str, nonce: int, raw: bytes, tx_hash: str) -> None:
        pass

    def discard(self, tx_hash: str) -> None:
        pass

    def replayed(self, sender: str) -> bytes | None:
        return None

    def mined(self, receipt: Receipt, timestamp: int) -> None:
        pass


class Gate:
    """Open unless a restart or reconciliation holds it closed: senders and miners wait at
    it, so nothing takes a nonce or fills a block height while the journal's transactions
    are being sent again. The thread holding it closed passes."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._closer = threading.RLock()
        self._owner: int | None = None

    def wait_open(self, timeout: float = RECEIPT_TIMEOUT_SECONDS) -> None:
        if self._owner == threading.get_ident():
            return
        if not self._open.wait(timeout):
            raise ChainError("the chain is being reconciled after a restart; retry shortly")

    @contextmanager
    def closed(self) -> Iterator[None]:
        with self._closer:
            outer = self._owner is None
            self._owner = threading.get_ident()
            self._open.clear()
            try:
                yield
            finally:
                if outer:
                    self._owner = None
                    self._open.set()


def events_in(receipt: Receipt, event: Any) -> list[dict[str, Any]]:
    """The decoded arguments of every `event` (a web3 ContractEvent class, e.g.
    `contract.events.Transfer`) its contract emitted in the receipt; other logs are skipped."""
    topic = event_topic(event.abi)
    address = event.address.lower()
    return [
        decode_event(event.abi, log)
        for log in receipt.logs
        if log["topics"] and log["topics"][0] == topic and log["address"] == address
    ]


def _reason(data: bytes | None, message: str) -> str:
    """A revert's reason: Error(string) decoded from its revert data where the node gives
    it, so that every node reports it alike (none for empty data, whatever the node says:
    anvil's simulation "execution failed", Hardhat's "Transaction reverted without a reason
    string"); else the node's message without its prefixes."""
    if data is not None:
        if data[:4] == ERROR_STRING_SELECTOR:
            with suppress(eth_abi.exceptions.DecodingError):
                return str(eth_abi.decode(["string"], data[4:])[0]).strip() or NO_REASON
        if not data:
            return NO_REASON
    return _reason_text(message)


def _simulated_revert_reason(result: dict[str, Any]) -> str:
    """The reason of a reverted eth_simulateV1 call (its return data)."""
    data = result.get("returnData") or result.get("error", {}).get("data") or "0x"
    return _reason(HexBytes(data), str(result.get("error", {}).get("message", "")))


def revert_reason(exc: Exception) -> str:
    """The contract's reason from a web3 revert error: its revert data is the error's data
    on anvil, inside an object on Hardhat; else its message without web3's prefixes."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(message, tuple):
        message = message[0]
    hex_data = isinstance(data, str) and data.startswith("0x")
    return _reason(HexBytes(data) if hex_data else None, message)


def _reason_text(message: str) -> str:
    """A node's revert message without its "execution reverted" prefix."""
    for prefix in ("execution reverted: ", "execution reverted"):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message.strip() or NO_REASON


class ChainGateway:
    """A connection to one EVM JSON-RPC node."""

    def __init__(self, rpc_url: str, request_timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        if rpc_url.startswith(("http://", "https://")):
            # The node is ours: no proxy or .netrc lookup from the environment per request.
            session = requests.Session()
            session.trust_env = False
            provider: Any = Web3.HTTPProvider(
                rpc_url, request_kwargs={"timeout": request_timeout}, session=session
            )
        else:  # a path: the embedded node's Unix socket
            provider = UnixSocketProvider(rpc_url, timeout=request_timeout)
        self.w3 = Web3(provider)
        # web3's default middleware that this gateway does not need: "validation" asks the
        # node for its chain id twice per estimate or call (the gateway checks the chain id
        # once and signs with it), ENS names and gas strategies apply to transactions the
        # node would sign; the gateway signs its own raw transactions.
        for name in ("validation", "ens_name_to_address", "gas_price_strategy", "gas_estimate"):
            self.w3.middleware_onion.remove(name)
        self._nonces: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._fees: tuple[float, int, int] | None = None  # see _latest_block_terms
        self._can_simulate = True  # until the node says it has no eth_simulateV1
        self._dev: tuple[str | None, bool] | None = None  # see dev_node
        self._mining = threading.Lock()
        self._chain_id: int | None = None
        self._timestamps: dict[int, int] = {}
        self.journal: TransactionJournal = MemoryJournal()
        self.sending = Gate()

    # ------------------------------------------------------------------ reading

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._rpc(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def latest_block(self) -> int:
        return self._rpc(lambda: self.w3.eth.block_number)

    def head(self) -> tuple[int, str]:
        """The latest block's number and hash, read together."""
        block = self._raw("eth_getBlockByNumber", "latest", False)["result"]
        return int(block["number"], 16), block["hash"]

    def block_hash(self, number: int) -> str | None:
        """The hash of block `number`, None if the chain has no such block."""
        block = self._raw("eth_getBlockByNumber", hex(number), False).get("result")
        return None if block is None else block["hash"]

    def logs(self, addresses: list[str], from_block: int, to_block: int) -> list[dict[str, Any]]:
        """Every log of `addresses` in the blocks, in chain order (block, log index):
        address (lower case), topics and data (bytes), blockNumber, blockHash, logIndex,
        transactionHash (0x-hex)."""
        response = self._raw(
            "eth_getLogs",
            {"address": addresses, "fromBlock": hex(from_block), "toBlock": hex(to_block)},
        )
        if "error" in response:
            raise ChainError(f"the node could not give the logs: {response['error']}")
        logs = [
            {
                "address": log["address"].lower(),
                "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
                "data": bytes.fromhex(log["data"][2:]),
                "blockNumber": int(log["blockNumber"], 16),
                "blockHash": log["blockHash"],
                "logIndex": int(log["logIndex"], 16),
                "transactionHash": log["transactionHash"],
            }
            for log in response["result"]
        ]
        return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))

    def balance(self, address: str) -> int:
        return int(self._raw("eth_getBalance", address, "latest")["result"], 16)

    def is_reachable(self) -> bool:
        try:
            return self.w3.eth.block_number >= 0
        except Exception:
            return False

    def codehash(self, address: str) -> str:
        """keccak256 of the code at `address`, as EXTCODEHASH gives it ("0x" + 64 hex)."""
        code = self._rpc(lambda: self.w3.eth.get_code(Web3.to_checksum_address(address)))
        return "0x" + keccak(code).hex()

    def has_code(self, address: str) -> bool:
        return len(self._rpc(lambda: self.w3.eth.get_code(Web3.to_checksum_address(address)))) > 0

    def contract(self, address: str, abi: list[dict[str, Any]]) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)

    def call(self, fn: ContractFunction) -> Any:
        """Call a view function; a revert raises `ChainRevert`."""
        try:
            return fn.call()
        except (ContractLogicError, ContractCustomError) as exc:
            raise ChainRevert(revert_reason(exc)) from exc

    # ------------------------------------------------------------------ writing

    def transact(self, sender: Signer, fn: ContractFunction, gas: int | None = None) -> Receipt:
        """Send `fn` as a transaction from `sender` and wait for it to be mined."""
        data = encode_call(fn.abi, fn.args)
        return self._send(sender, {"to": fn.address, "data": data}, gas)

    def deploy(self, sender: LocalAccount, artifact: Artifact, *args: Any) -> Receipt:
        """Deploy `artifact` with constructor `args`; the receipt carries the address."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = self._send(sender, {"data": data}, None)
        if receipt.contract_address is None:
            raise ChainError(f"deploying {artifact.name} created no contract")
        return receipt

    def send_value(self, sender: LocalAccount, to: str, wei: int) -> Receipt:
        return self._send(sender, {"to": Web3.to_checksum_address(to), "value": wei}, 21_000)

    def _send(self, sender: Signer, tx: dict[str, Any], gas: int | None) -> Receipt:
        """Sign `tx`, record it in the journal (the store's outbox: committed before it is
        sent), send it and wait until it is mined. A revert found by the gas simulation
        raises before anything is signed or recorded."""
        tx = {"from": sender.address, "chainId": self.chain_id, "value": 0, **tx}
        recorded = self.journal.replayed(sender.address)
        if recorded is not None:
            return self._resume(recorded, tx)
        if gas is None:
            tx["gas"] = self._gas_limit(tx)
        else:
            tx["gas"] = gas
        tx["maxFeePerGas"] = self._max_fee()
        tx["maxPriorityFeePerGas"] = min(PRIORITY_FEE_WEI, tx["maxFeePerGas"])
        self.sending.wait_open()  # not while a reconciliation re-sends the journal
        with self._sender_lock(sender.address):
            tx_hash = self._sign_record_send(sender, tx)
        try:
            if self._mines_on_demand():
                receipt = self._mine_including(tx_hash)
            else:
                receipt = self._wait_for_raw_receipt(tx_hash)
        except ChainError:
            raise ChainError(
                "the chain node stopped answering after the transaction was recorded; "
                "the platform sends it again when the node is back: retry with the same "
                "idempotency key to learn its outcome"
            ) from None
        self.journal.mined(receipt, self.block_timestamp(receipt.block_number))
        return self._checked(receipt, tx)

    def _resume(self, raw: bytes, tx: dict[str, Any]) -> Receipt:
        """A retry's step that its interrupted first attempt recorded: make sure the node has
        those bytes (harmless if it has them or mined them), then answer from their receipt."""
        self.sending.wait_open()
        with suppress(NodeRefused):  # "nonce too low": mined already; the receipt tells
            self.send_raw(raw)
        tx_hash = HexBytes(keccak(raw))
        if self._mines_on_demand():
            receipt = self._mine_including(tx_hash)
        else:
            receipt = self._wait_for_raw_receipt(tx_hash)
        self.journal.mined(receipt, self.block_timestamp(receipt.block_number))
        tx["gas"] = int(
            self._raw("eth_getTransactionByHash", tx_hash.to_0x_hex())["result"]["gas"], 16
        )
        return self._checked(receipt, tx)

    def _sign_record_send(self, sender: Signer, tx: dict[str, Any]) -> HexBytes:
        """Sign with the sender's next nonce, record, send; the nonce advances only for a
        transaction the node took (or may have taken: it stays in the journal)."""
        for attempt in range(3):
            if sender.address not in self._nonces or attempt > 0:
                pending = self._rpc(
                    lambda: self.w3.eth.get_transaction_count(sender.address, "pending")
                )
                self._nonces[sender.address] = self.journal.next_nonce(sender.address, pending)
            tx["nonce"] = self._nonces[sender.address]
            signed = sender.sign_transaction(tx)
            raw, tx_hash = bytes(signed.raw_transaction), HexBytes(signed.hash)
            try:
                self.journal.record(sender.address, tx["nonce"], raw, tx_hash.to_0x_hex())
            except NonceTaken:
                continue
            try:
                self.send_raw(raw)
            except NodeRefused as exc:
                self.journal.discard(tx_hash.to_0x_hex())  # the node will never take it
                message = str(exc).lower()
                if "nonce" in message and attempt < 2:
                    continue  # another process used this sender: re-read the nonce
                # anvil's and geth's wording, then Hardhat's
                if ("base fee" in message or "basefeepergas" in message) and attempt < 2:
                    # full blocks raised the base fee past the cached offer: offer anew
                    tx["maxFeePerGas"] = self._latest_block_terms(refresh=True)[1]
                    tx["maxPriorityFeePerGas"] = min(PRIORITY_FEE_WEI, tx["maxFeePerGas"])
                    continue
                if "insufficient funds" in message or "enough funds" in message:
                    raise InsufficientFunds(
                        f"{sender.address} cannot pay for the transaction's gas: {exc}"
                    ) from exc
                raise ChainError(f"the node refused the transaction: {exc}") from exc
            except ChainError:
                # The node may or may not have it: the journal keeps it (and its nonce),
                # reconciliation sends it again when the node answers.
                self._nonces[sender.address] += 1
                raise
            self._nonces[sender.address] += 1
            return tx_hash
        raise ChainError("could not find a usable nonce")  # pragma: no cover

    def send_raw(self, raw: bytes) -> None:
        """Send signed bytes. The same bytes again are harmless: the node answers "already
        known" (or "nonce too low" once mined), which the caller checks by receipt."""
        response = self._raw("eth_sendRawTransaction", HexBytes(raw).to_0x_hex())
        if "error" in response:
            message = str(response["error"].get("message", response["error"]))
            if "already known" in message.lower() or "already imported" in message.lower():
                return
            raise NodeRefused(message)

    def forget_nonces(self) -> None:
        """Read every sender's next nonce afresh (after the node lost or rebuilt blocks)."""
        self._nonces.clear()

    def block_timestamp(self, number: int) -> int:
        stamp = self._timestamps.get(number)
        if stamp is None:
            block = self._raw("eth_getBlockByNumber", hex(number), False).get("result") or {}
            stamp = int(block.get("timestamp", "0x0"), 16)
            if len(self._timestamps) > 1024:
                self._timestamps.clear()
            self._timestamps[number] = stamp
        return stamp

    def transaction_count(self, number: int) -> int:
        """How many transactions block `number` holds (0 for an empty block)."""
        count = self._raw("eth_getBlockTransactionCountByNumber", hex(number)).get("result")
        return int(count or "0x0", 16)

    def next_block_time(self) -> int:
        """The time a transaction sent now will be judged by (its block's timestamp): the
        wall clock, or the latest block's time if the chain is ahead of it (a dev node whose
        clock a test moved). Not the latest block's alone: on an idle chain that is stale."""
        latest = self._raw("eth_getBlockByNumber", "latest", False).get("result") or {}
        return max(int(latest.get("timestamp", "0x0"), 16) + 1, int(time.time()))

    def call_many(self, calls: Sequence[Any]) -> list[Any]:
        """Contract reads (web3 ContractFunction objects with their arguments) in one
        JSON-RPC batch, at the latest block, decoded as `decode_output` does: a projection
        that needs the terms of hundreds of records asks once."""
        results: list[Any] = []
        for start in range(0, len(calls), 500):
            chunk = calls[start : start + 500]
            requests = [
                (
                    "eth_call",
                    [
                        {"to": fn.address, "data": "0x" + encode_call(fn.abi, fn.args).hex()},
                        "latest",
                    ],
                )
                for fn in chunk
            ]
            responses = self._rpc(lambda r=requests: self.w3.provider.make_batch_request(r))  # type: ignore[arg-type]
            if isinstance(responses, dict):  # the node refused the batch as a whole
                raise ChainError(f"the node refused a batch of calls: {responses.get('error')}")
            for fn, response in zip(chunk, responses, strict=True):
                if "error" in response:
                    raise ChainError(f"{fn.fn_name} failed: {response['error']}")
                results.append(decode_output(fn.abi, bytes.fromhex(response["result"][2:])))
        return results

    def forget_blocks(self) -> None:
        """The chain forked (a node rollback or reorg): block numbers may name other
        blocks now."""
        self._timestamps.clear()

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt of a mined transaction, or None if the node does not have it."""
        return self._receipt_or_none(HexBytes(tx_hash))

    # Anvil seals a block per transaction when it automines, and each block costs it time
    # in proportion to the whole state (~1.3 µs per storage slot: ~130 ms at the month
    # benchmark's 100k slots, even for an empty block). The embedded node therefore runs
    # with --no-mining and the gateway mines: whoever holds the mining lock seals one
    # block with every transaction sent meanwhile, so concurrent senders share blocks
    # (group commit) while a lone transaction is mined at once, as with automine.

    def _mines_on_demand(self) -> bool:
        """Whether the node is a dev node that does not mine new transactions by itself."""
        return not self._dev_node()[1]

    def dev_node(self) -> str | None:
        """The dev node's dialect ("anvil", "hardhat"): the one whose `<dialect>_getAutomine`
        it answers; None for a network (it mines by itself, and has no dev methods)."""
        return self._dev_node()[0]

    def _dev_node(self) -> tuple[str | None, bool]:
        """(dialect or None, whether it mines new transactions by itself), asked once."""
        if self._dev is None:
            dev: tuple[str | None, bool] = (None, True)
            for dialect in DEV_DIALECTS:
                try:
                    automine = self._raw(f"{dialect}_getAutomine").get("result")
                except ChainError:
                    raise  # unreachable: asked again next time
                except Exception:  # e.g. an HTTP error for an unknown method: not this one
                    continue
                if isinstance(automine, bool):
                    dev = (dialect, automine)
                    break
            self._dev = dev
        return self._dev

    def _why_pending(self, tx_hash: HexBytes) -> str:
        """What keeps a sent transaction out of blocks, for the operator's log."""
        try:
            tx = self._raw("eth_getTransactionByHash", tx_hash.to_0x_hex()).get("result")
            if tx is None:
                return " (the node does not have it)"
            nonce = int(self._raw("eth_getTransactionCount", tx["from"], "latest")["result"], 16)
            base = int(
                self._raw("eth_getBlockByNumber", "latest", False)["result"]["baseFeePerGas"], 16
            )
            return (
                f" (nonce {int(tx['nonce'], 16)}, the sender's next {nonce}; max fee "
                f"{int(tx['maxFeePerGas'], 16)}, base fee {base})"
            )
        except Exception:
            return ""

    def _mine_including(self, tx_hash: HexBytes) -> Receipt:
        """Mine blocks until one includes the transaction: a block takes the pending
        transactions that fit its gas limit, the others wait for the next one."""
        deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self.sending.wait_open()  # no block is sealed while lost ones are rebuilt
            with self._mining:
                receipt = self._receipt_or_none(tx_hash)
                if receipt is not None:
                    return receipt
                self._raw("evm_mine")
        raise ChainError(
            f"transaction {tx_hash.to_0x_hex()} was not mined in time{self._why_pending(tx_hash)}"
        )

    def _wait_for_raw_receipt(self, tx_hash: HexBytes) -> Receipt:
        deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
        # A node mining on arrival has the receipt within milliseconds: poll fast at
        # first, then back off to the steady interval.
        delay = FIRST_RECEIPT_POLL_SECONDS
        while (receipt := self._receipt_or_none(tx_hash)) is None:
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash.hex()} was not mined in time")
            time.sleep(delay)
            delay = min(2 * delay, RECEIPT_POLL_SECONDS)
        return receipt

    def _checked(self, receipt: Receipt, tx: dict[str, Any] | None) -> Receipt:
        """The receipt of a transaction that succeeded; ChainRevert with the reason else."""
        if receipt.status != 1:
            if tx is not None and receipt.gas_used >= tx["gas"]:
                raise ChainRevert(f"the transaction ran out of gas (limit {tx['gas']:,})")
            raise ChainRevert(self._replay_reason(tx, receipt))
        return receipt

    def _receipt_or_none(self, tx_hash: HexBytes) -> Receipt | None:
        """The receipt as the node gives it (web3's formatters cost ~1 ms per log)."""
        response = self._raw("eth_getTransactionReceipt", HexBytes(tx_hash).to_0x_hex())
        if "error" in response:
            raise ChainError(f"the node could not give a receipt: {response['error']}")
        raw = response.get("result")
        if raw is None:
            return None  # not mined yet
        return Receipt(
            tx_hash=raw["transactionHash"],
            block_number=int(raw["blockNumber"], 16),
            tx_index=int(raw["transactionIndex"], 16),
            block_hash=raw["blockHash"],
            gas_used=int(raw["gasUsed"], 16),
            status=int(raw["status"], 16),
            contract_address=(
                Web3.to_checksum_address(raw["contractAddress"])
                if raw.get("contractAddress")
                else None
            ),
            logs=[
                {
                    "address": log["address"].lower(),
                    "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
                    "data": bytes.fromhex(log["data"][2:]),
                    "logIndex": int(log["logIndex"], 16),
                }
                for log in raw["logs"]
            ],
        )

    def _replay_reason(self, tx: dict[str, Any] | None, receipt: Receipt) -> str:
        # A mined transaction that reverted carries no reason; replaying it as a call at
        # its block gives the contract's message.
        if tx is None:
            return "reverted"
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            self.w3.eth.call(call, receipt.block_number - 1)  # type: ignore[arg-type]
        except (ContractLogicError, ContractCustomError) as exc:
            return revert_reason(exc)
        except Exception:
            pass
        return "reverted"

    def _gas_limit(self, tx: dict[str, Any]) -> int:
        """The gas limit to send `tx` with; a revert raises `ChainRevert` with the
        contract's reason before anything is sent. One simulated execution
        (eth_simulateV1) where the node has it; else eth_estimateGas, a binary search of
        ~8 executions (~180 ms for a batch of 500 tickets on anvil, against ~10 ms)."""
        if self._can_simulate and "to" in tx:  # (anvil simulates no contract creation)
            used = self._simulate(tx)
            if used is not None:
                # A simulation reports gas after refunds, which give back at most a fifth
                # of the gas spent (EIP-3529), and each external call keeps 1/64 back; 30 %
                # covers both, and state moving a little before the block is mined.
                return min(used + used * 3 // 10, self._block_gas_limit())
        try:
            estimate = self.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        except (ContractLogicError, ContractCustomError, Web3RPCError) as exc:
            raise ChainRevert(revert_reason(exc)) from exc
        return estimate + estimate // 5  # 20 % headroom: state may move between estimate and mining

    def _simulate(self, tx: dict[str, Any]) -> int | None:
        """Gas used by `tx` executed once on the latest state; None when the node has no
        eth_simulateV1 (the gateway then estimates from then on)."""
        call = {
            "from": tx["from"],
            "to": tx["to"],
            "data": HexBytes(tx["data"]).to_0x_hex(),
            "value": hex(tx["value"]),
        }
        # At the time its block will have: a simulated block otherwise takes the latest
        # block's time (anvil), stale on an idle chain (an outage that started a second
        # ago would be "in the future").
        block = {"blockOverrides": {"time": hex(self.next_block_time())}, "calls": [call]}
        response = self._raw("eth_simulateV1", {"blockStateCalls": [block]}, "latest")
        if "error" in response:
            error = response["error"]
            if (
                error.get("code") == METHOD_NOT_FOUND
                or "method" in str(error.get("message", "")).lower()
            ):
                self._can_simulate = False
                return None
            raise ChainError(f"the node could not simulate the transaction: {error}")
        result = response["result"][0]["calls"][0]
        if int(result["status"], 16) != 1:
            raise ChainRevert(_simulated_revert_reason(result))
        return int(result["gasUsed"], 16)

    def _max_fee(self) -> int:
        return self._latest_block_terms()[1]

    def _block_gas_limit(self) -> int:
        return self._latest_block_terms()[2]

    def _latest_block_terms(self, refresh: bool = False) -> tuple[float, int, int]:
        """(fetched at, max fee per gas to offer, block gas limit), cached briefly."""
        now = time.monotonic()
        if refresh or self._fees is None or now - self._fees[0] > FEE_CACHE_SECONDS:
            block = self._rpc(lambda: self.w3.eth.get_block("latest"))
            base = block.get("baseFeePerGas", 0)
            self._fees = (now, 2 * base + PRIORITY_FEE_WEI, int(block["gasLimit"]))
        return self._fees

    def _sender_lock(self, address: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(address, threading.Lock())

    def _raw(self, method: str, *params: Any) -> dict[str, Any]:
        """A JSON-RPC call as the node answers it ("result" or "error"), without web3's
        formatting: for node-specific methods and the hot paths."""
        return self._rpc(lambda: self.w3.provider.make_request(method, list(params)))  # type: ignore[arg-type]

    def _rpc(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (ContractLogicError, ContractCustomError):
            raise
        except (OSError, ConnectionError) as exc:
            raise ChainError(f"cannot reach the chain node at {self.rpc_url}: {exc}") from exc
        except Exception as exc:
            if "Connection" in type(exc).__name__ or "connect" in str(exc).lower():
                raise ChainError(f"cannot reach the chain node at {self.rpc_url}") from exc
            raise

    # ------------------------------------------------------------------ local nodes only

    def _dev_call(self, method: str, *params: Any) -> Any:
        """A dev node's own method `<dialect>_<method>` (e.g. setBalance), its result;
        ChainError on a network, which has none."""
        dialect = self.dev_node()
        if dialect is None:
            raise ChainError(f"the node at {self.rpc_url} is not a dev node: no {method}")
        response = self._raw(f"{dialect}_{method}", *params)
        if "error" in response:
            raise ChainError(f"the node refused {dialect}_{method}: {response['error']}")
        return response["result"]

    def set_balance(self, address: str, wei: int) -> None:
        """Fund an account on a dev node (`anvil_setBalance`, `hardhat_setBalance`); real
        networks fund accounts for real."""
        self._dev_call("setBalance", address, hex(wei))

    @contextmanager
    def between_blocks(self) -> Iterator[None]:
        """Hold off this gateway's block sealing (on a node that mines on demand)."""
        with self._mining:
            yield

    def seal_block_unless_moved(self, block: int) -> bool:
        """Seal a block now (`evm_mine`, on a node that mines on demand) unless the chain
        has moved past `block` meanwhile; returns whether it sealed one. What keeps an idle
        dev chain's clock following the wall clock (cooperative.platform.keep_clock)."""
        self.sending.wait_open()  # never between the blocks a reconciliation rebuilds
        with self._mining:
            if self.latest_block() != block:
                return False
            self._raw("evm_mine")
            return True

    def dump_state(self) -> bytes:
        """The node's whole state as anvil loads it back (`--load-state`): JSON. Anvil's
        own (the embedded node's snapshots); Hardhat's node has none."""
        response = self._raw("anvil_dumpState")
        if "error" in response:
            raise ChainError(f"the node could not dump its state: {response['error']}")
        return gzip.decompress(bytes.fromhex(response["result"][2:]))

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """The next block's time (anvil's and Hardhat's `evm_setNextBlockTimestamp`), to
        rebuild lost blocks at the times they had."""
        response = self._raw("evm_setNextBlockTimestamp", timestamp)
        if "error" in response:
            raise ChainError(f"the node refused the next block's time: {response['error']}")

    def set_clock(self, timestamp: int) -> None:
        """Set anvil's clock (`evm_setTime`): a node started from a state file refuses any
        next-block time before its start until its clock is set back to the chain's. Anvil's
        own (Hardhat has no evm_setTime): only the embedded node's reconciliation uses it."""
        response = self._raw("evm_setTime", timestamp)
        if "error" in response:
            raise ChainError(f"the node refused to set its clock: {response['error']}")

    def mine_pending(self, tx_hashes: list[str]) -> None:
        """Have every one of `tx_hashes` (sent already) mined: on a node that mines on
        demand, seal blocks until they are in; else wait for them."""
        for tx_hash in tx_hashes:
            if self._mines_on_demand():
                self._mine_including(HexBytes(tx_hash))
            else:
                self._wait_for_raw_receipt(HexBytes(tx_hash))

    def increase_time(self, seconds: int) -> None:
        """Move a dev node's clock forward and mine a block (tests, never production):
        `evm_increaseTime` and `evm_mine`, which anvil and Hardhat both have."""
        self._raw("evm_increaseTime", seconds)
        self._raw("evm_mine")
