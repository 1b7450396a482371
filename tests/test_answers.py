"""The store's version (cooperative.store.database) and the answers kept under it
(cooperative.api.answers): a cached answer is never another key's, never stale after a
write, never served to a revoked key, never an error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cooperative.api import answers as answers_module
from cooperative.api.answers import Answers, is_cached_document
from cooperative.api.app import create_app
from cooperative.platform import Platform
from cooperative.store.database import StoreVersionReader, session_scope
from cooperative.store.models import ChainCursor, MemberProfile
from tests.conftest import Api

ME = "{ me { role member { address name } apiKeys { edges { node { id label } } } } }"
ORDERS = "{ orders(first: 50) { edges { node { id buyer seller } } } }"
CREATE_KEY = "mutation($label: String!) { createApiKey(input: {label: $label}) { apiKey { id } secret errors { code message } } }"
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } errors { code message } } }"


# ------------------------------------------------------------------ the store's version


def test_the_version_moves_once_per_transaction_that_changed_what_queries_read(
    engine: Engine,
) -> None:
    version = StoreVersionReader(engine)
    first = version.read()
    assert first is not None

    with session_scope(engine) as session:  # two rows, one transaction: one step
        session.add(MemberProfile(address="0x" + "1" * 40, name="One", joined_block=1))
        session.add(MemberProfile(address="0x" + "2" * 40, name="Two", joined_block=1))
    assert version.read() == first + 1

    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(MemberProfile(address="0x" + "3" * 40, name="Three", joined_block=1))
        session.flush()
        raise RuntimeError("rolled back")
    assert version.read() == first + 1  # nothing committed, nothing moved

    with session_scope(engine) as session:  # the follower's bookkeeping alone
        session.add(ChainCursor(name="chain", block=7, block_hash="0x" + "ab" * 32))
    assert version.read() == first + 1

    with Session(engine) as session:  # a read
        assert session.get(MemberProfile, "0x" + "1" * 40) is not None
        session.commit()
    assert version.read() == first + 1

    with session_scope(engine) as session:  # a bulk statement bypasses the flush
        session.exec(delete(MemberProfile).where(MemberProfile.name == "Two"))  # type: ignore[call-overload]
    assert version.read() == first + 2

    with session_scope(engine) as session:  # an update
        row = session.get(MemberProfile, "0x" + "1" * 40)
        assert row is not None
        row.name = "Uno"
        session.add(row)
    assert version.read() == first + 3


def test_a_reader_whose_database_is_gone_answers_none(tmp_path: Any) -> None:
    from cooperative.store.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'none.db'}")  # no schema: no version row
    assert StoreVersionReader(engine).read() is None


# ------------------------------------------------------------------ which documents


@pytest.mark.parametrize(
    ("document", "operation", "cached"),
    [
        (ORDERS, None, True),
        ("query Mine { me { role } invoices(first: 5) { edges { cursor } } }", "Mine", True),
        ('query A { me { role } } query B { node(id: "Order:1") { id } }', "A", True),
        ('query A { me { role } } query B { node(id: "Order:1") { id } }', "B", False),
        ("query A { me { role } } query B { me { role } }", None, False),  # which one?
        ("{ me { role } proposals { id } }", None, False),  # proposals: not in CACHED_FIELDS
        ("{ ...F } fragment F on Query { me { role } }", None, False),
        ("mutation { createApiKey(input: {}) { secret } }", None, False),
        ("{ me { role ", None, False),
    ],
)
def test_only_queries_of_the_store_alone_are_cached(
    document: str, operation: str | None, cached: bool
) -> None:
    assert is_cached_document(document, operation) is cached


# ------------------------------------------------------------------ answers over HTTP


@pytest.fixture(scope="module")
def cached_client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform))


@pytest.fixture(scope="module")
def members(cached_client: TestClient, credentials: dict[str, Any]) -> list[Api]:
    return [Api(cached_client, m["apiKey"]) for m in credentials["members"]]


def answers_of(client: TestClient) -> Answers:
    return client.app.state.answers  # type: ignore[attr-defined]


def test_the_same_query_again_is_answered_from_the_cache(
    cached_client: TestClient, members: list[Api]
) -> None:
    answers = answers_of(cached_client)
    members[0].post(ME)  # (a key's first use records its lastUsedAt: a write)
    first = members[0].post(ME)
    hits = answers.hits
    again = members[0].post(ME)
    assert answers.hits == hits + 1
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["cache-control"] == "no-store"  # the security headers still apply


def test_each_key_gets_its_own_answer(
    cached_client: TestClient, members: list[Api], credentials: dict[str, Any]
) -> None:
    """Every principal asks the same bodies, twice, interleaved: each answer, cached or
    not, is the asker's own."""
    admin = Api(cached_client, credentials["admin"]["apiKey"])
    askers = [
        (api, "MEMBER", m["address"].lower())
        for api, m in zip(members, credentials["members"], strict=True)
    ]
    askers.append((admin, "ADMIN", None))
    for _round in range(2):
        for api, role, address in askers:
            me = api(ME)["me"]
            assert me["role"] == role
            assert (me["member"]["address"].lower() if me["member"] else None) == address
    orders = [api(ORDERS)["orders"]["edges"] for api in members]
    for api, edges in zip(members, orders, strict=True):
        me = api(ME)["me"]["member"]["address"].lower()
        assert all(me in (e["node"]["buyer"].lower(), e["node"]["seller"].lower()) for e in edges)


