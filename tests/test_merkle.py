"""The RFC 9162 Merkle tree: the published Certificate Transparency vectors, the fast
tree against the recursive reference for every small shape, and the verifiers rejecting
every tampering without raising."""

from __future__ import annotations

import hashlib

import pytest

from cooperative.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The reference leaves and hashes of Google's certificate-transparency implementations
# (transparency-dev/merkle testonly/constants.go and proof/verify_test.go).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [  # by tree size, 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (index, size, proof); the Go vectors number leaves from 1
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

MAX_SIZE = 40
# Distinct 32-byte commitments, like the ones the tree is for.
LEAVES = [hashlib.sha256(b"commitment %d" % i).digest() for i in range(MAX_SIZE + 1)]
BIG = MerkleTree(LEAVES[:MAX_SIZE])
OTHER_ROOT = hashlib.sha256(b"some other tree").digest()


def unhex(proof: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in proof]


def flipped(proof: list[bytes], i: int, byte: int) -> list[bytes]:
    wrong = list(proof)
    wrong[i] = bytes([b ^ 0x08 if j == byte else b for j, b in enumerate(proof[i])])
    return wrong


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_shape(index: int, size: int) -> list[bool]:
    """Which side each sibling of PATH(index, D[size]) is on, leaf-up: the only thing the
    verifier learns from (index, size). A proof checked under another (index, size) is
    the same computation, and must pass, exactly when this is unchanged."""
    if size == 1:
        return []
    k = _split(size)
    if index < k:
        return [*inclusion_shape(index, k), True]
    return [*inclusion_shape(index - k, size - k), False]


def consistency_shape(old: int, new: int) -> tuple[bool, list[bool]]:
    """Whether PROOF(old, D[new]) starts from the old root, and which siblings only the
    new tree has, leaf-up: the same role for verify_consistency as inclusion_shape."""
    if old == new:
        return True, []
    k = _split(new)
    if old <= k:
        complete, sides = consistency_shape(old, k)
        return complete, [*sides, True]
    _, sides = consistency_shape(old - k, new - k)
    return False, [*sides, False]


def test_hashing_is_domain_separated_sha256():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert (
        node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()
    )
    assert leaf_hash(b"\x01" + b"l" * 32 + b"r" * 32) != node_hash(b"l" * 32, b"r" * 32)


def test_roots_are_the_certificate_transparency_vectors():
    assert root([]).hex() == EMPTY_ROOT.hex() == CT_ROOTS[0]
    assert MerkleTree([]).root() == EMPTY_ROOT
    tree = MerkleTree(CT_LEAVES)
    for size, want in enumerate(CT_ROOTS):
        assert root(CT_LEAVES[:size]).hex() == want
        assert tree.root_at(size).hex() == want
        assert MerkleTree(CT_LEAVES[:size]).root().hex() == want
    assert tree.root().hex() == CT_ROOTS[8]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_inclusion_proofs_are_the_certificate_transparency_vectors(index, size, proof):
    want = unhex(proof)
    assert inclusion_proof(CT_LEAVES[:size], index) == want
    assert MerkleTree(CT_LEAVES).inclusion_proof(index, size) == want
    assert verify_inclusion(CT_LEAVES[index], index, size, want, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_consistency_proofs_are_the_certificate_transparency_vectors(old, new, proof):
    want = unhex(proof)
    assert consistency_proof(CT_LEAVES[:new], old) == want
    assert MerkleTree(CT_LEAVES).consistency_proof(old, new) == want
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, want)


