"""State proofs (cooperative.state_proofs) against a real anvil and Hardhat's node:
eth_getProof answers verify against the block's state root, any tampering is caught, and
the Vyper 0.4.3 slot helpers find the words a probe contract wrote (eth_getStorageAt)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rlp
import vyper
from eth_account import Account
from eth_utils import keccak

from cooperative.state_proofs import (
    ProofError,
    bytestring_key,
    hashmap_slot,
    member_slot,
    nested_slot,
    verify_account,
    verify_get_proof,
    verify_proof,
    verify_storage,
)
from deployments.chain import ChainGateway
from deployments.compiler import Artifact
from deployments.node import LocalNode

PROBE = Path(__file__).parent / "fixtures" / "StateProofProbe.vy"


@dataclass
class Chain:
    gateway: ChainGateway
    address: str  # the probe contract
    sender: str
    holder: str  # the address key written in `balances` and `allowances`
    layout: dict[str, int]  # variable -> base slot, from the compiler
    written: int  # the block of the writes below
    later: int  # the block that rewrote records[7].amount

    def raw(self, method: str, *params: Any) -> Any:
        response = self.gateway._raw(method, *params)
        assert "error" not in response, response
        return response["result"]

    def root(self, block: int) -> bytes:
        return bytes.fromhex(self.raw("eth_getBlockByNumber", hex(block), False)["stateRoot"][2:])

    def proof(self, slots: list[int], block: int, address: str | None = None) -> dict[str, Any]:
        keys = [f"0x{slot:064x}" for slot in slots]  # anvil wants 32-byte keys
        return self.raw("eth_getProof", address or self.address, keys, hex(block))

    def word(self, slot: int, block: int) -> int:
        return int(self.raw("eth_getStorageAt", self.address, f"0x{slot:064x}", hex(block)), 16)

    def record(self, key: int) -> list[int]:  # the slots of records[key]'s three members
        return [member_slot(hashmap_slot(self.layout["records"], key), i) for i in range(3)]


@pytest.fixture(scope="module", params=["anvil", "hardhat"])
def chain(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Chain]:
    out = vyper.compile_code(
        PROBE.read_text(), output_formats=["abi", "bytecode", "bytecode_runtime", "layout"]
    )
    layout = {name: v["slot"] for name, v in out["layout"]["storage_layout"].items()}
    artifact = Artifact(
        "StateProofProbe", out["abi"], out["bytecode"], out["bytecode_runtime"], "vyper-0.4.3", ""
    )
    node = LocalNode(tmp_path_factory.mktemp("chain")) if request.param == "anvil" else None
    gateway = node.start() if node else ChainGateway(request.getfixturevalue("hardhat"))
    try:
        sender, holder = Account.create(), Account.create().address
        gateway.set_balance(sender.address, 10**21)
        address = gateway.deploy(sender, artifact).contract_address
        assert address is not None
        probe = gateway.contract(address, out["abi"]).functions
        gateway.transact(sender, probe.set_record(7, 111, 222, 333))
        gateway.transact(sender, probe.set_balance(holder, 444))
        gateway.transact(sender, probe.set_label("carrier", -5, 666))
        written = gateway.transact(sender, probe.set_allowance(holder, 9, 555)).block_number
        later = gateway.transact(sender, probe.set_record(7, 999, 222, 333)).block_number
        yield Chain(gateway, address, sender.address, holder, layout, written, later)
    finally:
        if node is not None:
            node.stop()


def test_vyper_hashes_the_slot_before_the_key(chain: Chain) -> None:
    """keccak256(slot ++ key), a uint256 key as its word and an address left-padded; a
    struct's members in consecutive slots; a nested map hashes the outer slot again."""
    records, balances = chain.layout["records"], chain.layout["balances"]
    assert list(chain.layout.values()) == [0, 1, 2, 3, 4, 5]  # declaration order
    assert [chain.word(s, chain.written) for s in chain.record(7)] == [111, 222, 333]
    assert chain.word(hashmap_slot(balances, chain.holder), chain.written) == 444
    assert (
        chain.word(nested_slot(chain.layout["allowances"], chain.holder, 9), chain.written) == 555
    )
    assert chain.word(0, chain.written) == 1  # counter: one set_record so far
    # A String key is hashed first; an int256 key is its two's complement word.
    assert (
        chain.word(hashmap_slot(chain.layout["labels"], bytestring_key("carrier")), chain.written)
        == 666
    )
    assert chain.word(hashmap_slot(chain.layout["signed"], -5), chain.written) == 666
    assert hashmap_slot(5, -5) == hashmap_slot(5, 2**256 - 5)
    # Solidity's order (key first) and an unpadded address hold nothing.
    solidity = int.from_bytes(keccak((7).to_bytes(32, "big") + records.to_bytes(32, "big")))
    unpadded = keccak(balances.to_bytes(32, "big") + bytes.fromhex(chain.holder[2:]))
    assert chain.word(solidity, chain.written) == 0
    assert chain.word(int.from_bytes(unpadded), chain.written) == 0
    assert hashmap_slot(balances, chain.holder.lower()) == hashmap_slot(
        balances, bytes(12) + bytes.fromhex(chain.holder[2:])
    )


