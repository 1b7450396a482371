"""Inclusion proofs of documents against anchored checkpoints, as one JSON bundle a member
hands to an auditor, and their offline verification (`coop verify`).

A bundle holds the document and its salt (for a party; an auditor asking the platform
gets the commitment alone), the commitment, its leaf index in the commitment log, the
RFC 9162 audit path to the root of the first `treeSize` commitments, and the checkpoint
that anchored that root: the cooperative chain's block, and where on the anchor chain
the checkpoint was posted. Verifying it needs nothing from the platform:

1. keccak256(salt || canonical JSON of the document) is the commitment
   (cooperative.commitments);
2. the audit path leads from the commitment's leaf to the root (cooperative.merkle);
3. the path's tree is the checkpoint's tree (same size);
4. optionally, the anchor chain's CheckpointLog holds that checkpoint (its RPC is asked).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from cooperative import merkle
from cooperative.access import DataAccess
from cooperative.anchoring import leaves_up_to, logged_checkpoint
from cooperative.commitments import verify as opens_commitment
from cooperative.errors import InvalidState, NotFound, ValidationFailed
from cooperative.store.models import (
    CheckpointRecord,
    CommitmentLeaf,
    InvoiceRecord,
    OrderRecord,
    QuoteRecord,
    QuoteRequestRecord,
    Role,
    ServiceRecord,
    TroubleTicketRecord,
)

BUNDLE_FORMAT = "carriercoop.commitment-proof/1"
HASHING = (
    "commitment = keccak256(salt || canonical JSON of the document: sorted keys, no spaces, "
    "UTF-8); leaves are the commitments' 32 bytes in chain order; RFC 9162 Merkle tree "
    "with SHA-256: leaf = SHA-256(0x00 || commitment), node = SHA-256(0x01 || left || right)"
)
# The private records that keep a committed document and its salt, for their parties.
DOCUMENT_RECORDS = (
    QuoteRequestRecord,
    QuoteRecord,
    OrderRecord,
    ServiceRecord,
    TroubleTicketRecord,
    InvoiceRecord,
)


def _is_commitment(text: str) -> bool:
    body = text[2:] if text.startswith("0x") else ""
    return len(body) == 64 and all(c in "0123456789abcdef" for c in body.lower())


# ---------------------------------------------------------------- making a bundle


class _TreeCache:
    """The tree of the latest checkpoint asked for: built once (about 1 s for a million
    commitments), then every proof against that checkpoint comes from it. A tree that
    does not give the checkpoint's root (the log is being rebuilt) is never kept."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._key: tuple[str, int, str] | None = None
        self._tree: merkle.MerkleTree | None = None

    def tree(self, session: Session, checkpoint: CheckpointRecord) -> merkle.MerkleTree:
        key = (str(session.get_bind().url), checkpoint.index, checkpoint.root)
        with self._guard:
            if self._key == key and self._tree is not None:
                return self._tree
            tree = merkle.MerkleTree(leaves_up_to(session, checkpoint.source_block))
            size = checkpoint.tree_size
            if tree.size < size or "0x" + tree.root_at(size).hex() != checkpoint.root:
                raise InvalidState(
                    "the commitment log does not give this checkpoint's root yet (it is being "
                    "rebuilt): ask again shortly"
                )
            self._tree, self._key = tree, key
            return tree


_trees = _TreeCache()


