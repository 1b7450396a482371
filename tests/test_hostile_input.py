"""A hostile client's requests, each a client error with one error body: never a 5xx,
never INTERNAL, and the server answers the next request (issue 11's regressions)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from cooperative.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth
from tests.conftest import Api

pytestmark = pytest.mark.e2e

ME = "{ me { role } }"


def raw_post(client: TestClient, api: Api, body: bytes) -> Any:
    return client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )


def assert_client_error(response: Any, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert says in error["message"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "JSON object"),
        (b"42", "JSON object"),
        (b'"a query"', "JSON object"),
        (b"[]", "JSON object"),
        (b'{"query": "{ me { role } }"', "not valid JSON"),
        (b'{"query": "\xff\xfe"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, f"deeper than {MAX_JSON_DEPTH}"),
        (b'{"query": "x", "variables": {"n": ' + b"9" * 5_000 + b"}}", "not valid JSON"),
    ],
    ids=["null", "number", "string", "list", "truncated", "not-utf8", "deep", "huge-int"],
)
def test_a_malformed_body_is_a_client_error(
    client: TestClient, as_member: list[Api], body: bytes, says: str
) -> None:
    assert_client_error(raw_post(client, as_member[0], body), 400, says)
    assert as_member[0](ME)["me"]["role"] == "MEMBER"  # and the server is still there


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(
    client: TestClient, as_member: list[Api]
) -> None:
    padding = "x" * MAX_BODY_BYTES
    body = ('{"query": "{ me { role } }", "variables": {"pad": "' + padding + '"}}').encode()
    response = raw_post(client, as_member[0], body)
    assert_client_error(response, 413, "larger than")
    assert padding[:1000] not in response.text  # nothing of it echoed back


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"7") == 0


def graphql_errors(api: Api, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
    response = api.post(query, variables)
    assert response.status_code < 500, response.text
    body = response.json()
    errors = body.get("errors") or []
    for payload in (body.get("data") or {}).values():  # a mutation's own error list
        if isinstance(payload, dict):
            errors += [
                {"message": e["message"], "extensions": e} for e in payload.get("errors") or []
            ]
    return errors


def fragment_bomb(levels: int) -> str:
    spreads = "".join(
        f"fragment F{i} on Me {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, levels + 1)
    )
    return f"fragment F0 on Me {{ role }}\n{spreads}{{ me {{ ...F{levels} }} }}"


@pytest.mark.parametrize(
    "query",
    [fragment_bomb(20), fragment_bomb(39), "{ " + "me { role } " * 400 + "}"],
    ids=["fragments-20", "fragments-39", "repeated-400"],
)
def test_a_query_that_expands_too_far_is_refused_before_it_is_validated(
    as_member: list[Api], query: str, caplog: pytest.LogCaptureFixture
) -> None:
    (error,) = graphql_errors(as_member[0], query)
    assert error["extensions"]["code"] == "VALIDATION"
    assert "more than 300 fields" in error["message"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_the_standard_introspection_query_is_within_the_limit(as_member: list[Api]) -> None:
    from graphql import get_introspection_query

    data = as_member[0](get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


MEMBERS_FIRST = "query($n: Int!) { members(first: $n) { edges { node { address } } } }"
OPEN = "mutation($in: OpenTroubleTicketInput!) { openTroubleTicket(input: $in) { errors { code message field } } }"


def opening(**changes: Any) -> dict[str, Any]:
    ticket = {
        "serviceId": 1,
        "impact": "down",
        "startedAt": "2026-01-01T00:00:00Z",
        "description": "seen by the NOC",
        **changes,
    }
    return {"in": {"tickets": [ticket]}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (MEMBERS_FIRST, {"n": "ten"}),
        (MEMBERS_FIRST, {"n": 1.5}),
        (MEMBERS_FIRST, {}),
        (MEMBERS_FIRST, {"n": None}),
        (MEMBERS_FIRST, {"n": 2**40}),
        (OPEN, opening(startedAt="yesterday")),
        (OPEN, opening(startedAt=17)),
        (OPEN, opening(serviceId="one")),
        (OPEN, {"in": None}),
        (OPEN, {"in": {"tickets": "all"}}),
    ],
    ids=[
        "string-for-int",
        "float-for-int",
        "missing",
        "null",
        "int-over-32-bits",
        "unparsable-datetime",
        "number-for-datetime",
        "string-for-id",
        "null-input",
        "string-for-list",
    ],
)
def test_a_variable_that_does_not_coerce_is_a_validation_error(
    as_member: list[Api], query: str, variables: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    errors = graphql_errors(as_member[0], query, variables)
    assert errors and {e["extensions"]["code"] for e in errors} == {"VALIDATION"}, errors
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_an_error_does_not_echo_a_huge_value(as_member: list[Api]) -> None:
    errors = graphql_errors(as_member[0], MEMBERS_FIRST, {"n": "x" * 500_000})
    assert errors and all(len(e["message"]) < 1_000 for e in errors)
