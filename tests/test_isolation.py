"""The isolation rule as a matrix: every private record type by every principal who is
not a party must see nothing and change nothing, and a hidden record answers exactly
as a missing one.

Later modules add their private record types (quotes, orders, services, tickets, credits,
invoices) to PRIVATE_RECORD_TYPES with a factory; the matrix then covers them unchanged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from cooperative import apikeys, merkle
from cooperative.access import DataAccess, Viewer
from cooperative.api.app import format_error
from cooperative.api.context import Context
from cooperative.api.ids import global_id
from cooperative.api.schema import schema
from cooperative.assurance import Assurance
from cooperative.billing import Billing, Settlement
from cooperative.errors import CoopError, NotFound
from cooperative.marketplace import Marketplace
from cooperative.proofs import DOCUMENT_RECORDS, commitment_proof
from cooperative.store.database import session_scope
from cooperative.store.models import (
    ApiKey,
    CheckpointRecord,
    CommitmentLeaf,
    InvoiceRecord,
    MemberEvent,
    MemberProfile,
    OrderRecord,
    QuoteRecord,
    QuoteRequestRecord,
    Role,
    RootCauseModel,
    ServiceRecord,
    SettlementCycleRecord,
    SettlementPaymentRecord,
    SettlementPositionRecord,
    SlaCreditRecord,
    TroubleTicketRecord,
)

AURORA = "0x00000000000000000000000000000000000000A1"
BOREALIS = "0x00000000000000000000000000000000000000B2"
CIRRUS = "0x00000000000000000000000000000000000000C3"

PRINCIPALS = {
    "aurora": Viewer(principal=AURORA, role=Role.MEMBER, key_id="k-aurora"),
    "borealis": Viewer(principal=BOREALIS, role=Role.MEMBER, key_id="k-borealis"),
    "cirrus": Viewer(principal=CIRRUS, role=Role.MEMBER, key_id="k-cirrus"),
    "admin": Viewer(principal="admin", role=Role.ADMIN, key_id="k-admin"),
    "auditor": Viewer(principal="auditor", role=Role.AUDITOR, key_id="k-auditor"),
}


@dataclass(frozen=True)
class PrivateType:
    model: type[SQLModel]
    what: str
    # creates a record whose parties are the given principals, returns its id
    create: Callable[[Session, list[str]], Any]
    # the data-access layer's list and get for this type
    list_ids: Callable[[DataAccess], set[Any]]
    get: Callable[[DataAccess, Any], Any]
    parties: int = 1  # how many of the owners are parties (buyer and seller: 2)
    # the GraphQL type `node(id:)` returns it as (None: not a record `node` returns) ...
    node: str | None = None
    # ... its key in that type's global id, from the record's id (the same by default) ...
    node_key: Callable[[Any], Any] = lambda record_id: record_id
    # ... a key of that type that names no record ...
    missing_key: Any = None
    # ... and the record's own by-id query, if the API has one
    by_id: str | None = None


def _create_api_key(session: Session, owners: list[str]) -> str:
    owner = owners[0]
    role = Role.MEMBER if owner.startswith("0x") else Role(owner)
    return apikeys.issue(session, owner=owner, role=role).record.id


_ids = iter(range(1, 1_000_000))
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _create_quote_request(session: Session, owners: list[str]) -> int:
    record = QuoteRequestRecord(
        id=next(_ids), buyer=owners[0], sellers=owners[1:], sla_template=1, respond_by=NOW, expires_at=NOW,
        requested_delivery=NOW, state="open", document={"site": "secret"}, salt="0x", commitment="0x",
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_quote(session: Session, owners: list[str]) -> str:
    number = next(_ids)
    record = QuoteRecord(
        id=f"{number}-{owners[1]}",
        request_id=number,
        buyer=owners[0],
        seller=owners[1],
        state="inProgress",
    )
    session.add(record)
    return record.id


def _create_order(session: Session, owners: list[str]) -> int:
    record = OrderRecord(
        id=next(_ids), request_id=1, buyer=owners[0], seller=owners[1], state="submitted", sla_template=1,
        currency="EUR", mrc=100, requested_delivery=NOW, document={}, salt="0x", commitment="0x",
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_service(session: Session, owners: list[str]) -> int:
    record = ServiceRecord(
        id=next(_ids), buyer=owners[0], seller=owners[1], state="active", sla_template=1, currency="EUR",
        mrc=100, started_at=NOW, document={"circuit": "secret"}, salt="0x", commitment="0x",
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_ticket(session: Session, owners: list[str]) -> str:
    number = next(_ids)
    record = TroubleTicketRecord(
        id=f"{number}-0", service_id=number, number=0, buyer=owners[0], seller=owners[1], state="submitted",
        impact="down", started_at=NOW, document={"description": "secret"}, salt="0x", commitment="0x",
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_credit(session: Session, owners: list[str]) -> str:
    record = SlaCreditRecord(
        id=f"{next(_ids)}-682", service_id=1, period=682, buyer=owners[0], seller=owners[1], currency="EUR",
        state="calculated", amount=2500, credit_bps=2500, availability_ppm=998_611, outage_seconds=3600,
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_invoice(session: Session, owners: list[str]) -> int:
    record = InvoiceRecord(
        id=next(_ids), seller=owners[1], buyer=owners[0], period=682, currency="EUR", state="paymentDue",
        charges=1000, credits=10, amount_due=990, document={"lines": []}, salt="0x", commitment="0x",
    )  # fmt: skip
    session.add(record)
    return record.id


def _create_position(session: Session, owners: list[str]) -> str:
    cycle = next(_ids)
    session.add(  # the cycle's public frame, which a member reads through its position only
        SettlementCycleRecord(
            id=cycle, currency="EUR", state="open", runner=owners[0], invoice_count=1,
            participant_count=2, payment_count=1, opened_at=NOW,
        )
    )  # fmt: skip
    record = SettlementPositionRecord(
        id=f"{cycle}-{owners[0]}",
        cycle_id=cycle,
        member=owners[0],
        as_seller=0,
        as_buyer=990,
        net=-990,
    )
    session.add(record)
    return record.id


def _create_payment(session: Session, owners: list[str]) -> str:
    cycle = next(_ids)
    record = SettlementPaymentRecord(
        id=f"{cycle}-0", cycle_id=cycle, index=0, payer=owners[0], payee=owners[1], amount=990
    )
    session.add(record)
    return record.id


def _create_event(session: Session, owners: list[str]) -> int:
    record = MemberEvent(
        member=owners[0], type="orderAcknowledged", subject={"orderId": 1}, block=1,
        tx=f"0x{next(_ids):064x}", log_index=0, occurred_at=NOW,
    )  # fmt: skip
    session.add(record)
    session.flush()
    assert record.id is not None
    return record.id


def _create_root_cause_model(session: Session, owners: list[str]) -> str:
    record = RootCauseModel(
        seller=owners[0], pipeline=b"model", library="scikit-learn", labels=["power", "fiberCut"],
        tickets=20, last_resolved_at=NOW,
    )  # fmt: skip
    session.add(record)
    return record.seller


def _market(access: DataAccess) -> Marketplace:
    return Marketplace(platform=None, access=access)  # type: ignore[arg-type]  (reads need no chain)


PRIVATE_RECORD_TYPES = [
    PrivateType(
        model=ApiKey,
        what="API key",
        create=_create_api_key,
        list_ids=lambda access: {k.id for k in access.api_keys(first=100, after=None).items},
        get=lambda access, record_id: access.api_key(record_id),
        node="ApiKey",
        missing_key="0" * 32,
    ),
    PrivateType(
        model=QuoteRequestRecord,
        what="quote request",
        create=_create_quote_request,
        list_ids=lambda access: {
            r.id for r in access.session.exec(access.private(QuoteRequestRecord)).all()
        },
        get=lambda access, record_id: access.get_private(
            QuoteRequestRecord, record_id, what="quote request"
        ),
    ),
    PrivateType(
        model=QuoteRecord,
        what="quote",
        create=_create_quote,
        list_ids=lambda access: {r.id for r in _market(access).quotes(100, None).items},
        get=lambda access, record_id: _market(access).quote(record_id),
        parties=2,
        node="Quote",
        missing_key=f"999999999-{AURORA}",
        by_id="quote",
    ),
    PrivateType(
        model=OrderRecord,
        what="order",
        create=_create_order,
        list_ids=lambda access: {r.id for r in _market(access).orders(100, None).items},
        get=lambda access, record_id: _market(access).order(record_id),
        parties=2,
        node="Order",
        missing_key=999_999_999,
        by_id="order",
    ),
    PrivateType(
        model=ServiceRecord,
        what="service",
        create=_create_service,
        list_ids=lambda access: {r.id for r in _market(access).services(100, None).items},
        get=lambda access, record_id: _market(access).service(record_id),
        parties=2,
        node="Service",
        missing_key=999_999_999,
        by_id="service",
    ),
    PrivateType(
        model=TroubleTicketRecord,
        what="trouble ticket",
        create=_create_ticket,
        list_ids=lambda access: {r.id for r in _assurance(access).tickets(100, None).items},
        get=lambda access, record_id: _assurance(access).ticket(record_id),
        parties=2,
        node="TroubleTicket",
        missing_key="999999999-0",
        by_id="troubleTicket",
    ),
    PrivateType(
        model=SlaCreditRecord,
        what="SLA credit",
        create=_create_credit,
        list_ids=lambda access: {r.id for r in _assurance(access).credits(100, None).items},
        get=lambda access, record_id: _assurance(access).credit(record_id),
        parties=2,
        node="SlaCredit",
        missing_key="999999999-682",
    ),
    PrivateType(
        model=InvoiceRecord,
        what="invoice",
        create=_create_invoice,
        list_ids=lambda access: {r.id for r in _billing(access).invoices(100, None).items},
        get=lambda access, record_id: _billing(access).invoice(record_id),
        parties=2,
        node="Invoice",
        missing_key=999_999_999,
        by_id="invoice",
    ),
    PrivateType(
        model=SettlementPositionRecord,
        what="settlement position",
        create=_create_position,
        list_ids=lambda access: {r.id for r in _settlement(access).cycles(100, None).items},
        get=lambda access, record_id: access.get_private(
            SettlementPositionRecord, record_id, what="settlement position"
        ),
        # a member reaches a cycle through its own position in it (`<cycle>-<member>`)
        node="SettlementCycle",
        node_key=lambda record_id: int(record_id.partition("-")[0]),
        missing_key=999_999_999,
    ),
    PrivateType(
        model=SettlementPaymentRecord,
        what="payment",
        create=_create_payment,
        list_ids=lambda access: {
            r.id for r in access.session.exec(access.private(SettlementPaymentRecord)).all()
        },
        get=lambda access, record_id: access.get_private(
            SettlementPaymentRecord, record_id, what="payment"
        ),
        parties=2,
        node="SettlementPayment",
        missing_key="999999999-0",
    ),
    PrivateType(
        model=MemberEvent,
        what="event",
        create=_create_event,
        list_ids=lambda access: {
            r.id for r in access.page(access.private(MemberEvent), MemberEvent.id, 100, None).items
        },
        get=lambda access, record_id: access.get_private(MemberEvent, record_id, what="event"),
    ),
    PrivateType(  # a seller's root-cause model: its seller alone reaches it
        model=RootCauseModel,
        what="root-cause model",
        create=_create_root_cause_model,
        list_ids=lambda access: {
            r.seller for r in access.session.exec(access.private(RootCauseModel)).all()
        },
        get=lambda access, record_id: access.get_private(
            RootCauseModel, record_id, what="root-cause model"
        ),
    ),
]


def _assurance(access: DataAccess) -> Assurance:
    return Assurance(platform=None, access=access)  # type: ignore[arg-type]  (reads need no chain)


def _billing(access: DataAccess) -> Billing:
    return Billing(platform=None, access=access)  # type: ignore[arg-type]


def _settlement(access: DataAccess) -> Settlement:
    return Settlement(platform=None, access=access)  # type: ignore[arg-type]


# Who a record belongs to: the first `parties` names of each row are its parties.
OWNERSHIPS = [
    ["aurora", "borealis"],
    ["borealis", "aurora"],
    ["cirrus", "borealis"],
    ["admin", "auditor"],
    ["auditor", "admin"],
]


@pytest.mark.parametrize("record_type", PRIVATE_RECORD_TYPES, ids=lambda t: t.what)
@pytest.mark.parametrize("owners", OWNERSHIPS, ids="+".join)
@pytest.mark.parametrize("viewer_name", list(PRINCIPALS))
def test_only_parties_see_a_private_record(
    engine: Engine, record_type: PrivateType, owners: list[str], viewer_name: str
) -> None:
    parties = set(owners[: record_type.parties])
    with session_scope(engine) as session:
        record_id = record_type.create(session, [PRINCIPALS[o].principal for o in owners])
    viewer = PRINCIPALS[viewer_name]
    with session_scope(engine) as session:
        access = DataAccess(session, viewer)
        if viewer_name in parties:
            assert record_id in record_type.list_ids(access)
            assert record_type.get(access, record_id) is not None
            many = access.get_private_many(record_type.model, [record_id], what=record_type.what)
            assert [r is not None for r in many] == [True]
        else:
            assert record_id not in record_type.list_ids(access)
            with pytest.raises(NotFound):
                access.get_private_many(record_type.model, [record_id], what=record_type.what)
            with pytest.raises(NotFound) as hidden:
                record_type.get(access, record_id)
            with pytest.raises(NotFound) as missing:
                record_type.get(access, "no-such-record")
            # existence does not leak: hidden and missing read the same
            assert str(hidden.value).replace(str(record_id), "ID") == str(missing.value).replace(
                "no-such-record", "ID"
            )


NODE_RECORD_TYPES = [t for t in PRIVATE_RECORD_TYPES if t.node is not None]


def _graphql(engine: Engine, viewer: Viewer, document: str, record_id: str) -> dict[str, Any]:
    """`document` with `$id` through the API's schema as `viewer`, over `engine`, answered
    as the server answers it (data, and errors with their codes); the reads need no chain."""
    platform = SimpleNamespace(engine=engine, chain_status="ok")
    result = schema.execute_sync(
        document,
        variable_values={"id": record_id},
        context_value=Context(platform, viewer),  # type: ignore[arg-type]
    )
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [format_error(error) for error in result.errors]
    return answer


def _refusal(answer: dict[str, Any], *ids: str) -> tuple[str, str]:
    """The one error of a refused read: its code, and its message with `ids` as ID."""
    assert answer["data"] is None, answer
    (error,) = answer["errors"]
    message = error["message"]
    for record_id in ids:
        message = message.replace(record_id, "ID")
    return error["extensions"]["code"], message


NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.mark.parametrize("record_type", NODE_RECORD_TYPES, ids=lambda t: t.what)
@pytest.mark.parametrize("owners", OWNERSHIPS, ids="+".join)
@pytest.mark.parametrize("viewer_name", list(PRINCIPALS))
def test_node_answers_as_the_records_own_query(
    engine: Engine, record_type: PrivateType, owners: list[str], viewer_name: str
) -> None:
    """`node(id:)` is in the matrix: a party gets the record; anyone else gets what the
    record's own by-id query answers (NOT_FOUND for a member, as for a missing record)."""
    assert record_type.node is not None
    parties = set(owners[: record_type.parties])
    with session_scope(engine) as session:
        record_id = record_type.create(session, [PRINCIPALS[o].principal for o in owners])
    key = record_type.node_key(record_id)
    node_id = global_id(record_type.node, key)
    missing_id = global_id(record_type.node, record_type.missing_key)
    viewer = PRINCIPALS[viewer_name]
    by_id = (
        None
        if record_type.by_id is None
        else f"query($id: ID!) {{ {record_type.by_id}(id: $id) {{ __typename id }} }}"
    )
    node = _graphql(engine, viewer, NODE, node_id)
    if viewer_name in parties:
        expected = {"__typename": record_type.node, "id": node_id}
        assert node == {"data": {"node": expected}}
        if by_id is not None:
            assert _graphql(engine, viewer, by_id, node_id) == {
                "data": {record_type.by_id: expected}
            }
        return
    hidden = _refusal(node, node_id, str(key))
    # existence does not leak: a hidden record reads as a missing one
    missing = _refusal(
        _graphql(engine, viewer, NODE, missing_id), missing_id, str(record_type.missing_key)
    )
    assert hidden == missing
    if viewer.role is Role.MEMBER:
        assert hidden[0] == "NOT_FOUND"
    else:
        assert hidden[0] in ("NOT_FOUND", "FORBIDDEN")
    if by_id is not None:  # exactly what the record's own query answers
        assert _refusal(_graphql(engine, viewer, by_id, node_id), node_id, str(key)) == hidden
    else:  # no by-id query: the data-access read behind `node` refuses it with that code
        with session_scope(engine) as session, pytest.raises(CoopError) as refused:
            record_type.get(DataAccess(session, viewer), record_id)
        assert refused.value.code.value == hidden[0]