def commitment_proof(access: DataAccess, document_id: str) -> dict[str, Any]:
    """The bundle proving `document_id` (a commitment, 0x-hex) against the latest
    checkpoint that covers it. A member gets it for a document it is a party to (with the
    document and salt); an auditor or admin for any commitment (without them)."""
    commitment = document_id.strip().lower()
    if not _is_commitment(commitment):
        raise ValidationFailed(
            "a document id is its commitment: 0x and 64 hex digits", field="documentId"
        )
    session = access.session
    document, salt = None, None
    if access.viewer.role is Role.MEMBER:
        record = next(
            (
                found
                for model in DOCUMENT_RECORDS
                if (
                    found := session.exec(
                        access.private(model).where(model.commitment == commitment)  # type: ignore[attr-defined]
                    ).first()
                )
                is not None
            ),
            None,
        )
        if record is None:
            raise NotFound(f"document {commitment} does not exist")
        document, salt = record.document, record.salt  # type: ignore[attr-defined]
    leaf = session.exec(
        select(CommitmentLeaf)
        .where(CommitmentLeaf.commitment == commitment)
        .order_by(col(CommitmentLeaf.index))
    ).first()
    if leaf is None:
        if document is None:
            raise NotFound(f"document {commitment} does not exist")
        raise InvalidState("the document's transaction is not indexed yet: ask again shortly")
    checkpoint = session.exec(
        select(CheckpointRecord)
        .where(CheckpointRecord.tree_size > leaf.index)
        .order_by(col(CheckpointRecord.index).desc())
        .limit(1)
    ).first()
    if checkpoint is None:
        raise InvalidState(
            "no checkpoint covers this document yet: the next one will (or run `coop anchor`)"
        )
    tree = _trees.tree(session, checkpoint)
    path = tree.inclusion_proof(leaf.index, checkpoint.tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "hashing": HASHING,
        "commitment": commitment,
        "document": document,
        "salt": salt,
        "leaf": {"index": leaf.index, "treeSize": checkpoint.tree_size},
        "auditPath": ["0x" + node.hex() for node in path],
        "checkpoint": checkpoint_json(checkpoint),
    }


def checkpoint_json(checkpoint: CheckpointRecord) -> dict[str, Any]:
    return {
        "index": checkpoint.index,
        "treeSize": checkpoint.tree_size,
        "root": checkpoint.root,
        "sourceBlock": checkpoint.source_block,
        "sourceBlockHash": checkpoint.source_block_hash,
        "stateRoot": checkpoint.state_root,
        "anchorChainId": checkpoint.anchor_chain_id,
        "anchorContract": checkpoint.anchor_contract,
        "anchorTx": checkpoint.anchor_tx,
        "anchorBlock": checkpoint.anchor_block,
        "postedAt": checkpoint.posted_at.isoformat(),
    }


# ---------------------------------------------------------------- verifying one


@dataclass(frozen=True)
class Step:
    """One check `coop verify` made, and what it found."""

    name: str
    passed: bool
    detail: str


class UnreadableBundle(ValueError):
    """The bundle is not one: a field is missing or of the wrong shape."""


def _hash32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _is_commitment(value.lower()):
        raise UnreadableBundle(f"{what} is not 0x and 64 hex digits")
    return bytes.fromhex(value[2:])


def verify_bundle(
    bundle: Any,
    anchored: Callable[[dict[str, Any]], Step] | None = None,
    module_address: str | None = None,
) -> list[Step]:
    """Every check of a bundle, in order (see the module's docstring); `anchored` asks the
    anchor chain about the checkpoint; `module_address`, the cooperative's published
    address of a state bundle's module, is where its record must be read. UnreadableBundle
    if it is not a bundle at all."""
    try:
        return _verify_bundle(bundle, anchored, module_address)
    except UnreadableBundle:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError) as exc:
        # whatever shape the author gave it, a malformed bundle is a verdict, not a crash
        raise UnreadableBundle(f"the bundle is malformed: {exc!r}") from exc


def _verify_bundle(
    bundle: Any, anchored: Callable[[dict[str, Any]], Step] | None, module_address: str | None
) -> list[Step]:
    if isinstance(bundle, dict) and bundle.get("format") == STATE_FORMAT:
        return verify_state_bundle(bundle, anchored, module_address)
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise UnreadableBundle(f"not a {BUNDLE_FORMAT} or {STATE_FORMAT} bundle")
    try:
        commitment = _hash32(bundle["commitment"], "the commitment")
        leaf, checkpoint = bundle["leaf"], bundle["checkpoint"]
        index, size = leaf["index"], leaf["treeSize"]
        root = _hash32(checkpoint["root"], "the checkpoint's root")
        path = [_hash32(node, "an audit path node") for node in bundle["auditPath"]]
        checkpoint_size = checkpoint["treeSize"]
    except (KeyError, TypeError) as exc:
        raise UnreadableBundle(f"the bundle lacks {exc}") from exc
    steps = []
    document, salt = bundle.get("document"), bundle.get("salt")
    if document is None or salt is None:
        steps.append(Step("document", True, "not in the bundle: only the commitment is checked"))
    else:
        try:
            opened = isinstance(document, dict) and isinstance(salt, str)
            opened = opened and opens_commitment(document, salt, bundle["commitment"])
        except ValueError:  # a salt that is not hex opens nothing
            opened = False
        steps.append(
            Step(
                "document opens the commitment",
                opened,
                "keccak256(salt || document) = commitment"
                if opened
                else "the document and salt do not hash to the commitment",
            )
        )
    included = merkle.verify_inclusion(commitment, index, size, path, root)
    steps.append(
        Step(
            "commitment is in the tree",
            included,
            f"leaf {index} of {size}, {len(path)} hashes to root {checkpoint['root']}"
            if included
            else f"the audit path from leaf {index} of {size} does not lead to the root",
        )
    )
    same_tree = size == checkpoint_size
    steps.append(
        Step(
            "the tree is the checkpoint's",
            same_tree,
            f"checkpoint {checkpoint.get('index')} covers {checkpoint_size} commitments up to "
            f"cooperative block {checkpoint.get('sourceBlock')}",
        )
    )
    if anchored is not None:
        steps.append(anchored(checkpoint))
    return steps


