"""Anchoring: checkpoints of the private cooperative chain on a public anchor chain.

The cooperative chain holds commercial numbers in clear and only its operator reads it;
the anchor chain is public (Ethereum or an L2 via COOP_ANCHOR_RPC_URL; in the embedded
default a second local node with its own state under `<data-dir>/anchor`). Every
`anchor_every_seconds` (when the cooperative chain moved) and on demand (`coop anchor`),
the operator posts one transaction to the anchor chain's CheckpointLog: the cooperative
chain's block number, hash and state root, and the RFC 9162 Merkle root (cooperative.merkle)
over every document commitment up to that block, in chain order (the commitment log,
cooperative.projectors.commitments), with the tree's size. Nothing else leaves the
cooperative chain: no document, amount or party, only hashes and counts.

The checkpoint is taken at the follower's cursor: every event up to that block is
applied, so the commitment log holds exactly the leaves up to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from web3.contract import Contract

from cooperative.errors import InvalidState, Unavailable
from cooperative.merkle import MerkleTree
from cooperative.settings import Settings
from cooperative.store.database import session_scope
from cooperative.store.models import (
    AnchorContract,
    ChainCursor,
    CheckpointRecord,
    CommitmentLeaf,
)
from deployments.chain import ChainError, ChainGateway, ChainRevert, events_in
from deployments.compiler import Compiler
from deployments.node import LocalNode, NodeError, fund_for_gas, running_node_url

log = logging.getLogger("cooperative.anchoring")

ANCHOR_CHAIN_ID = 31338  # the embedded anchor node's (not the cooperative chain's 31337)
CHECKPOINT_LOG = "CheckpointLog"


@dataclass
class AnchorChain:
    """The anchor chain's gateway, its CheckpointLog, and the embedded node if it is ours."""

    gateway: ChainGateway
    checkpoint_log: Contract
    node: LocalNode | None = None

    @classmethod
    def open(
        cls,
        settings: Settings,
        engine: Engine,
        compiler: Compiler,
        operator: LocalAccount,
        *,
        attach: bool = False,
    ) -> AnchorChain:
        """Reach the anchor chain (COOP_ANCHOR_RPC_URL, or the embedded anchor node: the
        running server's with `attach`, else started here) and its CheckpointLog, deployed
        by the operator the first time."""
        try:
            return cls._open(settings, engine, compiler, operator, attach)
        except (ChainError, NodeError) as exc:
            where = settings.anchor_rpc_url or "the embedded anchor node"
            raise Unavailable(f"the anchor chain ({where}) cannot be used: {exc}") from exc

    @classmethod
    def _open(
        cls,
        settings: Settings,
        engine: Engine,
        compiler: Compiler,
        operator: LocalAccount,
        attach: bool,
    ) -> AnchorChain:
        node = None
        if settings.anchor_rpc_url:
            gateway = ChainGateway(settings.anchor_rpc_url)
        else:
            running = running_node_url(settings.data_dir / "anchor") if attach else None
            if running is not None:
                gateway = ChainGateway(running)
            else:
                node = LocalNode(settings.data_dir / "anchor", chain_id=ANCHOR_CHAIN_ID)
                gateway = node.start()
        fund_for_gas(gateway, operator.address)  # on a dev node only
        artifact = compiler.vyper(CHECKPOINT_LOG)
        with Session(engine) as session:
            record = session.get(AnchorContract, gateway.chain_id)
            if (
                record is not None
                and settings.anchor_rpc_url
                and not gateway.has_code(record.address)
            ):
                # a public chain does not lose a contract: a wrong URL, or a node not synced
                raise ChainError(
                    f"no CheckpointLog at {record.address} on chain {gateway.chain_id}, where "
                    "this platform posted its checkpoints"
                )
            if record is None or not gateway.has_code(record.address):
                # a new anchor chain (or an embedded one whose state was lost: its old
                # checkpoints are gone with it, and are posted anew from here on)
                receipt = gateway.deploy(operator, artifact, operator.address)
                assert receipt.contract_address is not None
                record = AnchorContract(chain_id=gateway.chain_id, address=receipt.contract_address)
                session.merge(record)
                for stale in session.exec(
                    select(CheckpointRecord).where(
                        CheckpointRecord.anchor_chain_id == gateway.chain_id
                    )
                ):
                    session.delete(stale)
                session.commit()
            address = record.address
        if node is not None:
            node.snapshot()
        return cls(gateway, gateway.contract(address, artifact.abi), node)

    def anchored(self) -> list[dict[str, Any]]:
        """Every checkpoint as the anchor chain holds it (the truth the store is checked
        against), in the bundle's field names."""
        return logged_checkpoints(self.checkpoint_log)

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()


# The embedded node keeps the states of its last 500 blocks only (deployments.node): a
# checkpoint this far back gets a successor even if only empty blocks came since, so the
# latest checkpoint's state stays provable (cooperative.proofs.state_proof).
REANCHOR_AFTER_BLOCKS = 250