def test_a_write_is_read_back_at_once(cached_client: TestClient, members: list[Api]) -> None:
    before = members[1](ME)["me"]["apiKeys"]["edges"]
    assert members[1](ME)["me"]["apiKeys"]["edges"] == before  # (now cached)
    created = members[1](CREATE_KEY, {"label": "answer-cache"})["createApiKey"]
    assert created["errors"] == []
    after = members[1](ME)["me"]["apiKeys"]["edges"]
    assert len(after) == len(before) + 1
    assert "answer-cache" in {e["node"]["label"] for e in after}


def test_a_revoked_key_is_refused_though_its_answer_was_kept(
    cached_client: TestClient, members: list[Api]
) -> None:
    created = members[2](CREATE_KEY, {"label": "soon revoked"})["createApiKey"]
    doomed = Api(cached_client, created["secret"])
    assert doomed(ME)["me"]["role"] == "MEMBER"
    assert doomed(ME)["me"]["role"] == "MEMBER"  # answered from the cache
    revoked = members[2](REVOKE_KEY, {"id": created["apiKey"]["id"]})["revokeApiKey"]
    assert revoked["errors"] == []
    refused = doomed.post(ME)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_errors_and_mutations_are_never_kept(cached_client: TestClient, members: list[Api]) -> None:
    answers = answers_of(cached_client)
    bad = "{ orders(first: 0) { edges { cursor } } }"
    for _ in range(2):
        hits = answers.hits
        body = members[0].post(bad).json()
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
        assert answers.hits == hits
    labels = set()
    for _ in range(2):  # the same mutation body twice: two keys
        created = members[0](CREATE_KEY, {"label": "twice"})["createApiKey"]
        labels.add(created["apiKey"]["id"])
    assert len(labels) == 2


def test_nothing_is_answered_from_the_cache_while_the_chain_is_rebuilt(
    cached_client: TestClient, members: list[Api], platform: Platform
) -> None:
    members[0](ORDERS)
    members[0](ORDERS)  # kept
    platform.chain_status = "restarting"
    try:
        body = members[0].post(ORDERS).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    finally:
        platform.chain_status = "ok"
    assert "errors" not in members[0].post(ORDERS).json()


def test_a_key_is_authenticated_again_within_its_last_used_resolution(
    cached_client: TestClient, members: list[Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = answers_of(cached_client)
    members[0](ME)
    monkeypatch.setattr(answers_module, "REAUTHENTICATE_SECONDS", 0.0)
    hits = answers.hits
    members[0](ME)
    assert answers.hits == hits  # answered afresh: authenticated, lastUsedAt kept