def on_anchor_chain(
    rpc_url: str, abi: list[dict[str, Any]], checkpoint_log: str | None = None
) -> Callable[[dict[str, Any]], Step]:
    """The check that asks the anchor chain (its RPC at `rpc_url`) whether the
    cooperative's CheckpointLog holds the bundle's checkpoint as the bundle says. Anyone
    can deploy a CheckpointLog of their own: `checkpoint_log`, the cooperative's published
    address, is what the bundle's must be (unset: the step says which log it asked)."""
    from deployments.chain import ChainGateway

    def check(checkpoint: dict[str, Any]) -> Step:
        name = "the checkpoint is on the anchor chain"
        claimed = str(checkpoint.get("anchorContract"))
        if checkpoint_log is not None and claimed.lower() != checkpoint_log.lower():
            return Step(name, False, f"the bundle names the log {claimed}, not {checkpoint_log}")
        try:
            gateway = ChainGateway(rpc_url, request_timeout=10)
            if gateway.chain_id != checkpoint["anchorChainId"]:
                return Step(
                    name,
                    False,
                    f"{rpc_url} is chain {gateway.chain_id}, not {checkpoint['anchorChainId']}",
                )
            log = gateway.contract(checkpoint["anchorContract"], abi)
            index = checkpoint["index"]
            kept = logged_checkpoint(index, log.functions.checkpoints(index).call())
            fields = ("treeSize", "root", "sourceBlock", "sourceBlockHash", "stateRoot")
            matches = all(kept[f] == checkpoint[f] for f in fields)
        except Exception as exc:  # unreachable, no such contract, a malformed field: not verified
            return Step(name, False, f"cannot confirm it at {rpc_url}: {exc}")
        if not matches:
            return Step(
                name,
                False,
                f"CheckpointLog {checkpoint['anchorContract']} holds another checkpoint {checkpoint['index']}",
            )
        pinned = "" if checkpoint_log else " (compare with the cooperative's published log)"
        return Step(
            name,
            True,
            f"CheckpointLog {claimed} on chain {checkpoint['anchorChainId']} holds checkpoint "
            f"{checkpoint['index']} as the bundle says{pinned}",
        )

    return check


# ---------------------------------------------------------------- the whole history


def consistency_proof(
    access: DataAccess, from_index: int, to_index: int
) -> tuple[CheckpointRecord, CheckpointRecord, list[str]]:
    """The RFC 9162 proof that checkpoint `from_index`'s tree is a prefix of `to_index`'s."""
    session = access.session
    old, new = session.get(CheckpointRecord, from_index), session.get(CheckpointRecord, to_index)
    for found, name, value in ((old, "fromIndex", from_index), (new, "toIndex", to_index)):
        if found is None:
            raise NotFound(f"checkpoint {value} does not exist", field=name)
    assert old is not None and new is not None
    if old.index > new.index:
        raise ValidationFailed("fromIndex is an earlier checkpoint than toIndex", field="fromIndex")
    tree = _trees.tree(session, new)
    proof = tree.consistency_proof(old.tree_size, new.tree_size)
    return old, new, ["0x" + node.hex() for node in proof]


