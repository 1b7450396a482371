"""Tables of the store.

Private record types declare `__parties__`: the columns naming who may see a row. The
data-access layer (`cooperative.access`) filters every read of them by the viewer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

MAX_COLUMN_INT = (
    2**31 - 1
)  # the largest id or number an INTEGER column holds (32 bits on PostgreSQL)


def whole_number(text: str, maximum: int = MAX_COLUMN_INT) -> int | None:
    """`text` as a whole number from 0 to `maximum` written in ASCII digits, else None
    (no sign, no Unicode digits, and never more digits than `maximum` has, so no huge
    number is ever converted)."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(maximum))):
        return None
    value = int(text)
    return value if value <= maximum else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    AUDITOR = "auditor"


class MemberProfile(SQLModel, table=True):
    """A member as the cooperative knows it: the on-chain register (name, joined/left
    blocks, mirrored from Membership events) plus the off-chain profile."""

    __tablename__ = "member_profile"

    address: str = Field(primary_key=True, max_length=42)
    name: str = Field(max_length=64)
    joined_block: int
    left_block: int | None = None
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2
    contact_email: str | None = Field(default=None, max_length=254)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_member(self) -> bool:
        return self.left_block is None


class ApiKey(SQLModel, table=True):
    """An API key. Only the SHA-256 of its secret is stored; the secret is shown once.

    `owner` is the principal holding the key: a member's address, or "admin" / "auditor"
    for the operator's and auditors' keys."""

    __tablename__ = "api_key"
    __parties__: ClassVar[tuple[str, ...]] = ("owner",)

    id: str = Field(primary_key=True, max_length=32)
    owner: str = Field(index=True, max_length=42)
    role: Role
    label: str = Field(default="", max_length=100)
    secret_hash: str = Field(max_length=64)
    created_by: str | None = Field(default=None, max_length=42)  # the principal who issued it
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class CustodialKey(SQLModel, table=True):
    """A private key the platform holds for an account (custodial mode), encrypted as an
    Ethereum V3 keystore (scrypt + AES-128-CTR) with the platform secret."""

    __tablename__ = "custodial_key"

    address: str = Field(primary_key=True, max_length=42)
    purpose: str = Field(max_length=20)  # "operator" or "member"
    keystore_json: str
    created_at: datetime = Field(default_factory=utcnow)


class KeyCustody(StrEnum):
    """Who holds a member's key."""

    PLATFORM = "platform"  # the custodial keystore; the platform signs for the member
    EXPORTED = "exported"  # the member took it; the platform keeps an unused copy until told
    MEMBER = "member"  # the member alone: the platform's copy is erased


class SelfCustody(SQLModel, table=True):
    """A member that holds its own key: from `exported_at` on the platform never signs for
    it, it relays what the member signed; `erased_at` is when its custodial copy went."""

    __tablename__ = "self_custody"

    address: str = Field(primary_key=True, max_length=42)
    exported_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = None


class CommitmentLeaf(SQLModel, table=True):
    """One document commitment the cooperative chain recorded: leaf `index` (from 0, in
    chain order) of the Merkle tree the platform anchors (cooperative.projectors.commitments)."""

    __tablename__ = "commitment_leaf"
    # One leaf per place in the chain: a second process syncing the same blocks at once
    # (a command beside the server) fails instead of appending them again.
    __table_args__ = (UniqueConstraint("block", "log_index", "position"),)

    index: int = Field(primary_key=True)
    commitment: str = Field(max_length=66, index=True)
    block: int = Field(index=True)
    tx_hash: str = Field(max_length=66)
    log_index: int
    position: int = 0  # its place among the event's commitments


class AnchorContract(SQLModel, table=True):
    """Where the anchor chain's CheckpointLog is (one per anchor chain)."""

    __tablename__ = "anchor_contract"

    chain_id: int = Field(primary_key=True)
    address: str = Field(max_length=42)
    deployed_at: datetime = Field(default_factory=utcnow)