def test_the_split_is_the_largest_power_of_two_not_the_midpoint():
    a, b, c = (leaf_hash(d) for d in LEAVES[:3])
    assert root(LEAVES[:3]) == node_hash(node_hash(a, b), c)
    assert root(LEAVES[:3]) != node_hash(a, node_hash(b, c))


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_the_tree_equals_the_reference(size):
    leaves = LEAVES[:size]
    tree = MerkleTree(leaves)
    assert tree.levels[0] == [leaf_hash(d) for d in leaves]
    assert tree.root() == BIG.root_at(size) == root(leaves)
    for index in range(size):
        want = inclusion_proof(leaves, index)
        assert tree.inclusion_proof(index) == BIG.inclusion_proof(index, size) == want
    for old in range(size + 1):
        want = consistency_proof(leaves, old)
        assert tree.consistency_proof(old) == BIG.consistency_proof(old, size) == want


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proofs_verify_and_every_tampering_is_rejected(size):
    top = BIG.root_at(size)
    for index in range(size):
        leaf, proof = LEAVES[index], BIG.inclusion_proof(index, size)
        assert verify_inclusion(leaf, index, size, proof, top)
        assert verify_inclusion(leaf, index, size, tuple(proof), top)

        assert not verify_inclusion(LEAVES[MAX_SIZE], index, size, proof, top)
        assert not verify_inclusion(leaf + b"\x00", index, size, proof, top)
        for i in range(len(proof)):
            for byte in (0, 31):
                assert not verify_inclusion(leaf, index, size, flipped(proof, i, byte), top)
        assert not verify_inclusion(leaf, index, size, proof, OTHER_ROOT)
        assert not verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], top)
            assert not verify_inclusion(leaf, index, size, proof[1:], top)
        for extra in (top, OTHER_ROOT, *proof[:1]):
            assert not verify_inclusion(leaf, index, size, [*proof, extra], top)
            assert not verify_inclusion(leaf, index, size, [extra, *proof], top)

        # Any other (index, size) claim: accepted exactly when the verifier's computation
        # is the same one, which the RFC cannot tell apart (leaf 0 of 8 has the same path
        # in 7). For another index in the same tree that never happens.
        shape = inclusion_shape(index, size)
        for claimed_size in range(1, 2 * size + 2):
            for claimed in {index - 1, index + 1, index ^ 2, index, 0, claimed_size - 1}:
                if (claimed, claimed_size) == (index, size) or not 0 <= claimed < claimed_size:
                    continue
                same = inclusion_shape(claimed, claimed_size) == shape
                assert verify_inclusion(leaf, claimed, claimed_size, proof, top) is same
                if claimed_size == size:
                    assert not same
        for claimed, claimed_size in ((index, index), (size, size), (-1, size), (index, 0)):
            assert not verify_inclusion(leaf, claimed, claimed_size, proof, top)
        assert not verify_inclusion(leaf, index, size * 2, proof, top)


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_consistency_proofs_verify_and_every_tampering_is_rejected(size):
    new_root = BIG.root_at(size)
    for old in range(size + 1):
        old_root, proof = BIG.root_at(old), BIG.consistency_proof(old, size)
        assert verify_consistency(old, size, old_root, new_root, proof)
        if old in (0, size):
            assert proof == []
            continue
        assert proof

        for i in range(len(proof)):
            for byte in (0, 31):
                assert not verify_consistency(
                    old, size, old_root, new_root, flipped(proof, i, byte)
                )
        assert not verify_consistency(old, size, OTHER_ROOT, new_root, proof)
        assert not verify_consistency(old, size, old_root, OTHER_ROOT, proof)
        assert not verify_consistency(old, size, new_root, old_root, proof)
        assert not verify_consistency(old, size, old_root, new_root, [])
        assert not verify_consistency(old, size, old_root, new_root, proof[:-1])
        assert not verify_consistency(old, size, old_root, new_root, proof[1:])
        for extra in (old_root, new_root, OTHER_ROOT, proof[0]):
            assert not verify_consistency(old, size, old_root, new_root, [*proof, extra])
            assert not verify_consistency(old, size, old_root, new_root, [extra, *proof])

        # As for inclusion: another claim passes only as the very same computation.
        shape = consistency_shape(old, size)
        for claimed_new in range(1, 2 * size + 2):
            for claimed_old in {old - 1, old + 1, old ^ 2, old, old * 2, 1, claimed_new}:
                if (claimed_old, claimed_new) == (old, size) or not 0 < claimed_old <= claimed_new:
                    continue
                same = consistency_shape(claimed_old, claimed_new) == shape
                claim = verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
                assert claim is same
        assert not verify_consistency(0, size, old_root, new_root, proof)
        assert not verify_consistency(size, old, old_root, new_root, proof)


def test_consistency_edges():
    one, two = BIG.root_at(1), BIG.root_at(2)
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, BIG.root_at(5), [])
    assert not verify_consistency(0, 5, one, BIG.root_at(5), [])  # the empty tree has one root
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert verify_consistency(2, 2, two, two, [])
    assert not verify_consistency(2, 2, two, one, [])
    assert not verify_consistency(2, 2, two, two, [two])
    assert not verify_consistency(2, 1, two, one, [])  # a log does not shrink


