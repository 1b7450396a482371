"""The store on SQLite and on a real PostgreSQL server: keys, keystore, atomic sessions."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from cooperative import apikeys
from cooperative.errors import Unauthenticated
from cooperative.store.database import session_scope
from cooperative.store.keystore import Keystore, KeystoreError, load_or_create_secret
from cooperative.store.models import ApiKey, CustodialKey, Role

MEMBER = "0x00000000000000000000000000000000000000A1"


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_api_key_is_stored_hashed_and_authenticates(engine: Engine) -> None:
    with session_scope(engine) as session:
        issued = apikeys.issue(session, owner=MEMBER, role=Role.MEMBER, label="erp")
    with Session(engine) as session:
        row = session.get(ApiKey, issued.record.id)
        assert row is not None
        assert issued.secret.split("_", 2)[2] not in row.secret_hash
        assert row.last_used_at is None
    with session_scope(engine) as session:
        viewer = apikeys.authenticate(session, f"Bearer {issued.secret}")
    assert (viewer.principal, viewer.role, viewer.key_id) == (MEMBER, Role.MEMBER, issued.record.id)
    with Session(engine) as session:
        assert session.get(ApiKey, issued.record.id).last_used_at is not None


def test_many_keys_per_member_and_revocation(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = apikeys.issue(session, owner=MEMBER, role=Role.MEMBER)
        second = apikeys.issue(session, owner=MEMBER, role=Role.MEMBER)
    with session_scope(engine) as session:
        row = session.get(ApiKey, first.record.id)
        row.revoked_at = row.created_at
        session.add(row)
    with session_scope(engine) as session, pytest.raises(Unauthenticated, match="revoked"):
        apikeys.authenticate(session, f"Bearer {first.secret}")
    with session_scope(engine) as session:
        assert apikeys.authenticate(session, f"Bearer {second.secret}").key_id == second.record.id


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "required"),
        ("Basic abc", "Bearer"),
        ("Bearer nonsense", "not a CarrierCoop API key"),
        ("Bearer coop_0000000000000000_guess", "not valid"),
    ],
)
def test_bad_credentials_are_refused(engine: Engine, header: str | None, reason: str) -> None:
    with session_scope(engine) as session, pytest.raises(Unauthenticated, match=reason):
        apikeys.authenticate(session, header)


def test_a_wrong_secret_for_a_known_key_id_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        issued = apikeys.issue(session, owner=MEMBER, role=Role.MEMBER)
    forged = f"coop_{issued.record.id}_{'x' * 43}"
    with session_scope(engine) as session, pytest.raises(Unauthenticated, match="not valid"):
        apikeys.authenticate(session, f"Bearer {forged}")


def test_keystore_round_trip_and_wrong_secret(engine: Engine) -> None:
    account = Keystore(engine, "right secret").create("member")
    with Session(engine) as session:
        stored = session.get(CustodialKey, account.address)
    assert account.key.hex() not in stored.keystore_json
    reopened = Keystore(engine, "right secret")
    assert reopened.account(account.address).key == account.key
    assert reopened.addresses("member") == [account.address]
    with pytest.raises(KeystoreError, match="does not open the keystore"):
        Keystore(engine, "wrong secret").check_secret()


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    before = count(engine, ApiKey)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        apikeys.issue(session, owner=MEMBER, role=Role.MEMBER)
        raise RuntimeError("fails after the insert")
    assert count(engine, ApiKey) == before


def test_generated_secret_is_private_and_stable(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path, None)
    mode = stat.S_IMODE((tmp_path / "secret").stat().st_mode)
    assert mode == 0o600
    assert load_or_create_secret(tmp_path, None) == secret
    assert load_or_create_secret(tmp_path, "configured") == "configured"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    from cooperative.store.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