class CheckpointRecord(SQLModel, table=True):
    """A checkpoint posted to the anchor chain: the cooperative chain's block, its state
    root, and the Merkle root over the first `tree_size` commitments (cooperative.anchoring).
    Public: every role sees checkpoints."""

    __tablename__ = "checkpoint"

    index: int = Field(primary_key=True)  # CheckpointLog's index
    tree_size: int
    root: str = Field(max_length=66)
    source_block: int = Field(index=True)
    source_block_hash: str = Field(max_length=66)
    state_root: str = Field(max_length=66)
    anchor_chain_id: int
    anchor_contract: str = Field(max_length=42)
    anchor_tx: str = Field(max_length=66)
    anchor_block: int
    posted_at: datetime


class ChainCursor(SQLModel, table=True):
    """How far the indexer has read the chain: the last block it applied and that block's
    hash, so a node that rolled back or reorganised is noticed at the next sync."""

    __tablename__ = "chain_cursor"

    name: str = Field(primary_key=True, max_length=64)
    block: int
    block_hash: str | None = Field(default=None, max_length=66)


class StoreVersion(SQLModel, table=True):
    """One row: a number every store transaction that changed what a query can answer
    adds one to, in that transaction (cooperative.store.database). A cached answer is
    valid while the number is the one it was computed at (cooperative.api.answers), in
    every API worker on this database."""

    __tablename__ = "store_version"

    id: int = Field(default=1, primary_key=True)
    # BIGINT: a busy PostgreSQL store would pass 2^31 transactions within a year
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class IndexedBlock(SQLModel, table=True):
    """A block the indexer applied events from, with its hash: where a rolled-back or
    reorganised chain forked from what the read models were built on is found here."""

    __tablename__ = "indexed_block"

    number: int = Field(primary_key=True)
    hash: str = Field(max_length=66)


class ProjectedTransaction(SQLModel, table=True):
    """A transaction a mutation projected into the read models itself, before it answered
    (read-your-writes): the chain follower writes its feed entries but not its records
    again. Rows behind the follower's cursor are removed as it passes them."""

    __tablename__ = "projected_transaction"

    tx_hash: str = Field(primary_key=True, max_length=66)
    block: int = Field(index=True)


class OutboxState(StrEnum):
    """Where a signed transaction of the outbox stands."""

    SIGNED = "signed"  # committed to the store, perhaps sent: the chain may not have it yet
    MINED = "mined"  # in a block, succeeded
    REVERTED = "reverted"  # in a block, reverted: it changed nothing
    DROPPED = "dropped"  # the chain holds another transaction at its nonce: never applied


class OutboxEntry(SQLModel, table=True):
    """One fully signed transaction, committed before it is sent: the chain's write-ahead
    log. What is ever re-sent are these bytes, so nothing can be applied twice. Once mined,
    where it landed (block, index, timestamp) is kept so that a node that lost its last
    blocks can be rebuilt with them in their order and at their times. `documents` are the
    private documents with their salts whose commitments the transaction carries."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("sender", "nonce"),
        Index("ix_outbox_state", "state"),
        Index("ix_outbox_key", "principal", "idempotency_key"),  # a retry's entries
        Index("ix_outbox_block", "block_number"),  # the walk down recorded blocks
    )

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=42)
    nonce: int
    tx_hash: str = Field(unique=True, max_length=66)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: OutboxState = Field(default=OutboxState.SIGNED, max_length=10)
    documents: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [{"commitment", "salt", "document"}]
    principal: str | None = Field(default=None, max_length=42)  # the idempotency key's owner
    idempotency_key: str | None = Field(default=None, max_length=100)
    block_number: int | None = None
    block_hash: str | None = Field(default=None, max_length=66)
    tx_index: int | None = None
    block_timestamp: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ProposalRecord(SQLModel, table=True):
    """A governance proposal as ProposalCreated emitted it: the full payload the chain
    keeps only by hash, decoded actions, and the vote window. Public to members."""

    __tablename__ = "proposal"

    id: str = Field(primary_key=True, max_length=66)
    proposer: str = Field(index=True, max_length=42)
    kind: int = Field(index=True)
    targets: list[str] = Field(sa_column=Column(JSON, nullable=False))
    values: list[str] = Field(sa_column=Column(JSON, nullable=False))  # wei, as decimal strings
    calldatas: list[str] = Field(sa_column=Column(JSON, nullable=False))  # 0x-hex
    actions: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))  # decoded
    description: str
    snapshot: int
    eligible: int
    vote_start: int
    vote_end: int
    created_block: int = Field(index=True)
    created_tx: str = Field(max_length=66)


class VoteRecord(SQLModel, table=True):
    """One member's vote on a proposal, with its reason."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("proposal_id", "voter"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: str = Field(index=True, max_length=66)
    voter: str = Field(index=True, max_length=42)
    support: int
    reason: str = ""
    block: int
    tx: str = Field(max_length=66)


