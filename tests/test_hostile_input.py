"""A hostile client's requests, each a client error with one error body: never a 5xx,
never INTERNAL, and the server answers the next request (issue 11's regressions)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cooperative.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth
from tests.conftest import Api
from tests.test_assurance_api import services  # noqa: F401  (a fixture)

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
    # an unterminated string hides the brackets after it (json.loads then refuses it)
    assert json_depth(b'["abc [[[[') == 1
    assert json_depth(b'[["\\"]]') == 2


@pytest.mark.parametrize(
    "content_type",
    [
        "application/jsonx",
        "x-application/json",
        "application/json-patch+json",
        "text/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        None,
    ],
)
def test_a_body_that_is_not_declared_json_is_refused_unread(
    client: TestClient, as_member: list[Api], content_type: str | None
) -> None:
    """Strawberry parses any content type containing "json": each would have taken the
    deep body past the edge checks, into a parser that overflows the C stack."""
    headers = {"Authorization": f"Bearer {as_member[0].key}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/graphql", content=deep, headers=headers)
    assert_client_error(response, 415, "Content-Type: application/json")
    assert as_member[0](ME)["me"]["role"] == "MEMBER"


def test_a_body_of_escaped_quotes_is_refused_whole(
    client: TestClient, as_member: list[Api]
) -> None:
    """`"\\"\\"\\"…` with no closing quote: each quote used to start a scan to the end
    (quadratic: a 1 MiB body would have held the server for an hour). Its time is in the
    attack benchmark (quote-bomb); here, that it is refused as what it is."""
    body = b'"' + b'\\"' * ((MAX_BODY_BYTES - 1) // 2)
    assert_client_error(raw_post(client, as_member[0], body), 400, "not valid JSON")
    assert as_member[0](ME)["me"]["role"] == "MEMBER"


def test_a_get_querys_variables_pass_the_same_checks(client: TestClient) -> None:
    """GraphiQL's GET queries (allowed in development) carry variables in the URL."""
    for variables, says in [
        ("[" * 5_000 + "]" * 5_000, f"deeper than {MAX_JSON_DEPTH}"),
        ('{"a": "\\ud800"}', "surrogate"),
        ("42", "JSON object"),
    ]:
        response = client.get("/graphql", params={"query": ME, "variables": variables})
        assert_client_error(response, 400, says)
        # the extensions are parsed too, and a percent-encoded name is the same name
        response = client.get("/graphql", params={"query": ME, "extensions": variables})
        assert_client_error(response, 400, says)
        deep = "[" * 5_000 + "]" * 5_000
        response = client.get(f"/graphql?query=%7Bme%7Brole%7D%7D&%76ariables={deep}")
        assert_client_error(response, 400, f"deeper than {MAX_JSON_DEPTH}")


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


def test_only_documents_that_validate_are_kept(as_member: list[Api]) -> None:
    """The cache of parsed documents holds valid ones only: refused documents (the attack
    is to send ever new ones) cost their validation each time but no memory."""
    from cooperative.api import cost

    valid = "query CacheProbe { me { role } }"
    as_member[0](valid)
    assert valid in cost._documents
    for index in range(20):
        refused = f"query Refused{index} {{ me {{ nosuchfield{index} }} }}"
        (error,) = graphql_errors(as_member[0], refused)
        assert error["extensions"]["code"] == "VALIDATION"
        assert refused not in cost._documents
    assert len(cost._documents) <= cost.DOCUMENT_CACHE_SIZE


def test_health_answers_from_its_probe_thread(platform: Any) -> None:
    """With the app's lifespan running, /health answers the probe thread's last result
    (a heavy request beside it cannot slow it), and says when that was."""
    from datetime import UTC, datetime

    from cooperative.api.app import create_app
    from cooperative.api.health import PROBE_INTERVAL_SECONDS

    with TestClient(create_app(platform)) as running:
        first = running.get("/health").json()
        second = running.get("/health").json()
        assert first["status"] == "ok" and first["database"] == "ok"
        checked = datetime.fromisoformat(first["checkedAt"])
        assert (datetime.now(UTC) - checked).total_seconds() < 2 * PROBE_INTERVAL_SECONDS + 1
        # two answers within one probe interval are mostly the same probe's
        answers = {running.get("/health").json()["checkedAt"] for _ in range(5)}
        assert len(answers) <= 3 and second["checkedAt"] >= first["checkedAt"]