def test_revoking_someone_elses_key_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        key_id = apikeys.issue(session, owner=AURORA, role=Role.MEMBER).record.id
    for name, viewer in PRINCIPALS.items():
        if name == "aurora":
            continue
        with pytest.raises(NotFound), session_scope(engine) as session:
            apikeys.revoke(DataAccess(session, viewer), key_id)
        with Session(engine) as session:
            assert session.get(ApiKey, key_id).revoked_at is None, name


def test_a_type_without_parties_cannot_be_read(engine: Engine) -> None:
    with session_scope(engine) as session:
        access = DataAccess(session, PRINCIPALS["aurora"])
        with pytest.raises(TypeError, match="declares no __parties__"):
            access.private(MemberProfile)


@pytest.mark.parametrize(
    "record_type",
    [t for t in PRIVATE_RECORD_TYPES if t.model in DOCUMENT_RECORDS],
    ids=lambda t: t.what,
)
@pytest.mark.parametrize("owners", OWNERSHIPS, ids="+".join)
@pytest.mark.parametrize("viewer_name", list(PRINCIPALS))
def test_only_a_party_gets_the_document_with_its_proof(
    engine: Engine, record_type: PrivateType, owners: list[str], viewer_name: str
) -> None:
    """commitmentProof follows the rule: a party member gets the document and salt, any
    other member gets what it would get for a commitment that does not exist, an admin or
    auditor the commitment's proof without the document."""
    parties = set(owners[: record_type.parties])
    commitment = "0x" + secrets.token_hex(32)
    with session_scope(engine) as session:
        record_id = record_type.create(session, [PRINCIPALS[o].principal for o in owners])
        record = session.get(record_type.model, record_id)
        record.commitment, record.salt = commitment, "0x" + "ab" * 32  # type: ignore[attr-defined]
        session.add(record)
        session.add(
            CommitmentLeaf(index=0, commitment=commitment, block=1, tx_hash="0x", log_index=0)
        )
        session.add(
            CheckpointRecord(
                index=0, tree_size=1, root="0x" + merkle.root([bytes.fromhex(commitment[2:])]).hex(),
                source_block=1, source_block_hash="0x" + "11" * 32, state_root="0x" + "22" * 32,
                anchor_chain_id=31338, anchor_contract="0x" + "33" * 20, anchor_tx="0x" + "44" * 32,
                anchor_block=1, posted_at=NOW,
            )
        )  # fmt: skip
        document = record.document  # type: ignore[attr-defined]
    viewer = PRINCIPALS[viewer_name]
    with session_scope(engine) as session:
        access = DataAccess(session, viewer)
        if viewer.role is not Role.MEMBER:
            bundle = commitment_proof(access, commitment)
            assert bundle["document"] is None and bundle["salt"] is None
            assert bundle["leaf"] == {"index": 0, "treeSize": 1}
        elif viewer_name in parties:
            bundle = commitment_proof(access, commitment)
            assert bundle["document"] == document and bundle["salt"] == "0x" + "ab" * 32
        else:
            with pytest.raises(NotFound) as hidden:
                commitment_proof(access, commitment)
            missing = "0x" + secrets.token_hex(32)
            with pytest.raises(NotFound) as absent:
                commitment_proof(access, missing)
            assert str(hidden.value).replace(commitment, "ID") == str(absent.value).replace(
                missing, "ID"
            )
