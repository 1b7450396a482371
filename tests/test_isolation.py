"""The isolation rule as a matrix: every private record type by every principal who is
not a party must see nothing and change nothing, and a hidden record answers exactly
as a missing one.

Later modules add their private record types (quotes, orders, services, tickets, credits,
invoices) to PRIVATE_RECORD_TYPES with a factory; the matrix then covers them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from cooperative import apikeys
from cooperative.access import DataAccess, Viewer
from cooperative.errors import NotFound
from cooperative.store.database import session_scope
from cooperative.store.models import ApiKey, MemberProfile, Role

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
    # creates a record owned by the given principals, returns its id
    create: Callable[[Session, list[str]], Any]
    # the data-access layer's list and get for this type
    list_ids: Callable[[DataAccess], set[Any]]
    get: Callable[[DataAccess, Any], Any]


def _create_api_key(session: Session, owners: list[str]) -> str:
    (owner,) = owners
    role = Role.MEMBER if owner.startswith("0x") else Role(owner)
    return apikeys.issue(session, owner=owner, role=role).record.id


PRIVATE_RECORD_TYPES = [
    PrivateType(
        model=ApiKey,
        what="API key",
        create=_create_api_key,
        list_ids=lambda access: {k.id for k in access.api_keys(first=100, after=None).items},
        get=lambda access, record_id: access.api_key(record_id),
    ),
]

# (record owners, principals who are parties) — single-owner types use the first rows.
OWNERSHIPS = [
    (["aurora"], {"aurora"}),
    (["borealis"], {"borealis"}),
    (["admin"], {"admin"}),
    (["auditor"], {"auditor"}),
]


@pytest.mark.parametrize("record_type", PRIVATE_RECORD_TYPES, ids=lambda t: t.what)
@pytest.mark.parametrize(("owners", "parties"), OWNERSHIPS, ids=lambda o: "+".join(sorted(o)))
@pytest.mark.parametrize("viewer_name", list(PRINCIPALS))
def test_only_parties_see_a_private_record(
    engine: Engine, record_type: PrivateType, owners: list[str], parties: set[str], viewer_name: str
) -> None:
    with session_scope(engine) as session:
        record_id = record_type.create(session, [PRINCIPALS[o].principal for o in owners])
    viewer = PRINCIPALS[viewer_name]
    with session_scope(engine) as session:
        access = DataAccess(session, viewer)
        if viewer_name in parties:
            assert record_id in record_type.list_ids(access)
            assert record_type.get(access, record_id) is not None
        else:
            assert record_id not in record_type.list_ids(access)
            with pytest.raises(NotFound) as hidden:
                record_type.get(access, record_id)
            with pytest.raises(NotFound) as missing:
                record_type.get(access, "no-such-record")
            # existence does not leak: hidden and missing read the same
            assert str(hidden.value).replace(str(record_id), "ID") == str(missing.value).replace(
                "no-such-record", "ID"
            )


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
