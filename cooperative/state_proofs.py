"""Offline verification of Ethereum state proofs (`eth_getProof`) against a state root.

A member who holds a block's state root from a source it trusts (an anchored checkpoint,
another node, a light client) can check one of its on-chain records with the node's
`eth_getProof` answer alone: the proof nodes hash up to the root, so a node that lies
about a balance or a storage word cannot make the proof verify. Nothing here talks to a
node; the caller fetches the answer and the root.

The tries (Ethereum yellow paper, appendix D) are "secure": an account sits under
keccak256(address) in the state trie, a storage word under keccak256(slot as 32 bytes)
in the account's storage trie. A proof is the list of RLP-encoded nodes on that path,
from the root: each is referenced by its parent by keccak256 of its encoding, except
nodes whose encoding is shorter than 32 bytes, which sit inline in their parent.
An absent key is proven by the path ending at an empty branch slot or at a leaf or an
extension whose path diverges from the key's.

Vyper 0.4.3 storage layout, as measured on anvil with eth_getStorageAt
(tests/test_state_proofs.py deploys tests/fixtures/StateProofProbe.vy and checks it):

- Variables take slots in declaration order from 0; the base slot of each is in the
  compiler's layout (`vyper -f layout`, `compile_code(src, output_formats=["layout"])`):
  read it from there rather than counting, since e.g. a `@nonreentrant` lock takes slot 0
  when the EVM version has no transient storage (before cancun; the 0.4.3 default,
  prague, puts it in transient storage) and modules nest their own layouts.
- `HashMap[K, V]` at slot p keeps the value of key k at keccak256(p ++ k), each 32 bytes:
  the SLOT FIRST, then the key (Solidity is the other way round: keccak256(k ++ p)).
  A uint256 key is its 32-byte big-endian word, an int256 key its two's complement, an
  address key is left-padded with 12 zero bytes, a bytes32 key is itself; a `Bytes[N]`
  or `String[N]` key is hashed first: keccak256(p ++ keccak256(key bytes)).
- A struct value (in a plain variable or as a HashMap value) takes consecutive slots from
  its base, one per 32-byte member in declaration order (Vyper does not pack members):
  `records[k].period`, the second member, is at hashmap_slot(p, k) + 1.
- A nested map hashes again, with the outer element's slot as the base:
  `allowances[a][k]` is at hashmap_slot(hashmap_slot(p, a), k) (see `nested_slot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from string import hexdigits
from typing import Any

import rlp
from eth_utils import is_hex_address, keccak, to_canonical_address
from rlp.exceptions import RLPException
from rlp.sedes import Binary, List, big_endian_int

WORD = 2**256
EMPTY_TRIE_ROOT = keccak(rlp.encode(b""))  # the root of a trie with no key
EMPTY_CODE_HASH = keccak(b"")  # the code hash of an account without code
KEY_NIBBLES = 64  # a secure trie's path: the 32 bytes of keccak256(key)
HASH_REFERENCE = 32  # a child referenced by hash; a shorter encoding sits inline

ACCOUNT_SEDES = List(
    [big_endian_int, big_endian_int, Binary.fixed_length(32), Binary.fixed_length(32)]
)


class ProofError(ValueError):
    """The proof does not hold together with the root it is checked against."""


@dataclass(frozen=True)
class Account:
    """An account as the state trie stores it."""

    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


EMPTY_ACCOUNT = Account(0, 0, EMPTY_TRIE_ROOT, EMPTY_CODE_HASH)

# ------------------------------------------------------------------ the trie


def _nibbles(data: bytes) -> list[int]:
    """The path of `data` in the trie: its hex digits, high nibble first."""
    return [half for byte in data for half in (byte >> 4, byte & 0x0F)]


def _hex_prefix(encoded: bytes) -> tuple[list[int], bool]:
    """A leaf's or an extension's path and whether it is a leaf (appendix C): the first
    nibble's bit 1 marks a leaf, bit 0 an odd length (the path starts at nibble 1,
    else nibble 1 is padding and must be 0)."""
    if not isinstance(encoded, bytes) or not encoded:
        raise ProofError("a leaf or extension node has no path")
    nibbles = _nibbles(encoded)
    flag = nibbles[0]
    if flag > 3 or (not flag & 1 and nibbles[1] != 0):
        raise ProofError(f"bad hex-prefix flag in path 0x{encoded.hex()}")
    return nibbles[1:] if flag & 1 else nibbles[2:], bool(flag & 2)


def _decode_node(encoded: bytes) -> Any:
    """A node's items (bytes, or lists for inline children); malformed RLP is refused."""
    try:
        return rlp.decode(encoded, strict=True)
    except RLPException as exc:
        raise ProofError(f"malformed RLP node: {exc}") from exc


