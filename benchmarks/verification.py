"""Verification: what anchoring costs and what a proof costs to check.

- Gas per checkpoint: CheckpointLog on a fresh anvil node, checkpoints covering from one
  to a billion commitments. DESIGN's budget: a checkpoint's gas does not depend on the
  number of documents (only calldata varies, by the zero bytes of the hashes).
- A tree of 1,000,000 commitments (random 32-byte leaves, as a year of a large
  cooperative might make): build time, the inclusion and consistency proofs' size, and
  the time to verify them; a whole bundle's offline verification (`verify_bundle`, the
  core of `coop verify`), against DESIGN's budget of under 1 s.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from benchmarks.config import BenchConfig, BenchResult
from benchmarks.report import print_table
from cooperative import merkle
from cooperative.commitments import canonical
from cooperative.proofs import BUNDLE_FORMAT, verify_bundle
from deployments.compiler import Compiler
from deployments.node import LocalNode

NAME = "verification"
LEAVES = 1_000_000
SAMPLES = 200
TREE_SIZES = (1, 1_000, 1_000_000, 1_000_000_000)


def _median_us(action: object, samples: int = SAMPLES) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1e6)
    return statistics.median(times)


def checkpoint_gas() -> list[dict[str, int]]:
    """Gas of one checkpoint per tree size, on a real node (after a first one)."""
    operator = Account.create()
    with tempfile.TemporaryDirectory() as tmp:
        node = LocalNode(Path(tmp) / "anchor", chain_id=31338)
        gateway = node.start()
        try:
            gateway.set_balance(operator.address, 10**21)
            artifact = Compiler().vyper("CheckpointLog")
            deployed = gateway.deploy(operator, artifact, operator.address)
            log = gateway.contract(str(deployed.contract_address), artifact.abi)
            rows = []
            for block, size in enumerate((0, *TREE_SIZES), start=1):
                root, block_hash, state = os.urandom(32), os.urandom(32), os.urandom(32)
                receipt = gateway.transact(
                    operator, log.functions.post(size, root, block, block_hash, state)
                )
                data = bytes(gateway.w3.eth.get_transaction(receipt.tx_hash)["input"])
                calldata = sum(16 if byte else 4 for byte in data)
                if size:
                    rows.append(
                        {
                            "tree_size": size,
                            "gas": receipt.gas_used,
                            "gas_without_calldata": receipt.gas_used - calldata,
                        }
                    )
        finally:
            node.stop()
    return rows


def proofs_at_scale() -> dict[str, float]:
    leaves = [os.urandom(32) for _ in range(LEAVES)]
    started = time.perf_counter()
    tree = merkle.MerkleTree(leaves)
    build_s = time.perf_counter() - started
    root = tree.root()
    index = LEAVES // 3
    path = tree.inclusion_proof(index)
    old = LEAVES // 2 + 12_345
    consistency = tree.consistency_proof(old)
    old_root = tree.root_at(old)
    salt = os.urandom(32)
    document = {"description": "fibre cut at km 12", "externalId": "INC-1"}
    commitment = keccak(salt + canonical(document))
    # a bundle whose leaf is the real commitment: a tree with it in place of leaf `index`
    leaves[index] = commitment
    tree = merkle.MerkleTree(leaves)
    bundle = {
        "format": BUNDLE_FORMAT,
        "commitment": "0x" + commitment.hex(),
        "document": document,
        "salt": "0x" + salt.hex(),
        "leaf": {"index": index, "treeSize": LEAVES},
        "auditPath": ["0x" + node.hex() for node in tree.inclusion_proof(index)],
        "checkpoint": {"index": 0, "treeSize": LEAVES, "root": "0x" + tree.root().hex()},
    }
    assert all(step.passed for step in verify_bundle(bundle))
    return {
        "leaves": LEAVES,
        "build_seconds": round(build_s, 2),
        "inclusion_hashes": len(path),
        "inclusion_bytes": 32 * len(path),
        "inclusion_verify_us": round(
            _median_us(lambda: merkle.verify_inclusion(leaves[0], 0, LEAVES, path, root)), 1
        ),
        "consistency_hashes": len(consistency),
        "consistency_verify_us": round(
            _median_us(lambda: merkle.verify_consistency(old, LEAVES, old_root, root, consistency)),
            1,
        ),
        "bundle_bytes": len(json.dumps(bundle)),
        "bundle_verify_us": round(_median_us(lambda: verify_bundle(bundle)), 1),
    }


def run(config: BenchConfig) -> BenchResult:
    del config  # neither depends on durations or client counts
    print(f"[{NAME}] gas per checkpoint on a fresh anvil node…", flush=True)
    gas = checkpoint_gas()
    print_table(
        ["commitments covered", "gas", "gas without calldata"],
        [[f"{r['tree_size']:,}", f"{r['gas']:,}", f"{r['gas_without_calldata']:,}"] for r in gas],
    )
    constant = len({r["gas_without_calldata"] for r in gas}) == 1
    print(f"[{NAME}] a tree of {LEAVES:,} commitments…", flush=True)
    scale = proofs_at_scale()
    print_table(
        ["figure", "value"],
        [
            ["build the tree (s)", f"{scale['build_seconds']}"],
            [
                "inclusion proof (hashes / bytes)",
                f"{scale['inclusion_hashes']} / {scale['inclusion_bytes']}",
            ],
            ["verify an inclusion proof (µs, median)", f"{scale['inclusion_verify_us']}"],
            ["consistency proof (hashes)", f"{scale['consistency_hashes']}"],
            ["verify a consistency proof (µs, median)", f"{scale['consistency_verify_us']}"],
            ["bundle (bytes of JSON)", f"{scale['bundle_bytes']:,}"],
            ["verify a bundle offline (µs, median; budget 1 s)", f"{scale['bundle_verify_us']}"],
        ],
    )
    return BenchResult(
        NAME, {"checkpoint_gas": gas, "gas_constant": constant, "at_scale": scale}, valid=constant
    )
