"""Every ready-made operation in graphql/operations/ runs against a live server.

The ERP flow of each module lives there; this test runs each document in the order of
FLOW, passing values from earlier answers, and fails for any document it does not know —
so a new operation file comes with its step here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from cooperative.platform import Platform
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


def _check_proposed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    created = data["proposeMemberAdmission"]
    assert created["errors"] == [] and created["proposal"]["state"] == "ACTIVE"
    assert created["proposal"]["actions"][0]["function"] == "admit"
    seen["proposal_id"] = created["proposal"]["id"]


def _check_proposals(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert seen["proposal_id"] in {e["node"]["id"] for e in data["proposals"]["edges"]}


def _check_voted(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert (
        data["castVote"]["errors"] == [] and data["castVote"]["proposal"]["tally"]["forVotes"] == 1
    )


def _check_ballot(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["ballot"]["primaryType"] == "Ballot"
    seen["ballot"] = data["ballot"]


def _check_relayed(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["castVoteBySig"]["errors"] == []
    assert data["castVoteBySig"]["proposal"]["tally"]["againstVotes"] == 1


def _check_proposal(data: dict[str, Any], seen: dict[str, Any]) -> None:
    proposal = data["proposal"]
    assert proposal["id"] == seen["proposal_id"] and len(proposal["votes"]["edges"]) == 2
    assert proposal["viewerVote"]["support"] == "FOR"
    assert [h["event"] for h in proposal["history"]] == ["ProposalCreated"]


def _check_templates(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["slaTemplates"] == []  # none adopted in this flow


def _check_modules(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert [m["name"] for m in data["modules"]] == ["Anchor", "Ordering"]


FLOW: dict[str, Step] = {
    "Me": (lambda _seen: {}, _check_me),
    "Members": (lambda _seen: {"first": 10}, _check_members),
    "CreateApiKey": (lambda _seen: {"label": "operations test"}, _check_created),
    "RevokeApiKey": (lambda seen: {"id": seen["key_id"]}, _check_revoked),
    "ProposeMemberAdmission": (
        lambda _seen: {"name": "Dawn Networks", "description": "Admit Dawn"},
        _check_proposed,
    ),
    "Proposals": (lambda _seen: {"state": "ACTIVE"}, _check_proposals),
    "CastVote": (lambda seen: {"proposalId": seen["proposal_id"], "support": "FOR"}, _check_voted),
    "Ballot": (
        lambda seen: {"proposalId": seen["proposal_id"], "support": "AGAINST"},
        _check_ballot,
    ),
    "CastVoteBySig": (lambda seen: seen["relay"], _check_relayed),
    "Proposal": (lambda seen: {"id": seen["proposal_id"]}, _check_proposal),
    "SlaTemplates": (lambda _seen: {}, _check_templates),
    "Modules": (lambda _seen: {}, _check_modules),
}


def test_every_operation_document_runs(as_member: list[Api], platform: Platform) -> None:
    documents = {path.stem: path.read_text() for path in sorted(OPERATIONS_DIR.glob("*.graphql"))}
    assert set(documents) == set(FLOW), "each operation document needs its step in FLOW"
    seen: dict[str, Any] = {}
    for name, (variables, check) in FLOW.items():
        if name == "CastVoteBySig":
            # Borealis signs the ballot Aurora fetched for it, with its own key; Aurora relays.
            voter = as_member[1]("{ me { member { address } } }")["me"]["member"]["address"]
            typed = as_member[1](
                documents["Ballot"], {"proposalId": seen["proposal_id"], "support": "AGAINST"}
            )["ballot"]
            signature = Account.sign_typed_data(
                platform.keystore.account(voter).key, full_message=typed
            ).signature
            seen["relay"] = {
                "proposalId": seen["proposal_id"],
                "support": "AGAINST",
                "voter": voter,
                "signature": "0x" + bytes(signature).hex(),
            }
        check(as_member[0](documents[name], variables(seen)), seen)