def test_malformed_input_is_rejected_without_raising():
    leaf, proof, top = LEAVES[2], BIG.inclusion_proof(2, 5), BIG.root_at(5)
    assert verify_inclusion(leaf, 2, 5, proof, top)
    for args in (
        (None, 2, 5, proof, top),
        ("text", 2, 5, proof, top),
        (leaf, -1, 5, proof, top),
        (leaf, 2, -5, proof, top),
        (leaf, 5, 5, proof, top),
        (leaf, 2, 0, proof, top),
        (leaf, 2.0, 5, proof, top),
        (leaf, "2", 5, proof, top),
        (leaf, None, 5, proof, top),
        (leaf, 2, 5.0, proof, top),
        (leaf, True, 5, proof, top),
        (leaf, 2, 5, None, top),
        (leaf, 2, 5, b"".join(proof), top),
        (leaf, 2, 5, [p.hex() for p in proof], top),
        (leaf, 2, 5, [*proof[:-1], proof[-1][:31]], top),
        (leaf, 2, 5, [*proof[:-1], proof[-1] + b"\x00"], top),
        (leaf, 2, 5, [*proof[:-1], None], top),
        (leaf, 2, 5, proof, top[:31]),
        (leaf, 2, 5, proof, top.hex()),
        (leaf, 2, 5, proof, None),
        (leaf, 2, 2**200, proof, top),
        (leaf, 2, 2**200, proof * 100, top),
    ):
        assert verify_inclusion(*args) is False, args

    old_root, new_root, proof = BIG.root_at(3), BIG.root_at(7), BIG.consistency_proof(3, 7)
    assert verify_consistency(3, 7, old_root, new_root, proof)
    for args in (
        (-3, 7, old_root, new_root, proof),
        (3, -7, old_root, new_root, proof),
        (7, 3, old_root, new_root, proof),
        (3.0, 7, old_root, new_root, proof),
        (3, "7", old_root, new_root, proof),
        (True, 7, old_root, new_root, proof),
        (None, None, old_root, new_root, proof),
        (3, 7, None, new_root, proof),
        (3, 7, old_root, new_root[:31], proof),
        (3, 7, old_root.hex(), new_root, proof),
        (3, 7, old_root, new_root, None),
        (3, 7, old_root, new_root, b"".join(proof)),
        (3, 7, old_root, new_root, [*proof[:-1], proof[-1][:31]]),
        (3, 7, old_root, new_root, [*proof[:-1], 7]),
        (3, 2**200, old_root, new_root, proof),
        (3, 2**200, old_root, new_root, proof * 100),
    ):
        assert verify_consistency(*args) is False, args


def test_proof_requests_outside_the_tree_are_refused():
    with pytest.raises(ValueError):
        BIG.inclusion_proof(MAX_SIZE)
    with pytest.raises(ValueError):
        BIG.inclusion_proof(3, 3)
    with pytest.raises(ValueError):
        BIG.inclusion_proof(-1)
    with pytest.raises(ValueError):
        BIG.inclusion_proof(0, MAX_SIZE + 1)
    with pytest.raises(ValueError):
        BIG.root_at(MAX_SIZE + 1)
    with pytest.raises(ValueError):
        BIG.consistency_proof(5, 4)
    with pytest.raises(ValueError):
        BIG.consistency_proof(1, MAX_SIZE + 1)
    with pytest.raises(ValueError):
        MerkleTree([]).inclusion_proof(0)
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES[:3], 4)


def test_a_hundred_thousand_leaves_agree_with_the_reference():
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000)]
    tree = MerkleTree(leaves)
    assert tree.root() == root(leaves)
    for size in (1, 2, 65_536, 65_537, 99_999):
        assert tree.root_at(size) == root(leaves[:size])
    for index, size in ((0, 100_000), (99_999, 100_000), (65_536, 70_001), (12_345, 65_536)):
        proof = tree.inclusion_proof(index, size)
        assert proof == inclusion_proof(leaves[:size], index)
        assert verify_inclusion(leaves[index], index, size, proof, tree.root_at(size))
    for old, new in ((1, 100_000), (65_536, 100_000), (70_001, 99_999), (99_999, 100_000)):
        proof = tree.consistency_proof(old, new)
        assert proof == consistency_proof(leaves[:new], old)
        assert verify_consistency(old, new, tree.root_at(old), tree.root_at(new), proof)