def test_get_proof_verifies_against_the_block_state_root(chain: Chain) -> None:
    never = hashmap_slot(chain.layout["records"], 8)  # records[8]: never written
    slots = [*chain.record(7), hashmap_slot(2, chain.holder), nested_slot(3, chain.holder, 9)]
    answer = chain.proof([*slots, 0, never], chain.written)
    values = verify_get_proof(chain.root(chain.written), chain.address, answer)
    assert values == dict(zip([*slots, 0, never], [111, 222, 333, 444, 555, 1, 0], strict=True))
    # The absent slot has a real exclusion proof: nodes down to where its path leaves the trie.
    absent = answer["storageProof"][-1]["proof"]
    assert absent and answer["storageProof"][-1]["value"] == "0x0"
    storage_root = bytes.fromhex(answer["storageHash"][2:])
    assert verify_storage(storage_root, never, [bytes.fromhex(n[2:]) for n in absent]) == 0
    account_proof = [bytes.fromhex(n[2:]) for n in answer["accountProof"]]
    account = verify_account(chain.root(chain.written), chain.address, account_proof)
    assert account is not None and account.storage_root == storage_root and account.nonce == 1
    assert account.code_hash == bytes.fromhex(chain.gateway.codehash(chain.address)[2:])


def test_an_absent_account_is_proven_empty(chain: Chain) -> None:
    nobody = Account.create().address
    answer = chain.proof([0], chain.written, nobody)
    assert verify_get_proof(chain.root(chain.written), nobody, answer) == {0: 0}
    proof = [bytes.fromhex(n[2:]) for n in answer["accountProof"]]
    assert verify_account(chain.root(chain.written), nobody, proof) is None
    answer["balance"] = "0x1"  # a node claiming money on an account the trie has not
    with pytest.raises(ProofError):
        verify_get_proof(chain.root(chain.written), nobody, answer)


def flipped(node: str, at: int) -> str:
    raw = bytearray(bytes.fromhex(node[2:]))
    raw[at % len(raw)] ^= 0x01
    return "0x" + raw.hex()