def _resolve(reference: Any, proof: Sequence[bytes], used: int) -> tuple[Any, int]:
    """The node a parent references, and how many proof nodes are used after it: a
    32-byte reference must be the hash of the next proof node, an inline node (a list)
    is its own (the root always goes by hash)."""
    if isinstance(reference, list):
        if len(rlp.encode(reference)) >= HASH_REFERENCE:
            raise ProofError("a node of 32 bytes or more is inlined instead of hashed")
        # Some nodes list inline children as proof nodes of their own: skip the copy.
        if used < len(proof) and proof[used] == rlp.encode(reference):
            used += 1
        return reference, used
    if not isinstance(reference, bytes) or len(reference) != HASH_REFERENCE:
        raise ProofError("a child reference is neither a hash nor an inline node")
    if used >= len(proof):
        raise ProofError(f"the proof ends before node 0x{reference.hex()}")
    if keccak(proof[used]) != reference:
        raise ProofError(f"proof node {used} is not the node 0x{reference.hex()} referenced")
    return _decode_node(proof[used]), used + 1


def verify_proof(root: bytes, key: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The value the trie with `root` holds under keccak256(key), None if the proof shows
    it holds none; ProofError if the proof does not lead from the root to that answer."""
    if len(root) != HASH_REFERENCE:
        raise ProofError("a trie root is 32 bytes")
    if root == EMPTY_TRIE_ROOT and not proof:
        return None  # nodes answer an empty trie's proof with no node at all
    path = _nibbles(keccak(key))
    reference: Any = root
    used = depth = 0
    while True:
        node, used = _resolve(reference, proof, used)
        if node == b"":  # the empty trie's root node, 0x80
            if depth or used != 1:
                raise ProofError("an empty node below the root")
            value = None
            break
        if not isinstance(node, list):
            raise ProofError("a trie node is not an RLP list")
        if len(node) == 17:
            if depth == KEY_NIBBLES:  # keys of one length never end at a branch
                raise ProofError("the path ends at a branch node")
            reference = node[path[depth]]
            depth += 1
            if reference == b"":
                value = None  # an empty slot: nothing under this key
                break
            continue
        if len(node) != 2:
            raise ProofError(f"a trie node has {len(node)} items (2 or 17)")
        segment, is_leaf = _hex_prefix(node[0])
        rest = path[depth:]
        if is_leaf:
            if len(segment) != len(rest):
                raise ProofError("a leaf's path does not end with the key's")
            value = node[1] if segment == rest else None
            if value is not None and (not isinstance(value, bytes) or not value):
                raise ProofError("a leaf holds no value")
            break
        if not segment or len(segment) >= len(rest):
            raise ProofError("an extension's path is empty or reaches the key's end")
        if rest[: len(segment)] != segment:
            value = None  # the path diverges: no such key
            break
        depth += len(segment)
        reference = node[1]
    if used != len(proof):
        raise ProofError(f"the proof has {len(proof) - used} node(s) past the answer")
    return value


# ------------------------------------------------------------------ accounts and storage


def verify_account(
    state_root: bytes, address: str, account_proof: Sequence[bytes]
) -> Account | None:
    """The account at `address` in the state with `state_root`, None if it has none."""
    if not is_hex_address(address):
        raise ValueError(f"not an address: {address!r}")
    value = verify_proof(state_root, to_canonical_address(address), account_proof)
    if value is None:
        return None
    try:
        nonce, balance, storage_root, code_hash = rlp.decode(value, ACCOUNT_SEDES, strict=True)
    except RLPException as exc:
        raise ProofError(f"the leaf is not an account: {exc}") from exc
    return Account(nonce, balance, storage_root, code_hash)


def verify_storage(storage_root: bytes, slot: int, storage_proof: Sequence[bytes]) -> int:
    """The word at `slot` in the storage trie with `storage_root`: 0 when the trie has no
    such key, as zero words are deleted, not stored (the leaf holds the RLP of the word
    without its leading zero bytes)."""
    if not 0 <= slot < WORD:
        raise ValueError(f"a storage slot is a 256-bit word: {slot}")
    value = verify_proof(storage_root, slot.to_bytes(32, "big"), storage_proof)
    if value is None:
        return 0
    try:
        word = rlp.decode(value, big_endian_int, strict=True)
    except RLPException as exc:
        raise ProofError(f"the leaf is not a storage word: {exc}") from exc
    if not 0 < word < WORD:
        raise ProofError("a storage leaf holds zero or more than 32 bytes")
    return word


def _hex_bytes(text: str) -> bytes:
    """0x-hex from a JSON-RPC answer; anything else is a bad answer, not a crash."""
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ProofError(f"not a 0x-hex string: {text!r}")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as exc:
        raise ProofError(f"not a 0x-hex string: {text!r}") from exc


def _hex_int(text: str) -> int:
    digits = text[2:] if isinstance(text, str) and text.startswith("0x") else ""
    if not digits or any(char not in hexdigits for char in digits):
        raise ProofError(f"not a 0x-hex quantity: {text!r}")
    return int(digits, 16)


def verify_get_proof(state_root: bytes, address: str, answer: dict[str, Any]) -> dict[int, int]:
    """{slot: word} for every storage proof of an `eth_getProof` answer (the raw JSON-RPC
    result) about `address`, once the account proof leads from `state_root` to the
    account the answer describes and every storage proof from its storage root to the
    value the answer claims; ProofError on any mismatch, as the node may lie in any field."""
    claimed_address = answer.get("address", address)
    if not is_hex_address(claimed_address) or (
        to_canonical_address(claimed_address) != to_canonical_address(address)
    ):
        raise ProofError(f"the answer is about {claimed_address}, not {address}")
    try:
        account_proof = [_hex_bytes(node) for node in answer["accountProof"]]
        claimed = Account(
            _hex_int(answer["nonce"]),
            _hex_int(answer["balance"]),
            _hex_bytes(answer["storageHash"]),
            _hex_bytes(answer["codeHash"]),
        )
        storage = answer["storageProof"]
    except (KeyError, TypeError) as exc:
        raise ProofError(f"not an eth_getProof answer: {exc!r}") from exc
    account = verify_account(state_root, address, account_proof) or EMPTY_ACCOUNT
    if account.storage_root != claimed.storage_root:
        raise ProofError("the storage root proven is not the answer's storageHash")
    for name in ("nonce", "balance", "code_hash"):
        if getattr(account, name) != getattr(claimed, name):
            raise ProofError(f"the answer's {name} is not the proven account's")
    values: dict[int, int] = {}
    for item in storage:
        try:
            slot, claimed_value = _hex_int(item["key"]), _hex_int(item["value"])
            proof = [_hex_bytes(node) for node in item["proof"]]
        except (KeyError, TypeError) as exc:
            raise ProofError(f"not a storage proof: {exc!r}") from exc
        value = verify_storage(account.storage_root, slot, proof)
        if value != claimed_value:
            raise ProofError(
                f"slot {slot:#x} holds {value:#x}, the answer claims {claimed_value:#x}"
            )
        values[slot] = value
    return values


# ------------------------------------------------------------------ Vyper 0.4 slots


def _key_word(key: int | bytes | str) -> bytes:
    """A HashMap key as Vyper hashes it: one 32-byte word (see the module docstring)."""
    if isinstance(key, bool):
        raise TypeError("a bool key is ambiguous here: pass int(key)")
    if isinstance(key, int):
        if not -(2**255) <= key < WORD:
            raise ValueError(f"a key must fit a 256-bit word: {key}")
        return (key % WORD).to_bytes(32, "big")  # int256 keys in two's complement
    if isinstance(key, str):
        if not is_hex_address(key):
            raise ValueError(f"a str key is an address: {key!r}")
        return to_canonical_address(key).rjust(32, b"\0")
    if isinstance(key, bytes) and len(key) == 32:
        return key
    raise ValueError("a bytes key is a bytes32 word; hash Bytes/String keys with bytestring_key")


def bytestring_key(data: bytes | str) -> bytes:
    """The word Vyper hashes in place of a `Bytes[N]` or `String[N]` key: its keccak256."""
    return keccak(data.encode() if isinstance(data, str) else data)


def hashmap_slot(base_slot: int, key: int | bytes | str) -> int:
    """The slot of `map[key]` for a Vyper HashMap at `base_slot`: keccak256(slot ++ key).
    An int key is a uint256 (or int256), a str an address, bytes a bytes32 word."""
    if not 0 <= base_slot < WORD:
        raise ValueError(f"a slot is a 256-bit word: {base_slot}")
    return int.from_bytes(keccak(base_slot.to_bytes(32, "big") + _key_word(key)), "big")


def nested_slot(base_slot: int, *keys: int | bytes | str) -> int:
    """The slot of `map[k1][k2]...`: each level hashes the previous level's slot."""
    return reduce(hashmap_slot, keys, base_slot)


def member_slot(element_slot: int, index: int) -> int:
    """The slot of a struct's `index`-th 32-byte member, from the struct's first slot."""
    return (element_slot + index) % WORD
