"""A Merkle tree over document commitments, exactly as RFC 9162 section 2.1 defines it.

An auditor can reimplement the verifier from this description alone:

- Hash function: SHA-256.
- Leaves are the document commitments (cooperative.commitments) as their 32 raw bytes,
  not their 0x-hex text, in chain order: leaf i is the i-th commitment the chain
  recorded. Nothing else is hashed into a leaf.
- Leaf hash: SHA-256(0x00 || leaf_data). Interior node: SHA-256(0x01 || left || right).
  The one-byte prefixes separate the two domains, so no leaf can be passed off as an
  interior node (or the reverse) to forge a proof (the second-preimage attack on naive
  Merkle trees).
- Tree hash of n leaves D[0:n] (MTH): SHA-256(b"") for n = 0; the leaf hash for n = 1;
  otherwise node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two smaller than n.
  The split is not the midpoint: the left subtree is always complete, which is what lets
  an append-only log prove that an older tree is a prefix of a newer one.
- Inclusion proofs are PATH(m, D[n]) (RFC 9162 2.1.3.1) and are checked by the iterative
  algorithm of 2.1.3.2; consistency proofs are PROOF(m, D[n]) (2.1.4.1), checked by 2.1.4.2.
  Proof elements are raw 32-byte hashes, innermost first.

The recursive functions are the reference implementation, a line-for-line reading of the
RFC. `MerkleTree` gives the same answers for large trees: it hashes every node once and
answers roots and proofs, for the whole tree or any prefix of it, in O(log^2 n) hashes.
The verifiers return False for any malformed input and never raise, because their input
comes from whoever is trying to convince the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the prefix keeps leaves and interior nodes apart."""
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the interior node over two subtree hashes."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): RFC 9162's k, not the midpoint."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, recursively as the RFC writes it."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf data: the reference tree hash."""
    return _mth([leaf_hash(d) for d in leaves])


def _path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, hashes[:k]), _mth(hashes[k:])]
    return [*_path(m - k, hashes[k:]), _mth(hashes[:k])]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) (RFC 9162 2.1.3.1): the reference inclusion proof."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    return _path(index, [leaf_hash(d) for d in leaves])


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        # The old tree's own root is left out only while it is D[0:m] itself: the
        # verifier already holds it.
        return [] if complete else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) (RFC 9162 2.1.4.1): the reference consistency proof.

    Empty for old_size 0 or n: every tree extends the empty one and itself."""
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} is outside 0..{len(leaves)}")
    if old_size == 0:
        return []
    return _subproof(old_size, [leaf_hash(d) for d in leaves], True)


def _is_size(value: object) -> bool:
    # bool is an int subclass; True is not a tree size.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    # bytes is a Sequence too (of ints): accept only a list or tuple of hashes.
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    leaf_data: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether `proof` shows leaf_data at `index` in the tree of `size` leaves with `root`
    (RFC 9162 2.1.3.2). False, never an exception, for any malformed input."""
    if not (
        isinstance(leaf_data, bytes | bytearray)
        and _is_size(index)
        and _is_size(size)
        and index < size
        and _is_proof(proof)
        and _is_hash(root)
    ):
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf_data)
    for p in proof:
        if sn == 0:
            return False  # more proof than the tree is high
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Levels where this node is the unpaired right edge take no proof element.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows the tree of old_size leaves with old_root is a prefix of the
    tree of new_size leaves with new_root (RFC 9162 2.1.4.2). False, never an exception,
    for any malformed input."""
    if not (
        _is_size(old_size)
        and _is_size(new_size)
        and old_size <= new_size
        and _is_hash(old_root)
        and _is_hash(new_root)
        and _is_proof(proof)
    ):
        return False
    # The RFC's algorithm is for 0 < old < new; the two edges need no hashing.
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)  # a complete old tree is its own first node
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)  # a node only the new tree has
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class MerkleTree:
    """Every level of the RFC 9162 tree over a fixed list of leaves, hashed once.

    levels[0] holds the leaf hashes and levels[h][j] the hash of leaves
    [j * 2**h, min((j + 1) * 2**h, n)). An odd last node is carried up unpaired: that is
    the RFC's right edge, so levels[-1][0] is MTH(D[n]). Nodes are plain bytes in lists,
    with no object per node, so a million leaves build in about a second.
    """

    __slots__ = ("levels",)

    def __init__(self, leaves: Iterable[bytes]) -> None:
        sha = hashlib.sha256  # a local name: this loop runs once per leaf
        level = [sha(_LEAF + d).digest() for d in leaves]
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            pairs = iter(level)
            upper = [sha(_NODE + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
            if len(level) & 1:
                upper.append(level[-1])
            self.levels.append(upper)
            level = upper

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def root(self) -> bytes:
        """MTH of all the leaves."""
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def root_at(self, size: int) -> bytes:
        """MTH of the first `size` leaves: the root the tree had at that size."""
        self._check(0, size, self.size, "size")
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]), the same list as `inclusion_proof(leaves[:size], index)`."""
        size = self.size if size is None else size
        self._check(0, size, self.size, "size")
        self._check(0, index, size - 1, "leaf index")
        proof: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                proof.append(self._hash(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._hash(lo, lo + k))
                lo += k
        proof.reverse()  # collected root-down; the RFC lists it leaf-up
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]), the same list as
        `consistency_proof(leaves[:new_size], old_size)`."""
        new_size = self.size if new_size is None else new_size
        self._check(0, new_size, self.size, "new size")
        self._check(0, old_size, new_size, "old size")
        if old_size == 0:
            return []
        proof: list[bytes] = []
        lo, hi, m, complete = 0, new_size, old_size, True
        while m != hi - lo:
            k = _split(hi - lo)
            if m <= k:
                proof.append(self._hash(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._hash(lo, lo + k))
                lo, m, complete = lo + k, m - k, False
        if not complete:
            proof.append(self._hash(lo, hi))
        proof.reverse()
        return proof

    def _hash(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a range the RFC recursion visits (lo a multiple of the
        smallest power of two >= hi - lo), from the stored levels."""
        h = (hi - lo - 1).bit_length()
        if hi == min(lo + (1 << h), self.size):
            return self.levels[h][lo >> h]  # a complete node, or the stored right edge
        # A right edge of a prefix tree: its complete left part is stored, the rest is
        # at most one node per level below.
        return node_hash(self.levels[h - 1][lo >> (h - 1)], self._hash(lo + (1 << (h - 1)), hi))

    @staticmethod
    def _check(low: int, value: int, high: int, what: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{what} {value!r} is outside {low}..{high}")