def test_tampering_is_detected(chain: Chain) -> None:
    root = chain.root(chain.written)
    slots = [*chain.record(7), hashmap_slot(chain.layout["records"], 8)]
    answer = chain.proof(slots, chain.written)
    assert verify_get_proof(root, chain.address, answer)
    tampered: list[dict[str, Any]] = []
    for i, node in enumerate(answer["accountProof"]):
        for at in (0, len(node) // 4, -1):  # the RLP header, an inner byte, the last byte
            bad = copy.deepcopy(answer)
            bad["accountProof"][i] = flipped(node, at)
            tampered.append(bad)
    for s, item in enumerate(answer["storageProof"]):
        for i, node in enumerate(item["proof"]):
            bad = copy.deepcopy(answer)
            bad["storageProof"][s]["proof"][i] = flipped(node, i * 7)
            tampered.append(bad)
        bad = copy.deepcopy(answer)
        bad["storageProof"][s]["value"] = hex(int(item["value"], 16) + 1)
        tampered.append(bad)
    for field, value in [("balance", "0x1"), ("nonce", "0x2"), ("storageHash", "0x" + "11" * 32)]:
        tampered.append({**answer, field: value})
    bad = copy.deepcopy(answer)
    bad["storageProof"][0]["proof"].pop()  # a proof cut short
    tampered.append(bad)
    for bad in tampered:
        with pytest.raises(ProofError):
            verify_get_proof(root, chain.address, bad)
    with pytest.raises(ProofError):  # another block's state root
        verify_get_proof(chain.root(chain.later), chain.address, answer)
    with pytest.raises(ProofError):  # the answer is about another address
        verify_get_proof(root, chain.sender, answer)
    with pytest.raises(ProofError):  # ... even when it claims to be about it
        verify_get_proof(root, chain.sender, {**answer, "address": chain.sender.lower()})


def test_an_older_proof_verifies_against_its_own_block_only(chain: Chain) -> None:
    amount = chain.record(7)[0]
    old = chain.proof([amount], chain.written)
    assert verify_get_proof(chain.root(chain.written), chain.address, old) == {amount: 111}
    with pytest.raises(ProofError):
        verify_get_proof(chain.root(chain.later), chain.address, old)  # records[7] rewritten
    new = chain.proof([amount], chain.later)
    assert verify_get_proof(chain.root(chain.later), chain.address, new) == {amount: 999}
    # With --max-persisted-states 0 anvil still keeps the last 500 blocks' states in memory
    # (Hardhat's node keeps every block's).
    for _ in range(300):
        chain.raw("evm_mine")
    assert chain.gateway.latest_block() - chain.written > 300
    aged = chain.proof([amount], chain.written)
    assert verify_get_proof(chain.root(chain.written), chain.address, aged) == {amount: 111}


def test_inline_nodes_and_malformed_proofs() -> None:
    """Nodes under 32 bytes sit inside their parent: a hand-built trie whose branch and
    leaves are inline in the root extension (a secure trie of real keys rarely has any)."""
    key = b"member"
    path = [n for b in keccak(key) for n in (b >> 4, b & 15)]
    leaf = [bytes([0x30 | path[63]]), b"\x05"]  # odd leaf path: the key's last nibble
    other = [bytes([0x30 | path[63]]), b"\x06"]
    branch: list[Any] = [b""] * 17
    branch[path[62]], branch[(path[62] + 1) % 16] = leaf, other
    assert len(rlp.encode(branch)) < 32
    extension = [bytes([0x00]) + bytes(16 * path[i] + path[i + 1] for i in range(0, 62, 2)), branch]
    node = rlp.encode(extension)
    root = keccak(node)
    assert verify_proof(root, key, [node]) == b"\x05"
    assert verify_proof(root, key, [node, rlp.encode(branch)]) == b"\x05"  # a listed copy
    assert verify_proof(root, b"someone else", [node]) is None  # leaves the extension
    with pytest.raises(ProofError):
        verify_proof(root, key, [node, node])  # a node past the answer
    with pytest.raises(ProofError):
        verify_proof(keccak(b"\xf8\x01"), key, [b"\xf8\x01"])  # malformed RLP
    bad = [b"\x40" + extension[0][1:], branch]  # no such hex-prefix flag
    with pytest.raises(ProofError):
        verify_proof(keccak(rlp.encode(bad)), key, [rlp.encode(bad)])
