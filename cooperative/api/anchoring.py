"""Verifiability in the API: the checkpoints posted to the anchor chain (every role sees
them) and a document's inclusion proof against one (cooperative.proofs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlmodel import select
from strawberry.scalars import JSON

from cooperative.access import DataAccess
from cooperative.api.context import AppInfo, query
from cooperative.api.ids import key_of, type_of
from cooperative.api.scalars import BigInt
from cooperative.api.types import Connection
from cooperative.errors import InvalidState, ValidationFailed
from cooperative.proofs import PROVABLE, commitment_proof, consistency_proof, state_proof
from cooperative.store.models import CheckpointRecord


@strawberry.type(
    description="A checkpoint of the cooperative chain, posted to the public anchor chain."
)
class Checkpoint:
    index: int
    tree_size: BigInt  # type: ignore[valid-type]
    root: str = strawberry.field(description="RFC 9162 root of the first treeSize commitments.")
    source_block: BigInt  # type: ignore[valid-type]
    source_block_hash: str
    state_root: str
    anchor_chain_id: BigInt  # type: ignore[valid-type]
    anchor_contract: str
    anchor_tx: str
    anchor_block: BigInt  # type: ignore[valid-type]
    posted_at: datetime

    @classmethod
    def from_row(cls, row: CheckpointRecord) -> Checkpoint:
        return cls(
            index=row.index,
            tree_size=row.tree_size,
            root=row.root,
            source_block=row.source_block,
            source_block_hash=row.source_block_hash,
            state_root=row.state_root,
            anchor_chain_id=row.anchor_chain_id,
            anchor_contract=row.anchor_contract,
            anchor_tx=row.anchor_tx,
            anchor_block=row.anchor_block,
            posted_at=row.posted_at,
        )


@strawberry.type(description="A document's inclusion proof against an anchored checkpoint.")
class CommitmentProof:
    commitment: str
    document: JSON | None = strawberry.field(description="For a party to the document only.")
    salt: str | None = strawberry.field(description="For a party to the document only.")
    leaf_index: BigInt  # type: ignore[valid-type]
    tree_size: BigInt  # type: ignore[valid-type]
    audit_path: list[str]
    checkpoint: Checkpoint
    bundle: JSON = strawberry.field(
        description="All of it as one JSON file, for `coop verify` (hand it to an auditor)."
    )


@strawberry.type(
    description="The proof that an earlier checkpoint's tree is a prefix of a later one's."
)
class ConsistencyProof:
    from_checkpoint: Checkpoint
    to_checkpoint: Checkpoint
    proof: list[str] = strawberry.field(description="RFC 9162 PROOF(m, D[n]), 0x-hex hashes.")


# the record types a state proof is made of, and their kinds in cooperative.proofs
PROVABLE_TYPES = {spec.api_type: kind for kind, spec in PROVABLE.items()}


@strawberry.type(description="A state proof of one of the caller's own on-chain records.")
class StateProof:
    values: JSON = strawberry.field(description="The record's values, as the proof shows them.")
    checkpoint: Checkpoint
    bundle: JSON = strawberry.field(description="All of it as one JSON file, for `coop verify`.")


def _get_proof(info: AppInfo) -> Any:
    gateway = info.context.platform.gateway

    def get(address: str, slots: list[str], block: int) -> dict[str, Any]:
        answer = gateway._raw("eth_getProof", address, slots, hex(block))
        if "error" in answer:
            raise InvalidState(
                "the node can no longer prove the latest checkpoint's block (it keeps the "
                f"states of its last 500 blocks): the next checkpoint will ({answer['error']})"
            )
        return dict(answer["result"])

    return get


@strawberry.type
class AnchoringQuery:
    @strawberry.field(description="Checkpoints posted to the anchor chain, oldest first.")
    def checkpoints(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Checkpoint]:
        return query(
            info,
            lambda access: Connection.from_page(
                access.page(select(CheckpointRecord), CheckpointRecord.index, first, after),
                Checkpoint.from_row,
            ),
        )

    @strawberry.field(
        description="The inclusion proof of a document (its commitment, 0x-hex) against the "
        "latest checkpoint covering it: with the document and salt for its parties; an "
        "auditor gets the commitment's proof alone."
    )
    def commitment_proof(self, info: AppInfo, document_id: str) -> CommitmentProof:
        def work(access: DataAccess) -> CommitmentProof:
            bundle: dict[str, Any] = commitment_proof(access, document_id)
            checkpoint = access.session.get(CheckpointRecord, bundle["checkpoint"]["index"])
            assert checkpoint is not None
            return CommitmentProof(
                commitment=bundle["commitment"],
                document=bundle["document"],
                salt=bundle["salt"],
                leaf_index=bundle["leaf"]["index"],
                tree_size=bundle["leaf"]["treeSize"],
                audit_path=bundle["auditPath"],
                checkpoint=Checkpoint.from_row(checkpoint),
                bundle=bundle,
            )

        return query(info, work)

    @strawberry.field(
        description="The proof, against the latest checkpoint's state root, of one of the "
        "caller's own records as its module's contract holds it (eth_getProof of its "
        "storage words): an SLA credit, an invoice or a trouble ticket, by its id."
    )
    def record_state_proof(self, info: AppInfo, id: strawberry.ID) -> StateProof:
        type_name = type_of(id, "id")
        if type_name not in PROVABLE_TYPES:
            raise ValidationFailed(
                f"id: state proofs are of {', '.join(PROVABLE_TYPES)} records", field="id"
            )
        kind, key = PROVABLE_TYPES[type_name], key_of(id, type_name, "id")

        def work(access: DataAccess) -> StateProof:
            platform = info.context.platform
            spec = PROVABLE[kind]
            bundle = state_proof(
                access,
                kind,
                str(key),
                platform.deployment.contracts[spec.module].address,
                _get_proof(info),
            )
            checkpoint = access.session.get(CheckpointRecord, bundle["checkpoint"]["index"])
            assert checkpoint is not None
            return StateProof(
                values=bundle["values"], checkpoint=Checkpoint.from_row(checkpoint), bundle=bundle
            )

        return query(info, work)

    @strawberry.field(description="The tree only grows: from one checkpoint to a later one.")
    def consistency_proof(self, info: AppInfo, from_index: int, to_index: int) -> ConsistencyProof:
        def work(access: DataAccess) -> ConsistencyProof:
            old, new, proof = consistency_proof(access, from_index, to_index)
            return ConsistencyProof(
                from_checkpoint=Checkpoint.from_row(old),
                to_checkpoint=Checkpoint.from_row(new),
                proof=proof,
            )

        return query(info, work)
