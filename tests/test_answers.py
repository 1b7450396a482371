"""The store's version (cooperative.store.database) and the answers kept under it
(cooperative.api.answers): a cached answer is never another key's, never stale after a
write, never served to a revoked key, never an error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cooperative.api import answers as answers_module
from cooperative.api.answers import Answers
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


def test_a_savepoint_rolled_back_keeps_the_rest_of_the_transactions_change(
    engine: Engine,
) -> None:
    version = StoreVersionReader(engine)
    first = version.read()
    assert first is not None
    with session_scope(engine) as session:
        session.add(MemberProfile(address="0x" + "4" * 40, name="Four", joined_block=1))
        session.flush()
        savepoint = session.begin_nested()
        session.add(MemberProfile(address="0x" + "5" * 40, name="Five", joined_block=1))
        session.flush()
        savepoint.rollback()
    assert version.read() == first + 1


def test_a_reader_whose_database_is_gone_answers_none(tmp_path: Any) -> None:
    from cooperative.store.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'none.db'}")  # no schema: no version row
    assert StoreVersionReader(engine).read() is None


def test_a_reader_that_failed_waits_before_it_tries_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It reads on the event loop: a database that is gone costs one failed attempt per
    RETRY_SECONDS, not one per request."""
    version = StoreVersionReader(engine)
    assert version.read() is not None
    attempts = []
    real_connect = StoreVersionReader._connect

    def failing(self: StoreVersionReader) -> Any:
        attempts.append(1)
        raise OSError("the database is gone")

    version.close()
    monkeypatch.setattr(StoreVersionReader, "_connect", failing)
    assert [version.read() for _ in range(5)] == [None] * 5
    assert len(attempts) == 1
    monkeypatch.setattr(StoreVersionReader, "_connect", real_connect)
    version._failed_at -= StoreVersionReader.RETRY_SECONDS  # (the wait is over)
    assert version.read() is not None


# ------------------------------------------------------------------ which documents


@pytest.mark.parametrize(
    ("document", "operation", "kept"),
    [
        (ORDERS, None, True),
        ("query Mine { me { role } invoices(first: 5) { edges { cursor } } }", "Mine", True),
        ('query A { me { role } } query B { node(id: "Order:1") { id } }', "A", True),
        ('query A { me { role } } query B { node(id: "Order:1") { id } }', "B", False),
        ("{ me { role } proposals { id } }", None, False),  # proposals: not in CACHED_FIELDS
        ("{ ...F } fragment F on Query { me { role } }", None, False),  # not looked into
        ("{ me { role ", None, False),  # an error
        ("{ orders(first: 0) { edges { cursor } } }", None, False),  # an error
    ],
)
def test_only_answers_of_the_store_alone_are_kept(
    client: TestClient, as_member: list[Api], document: str, operation: str | None, kept: bool
) -> None:
    answers = answers_of(client)

    def ask() -> Any:
        return client.post(
            "/graphql",
            json={"query": document, "operationName": operation},
            headers={"Authorization": f"Bearer {as_member[0].key}"},
        )

    ask()
    first = ask()  # (past a first use's lastUsedAt write)
    hits = answers.hits
    again = ask()
    assert answers.hits == hits + (1 if kept else 0)
    assert again.content == first.content


# ------------------------------------------------------------------ answers over HTTP


def answers_of(client: TestClient) -> Answers:
    return client.app.state.answers  # type: ignore[attr-defined]


def test_the_same_query_again_is_answered_from_the_cache(
    client: TestClient, as_member: list[Api]
) -> None:
    answers = answers_of(client)
    as_member[0].post(ME)  # (a key's first use records its lastUsedAt: a write)
    first = as_member[0].post(ME)
    hits = answers.hits
    again = as_member[0].post(ME)
    assert answers.hits == hits + 1
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["cache-control"] == "no-store"  # the security headers still apply


def test_each_key_gets_its_own_answer(
    client: TestClient, as_member: list[Api], as_admin: Api, credentials: dict[str, Any]
) -> None:
    """Every principal asks the same bodies, twice, interleaved: each answer, cached or
    not, is the asker's own."""
    askers = [
        (api, "MEMBER", m["address"].lower())
        for api, m in zip(as_member, credentials["members"], strict=True)
    ]
    askers.append((as_admin, "ADMIN", None))
    for _round in range(2):
        for api, role, address in askers:
            me = api(ME)["me"]
            assert me["role"] == role
            assert (me["member"]["address"].lower() if me["member"] else None) == address
    orders = [api(ORDERS)["orders"]["edges"] for api in as_member]
    for api, edges in zip(as_member, orders, strict=True):
        me = api(ME)["me"]["member"]["address"].lower()
        assert all(me in (e["node"]["buyer"].lower(), e["node"]["seller"].lower()) for e in edges)


def test_a_write_is_read_back_at_once(client: TestClient, as_member: list[Api]) -> None:
    before = as_member[1](ME)["me"]["apiKeys"]["edges"]
    assert as_member[1](ME)["me"]["apiKeys"]["edges"] == before  # (now cached)
    created = as_member[1](CREATE_KEY, {"label": "answer-cache"})["createApiKey"]
    assert created["errors"] == []
    after = as_member[1](ME)["me"]["apiKeys"]["edges"]
    assert len(after) == len(before) + 1
    assert "answer-cache" in {e["node"]["label"] for e in after}


