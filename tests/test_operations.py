"""Every ready-made operation in graphql/operations/ runs against a live server.

The ERP flow of each module lives there; this test runs each document in the order of
FLOW, passing values from earlier answers, and fails for any document it does not know —
so a new operation file comes with its step here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Api

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "graphql" / "operations"

# name -> (variables from the answers so far, check of the answer); in run order.
Step = tuple[
    Callable[[dict[str, Any]], dict[str, Any]], Callable[[dict[str, Any], dict[str, Any]], None]
]


def _check_me(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["me"]["role"] == "MEMBER" and data["me"]["member"]["name"] == "Aurora Telecom"


def _check_members(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert len(data["members"]["edges"]) == 3


def _check_created(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["createApiKey"]["errors"] == []
    seen["key_id"] = data["createApiKey"]["apiKey"]["id"]


def _check_revoked(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["revokeApiKey"] == {
        "apiKey": {"id": seen["key_id"], "revokedAt": data["revokeApiKey"]["apiKey"]["revokedAt"]},
        "errors": [],
    }
    assert data["revokeApiKey"]["apiKey"]["revokedAt"] is not None


FLOW: dict[str, Step] = {
    "Me": (lambda _seen: {}, _check_me),
    "Members": (lambda _seen: {"first": 10}, _check_members),
    "CreateApiKey": (lambda _seen: {"label": "operations test"}, _check_created),
    "RevokeApiKey": (lambda seen: {"id": seen["key_id"]}, _check_revoked),
}


def test_every_operation_document_runs(as_member: list[Api]) -> None:
    documents = {path.stem: path.read_text() for path in sorted(OPERATIONS_DIR.glob("*.graphql"))}
    assert set(documents) == set(FLOW), "each operation document needs its step in FLOW"
    seen: dict[str, Any] = {}
    for name, (variables, check) in FLOW.items():
        check(as_member[0](documents[name], variables(seen)), seen)
