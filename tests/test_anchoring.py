"""Checkpoints of the private cooperative chain on the anchor chain (a second real anvil
node): the anchored root is the RFC 9162 root of the commitment log up to the anchored
block, its block hash and state root are the cooperative chain's, the tree only grows,
a checkpoint's gas does not depend on how many documents it covers, and nothing the
anchor chain receives carries a document, an amount or a member."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from cooperative import merkle
from cooperative.anchoring import ANCHOR_CHAIN_ID, leaves_up_to
from cooperative.platform import Platform
from cooperative.store.models import CheckpointRecord, CommitmentLeaf, QuoteRequestRecord
from tests.conftest import Api
from tests.test_marketplace_api import request_quote


def leaf_count(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(CommitmentLeaf)).one()


def anchored(platform: Platform, record: CheckpointRecord) -> Any:
    return platform.anchoring().chain.checkpoint_log.functions.checkpoints(record.index).call()


def test_checkpoints_anchor_the_commitment_log_and_only_grow(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: int
) -> None:
    aurora = as_member[0]
    assert request_quote(aurora, [addresses[1]], template_id)["errors"] == []
    platform.sync()
    anchoring = platform.anchoring()
    assert anchoring.chain.gateway.chain_id == ANCHOR_CHAIN_ID != platform.gateway.chain_id

    first = anchoring.checkpoint()
    assert first is not None and first.tree_size == leaf_count(platform) > 0
    with Session(platform.engine) as session:
        leaves = leaves_up_to(session, first.source_block)
    assert first.root == "0x" + merkle.root(leaves).hex()
    block = platform.gateway.w3.eth.get_block(first.source_block)
    assert first.source_block_hash == "0x" + bytes(block["hash"]).hex()
    assert first.state_root == "0x" + bytes(block["stateRoot"]).hex()
    on_chain = anchored(platform, first)
    assert (on_chain[0], "0x" + bytes(on_chain[1]).hex(), on_chain[2]) == (
        first.tree_size,
        first.root,
        first.source_block,
    )
    assert anchoring.checkpoint() is None  # the cooperative chain did not move

    sizes, gas = [first.tree_size], []
    for _ in range(2):
        for _ in range(3):
            assert request_quote(aurora, [addresses[1], addresses[2]], template_id)["errors"] == []
        platform.sync()
        later = anchoring.checkpoint()
        assert later is not None and later.tree_size > sizes[-1]
        sizes.append(later.tree_size)
        gas.append(anchoring.chain.gateway.receipt(later.anchor_tx).gas_used)
    assert gas[0] == gas[1], gas  # the same cost for a bigger tree

    # The tree only grows: each checkpoint's tree is a prefix of the next one's.
    with Session(platform.engine) as session:
        checkpoints = session.exec(select(CheckpointRecord).order_by(CheckpointRecord.index)).all()
        tree = merkle.MerkleTree(leaves_up_to(session, checkpoints[-1].source_block))
    for old, new in itertools.pairwise(checkpoints):
        proof = tree.consistency_proof(old.tree_size, new.tree_size)
        assert merkle.verify_consistency(
            old.tree_size,
            new.tree_size,
            bytes.fromhex(old.root[2:]),
            bytes.fromhex(new.root[2:]),
            proof,
        )


def test_the_anchor_chain_receives_only_hashes_and_counts(
    platform: Platform, as_member: list[Api], addresses: list[str]
) -> None:
    """Every transaction input, log and storage write the anchor chain holds is scanned
    for what the cooperative chain keeps private: documents, members, amounts."""
    anchor = platform.anchoring().chain.gateway
    with Session(platform.engine) as session:
        requests = session.exec(select(QuoteRequestRecord)).all()
    secrets: list[bytes] = [bytes.fromhex(a[2:].lower()) for a in addresses]
    for request in requests:
        secrets.append(request.document["site"]["address"].encode())
        secrets.append(request.buyer.encode())
    published = b""
    for number in range(anchor.latest_block() + 1):
        block = anchor.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            published += bytes(tx["input"])
            for entry in anchor.w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                published += bytes(entry["data"]) + b"".join(bytes(t) for t in entry["topics"])
    assert published  # the checkpoints are there
    leaked = [s for s in secrets if s and s in published]
    assert leaked == []


@pytest.mark.e2e
def test_coop_anchor_posts_beside_the_running_server(tmp_path: Path) -> None:
    """`coop anchor` joins a running `coop serve` (and its embedded anchor node): the
    checkpoint lands on the anchor chain, and a second one with nothing new says so."""
    from deployments.node import free_loopback_port
    from tests.test_cli_governance import coop
    from tests.test_e2e import coop_serve

    data_dir = tmp_path / "data"
    with coop_serve(data_dir, free_loopback_port()):
        posted = coop("anchor", "--data-dir", str(data_dir))
        assert posted.returncode == 0, posted.stderr
        assert "checkpoint 0: cooperative block" in posted.stdout
        assert f"on chain {ANCHOR_CHAIN_ID}" in posted.stdout
        again = coop("anchor", "--data-dir", str(data_dir))
        assert again.returncode == 0, again.stderr
        assert "nothing to anchor" in again.stdout