def test_a_revoked_key_is_refused_though_its_answer_was_kept(
    client: TestClient, as_member: list[Api]
) -> None:
    created = as_member[2](CREATE_KEY, {"label": "soon revoked"})["createApiKey"]
    doomed = Api(client, created["secret"])
    assert doomed(ME)["me"]["role"] == "MEMBER"
    assert doomed(ME)["me"]["role"] == "MEMBER"  # answered from the cache
    revoked = as_member[2](REVOKE_KEY, {"id": created["apiKey"]["id"]})["revokeApiKey"]
    assert revoked["errors"] == []
    refused = doomed.post(ME)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_errors_and_mutations_are_never_kept(client: TestClient, as_member: list[Api]) -> None:
    answers = answers_of(client)
    bad = "{ orders(first: 0) { edges { cursor } } }"
    for _ in range(2):
        hits = answers.hits
        body = as_member[0].post(bad).json()
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
        assert answers.hits == hits
    labels = set()
    for _ in range(2):  # the same mutation body twice: two keys
        created = as_member[0](CREATE_KEY, {"label": "twice"})["createApiKey"]
        labels.add(created["apiKey"]["id"])
    assert len(labels) == 2


def test_nothing_is_answered_from_the_cache_while_the_chain_is_rebuilt(
    client: TestClient, as_member: list[Api], platform: Platform
) -> None:
    as_member[0](ORDERS)
    as_member[0](ORDERS)  # kept
    platform.chain_status = "restarting"
    try:
        body = as_member[0].post(ORDERS).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    finally:
        platform.chain_status = "ok"
    assert "errors" not in as_member[0].post(ORDERS).json()


def test_a_key_is_authenticated_again_within_its_last_used_resolution(
    client: TestClient, as_member: list[Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = answers_of(client)
    as_member[0](ME)
    monkeypatch.setattr(answers_module, "REAUTHENTICATE_SECONDS", 0.0)
    hits = answers.hits
    as_member[0](ME)
    assert answers.hits == hits  # answered afresh: authenticated, lastUsedAt kept


def test_an_answer_that_read_the_chains_clock_is_not_kept(
    platform: Platform,
    client: TestClient,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
) -> None:
    """A resolved ticket the buyer leaves unanswered reads closed once its window passed,
    with nothing written: the page that said `resolved` must not be answered again."""
    from tests.test_assurance_api import OPEN, RESOLVE, STEP, chain_time

    buyer, seller = as_member[0], as_member[1]
    now = chain_time(platform)
    registered = seller(
        "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
        {
            "in": {
                "buyer": addresses[0],
                "circuits": [
                    {
                        "slaTemplate": template_id,
                        "currency": "EUR",
                        "mrc": "1000",
                        "startedAt": (now - timedelta(days=40)).isoformat(),
                    }
                ],
            }
        },
    )["registerServices"]
    (service,) = (s["id"] for s in registered["services"])
    buyer(
        "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code } } }",
        {"ids": [service]},
    )
    opened = buyer(
        OPEN,
        {
            "in": {
                "tickets": [
                    {
                        "serviceId": service,
                        "impact": "down",
                        "startedAt": (now - timedelta(hours=1)).isoformat(),
                        "description": "LOS",
                    }
                ]
            }
        },
    )["openTroubleTicket"]
    (ticket,) = (t["id"] for t in opened["tickets"])
    seller(STEP.format(name="acknowledgeTroubleTicket"), {"ids": [ticket]})
    resolved = seller(
        RESOLVE,
        {
            "in": {
                "tickets": [{"ticketId": ticket, "endedAt": now.isoformat(), "rootCause": "power"}]
            }
        },
    )["resolveTroubleTicket"]
    assert resolved["errors"] == []

    page = "query($s: ID) { troubleTickets(serviceId: $s) { edges { node { id state } } } }"
    answers = answers_of(client)
    states = [buyer(page, {"s": service})["troubleTickets"]["edges"][0]["node"]["state"]]
    hits = answers.hits
    states.append(buyer(page, {"s": service})["troubleTickets"]["edges"][0]["node"]["state"])
    assert states == ["resolved", "resolved"] and answers.hits == hits  # computed, not kept
    platform.gateway.increase_time(6 * 86_400)  # past the template's 5-day window
    assert buyer(page, {"s": service})["troubleTickets"]["edges"][0]["node"]["state"] == "closed"


def test_a_key_locked_by_failed_guesses_gets_no_kept_answer(
    client: TestClient, as_member: list[Api]
) -> None:
    from cooperative.apikeys import MAX_FAILURES

    secret = as_member[2](CREATE_KEY, {"label": "guessed"})["createApiKey"]["secret"]
    key = Api(client, secret)
    key(ME)
    key(ME)  # kept
    key_id = secret.split("_")[1]
    for guess in range(MAX_FAILURES):
        assert Api(client, f"coop_{key_id}_guess{guess}").post(ME).status_code == 401
    locked = key.post(ME)
    assert locked.status_code == 429
    assert locked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_one_keys_many_bodies_push_out_only_its_own_answers(
    client: TestClient, as_member: list[Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cooperative import apikeys
    from cooperative.api.answers import MAX_ANSWERS_PER_KEY

    # no lastUsedAt write (which moves the version) while the test runs
    monkeypatch.setattr(apikeys, "LAST_USED_RESOLUTION", timedelta(days=1))
    answers = answers_of(client)
    as_member[0](ME)
    as_member[1](ME)
    as_member[1](ME)  # kept
    for n in range(MAX_ANSWERS_PER_KEY + 5):  # another key, many bodies
        as_member[0](ME + f" # {n}")
    hits = answers.hits
    as_member[1](ME)
    assert answers.hits == hits + 1  # the other member's answer is still kept
    hits = answers.hits
    as_member[0](ME + " # 0")  # the many bodies' oldest is gone
    assert answers.hits == hits
