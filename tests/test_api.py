"""The GraphQL API on a real platform (embedded anvil + SQLite): queries, key management,
and bad input — each a clear error with its code, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cooperative.platform import Platform
from cooperative.store.models import ApiKey
from tests.conftest import Api

ME = "{ me { role member { address name isMember } } }"
CREATE_KEY = "mutation($label: String!) { createApiKey(input: {label: $label}) { apiKey { id label role revokedAt } secret errors { code message field } } }"
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id revokedAt } errors { code message field } } }"


def key_rows(platform: Platform) -> list[tuple[str, Any]]:
    with Session(platform.engine) as session:
        return [
            (k.id, k.revoked_at) for k in session.exec(select(ApiKey).order_by(ApiKey.id)).all()
        ]


def error_code(body: dict[str, Any]) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_me_is_the_member_behind_the_key(as_member: list[Api], credentials: dict[str, Any]) -> None:
    for api, member in zip(as_member, credentials["members"], strict=True):
        me = api(ME)["me"]
        assert me == {
            "role": "MEMBER",
            "member": {"address": member["address"], "name": member["name"], "isMember": True},
        }


def test_admin_is_no_member(as_admin: Api) -> None:
    assert as_admin(ME)["me"] == {"role": "ADMIN", "member": None}


def test_members_lists_the_founders_from_the_chain(
    as_member: list[Api], platform: Platform
) -> None:
    data = as_member[1](
        "{ members { edges { node { address name joinedBlock } } pageInfo { hasNextPage } } }"
    )
    names = sorted(edge["node"]["name"] for edge in data["members"]["edges"])
    assert names == ["Aurora Telecom", "Borealis Networks", "Cirrus Fiber"]
    membership = platform.gateway.contract(
        platform.deployment.address("Membership"), platform.compiler.vyper("Membership").abi
    )
    for edge in data["members"]["edges"]:
        assert membership.functions.is_member(edge["node"]["address"]).call()
        assert int(edge["node"]["joinedBlock"]) > 0


def test_members_pages_with_cursors(as_member: list[Api]) -> None:
    query = "query($after: String) { members(first: 2, after: $after) { edges { node { address } } pageInfo { hasNextPage endCursor } } }"
    first = as_member[0](query)["members"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"] is True
    second = as_member[0](query, {"after": first["pageInfo"]["endCursor"]})["members"]
    assert len(second["edges"]) == 1 and second["pageInfo"]["hasNextPage"] is False
    seen = [e["node"]["address"] for e in first["edges"] + second["edges"]]
    assert len(set(seen)) == 3


def test_create_use_and_revoke_an_own_key(as_member: list[Api], client: TestClient) -> None:
    created = as_member[0](CREATE_KEY, {"label": "erp-sync"})["createApiKey"]
    assert created["errors"] == [] and created["apiKey"]["label"] == "erp-sync"
    new = Api(client, created["secret"])
    assert new(ME)["me"]["member"]["name"] == "Aurora Telecom"
    listed = as_member[0]("{ me { apiKeys(first: 50) { edges { node { id } } } } }")
    assert created["apiKey"]["id"] in {e["node"]["id"] for e in listed["me"]["apiKeys"]["edges"]}

    revoked = as_member[0](REVOKE_KEY, {"id": created["apiKey"]["id"]})["revokeApiKey"]
    assert revoked["errors"] == [] and revoked["apiKey"]["revokedAt"] is not None
    response = new.post(ME)
    assert response.status_code == 401 and error_code(response.json()) == "UNAUTHENTICATED"
    again = as_member[0](REVOKE_KEY, {"id": created["apiKey"]["id"]})["revokeApiKey"]
    assert again["errors"][0]["code"] == "INVALID_STATE"


def test_key_lists_are_private(as_member: list[Api]) -> None:
    aurora_ids = {
        e["node"]["id"]
        for e in as_member[0]("{ me { apiKeys { edges { node { id } } } } }")["me"]["apiKeys"][
            "edges"
        ]
    }
    borealis_ids = {
        e["node"]["id"]
        for e in as_member[1]("{ me { apiKeys { edges { node { id } } } } }")["me"]["apiKeys"][
            "edges"
        ]
    }
    assert aurora_ids and borealis_ids and not aurora_ids & borealis_ids


def test_no_one_obtains_a_key_for_a_member_that_has_one(
    as_admin: Api, as_member: list[Api], credentials: dict[str, Any], platform: Platform
) -> None:
    """Least privilege: the operator issues only a new member's first key (see the
    admission test in test_governance_api); a member never issues one for another."""
    query = "mutation($m: String) { createApiKey(input: {memberAddress: $m}) { secret errors { code field } } }"
    cirrus = credentials["members"][2]["address"]
    before = key_rows(platform)
    for caller in (as_admin, as_member[0]):
        refused = caller(query, {"m": cirrus})["createApiKey"]
        assert refused == {
            "secret": None,
            "errors": [{"code": "FORBIDDEN", "field": "memberAddress"}],
        }
    assert key_rows(platform) == before


# ---------------------------------------------------------------- bad input


def test_no_unknown_or_malformed_key_is_unauthenticated(
    client: TestClient, platform: Platform
) -> None:
    before = key_rows(platform)
    for headers in [
        {},
        {"Authorization": "Bearer coop_deadbeefdeadbeef_nope"},
        {"Authorization": "Token abc"},
        {"Authorization": "Bearer "},
    ]:
        response = client.post(
            "/graphql", json={"query": CREATE_KEY, "variables": {"label": "x"}}, headers=headers
        )
        assert response.status_code == 401, headers
        assert error_code(response.json()) == "UNAUTHENTICATED"
        assert response.json()["errors"][0]["message"]
    assert key_rows(platform) == before


def test_revoking_another_members_key_is_not_found(
    as_member: list[Api], platform: Platform
) -> None:
    borealis_key = as_member[1](CREATE_KEY, {"label": "borealis-erp"})["createApiKey"]["apiKey"][
        "id"
    ]
    before = key_rows(platform)
    for api in (as_member[0], as_member[2]):
        result = api(REVOKE_KEY, {"id": borealis_key})["revokeApiKey"]
        assert result["apiKey"] is None
        assert result["errors"] == [
            {
                "code": "NOT_FOUND",
                "message": f"API key {borealis_key.removeprefix('ApiKey:')} does not exist",
                "field": None,
            }
        ]
    missing = as_member[0](REVOKE_KEY, {"id": "ApiKey:0000000000000000"})["revokeApiKey"]["errors"][
        0
    ]
    assert (
        missing["message"] == "API key 0000000000000000 does not exist"
    )  # same words: existence does not leak
    for wrong, why in (
        ("Order:1", "expected an id of type ApiKey, got one of type Order"),
        ("0000000000000000", "is not an id this API returned"),
        ("Nonsense:1", "is not an id this API returned"),
    ):
        error = as_member[0](REVOKE_KEY, {"id": wrong})["revokeApiKey"]["errors"][0]
        assert (error["code"], error["field"]) == ("VALIDATION", "id"), error
        assert why in error["message"]
    assert key_rows(platform) == before


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ me { member { name } " + "me { role } " * 0 + "} }", None),  # a valid query (control)
        ("{ " + " ".join(f"a{i}: me {{ role }}" for i in range(16)) + " }", "aliases"),
        (
            "fragment F on Query { "
            + " ".join(f"a{i}: me {{ role }}" for i in range(16))
            + " } { ...F }",
            "aliases",
        ),
        ("{ me { role " + "role " * 2500 + "} }", "token"),
        ("{ me { role }", "Syntax Error"),
        ("{ me { secretHash } }", "Cannot query field"),
        ("{ members(first: 101) { edges { node { name } } } }", "between 1 and 100"),
        ('{ members(after: "%%%") { edges { node { name } } } }', "cursor"),
        # the closed sets are enums: a filter outside one is refused, not answered []
        ('{ invoices(state: "paymentDue") { edges { cursor } } }', "InvoiceState"),
        ("{ invoices(state: bogus) { edges { cursor } } }", "InvoiceState"),
        ("{ troubleTickets(state: closedd) { edges { cursor } } }", "TroubleTicketState"),
        ("{ invoices(state: paymentDue) { edges { cursor } } }", None),
    ],
)
def test_bad_queries_get_a_code_and_a_sentence(
    as_member: list[Api], query: str, reason: str | None
) -> None:
    body = as_member[0].post(query).json()
    if reason is None:
        assert "errors" not in body
        return
    assert error_code(body) == "VALIDATION", body
    assert reason in body["errors"][0]["message"]


def test_a_filter_variable_outside_its_enum_is_a_client_error(as_member: list[Api]) -> None:
    query = "query($s: TroubleTicketState) { troubleTickets(state: $s) { edges { cursor } } }"
    body = as_member[0].post(query, {"s": "bogus"}).json()
    assert error_code(body) == "VALIDATION" and "TroubleTicketState" in body["errors"][0]["message"]
    assert as_member[0](query, {"s": "resolved"})["troubleTickets"]["edges"] == []


def test_over_deep_queries_are_refused(as_member: list[Api]) -> None:
    too_deep = "{ " + "me { member { " * 6 + "name" + " } }" * 6 + " }"
    body = as_member[0].post(too_deep).json()
    assert body["data"] is None
    assert {e["extensions"]["code"] for e in body["errors"]} == {"VALIDATION"}
    assert any("exceeds maximum operation depth" in e["message"] for e in body["errors"])


def test_malformed_json_and_wrong_content_type(
    client: TestClient, credentials: dict[str, Any], platform: Platform
) -> None:
    headers = {"Authorization": f"Bearer {credentials['members'][0]['apiKey']}"}
    before = key_rows(platform)
    response = client.post(
        "/graphql",
        content=b'{"query": "mutation {',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "the request body is not valid JSON", "extensions": {"code": "VALIDATION"}}
        ]
    }
    response = client.post(
        "/graphql", content=b"query=me", headers={**headers, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415 and error_code(response.json()) == "VALIDATION"
    assert "application/json" in response.json()["errors"][0]["message"]
    assert key_rows(platform) == before


def test_health_reports_chain_database_and_contracts(
    client: TestClient, platform: Platform
) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["chainId"] == "31337"
    assert int(body["latestBlock"]) >= platform.deployment.contracts["ModuleRegistry"].block
    assert body["contracts"]["Membership"] == platform.deployment.address("Membership")
    assert set(body["contracts"]) >= {"Membership", "ModuleRegistry", "Anchor", "Anchor.beacon"}


NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Member { address name } ... on ApiKey { label } } }"


def test_node_refetches_a_record_by_its_id_and_refuses_what_is_no_id(
    as_member: list[Api], as_admin: Api, client: TestClient, credentials: dict[str, Any]
) -> None:
    address = credentials["members"][1]["address"]
    member = as_member[0](NODE, {"id": f"Member:{address}"})["node"]
    assert member == {
        "__typename": "Member",
        "id": f"Member:{address}",
        "address": address,
        "name": credentials["members"][1]["name"],
    }
    key = as_member[1](CREATE_KEY, {"label": "refetched"})["createApiKey"]["apiKey"]["id"]
    assert as_member[1](NODE, {"id": key})["node"] == {
        "__typename": "ApiKey",
        "id": key,
        "label": "refetched",
    }
    for other in (as_member[0], as_admin):  # another principal's key does not exist for it
        response = other.post(NODE, {"id": key}).json()
        assert error_code(response) == "NOT_FOUND" and response["data"] is None
    for wrong, code in (
        ("Member", "VALIDATION"),  # no key
        (address, "VALIDATION"),  # a bare key
        ("Colour:red", "VALIDATION"),  # no such type
        ("Order:twelve", "VALIDATION"),  # a key of the wrong kind
        ("QuoteRequest:1", "NOT_FOUND"),  # a type node() does not return
        ("Member:0x" + "00" * 20, "NOT_FOUND"),
    ):
        response = as_member[0].post(NODE, {"id": wrong}).json()
        assert error_code(response) == code, (wrong, response)
        assert response["errors"][0]["message"]
    anonymous = Api(client, None).post(NODE, {"id": "Order:twelve"})
    assert anonymous.status_code == 401 and error_code(anonymous.json()) == "UNAUTHENTICATED"