class Anchoring:
    """Takes checkpoints of the cooperative chain and posts them to the anchor chain."""

    def __init__(
        self, engine: Engine, gateway: ChainGateway, operator: LocalAccount, chain: AnchorChain
    ) -> None:
        self.engine = engine
        self.gateway = gateway  # the cooperative chain's
        self.operator = operator
        self.chain = chain

    def checkpoint(self) -> CheckpointRecord | None:
        """Post a checkpoint at the follower's cursor; None if the last one says it all
        already (no transaction since, or another process just posted)."""
        try:
            return self._post()
        except IntegrityError:  # the server and `coop anchor` recorded one at once
            return None

    def _post(self) -> CheckpointRecord | None:
        with session_scope(self.engine) as session:
            self._catch_up(session)
            cursor = session.exec(select(ChainCursor).where(ChainCursor.name == "chain")).first()
            if cursor is None or cursor.block < 0 or cursor.block_hash is None:
                return None
            last = latest_checkpoint(session)
            if last is not None and last.source_block >= cursor.block:
                return None
            block = self.gateway.w3.eth.get_block(cursor.block)
            block_hash = "0x" + bytes(block["hash"]).hex()
            if block_hash != cursor.block_hash.lower():
                raise InvalidState(
                    f"block {cursor.block} changed since it was indexed; the follower rebuilds "
                    "the read models first: anchor again shortly"
                )
            tree = MerkleTree(leaves_up_to(session, cursor.block))
            state_root = bytes(block["stateRoot"])
            if (
                last is not None
                and last.tree_size == tree.size
                and cursor.block - last.source_block < REANCHOR_AFTER_BLOCKS
                and not any(
                    self.gateway.transaction_count(number)
                    for number in range(last.source_block + 1, cursor.block + 1)
                )
            ):
                # Only empty blocks since (the embedded node's clock seals one when idle;
                # their state roots differ only by the chain's own system contracts): the
                # last checkpoint says all there is, and costs nothing more on the anchor chain.
                return None
            post = self.chain.checkpoint_log.functions.post(
                tree.size, tree.root(), cursor.block, bytes(block["hash"]), state_root
            )
            try:
                receipt = self.chain.gateway.transact(self.operator, post)
            except ChainRevert as exc:
                if "not after the last checkpoint" in exc.reason:
                    return None  # another process (a server, `coop anchor`) just posted it
                raise InvalidState(
                    f"the anchor chain refused the checkpoint: {exc.reason}"
                ) from exc
            except ChainError as exc:
                raise Unavailable(f"the anchor chain cannot be reached: {exc}") from exc
            (posted,) = events_in(receipt, self.chain.checkpoint_log.events.CheckpointPosted)
            record = CheckpointRecord(
                index=posted["index"],
                tree_size=tree.size,
                root="0x" + tree.root().hex(),
                source_block=cursor.block,
                source_block_hash=block_hash,
                state_root="0x" + state_root.hex(),
                anchor_chain_id=self.chain.gateway.chain_id,
                anchor_contract=self.chain.checkpoint_log.address,
                anchor_tx=receipt.tx_hash.lower(),
                anchor_block=receipt.block_number,
                posted_at=datetime.fromtimestamp(
                    self.chain.gateway.block_timestamp(receipt.block_number), UTC
                ),
            )
            session.add(record)
        if self.chain.node is not None:
            self.chain.node.snapshot()
        log.info(
            "checkpoint %d: block %d, %d commitments",
            record.index,
            record.source_block,
            record.tree_size,
        )
        return record

    def _catch_up(self, session: Session) -> None:
        """Record the checkpoints the log has and the store does not (a server that died
        between posting one and committing it): the anchor chain is their truth."""
        log_contract = self.chain.checkpoint_log
        posted = log_contract.functions.checkpoint_count().call()
        last = latest_checkpoint(session)
        for index in range(0 if last is None else last.index + 1, posted):
            (found,) = log_contract.events.CheckpointPosted().get_logs(
                from_block=0, argument_filters={"index": index}
            )
            kept = logged_checkpoint(index, log_contract.functions.checkpoints(index).call())
            session.add(
                CheckpointRecord(
                    index=index,
                    tree_size=kept["treeSize"],
                    root=kept["root"],
                    source_block=kept["sourceBlock"],
                    source_block_hash=kept["sourceBlockHash"],
                    state_root=kept["stateRoot"],
                    anchor_chain_id=self.chain.gateway.chain_id,
                    anchor_contract=log_contract.address,
                    anchor_tx="0x" + bytes(found["transactionHash"]).hex(),
                    anchor_block=found["blockNumber"],
                    posted_at=datetime.fromtimestamp(kept["postedAt"], UTC),
                )
            )
        session.flush()


def logged_checkpoints(checkpoint_log: Any) -> list[dict[str, Any]]:
    """Every checkpoint a CheckpointLog (a web3 contract) holds, oldest first."""
    functions = checkpoint_log.functions
    return [
        logged_checkpoint(index, functions.checkpoints(index).call())
        for index in range(functions.checkpoint_count().call())
    ]


def logged_checkpoint(index: int, kept: Any) -> dict[str, Any]:
    """CheckpointLog's `checkpoints(index)` tuple, in the bundle's field names (postedAt in
    seconds: the anchor chain's clock)."""
    tree_size, root, source_block, source_block_hash, state_root, posted_at = kept
    return {
        "index": index,
        "treeSize": tree_size,
        "root": "0x" + bytes(root).hex(),
        "sourceBlock": source_block,
        "sourceBlockHash": "0x" + bytes(source_block_hash).hex(),
        "stateRoot": "0x" + bytes(state_root).hex(),
        "postedAt": posted_at,
    }


def leaves_up_to(session: Session, block: int) -> list[bytes]:
    """The commitment log's leaves up to `block`, in chain order, as raw 32 bytes."""
    commitments = session.exec(
        select(CommitmentLeaf.commitment)
        .where(CommitmentLeaf.block <= block)
        .order_by(col(CommitmentLeaf.index))
    ).all()
    return [bytes.fromhex(c[2:]) for c in commitments]


def latest_checkpoint(session: Session) -> CheckpointRecord | None:
    return session.exec(
        select(CheckpointRecord).order_by(col(CheckpointRecord.index).desc()).limit(1)
    ).first()
