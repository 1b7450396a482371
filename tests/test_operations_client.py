"""The ready-made operations, as a client nobody here wrote sees them: the `gql` client
builds its schema from the live server by introspection (over HTTP, with a member's key)
and validates every document in graphql/operations/ against it. So the documents hold
for what the server really answers, not only for the schema file beside them; and the
standard introspection query, as GraphQL tools send it, is answered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport

from cooperative.api.app import create_app
from cooperative.platform import Platform
from deployments.paths import OPERATIONS_DIR
from graphql import GraphQLError, build_client_schema, build_schema, get_introspection_query
from tests.conftest import served


@pytest.fixture(scope="module")
def server(platform: Platform) -> Iterator[str]:
    """The demo platform's app, served over HTTP: its GraphQL URL."""
    with served(create_app(platform)) as url:
        yield f"{url}/graphql"


@pytest.fixture(scope="module")
def key(credentials: dict[str, Any]) -> str:
    return str(credentials["members"][0]["apiKey"])


@pytest.fixture(scope="module")
def client(server: str, key: str) -> Client:
    """A gql client whose schema is the live server's, fetched by introspection."""
    transport = RequestsHTTPTransport(
        url=server, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    client = Client(transport=transport, fetch_schema_from_transport=True)
    with client:  # connects, and fetches the schema
        pass
    assert client.schema is not None
    return client


def test_the_live_schema_is_the_published_one(client: Client) -> None:
    published = build_schema((OPERATIONS_DIR.parent / "schema.graphql").read_text())
    live = client.schema
    assert live is not None and live.query_type is not None and live.mutation_type is not None
    assert published.query_type is not None and published.mutation_type is not None
    assert set(live.query_type.fields) == set(published.query_type.fields)
    assert set(live.mutation_type.fields) == set(published.mutation_type.fields)


def test_every_operation_document_validates_against_the_live_schema(client: Client) -> None:
    paths = sorted(OPERATIONS_DIR.glob("*.graphql"))
    assert len(paths) > 50
    invalid = {}
    for path in paths:
        try:
            client.validate(gql(path.read_text()))
        except GraphQLError as error:
            invalid[path.name] = error.message
    assert invalid == {}


def test_a_document_the_server_does_not_know_fails_validation(client: Client) -> None:
    """So the test above can fail: an unknown field, an unknown argument, a wrong type."""
    create = (OPERATIONS_DIR / "CreateApiKey.graphql").read_text()
    assert "    secret\n" in create
    with pytest.raises(GraphQLError, match="Cannot query field 'secrets'"):
        client.validate(gql(create.replace("    secret\n", "    secrets\n")))
    with pytest.raises(GraphQLError, match="Unknown argument 'colour'"):
        client.validate(gql('query { quote(id: "1", colour: "red") { id } }'))
    with pytest.raises(GraphQLError, match="ID!"):
        client.validate(gql("query($id: String!) { order(id: $id) { id } }"))


def test_the_standard_introspection_query_answers_over_http(server: str, key: str) -> None:
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    response = requests.post(
        server, json={"query": query}, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    schema = build_client_schema(body["data"])
    assert schema.query_type is not None and schema.query_type.name == "Query"
    assert schema.mutation_type is not None and "createApiKey" in schema.mutation_type.fields
