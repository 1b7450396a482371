"""A fuzz test of the whole published schema against a live `coop serve --demo`: queries
and mutations generated from graphql/schema.graphql (hypothesis-graphql, valid and
invalid), and every ready operation in graphql/operations/ sent with random and hostile
variables. Every answer is a client error or a success: no INTERNAL, no HTTP 5xx, no
stack trace in the server's log, and the server is alive after it.

`FUZZ_EXAMPLES` scales the number of requests (the suite's default, 250, sends about
1,500); `FUZZ_RANDOM=1` draws new ones on every run instead of the same.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import hypothesis_graphql
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

import graphql
from deployments.paths import OPERATIONS_DIR
from tests.crash_harness import Harness

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_TEXT = (ROOT / "graphql" / "schema.graphql").read_text()
SCHEMA = graphql.build_schema(SCHEMA_TEXT)
OPERATIONS = sorted(OPERATIONS_DIR.glob("*.graphql"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))

# Values a hostile client sends where the schema wants something else.
HOSTILE = st.sampled_from(
    [
        None,
        True,
        -1,
        0,
        2**31,
        2**63,
        -(2**63) - 1,
        int("9" * 80),
        1.5,
        "",
        "\ud800",
        "a\udfffz",
        "x" * 200_000,
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "-1",
        "1e30",
        "9" * 200,
        "not a value",
        [],
        [None],
        {},
        {"nested": {"deeper": [1, "two", None]}},
    ]
)


# ---------------------------------------------------------------- hostile variables


def plausible(kind: graphql.GraphQLInputType, addresses: list[str]) -> st.SearchStrategy[Any]:
    """Values of the right shape, so that requests reach the resolvers and the chain."""
    if isinstance(kind, graphql.GraphQLNonNull):
        return variable(kind.of_type, addresses)
    if isinstance(kind, graphql.GraphQLList):
        return st.lists(variable(kind.of_type, addresses), max_size=3)
    if isinstance(kind, graphql.GraphQLInputObjectType):
        required = {
            name: variable(f.type, addresses)
            for name, f in kind.fields.items()
            if isinstance(f.type, graphql.GraphQLNonNull)
        }
        optional = {
            name: variable(f.type, addresses)
            for name, f in kind.fields.items()
            if not isinstance(f.type, graphql.GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(kind, graphql.GraphQLEnumType):
        return st.sampled_from(list(kind.values))
    name = kind.name
    if name == "Int":
        return st.integers(-3, 12) | st.integers(-(2**31), 2**31 - 1)
    if name == "Float":
        return st.floats(allow_nan=True, allow_infinity=True)
    if name == "Boolean":
        return st.booleans()
    if name == "BigInt":
        return st.integers(-10, 10**30).map(str) | st.text(max_size=8)
    if name == "DateTime":
        return st.datetimes(timezones=st.just(UTC)).map(
            lambda moment: moment.isoformat()
        ) | st.text(max_size=12)
    if name == "JSON":
        return st.recursive(
            st.none() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=6,
        )
    # String, ID: ids of this platform's shape, members' addresses, free text
    return (
        st.sampled_from(addresses) | st.sampled_from(["1", "1-0", "1-" + addresses[0]]) | st.text()
    )


def variable(kind: graphql.GraphQLInputType, addresses: list[str]) -> st.SearchStrategy[Any]:
    return plausible(kind, addresses) | plausible(kind, addresses) | HOSTILE


def operation_variables(
    document: graphql.DocumentNode, addresses: list[str]
) -> st.SearchStrategy[dict[str, Any]]:
    (operation,) = [
        d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)
    ]
    fields = {
        definition.variable.name.value: variable(
            graphql.type_from_ast(SCHEMA, definition.type),
            addresses,  # type: ignore[arg-type]
        )
        for definition in operation.variable_definitions or ()
    }
    # a variable may also be left out altogether
    return st.fixed_dictionaries({}, optional=fields)


# ---------------------------------------------------------------- generated documents

SCALARS = {
    "BigInt": st.sampled_from(["0", "1", "-1", "9" * 90, "x"]).map(nodes.String),
    "DateTime": st.sampled_from(
        ["2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "never"]
    ).map(nodes.String),
    "JSON": st.sampled_from([nodes.String("x"), nodes.Int(1), nodes.Object([])]),
}


def generated(mode: hypothesis_graphql.Mode) -> st.SearchStrategy[str]:
    return hypothesis_graphql.queries(
        SCHEMA_TEXT, custom_scalars=SCALARS, mode=mode
    ) | hypothesis_graphql.mutations(SCHEMA_TEXT, custom_scalars=SCALARS, mode=mode)


# ---------------------------------------------------------------- the run


class Fuzzer:
    def __init__(self, url: str, keys: list[str]) -> None:
        self.url = url
        self.keys = keys
        self.answers: Counter[str] = Counter()
        self.internal: list[tuple[str, Any, Any]] = []
        self.http = requests.Session()
        self.sent = 0

    def send(self, key_index: int, query: str, variables: dict[str, Any] | None) -> None:
        body = json.dumps({"query": query, "variables": variables})  # ASCII: \ud800 escaped
        headers = {"Content-Type": "application/json"}
        if key_index < len(self.keys):
            headers["Authorization"] = f"Bearer {self.keys[key_index]}"
        self.sent += 1
        response = self.http.post(self.url, data=body.encode(), headers=headers, timeout=60)
        if response.status_code >= 500:
            self.answers[f"HTTP {response.status_code}"] += 1
            self.internal.append((query, variables, response.text[:500]))
            return
        answer = response.json()
        codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
        for payload in (answer.get("data") or {}).values():
            if isinstance(payload, dict):
                # a generated query may select an error's message and not its code
                codes += [e["code"] for e in payload.get("errors") or [] if "code" in e]
        for code in codes or ["OK"]:
            self.answers[code or "NO CODE"] += 1
        if "INTERNAL" in codes or None in codes:
            self.internal.append((query[:300], json.dumps(variables)[:300], answer.get("errors")))


def fuzz_operation(
    fuzzer: Fuzzer,
    text: str,
    addresses: list[str],
    fuzz_settings: settings,
    key_index: st.SearchStrategy[int],
) -> None:
    """One ready operation, sent with generated variables."""

    @settings(fuzz_settings, max_examples=max(EXAMPLES // 10, 5))
    @given(variables=operation_variables(graphql.parse(text), addresses), who=key_index)
    def operation(variables: dict[str, Any], who: int) -> None:
        fuzzer.send(who, text, variables)

    operation()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("fuzz") / "data", seed=11)
    harness.set_up(services_per_pair=2)
    try:
        yield harness
    finally:
        harness.platform.stop()


def test_the_whole_schema_fuzzed_gets_no_internal_error_and_no_5xx(live: Harness) -> None:
    credentials = live.platform.credentials()
    keys = [m["apiKey"] for m in credentials["members"]] + [credentials["admin"]["apiKey"]]
    fuzzer = Fuzzer(f"{live.platform.url}/graphql", keys)
    fuzz_settings = settings(
        max_examples=EXAMPLES,
        deadline=None,
        # the same requests on every run, so that a failure reproduces; FUZZ_RANDOM=1 explores
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    key_index = st.integers(0, len(keys))  # len(keys): no key at all

    for mode in (hypothesis_graphql.Mode.POSITIVE, hypothesis_graphql.Mode.NEGATIVE):

        @fuzz_settings
        @given(query=generated(mode), who=key_index)
        def documents(query: str, who: int) -> None:
            fuzzer.send(who, query, None)

        documents()

    for path in OPERATIONS:
        fuzz_operation(fuzzer, path.read_text(), live.addresses, fuzz_settings, key_index)

    print(f"\nfuzz: {fuzzer.sent} requests; answers by code: {dict(fuzzer.answers.most_common())}")
    assert fuzzer.internal == [], "\n".join(map(str, fuzzer.internal[:8]))
    assert requests.get(f"{live.platform.url}/health", timeout=5).json()["status"] == "ok"
    log = live.platform.log.read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 2000 :][:6000]