def verify_history(
    anchored: list[dict[str, Any]],
    block_hash: Callable[[int], str | None],
    tree: merkle.MerkleTree,
) -> list[Step]:
    """`coop verify --chain`: every anchored block is still the cooperative chain's (the
    history was not rewritten), the commitment log reproduces every anchored root, and each
    checkpoint's tree is a prefix of the next one's (consistency proofs)."""
    steps = []
    for checkpoint in anchored:
        index, number = checkpoint["index"], checkpoint["sourceBlock"]
        now = block_hash(number)
        kept = now is not None and now.lower() == checkpoint["sourceBlockHash"].lower()
        steps.append(
            Step(
                f"checkpoint {index}: block {number} is still the chain's",
                kept,
                checkpoint["sourceBlockHash"]
                if kept
                else f"anchored {checkpoint['sourceBlockHash']}, the chain has {now}",
            )
        )
        size = checkpoint["treeSize"]
        rebuilt = size <= tree.size and "0x" + tree.root_at(size).hex() == checkpoint["root"]
        steps.append(
            Step(
                f"checkpoint {index}: the commitment log gives its root",
                rebuilt,
                f"{size} commitments, root {checkpoint['root']}"
                if rebuilt
                else f"the log's first {size} commitments do not give {checkpoint['root']}",
            )
        )
    for old, new in itertools.pairwise(anchored):
        proof = (
            tree.consistency_proof(old["treeSize"], new["treeSize"])
            if old["treeSize"] <= new["treeSize"] <= tree.size
            else []
        )
        steps.append(grew(old, new, proof))
    return steps


def verify_growth(
    anchored: list[dict[str, Any]], proof_between: Callable[[int, int], list[bytes]]
) -> list[Step]:
    """`coop verify --growth`, an auditor's check with nothing but the anchor chain and an
    auditor's key: each anchored checkpoint's tree is a prefix of the next one's, by the
    operator's consistency proofs (`proof_between(from, to)`) against the roots the anchor
    chain holds, not the ones the operator would state."""
    return [
        grew(old, new, proof_between(old["index"], new["index"]))
        for old, new in itertools.pairwise(anchored)
    ]


def grew(old: dict[str, Any], new: dict[str, Any], proof: list[bytes]) -> Step:
    """The step: checkpoint `old`'s tree is a prefix of `new`'s (RFC 9162 consistency)."""
    consistent = merkle.verify_consistency(
        old["treeSize"],
        new["treeSize"],
        bytes.fromhex(old["root"][2:]),
        bytes.fromhex(new["root"][2:]),
        proof,
    )
    return Step(
        f"checkpoints {old['index']} → {new['index']}: the tree only grew",
        consistent,
        f"{old['treeSize']} → {new['treeSize']} commitments, {len(proof)}-hash proof",
    )


# ---------------------------------------------------------------- a party's own record

STATE_FORMAT = "carriercoop.state-proof/1"


def _bits(word: int, shift: int, size: int) -> int:
    return (word >> shift) & (2**size - 1)


def decode_credit(words: list[int], record: dict[str, Any]) -> dict[str, Any]:
    """Assurance.vy's credit word: state 2 | endorsed by buyer 1 | by seller 1 | bps 14 |
    availability ppm 20 | outage seconds 32 | amount (bits 70 on)."""
    (word,) = words
    return {
        "state": word & 3,
        "endorsedByBuyer": bool(word & 4),
        "endorsedBySeller": bool(word & 8),
        "creditBps": _bits(word, 4, 14),
        "availabilityPpm": _bits(word, 18, 20),
        "outageSeconds": _bits(word, 38, 32),
        "amount": word >> 70,
    }


def decode_invoice(words: list[int], record: dict[str, Any]) -> dict[str, Any]:
    """Billing.vy's three invoice words: seller 160 | currency 16 | state 8 | period 32,
    buyer 160 | lines 96, charges 128 | credits 128."""
    charges, credits = _bits(words[2], 0, 128), words[2] >> 128
    return {
        "seller": f"0x{_bits(words[0], 0, 160):040x}",
        "buyer": f"0x{_bits(words[1], 0, 160):040x}",
        "currency": _bits(words[0], 160, 16),
        "state": _bits(words[0], 176, 8),
        "period": _bits(words[0], 184, 32),
        "lines": words[1] >> 160,
        "charges": charges,
        "credits": credits,
        "amountDue": charges - credits,
    }