class ProposalEvent(SQLModel, table=True):
    """A proposal's state history: created, extended, queued, executed, canceled."""

    __tablename__ = "proposal_event"
    __table_args__ = (UniqueConstraint("tx", "log_index"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: str = Field(index=True, max_length=66)
    name: str = Field(max_length=32)
    block: int
    timestamp: int
    tx: str = Field(max_length=66)
    log_index: int
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# ---------------------------------------------------------------------------- marketplace
# Private documents live here, visible to their parties only; the chain holds their
# salted commitments (see cooperative.commitments).


class OfferingRecord(SQLModel, table=True):
    """A product offering: public to every member."""

    __tablename__ = "offering"

    id: int = Field(primary_key=True)  # the Ordering contract's offering id
    seller: str = Field(index=True, max_length=42)
    product_type: str = Field(index=True, max_length=40)
    bandwidths_mbps: list[int] = Field(sa_column=Column(JSON, nullable=False))
    serving_area: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    sla_templates: list[int] = Field(sa_column=Column(JSON, nullable=False))
    term_months: list[int] = Field(sa_column=Column(JSON, nullable=False))
    active: bool = True
    commitment: str = Field(max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class QuoteRequestRecord(SQLModel, table=True):
    """A buyer's quote request: the buyer's own document."""

    __tablename__ = "quote_request"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer",)

    id: int = Field(primary_key=True)  # the contract's request id
    buyer: str = Field(index=True, max_length=42)
    sellers: list[str] = Field(sa_column=Column(JSON, nullable=False))
    sla_template: int
    respond_by: datetime
    expires_at: datetime
    requested_delivery: datetime
    state: str = Field(max_length=20)  # open, accepted, rejected
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=66)
    commitment: str = Field(max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class QuoteRecord(SQLModel, table=True):
    """One seller's quote on a request: seen by that seller and the buyer only."""

    __tablename__ = "quote"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")
    __table_args__ = (UniqueConstraint("request_id", "seller"),)

    id: str = Field(primary_key=True, max_length=64)  # "<request id>-<seller>"
    request_id: int = Field(index=True)
    buyer: str = Field(index=True, max_length=42)
    seller: str = Field(index=True, max_length=42)
    state: str = Field(
        max_length=20
    )  # inProgress, approved, unableToProvide, declined, accepted, ordered
    currency: str | None = Field(default=None, max_length=3)
    mrc: int | None = Field(default=None, sa_column=Column(Numeric(38, 0)))
    nrc: int | None = Field(default=None, sa_column=Column(Numeric(38, 0)))
    valid_until: datetime | None = None
    # the requested level until the seller answers, then the answer's (budgetary, firm)
    level: str | None = Field(default=None, max_length=20)
    # What was asked, for the seller to answer: the request's terms as the contract holds
    # them (chain time) and, from the request's document, the site, bandwidth, term and
    # product; `offering_id` is the offering asked of this quote's seller only. Null only
    # on rows projected before these columns existed (`coop reindex` fills them).
    sla_template: int | None = None
    respond_by: datetime | None = None
    expires_at: datetime | None = None
    requested_delivery: datetime | None = None
    site: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    bandwidth_mbps: int | None = None
    term_months: int | None = None
    product_type: str | None = Field(default=None, max_length=40)
    offering_id: int | None = None
    document: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    salt: str | None = Field(default=None, max_length=66)
    commitment: str | None = Field(default=None, max_length=66)
    updated_at: datetime = Field(default_factory=utcnow)


class OrderRecord(SQLModel, table=True):
    """A product order: buyer and seller only."""

    __tablename__ = "product_order"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")

    id: int = Field(primary_key=True)  # the contract's order id
    request_id: int = Field(index=True)
    buyer: str = Field(index=True, max_length=42)
    seller: str = Field(index=True, max_length=42)
    state: str = Field(max_length=20)
    sla_template: int
    currency: str = Field(max_length=3)
    mrc: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    requested_delivery: datetime
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=66)
    commitment: str = Field(max_length=66)
    service_id: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ServiceRecord(SQLModel, table=True):
    """A service both parties signed for (or a registered circuit awaiting the buyer)."""

    __tablename__ = "service"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")

    id: int = Field(primary_key=True)  # the contract's service id
    buyer: str = Field(index=True, max_length=42)
    seller: str = Field(index=True, max_length=42)
    state: str = Field(max_length=24)  # pendingConfirmation, active
    sla_template: int
    currency: str = Field(max_length=3)
    mrc: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    started_at: datetime
    ended_at: datetime | None = None  # the buyer's disconnect: billed until then
    order_id: int | None = None
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=66)
    commitment: str = Field(max_length=66)


class MemberEvent(SQLModel, table=True):
    """One entry of a member's event feed (`events(after, first)`): something that happened
    on chain to a record the member is a party to. Written by the indexer only, from the
    modules' events, one row per party; the autoincrement id is the feed's cursor, and
    since one indexer writes in chain order, a later row never has a smaller id."""

    __tablename__ = "member_event"
    __parties__: ClassVar[tuple[str, ...]] = ("member",)
    __table_args__ = (UniqueConstraint("member", "tx", "log_index"),)

    id: int | None = Field(default=None, primary_key=True)
    member: str = Field(index=True, max_length=42)
    type: str = Field(max_length=40)  # e.g. quoteAnswered, orderAcknowledged
    subject: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # record ids
    block: int
    tx: str = Field(max_length=66)
    log_index: int
    occurred_at: datetime


class IdempotentRequest(SQLModel, table=True):
    """A mutation sent with an `idempotencyKey`: committed before any transaction is sent
    (the intended operation and a hash of its input), then completed with the payload it
    returned, in the same database transaction as the records the mutation wrote. The same
    key again returns that payload and does nothing; a row left `pending` by a crash makes
    a retry answer INVALID_STATE instead of acting twice."""

    __tablename__ = "idempotent_request"
    __parties__: ClassVar[tuple[str, ...]] = ("principal",)

    principal: str = Field(primary_key=True, max_length=42)
    key: str = Field(primary_key=True, max_length=100)
    operation: str = Field(max_length=64)
    input_hash: str = Field(max_length=64)
    state: str = Field(default="pending", max_length=10)  # pending, sent, done
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


# ------------------------------------------------------------------ assurance, billing, settlement


class TroubleTicketRecord(SQLModel, table=True):
    """A trouble ticket on a service (Sonata states); its description stays here, committed
    on chain. Id = "<service id>-<number>" (the contract's id is service_id << 32 | number)."""

    __tablename__ = "trouble_ticket"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")

    id: str = Field(primary_key=True, max_length=40)
    service_id: int = Field(index=True)
    number: int
    buyer: str = Field(index=True, max_length=42)
    seller: str = Field(index=True, max_length=42)
    state: str = Field(max_length=16)  # acknowledged, inProgress, pending, resolved, closed, ...
    impact: str = Field(max_length=16)  # down, degraded, intermittent
    root_cause: str | None = Field(default=None, max_length=24)
    started_at: datetime
    ended_at: datetime | None = None
    resolved_at: datetime | None = None
    window_ends_at: datetime | None = None  # resolved and unanswered until then: deemed closed
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    salt: str = Field(max_length=66)
    commitment: str = Field(max_length=66)
    updated_at: datetime = Field(default_factory=utcnow)


class SlaCreditRecord(SQLModel, table=True):
    """The SLA credit of one service for one period (calendar month), as the contract
    computed it. Id = "<service id>-<period>"."""

    __tablename__ = "sla_credit"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")

    id: str = Field(primary_key=True, max_length=40)
    service_id: int = Field(index=True)
    period: int  # months since January 1970
    buyer: str = Field(index=True, max_length=42)
    seller: str = Field(index=True, max_length=42)
    currency: str = Field(max_length=3)
    state: str = Field(max_length=12)  # calculated, endorsed, disputed
    amount: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    credit_bps: int
    availability_ppm: int
    outage_seconds: int
    endorsed_by_buyer: bool = False
    endorsed_by_seller: bool = False
    invoice_id: int | None = Field(default=None, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class InvoiceRecord(SQLModel, table=True):
    """An invoice seller -> buyer for one period (MEF 141 states: generated, paymentDue,
    settled); its lines are the document committed on chain."""

    __tablename__ = "invoice"
    __parties__: ClassVar[tuple[str, ...]] = ("buyer", "seller")

    id: int = Field(primary_key=True)  # the contract's invoice id
    seller: str = Field(index=True, max_length=42)
    buyer: str = Field(index=True, max_length=42)
    period: int
    currency: str = Field(max_length=3)
    state: str = Field(max_length=12)
    charges: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    credits: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    amount_due: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # lines
    salt: str = Field(max_length=66)
    commitment: str = Field(max_length=66)
    cycle_id: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class SettlementCycleRecord(SQLModel, table=True):
    """A settlement cycle's public frame (currency, counts, state). Members read it only
    through their own position in it (SettlementPositionRecord)."""

    __tablename__ = "settlement_cycle"

    id: int = Field(primary_key=True)
    currency: str = Field(max_length=3)
    state: str = Field(max_length=12)  # open, settled, cancelled
    runner: str = Field(max_length=42)
    invoice_count: int
    participant_count: int
    payment_count: int
    opened_at: datetime
    updated_at: datetime = Field(default_factory=utcnow)


class SettlementPositionRecord(SQLModel, table=True):
    """One member's net position in a cycle: what its invoices in the cycle owe it (as
    seller) and it owes (as buyer); net > 0: it is paid."""

    __tablename__ = "settlement_position"
    __parties__: ClassVar[tuple[str, ...]] = ("member",)

    id: str = Field(primary_key=True, max_length=60)  # "<cycle>-<member>"
    cycle_id: int = Field(index=True)
    member: str = Field(index=True, max_length=42)
    as_seller: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    as_buyer: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    net: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))


