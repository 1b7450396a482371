"""Shared fixtures: a real anvil node, Hardhat's, a started platform, API clients, databases."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from cooperative.anchoring import ANCHOR_CHAIN_ID
from cooperative.api.app import create_app
from cooperative.platform import Platform
from cooperative.settings import Settings
from cooperative.store.database import create_schema, make_engine
from deployments.chain import ChainGateway
from deployments.compiler import Compiler
from deployments.node import LocalNode, free_loopback_port
from tests.hardhat import evm_under_test, hardhat_node


@pytest.fixture(scope="session")
def compiler() -> Compiler:
    return Compiler()


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainGateway]:
    """A real anvil node for the session, in its own state directory."""
    with LocalNode(tmp_path_factory.mktemp("anvil")) as gateway:
        yield gateway


@pytest.fixture(scope="session")
def hardhat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Hardhat's node for the session (tests/hardhat.py), chain 31337: its URL."""
    with hardhat_node(tmp_path_factory.mktemp("hardhat") / "node.log") as url:
        yield url


@contextmanager
def nodes_for(evm: str, log_dir: Path) -> Iterator[dict[str, Any]]:
    """The settings that put a platform on `evm` for the block: none for its embedded anvil,
    else two Hardhat nodes of its own (COOP_RPC_URL, COOP_ANCHOR_RPC_URL), so its clock is
    its own as the embedded node's is (a test moving it moves no other's)."""
    if evm == "anvil":
        yield {}
        return
    with (
        hardhat_node(log_dir / "hardhat.log") as url,
        hardhat_node(log_dir / "hardhat-anchor.log", chain_id=ANCHOR_CHAIN_ID) as anchor_url,
    ):
        yield {"rpc_url": url, "anchor_rpc_url": anchor_url}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform as `coop serve --demo` starts it: embedded anvil, SQLite, three members
    (on Hardhat's node with COOP_TEST_EVM=hardhat)."""
    with nodes_for(evm_under_test(), tmp_path_factory.mktemp("nodes")) as nodes:
        settings = Settings(data_dir=tmp_path_factory.mktemp("platform"), **nodes)
        started = Platform.start(settings, demo=True)
        yield started
        started.stop()


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn in a thread on a free loopback port, for a real HTTP client
    or browser; yields its base URL."""
    port = free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def credentials(platform: Platform) -> dict[str, Any]:
    return json.loads(platform.demo_credentials("http://testserver/graphql").read_text())


@pytest.fixture(scope="module")
def client(platform: Platform) -> TestClient:
    return TestClient(create_app(platform))


class Api:
    """GraphQL over the test client, as one API key."""

    def __init__(self, client: TestClient, key: str | None) -> None:
        self.client = client
        self.key = key

    def post(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


EVENTS = "query($after: String, $first: Int) { events(after: $after, first: $first) { edges { cursor node { type subjects block tx } } pageInfo { endCursor hasNextPage } } }"


def feed(api: Api, after: str | None = None, first: int = 100) -> list[dict[str, Any]]:
    """Every event after `after`, following pages."""
    events: list[dict[str, Any]] = []
    while True:
        page = api(EVENTS, {"after": after, "first": first})["events"]
        events.extend(edge["node"] | {"cursor": edge["cursor"]} for edge in page["edges"])
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return events


@pytest.fixture(scope="module")
def as_member(client: TestClient, credentials: dict[str, Any]) -> list[Api]:
    """One API client per demo member, in the credentials file's order."""
    return [Api(client, m["apiKey"]) for m in credentials["members"]]


@pytest.fixture(scope="module")
def as_admin(client: TestClient, credentials: dict[str, Any]) -> Api:
    return Api(client, credentials["admin"]["apiKey"])


# ---------------------------------------------------------------- databases


def postgres_url() -> str | None:
    url = os.environ.get("COOP_TEST_DATABASE_URL")
    if not url and os.environ.get("CI"):
        pytest.fail("COOP_TEST_DATABASE_URL is not set: run the suite with `make test`")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty store on SQLite and on a real PostgreSQL server (started by `make test`)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'coop.db'}"
    else:
        url = postgres_url()
        if url is None:
            pytest.skip("COOP_TEST_DATABASE_URL is not set (make test starts PostgreSQL)")
    created = make_engine(url)
    SQLModel.metadata.drop_all(created)
    create_schema(created)
    yield created
    SQLModel.metadata.drop_all(created)
    created.dispose()


# ------------------------------------------------------------------ the marketplace


@pytest.fixture(scope="module")
def template_id(platform: Platform, as_member: list[Api], as_admin: Api) -> int:
    """An SLA template adopted through a real proposal (the marketplace's tests trade on it)."""
    from tests.test_governance_api import GOLD, ok, passes

    proposal = ok(
        as_member[0](
            "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { code message field } } }",
            {"in": GOLD},
        )["proposeSlaTemplate"]
    )
    passes(platform, as_member[:2], as_admin, proposal["id"])
    return as_member[0]("{ slaTemplates { id } }")["slaTemplates"][0]["id"]


@pytest.fixture(scope="module")
def addresses(as_member: list[Api]) -> list[str]:
    return [api("{ me { member { address } } }")["me"]["member"]["address"] for api in as_member]