def decode_ticket(words: list[int], record: dict[str, Any]) -> dict[str, Any]:
    """Assurance.vy's ticket word (two tickets of a service per word, 112 bits each from
    bit 32, the even number first): state 4 | impact 2 | cause 4 | start 34 | end 34 |
    resolved at 34. The state as stored: a resolved ticket past its window reads closed."""
    ticket = _bits(words[0], 32 + 112 * (record["number"] & 1), 112)
    return {
        "state": ticket & 15,
        "impact": _bits(ticket, 4, 2),
        "cause": _bits(ticket, 6, 4),
        "start": _bits(ticket, 10, 34),
        "end": _bits(ticket, 44, 34),
        "resolvedAt": _bits(ticket, 78, 34),
    }


@dataclass(frozen=True)
class ProvableRecord:
    """Where one kind of record lives in its module's storage, and how to read it. The
    base slots are the compiled layout's and the decoders mirror the contracts' packing;
    tests/test_anchoring.py checks both against the contracts. A verifier recomputes the
    slots from the record's own id, so a bundle cannot point at another entry."""

    module: str
    variable: str  # a HashMap of the module's storage
    base_slot: int  # the variable's slot in the module's layout
    words: int  # consecutive slots per entry
    model: type
    what: str
    describe: Callable[[Any], dict[str, Any]]  # the store's record -> the bundle's "record"
    key: Callable[[dict[str, Any]], int]  # the bundle's "record" -> the HashMap key
    decode: Callable[[list[int], dict[str, Any]], dict[str, Any]]

    @property
    def api_type(self) -> str:
        """The GraphQL type of the record (its ids read `<api_type>:<key>`)."""
        return self.model.__name__.removesuffix("Record")

    def slots(self, record: dict[str, Any]) -> list[int]:
        """The entry's storage slots, from the record's id alone (a malformed id raises)."""
        from cooperative.state_proofs import hashmap_slot

        first = hashmap_slot(self.base_slot, self.key(record))
        return [first + offset for offset in range(self.words)]


def _pair(record: dict[str, Any], second: str) -> tuple[int, int]:
    """(service id, period or number) of an id "<service>-<n>", checked against the
    record's own fields."""
    service, number = (int(part) for part in str(record["id"]).split("-"))
    if (service, number) != (record["serviceId"], record[second]) or not 0 <= number < 2**32:
        raise ValueError(f"the record's id {record['id']} does not match its fields")
    return service, number


def _provable() -> dict[str, ProvableRecord]:
    from cooperative.store.models import SlaCreditRecord

    return {
        "slaCredit": ProvableRecord(
            "Assurance", "credits", 7, 1, SlaCreditRecord, "SLA credit",
            describe=lambda r: {"kind": "slaCredit", "id": r.id, "serviceId": r.service_id, "period": r.period},
            key=lambda d: (lambda service, period: service << 32 | period)(*_pair(d, "period")),
            decode=decode_credit,
        ),
        "invoice": ProvableRecord(
            "Billing", "invoice_words", 6, 3, InvoiceRecord, "invoice",
            describe=lambda r: {"kind": "invoice", "id": r.id},
            key=lambda d: int(d["id"]),
            decode=decode_invoice,
        ),
        "troubleTicket": ProvableRecord(
            "Assurance", "ticket_words", 5, 1, TroubleTicketRecord, "trouble ticket",
            describe=lambda r: {"kind": "troubleTicket", "id": r.id, "serviceId": r.service_id, "number": r.number},
            key=lambda d: (lambda service, number: (service << 32 | number) >> 1)(*_pair(d, "number")),
            decode=decode_ticket,
        ),
    }  # fmt: skip


PROVABLE = _provable()