def test_the_standard_introspection_query_is_within_the_limit(as_member: list[Api]) -> None:
    from graphql import get_introspection_query

    data = as_member[0](get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"


MEMBERS_FIRST = "query($n: Int!) { members(first: $n) { edges { node { address } } } }"
OPEN = "mutation($in: OpenTroubleTicketInput!) { openTroubleTicket(input: $in) { errors { code message field } } }"


def opening(**changes: Any) -> dict[str, Any]:
    ticket = {
        "serviceId": "Service:1",
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


REGISTER = "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message field } } }"
IMPORT = "mutation($csv: String!) { importTroubleTickets(input: {csv: $csv}) { tickets { id } rejected { line reason } errors { code message field } } }"
INVOICE = "mutation($in: IssueInvoiceInput!) { issueInvoice(input: $in) { errors { code message field } } }"
OFFERINGS = "query($sort: OfferingSort!, $after: String) { offerings(sort: $sort, after: $after) { edges { node { id } } } }"


def circuit(**changes: Any) -> dict[str, Any]:
    return {
        "slaTemplate": "SlaTemplate:1",
        "currency": "EUR",
        "mrc": "100000",
        "startedAt": "2026-01-01T00:00:00Z",
        **changes,
    }


def registering(addresses: list[str], **changes: Any) -> dict[str, Any]:
    return {"in": {"buyer": addresses[0], "circuits": [circuit(**changes)]}}


SELLER, BUYER = 1, 0  # Borealis sells `services` to Aurora


@pytest.mark.parametrize(
    ("who", "query", "variables", "field"),
    [
        (SELLER, REGISTER, lambda a, s: registering(a, slaTemplate=-1), "circuits[0].slaTemplate"),
        (SELLER, REGISTER, lambda a, s: registering(a, mrc="-5"), None),
        (SELLER, REGISTER, lambda a, s: registering(a, mrc=str(2**256)), None),
        (
            SELLER,
            REGISTER,
            lambda a, s: registering(a, startedAt="0001-01-01T00:00:00Z"),
            "circuits[0].startedAt",
        ),
        (
            BUYER,
            OPEN,
            lambda a, s: opening(serviceId=s[0], startedAt="0001-01-01T00:00:00Z"),
            "tickets[0].startedAt",
        ),
        (
            BUYER,
            OPEN,
            lambda a, s: opening(serviceId=s[0], description="x" * 10_001),
            "tickets[0].description",
        ),
        (
            BUYER,
            OPEN,
            lambda a, s: opening(serviceId=s[0], description="x" * 2_001),
            "tickets[0].description",
        ),
        (BUYER, OPEN, lambda a, s: opening(serviceId=-3), "tickets[0].serviceId"),
        (BUYER, OPEN, lambda a, s: opening(serviceId="Order:1"), "tickets[0].serviceId"),
        (
            BUYER,
            OPEN,
            lambda a, s: opening(serviceId="Service:" + "9" * 30),
            "tickets[0].serviceId",
        ),
        (BUYER, OPEN, lambda a, s: opening(serviceId="Service:x" * 50), "tickets[0].serviceId"),
        (
            SELLER,
            INVOICE,
            lambda a, s: {
                "in": {"buyer": a[0], "period": "2026-01", "currency": "EUR", "serviceIds": []}
            },
            "serviceIds",
        ),
        (BUYER, OFFERINGS, lambda a, s: {"sort": None}, None),
        (BUYER, OFFERINGS, lambda a, s: {"sort": "ID", "after": cursor("9" * 30)}, "after"),
        (BUYER, OFFERINGS, lambda a, s: {"sort": "ID", "after": cursor(str(2**63))}, "after"),
    ],
    ids=[
        "negative-template",
        "negative-amount",
        "amount-over-256-bits",
        "year-0001-service",
        "year-0001-ticket",
        "text-over-10000",
        "description-over-2000",
        "negative-id",
        "id-of-another-type",
        "id-past-64-bits",
        "id-of-nothing",
        "invoice-of-no-service",
        "null-for-a-defaulted-enum",
        "cursor-past-64-bits",
        "cursor-of-2^63",
    ],
)
def test_a_value_outside_what_the_platform_takes_is_a_validation_error(
    as_member: list[Api],
    addresses: list[str],
    services: list[int],  # noqa: F811  (the fixture)
    who: int,
    query: str,
    variables: Any,
    field: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = graphql_errors(as_member[who], query, variables(addresses, services))
    assert errors and {e["extensions"]["code"] for e in errors} == {"VALIDATION"}, errors
    if field is not None:
        assert {e["extensions"].get("field") for e in errors} == {field}, errors
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


@pytest.mark.parametrize(
    "variables",
    [{"n": "\ud800"}, {"n": ["ok", {"deep": "a\udfffz"}]}, {"\udc00": 1}],
    ids=["a-lone-surrogate", "one-nested", "in-a-key"],
)
def test_a_lone_surrogate_anywhere_in_the_body_is_refused(
    client: TestClient, as_member: list[Api], variables: dict[str, Any]
) -> None:
    body = json.dumps({"query": MEMBERS_FIRST, "variables": variables}).encode()  # ASCII escapes
    assert_client_error(raw_post(client, as_member[0], body), 400, "lone UTF-16 surrogate")
    paired = json.dumps({"query": "{ me { role } }", "variables": {"emoji": "\U0001f600"}})
    assert raw_post(client, as_member[0], paired.encode()).json()["data"]["me"]["role"] == "MEMBER"


@pytest.mark.parametrize(
    ("csv_text", "reason"),
    [
        (
            "service_id,impact,started_at,description\n"
            + "9" * 40
            + ",down,2026-01-01T00:00:00Z,x\n",
            "service number",
        ),
        (
            "service_id,impact,started_at,description\n"
            + str(2**63)
            + ",down,2026-01-01T00:00:00Z,x\n",
            "service number",
        ),
        (
            'service_id,impact,started_at,description\n1,down,2026-01-01T00:00:00Z,"'
            + "x" * 140_000
            + '"\n',
            "not CSV the platform can read",
        ),
        (
            "service_id,impact,started_at,description\n²,down,2026-01-01T00:00:00Z,x\n",
            "service number",
        ),
    ],
    ids=["id-of-40-digits", "id-of-2^63", "field-over-128-KiB", "a-digit-that-is-not-ascii"],
)
def test_a_csv_row_the_platform_cannot_take_is_rejected_by_line(
    as_member: list[Api], csv_text: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    payload = as_member[0](IMPORT, {"csv": csv_text})["importTroubleTickets"]
    assert payload["errors"] == [] and payload["tickets"] == []
    (rejected,) = payload["rejected"]
    assert rejected["line"] == 2 and reason in rejected["reason"], rejected
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_csv_document_may_be_longer_than_other_text(
    as_member: list[Api],
    services: list[int],  # noqa: F811  (the fixture)
) -> None:
    rows = "".join(
        f"{services[1]},degraded,2026-01-01T00:00:00Z,{'d' * 1_000}\n" for _ in range(20)
    )
    csv_text = "service_id,impact,started_at,description\n" + rows
    assert len(csv_text) > 20_000
    payload = as_member[BUYER](IMPORT, {"csv": csv_text})["importTroubleTickets"]
    assert payload["errors"] == [] and payload["rejected"] == []
    assert len(payload["tickets"]) == 20


# ---------------------------------------------------------------- headers, CORS, throttling

CREATE_KEY = 'mutation { createApiKey(input: {label: "throttled"}) { secret errors { code } } }'


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/health", None, 200),
        ("POST", "/graphql", ME, 200),
        ("POST", "/graphql", None, 400),
        ("POST", "/graphql", "x" * (MAX_BODY_BYTES + 1), 413),
    ],
    ids=["health", "answer", "malformed", "too-large"],
)
def test_every_answer_carries_the_security_headers(
    client: TestClient, as_member: list[Api], method: str, path: str, body: str | None, status: int
) -> None:
    content = json.dumps({"query": body}) if body and len(body) < 100 else (body or "{")
    response = client.request(
        method,
        path,
        content=content if method == "POST" else None,
        headers={"Authorization": f"Bearer {as_member[0].key}", "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_cross_origin_call_is_denied_by_default(client: TestClient, as_member: list[Api]) -> None:
    origin = {"Origin": "https://attacker.example"}
    preflight = client.options(
        "/graphql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    answer = client.post(
        "/graphql",
        json={"query": ME},
        headers={**origin, "Authorization": f"Bearer {as_member[0].key}"},
    )
    assert "access-control-allow-origin" not in answer.headers  # the browser keeps it hidden


def test_failed_authentications_lock_a_key_id_and_only_that_one(
    client: TestClient, as_member: list[Api]
) -> None:
    from cooperative.apikeys import MAX_FAILURES

    secret = as_member[2](CREATE_KEY)["createApiKey"]["secret"]
    key_id = secret.split("_")[1]

    def attempt(key: str) -> Any:
        return client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {key}"}
        )

    assert attempt(secret).status_code == 200
    for guess in range(MAX_FAILURES):
        assert attempt(f"coop_{key_id}_guess{guess}").status_code == 401
    locked = attempt(secret)  # even the right secret, while the id is locked
    assert locked.status_code == 429
    assert locked.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < int(locked.headers["retry-after"]) <= 300
    assert as_member[2](ME)["me"]["role"] == "MEMBER"  # the member's other key still works


def test_past_its_time_budget_a_request_is_refused_and_writes_nothing(
    as_member: list[Api], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from cooperative.api import context

    keys_before = as_member[2]("{ me { apiKeys(first: 100) { edges { node { id } } } } }")
    monkeypatch.setattr(context, "REQUEST_BUDGET_SECONDS", -1.0)  # spent before it starts
    # (a query answered before is answered from the cache at once, within any budget: this
    # one is new)
    (error,) = graphql_errors(as_member[2], ME + " # past its budget")
    assert error["extensions"]["code"] == "TIMEOUT" and "time budget" in error["message"]
    (refused,) = as_member[2](CREATE_KEY)["createApiKey"]["errors"]
    assert refused["code"] == "TIMEOUT"
    monkeypatch.undo()
    keys_after = as_member[2]("{ me { apiKeys(first: 100) { edges { node { id } } } } }")
    assert keys_after == keys_before  # the refused mutation created no key
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