class SettlementPaymentRecord(SQLModel, table=True):
    """A payment of a cycle, confirmed by payer and payee; only they see it."""

    __tablename__ = "settlement_payment"
    __parties__: ClassVar[tuple[str, ...]] = ("payer", "payee")

    id: str = Field(primary_key=True, max_length=40)  # "<cycle>-<index>"
    cycle_id: int = Field(index=True)
    index: int
    payer: str = Field(index=True, max_length=42)
    payee: str = Field(index=True, max_length=42)
    amount: int = Field(sa_column=Column(Numeric(38, 0), nullable=False))
    confirmed_by_payer: bool = False
    confirmed_by_payee: bool = False


# ------------------------------------------------------------------ root-cause suggestions


class RootCauseModel(SQLModel, table=True):
    """A seller's root-cause model (cooperative.root_causes), trained on its own resolved
    tickets only, and read back for that seller's suggestions only. Not a read model of
    the chain: the trainer writes it, and a rebuild of the read models keeps it."""

    __tablename__ = "root_cause_model"
    __parties__: ClassVar[tuple[str, ...]] = ("seller",)

    seller: str = Field(primary_key=True, max_length=42)
    # The fitted scikit-learn pipeline, pickled and zlib-compressed: written only by the
    # platform from its own training, never taken from outside (see root_causes.load).
    pipeline: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    library: str = Field(max_length=40)  # the scikit-learn release that pickled it
    labels: list[str] = Field(sa_column=Column(JSON, nullable=False))  # the causes it knows
    tickets: int  # how many tickets it learned from
    last_resolved_at: datetime  # the newest resolution among them ...
    # ... and the tickets resolved at that very time (block times have whole seconds: a
    # ticket resolved in that second after the training read is new all the same)
    last_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trained_at: datetime = Field(default_factory=utcnow)
    training_seconds: float = 0.0
    # Tickets resolved while an earlier model of the seller's was in force, and how many of
    # them the seller resolved with that model's top suggestion (the live accuracy).
    suggestions_checked: int = 0
    suggestions_taken: int = 0