def state_proof(
    access: DataAccess,
    kind: str,
    record_id: str,
    contract: str,
    get_proof: Callable[[str, list[str], int], dict[str, Any]],
) -> dict[str, Any]:
    """A party's proof of one of its records (`kind` in PROVABLE) as its module's contract
    (`contract`, the proxy) holds it, against the latest checkpoint's state root: the
    entry's storage words by `eth_getProof` (`get_proof`) at the checkpoint's block.
    The node keeps past states for its last 500 blocks (and none from before a restart):
    an older checkpoint answers INVALID_STATE until the next one."""
    from cooperative.state_proofs import ProofError, verify_get_proof

    spec = PROVABLE[kind]
    record = access.get_private(spec.model, record_id, what=spec.what)
    checkpoint = access.session.exec(
        select(CheckpointRecord).order_by(col(CheckpointRecord.index).desc()).limit(1)
    ).first()
    not_yet = InvalidState(
        f"no checkpoint covers this {spec.what} yet: the next one will (or run `coop anchor`)"
    )
    if checkpoint is None:
        raise not_yet
    described = spec.describe(record)
    slots = spec.slots(described)
    answer = get_proof(contract, [f"0x{slot:064x}" for slot in slots], checkpoint.source_block)
    try:
        proven = verify_get_proof(bytes.fromhex(checkpoint.state_root[2:]), contract, answer)
    except ProofError as exc:
        raise InvalidState(f"the node's proof does not verify: {exc}") from exc
    words = [proven[slot] for slot in slots]
    values = spec.decode(words, described)
    if not values.get("state"):  # the record came after the latest checkpoint's block
        raise not_yet
    return {
        "format": STATE_FORMAT,
        "record": described,
        "contract": contract,
        "variable": f"{spec.module}.{spec.variable} (storage slot {spec.base_slot})",
        "slots": [f"0x{slot:064x}" for slot in slots],
        "words": [f"0x{word:064x}" for word in words],
        "values": values,
        "proof": answer,
        "checkpoint": checkpoint_json(checkpoint),
    }


def verify_state_bundle(
    bundle: dict[str, Any],
    anchored: Callable[[dict[str, Any]], Step] | None = None,
    module_address: str | None = None,
) -> list[Step]:
    """The checks of a state-proof bundle: the proof leads from the checkpoint's state root
    to the record's storage words, and they decode to the values the bundle states. Any
    contract on the cooperative chain has storage: unless `module_address` pins it, the
    first step says which contract was read, to compare with the published address."""
    from cooperative.state_proofs import ProofError, verify_get_proof

    try:
        checkpoint, record = bundle["checkpoint"], bundle["record"]
        spec = PROVABLE[record["kind"]]
        state_root = _hash32(checkpoint["stateRoot"], "the checkpoint's state root")
        slots = spec.slots(record)  # from the record's id, never the bundle's own slots
        words = [int(word, 16) for word in bundle["words"]]
        values, contract, proof = bundle["values"], bundle["contract"], bundle["proof"]
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableBundle(f"the bundle lacks {exc}") from exc
    try:
        found = verify_get_proof(state_root, contract, proof)
        proven: list[int | None] = [found.get(slot) for slot in slots]
        verified = True
        detail = (
            f"{contract}, {len(slots)} slots, at cooperative block {checkpoint.get('sourceBlock')}"
        )
    except ProofError as exc:
        proven, verified, detail = [], False, str(exc)
    try:
        decoded = spec.decode(words, record) if len(words) == spec.words else None
    except (KeyError, TypeError):
        decoded = None
    elsewhere = module_address is not None and str(contract).lower() != module_address.lower()
    where = (
        f"{contract}, not the cooperative's {spec.module} {module_address}"
        if elsewhere
        else f"{contract}"
        + (
            ""
            if module_address
            else f" (compare with the cooperative's published {spec.module} address)"
        )
    )
    return [
        Step(
            f"the {spec.what} is read where it lives",
            bundle.get("slots") == [f"0x{slot:064x}" for slot in slots] and not elsewhere,
            f"{spec.module}.{spec.variable}[{record.get('id')}] at {where}",
        ),
        Step("the state proof leads to the checkpoint's state root", verified, detail),
        Step(
            "the proven words are the bundle's",
            proven == words,
            "as stated" if proven == words else "the proof shows other words",
        ),
        Step(
            f"the values are the {spec.what}'s",
            decoded == values,
            ", ".join(f"{k} {v}" for k, v in values.items())
            if isinstance(values, dict)
            else str(values),
        ),
        *([anchored(checkpoint)] if anchored is not None else []),
    ]
