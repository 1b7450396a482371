"""The DAO end to end through GraphQL on a real anvil node: every proposal kind through
its whole life, signed ballots, cancellation, and refusals with their codes.

Demo rules (voting 60 s, timelock delay 30 s); the test moves the node's clock instead of
sleeping."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import Session

from cooperative.platform import Platform
from cooperative.store.models import ProposalRecord
from deployments import records, upgrades
from deployments.compiler import Compiler
from deployments.paths import CONTRACTS_DIR
from tests.conftest import Api

FIXTURES = Path(__file__).resolve().parent / "contracts" / "fixtures"

PROPOSAL_FIELDS = "id kind state proposer tally { forVotes againstVotes abstainVotes eligible } actions { contract function args }"
VOTE = f'mutation($id: ID!, $support: VoteSupport!, $reason: String! = "") {{ castVote(input: {{proposalId: $id, support: $support, reason: $reason}}) {{ proposal {{ {PROPOSAL_FIELDS} }} errors {{ code message field }} }} }}'
QUEUE = f"mutation($id: ID!) {{ queueProposal(input: {{proposalId: $id}}) {{ proposal {{ {PROPOSAL_FIELDS} eta }} errors {{ code message }} }} }}"
EXECUTE = f"mutation($id: ID!) {{ executeProposal(input: {{proposalId: $id}}) {{ proposal {{ {PROPOSAL_FIELDS} }} errors {{ code message }} }} }}"
CANCEL = f"mutation($id: ID!) {{ cancelProposal(input: {{proposalId: $id}}) {{ proposal {{ {PROPOSAL_FIELDS} }} errors {{ code message }} }} }}"
PROPOSAL = f"query($id: ID!) {{ proposal(id: $id) {{ {PROPOSAL_FIELDS} description votes {{ edges {{ node {{ voter support reason }} }} }} viewerVote {{ support reason }} history {{ event }} }} }}"

GOLD = {
    "name": "Gold Ethernet",
    "document": "Gold Ethernet SLA: 99.95 % monthly availability; credits per tier...",
    "objectivePpm": 999_500,
    "tiers": [
        {"floorPpm": 999_500, "creditBps": 1000},
        {"floorPpm": 999_000, "creditBps": 2500},
        {"floorPpm": 990_000, "creditBps": 5000},
    ],
    "description": "Adopt the Gold Ethernet SLA",
}


def ok(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["errors"] == [], payload["errors"]
    return payload["proposal"]


def passes(
    platform: Platform, voters: list[Api], admin: Api, proposal_id: str, support: str = "FOR"
) -> dict[str, Any]:
    """Vote, let voting end, queue, wait out the delay, execute; asserting each state."""
    for api in voters:
        ok(api(VOTE, {"id": proposal_id, "support": support})["castVote"])
    platform.gateway.increase_time(61)
    assert admin(PROPOSAL, {"id": proposal_id})["proposal"]["state"] == "SUCCEEDED"
    assert ok(admin(QUEUE, {"id": proposal_id})["queueProposal"])["state"] == "QUEUED"
    early = admin(EXECUTE, {"id": proposal_id})["executeProposal"]
    assert early["errors"][0]["code"] == "INVALID_STATE"
    platform.gateway.increase_time(31)
    executed = ok(admin(EXECUTE, {"id": proposal_id})["executeProposal"])
    assert executed["state"] == "EXECUTED"
    return executed


def member_names(api: Api) -> list[str]:
    return sorted(
        e["node"]["name"]
        for e in api("{ members(first: 100) { edges { node { name } } } }")["members"]["edges"]
    )


def test_admission_with_a_signed_ballot_and_a_key_for_the_new_member(
    platform: Platform, as_member: list[Api], as_admin: Api, client: TestClient
) -> None:
    created = ok(
        as_member[0](
            'mutation { proposeMemberAdmission(input: {name: "Dawn Networks", description: "Admit Dawn"}) { proposal { id kind state proposer actions { contract function args } } errors { code message } } }'
        )["proposeMemberAdmission"]
    )
    assert created["kind"] == "ADMIT_MEMBER" and created["state"] == "ACTIVE"
    assert (
        created["actions"][0]["contract"] == "Membership"
        and created["actions"][0]["function"] == "admit"
    )
    newcomer = created["actions"][0]["args"]["account"]
    pid = created["id"]

    ok(
        as_member[0](VOTE, {"id": pid, "support": "FOR", "reason": "strong in the Nordics"})[
            "castVote"
        ]
    )
    # Cirrus signs a ballot with its own key; an admin relays it.
    cirrus = as_member[2]("{ me { member { address } } }")["me"]["member"]["address"]
    typed = as_member[2](
        "query($id: ID!) { ballot(proposalId: $id, support: AGAINST) }", {"id": pid}
    )["ballot"]
    signature = Account.sign_typed_data(
        platform.keystore.account(cirrus).key, full_message=typed
    ).signature
    relayed = as_admin(
        "mutation($id: ID!, $voter: String!, $sig: String!) { castVoteBySig(input: {proposalId: $id, support: AGAINST, voter: $voter, signature: $sig}) { proposal { tally { forVotes againstVotes } } errors { code message } } }",
        {"id": pid, "voter": cirrus, "sig": "0x" + bytes(signature).hex()},
    )["castVoteBySig"]
    assert relayed["errors"] == [] and relayed["proposal"]["tally"] == {
        "forVotes": 1,
        "againstVotes": 1,
    }
    replay = as_admin(
        "mutation($id: ID!, $voter: String!, $sig: String!) { castVoteBySig(input: {proposalId: $id, support: AGAINST, voter: $voter, signature: $sig}) { errors { code message } } }",
        {"id": pid, "voter": cirrus, "sig": "0x" + bytes(signature).hex()},
    )["castVoteBySig"]
    assert (
        replay["errors"][0]["code"] == "VALIDATION"
        and "not the voter's" in replay["errors"][0]["message"]
    )

    twice = as_member[0](VOTE, {"id": pid, "support": "FOR"})["castVote"]
    assert (
        twice["errors"][0]["code"] == "INVALID_STATE"
        and "already voted" in twice["errors"][0]["message"]
    )

    passes(platform, [as_member[1]], as_admin, pid)
    detail = as_member[0](PROPOSAL, {"id": pid})["proposal"]
    assert detail["tally"] == {"forVotes": 2, "againstVotes": 1, "abstainVotes": 0, "eligible": 3}
    assert detail["viewerVote"] == {"support": "FOR", "reason": "strong in the Nordics"}
    addresses = [
        as_member[i]("{ me { member { address } } }")["me"]["member"]["address"] for i in range(3)
    ]
    assert {e["node"]["voter"] for e in detail["votes"]["edges"]} == set(addresses)
    assert {e["node"]["voter"]: e["node"]["support"] for e in detail["votes"]["edges"]}[
        cirrus
    ] == "AGAINST"
    assert [h["event"] for h in detail["history"]] == [
        "ProposalCreated",
        "ProposalQueued",
        "ProposalExecuted",
    ]
    assert "Dawn Networks" in member_names(as_member[0])
    # members come in order of admission: the founders, by address, then the newcomer,
    # in pages of one as in one page
    query = "query($a: String) { members(first: 1, after: $a) { edges { node { address joinedBlock } } pageInfo { endCursor hasNextPage } } }"
    paged, after = [], None
    while True:
        page = as_member[0](query, {"a": after})["members"]
        paged += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged[-1]["address"] == newcomer and len(paged) == 4
    assert paged == sorted(paged, key=lambda m: (int(m["joinedBlock"]), m["address"]))
    assert int(paged[-1]["joinedBlock"]) > int(paged[0]["joinedBlock"])

    issued = as_admin(
        'mutation($m: String!) { createApiKey(input: {memberAddress: $m, label: "onboarding"}) { secret errors { code } } }',
        {"m": newcomer},
    )["createApiKey"]
    dawn = Api(client, issued["secret"])
    assert dawn("{ me { member { name } } }")["me"]["member"]["name"] == "Dawn Networks"
    # Once: later keys come from the member itself, and it sees who issued each one.
    again = as_admin(
        "mutation($m: String!) { createApiKey(input: {memberAddress: $m}) { secret errors { code } } }",
        {"m": newcomer},
    )["createApiKey"]
    assert again == {"secret": None, "errors": [{"code": "FORBIDDEN"}]}
    own = dawn('mutation { createApiKey(input: {label: "erp"}) { errors { code } } }')
    assert own["createApiKey"]["errors"] == []
    keys = dawn("{ me { apiKeys { edges { node { label createdBy } } } } }")["me"]["apiKeys"]
    assert sorted((e["node"]["label"], e["node"]["createdBy"]) for e in keys["edges"]) == [
        ("erp", newcomer),
        ("onboarding", "admin"),
    ]


def test_eligible_voters_are_the_register_at_creation_and_the_proposer_may_cancel(
    as_member: list[Api],
) -> None:
    # Dawn was admitted by the previous test: four members now.
    created = ok(
        as_member[1](
            'mutation { proposeMemberAdmission(input: {name: "Eve Telecom", description: "Admit Eve"}) { proposal { id tally { eligible } } errors { code message } } }'
        )["proposeMemberAdmission"]
    )
    assert created["tally"]["eligible"] == 4
    cancel = ok(as_member[1](CANCEL, {"id": created["id"]})["cancelProposal"])
    assert cancel["state"] == "CANCELED"


def test_sla_template_adopted_then_retired(
    platform: Platform, as_member: list[Api], as_admin: Api
) -> None:
    proposal = ok(
        as_member[0](
            "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id kind } errors { code message field } } }",
            {"in": GOLD},
        )["proposeSlaTemplate"]
    )
    passes(platform, as_member[:3], as_admin, proposal["id"])
    templates = as_member[1](
        "{ slaTemplates { id name version objectivePpm tiers { floorPpm creditBps } inForce } }"
    )["slaTemplates"]
    gold = next(t for t in templates if t["name"] == "Gold Ethernet")
    assert gold["objectivePpm"] == 999_500 and gold["inForce"] is True and gold["version"] == 1
    assert gold["tiers"][-1] == {"floorPpm": 990_000, "creditBps": 5000}

    retire = ok(
        as_member[1](
            'mutation($id: ID!) { proposeSlaTemplateRetirement(input: {templateId: $id, description: "Retire Gold"}) { proposal { id kind } errors { code message } } }',
            {"id": gold["id"]},
        )["proposeSlaTemplateRetirement"]
    )
    assert retire["kind"] == "RETIRE_SLA_TEMPLATE"
    passes(platform, as_member[:3], as_admin, retire["id"])
    after = as_member[1]("{ slaTemplates(inForceOnly: true) { id } }")["slaTemplates"]
    assert gold["id"] not in {t["id"] for t in after}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {
                "tiers": [
                    {"floorPpm": 999_000, "creditBps": 2500},
                    {"floorPpm": 999_500, "creditBps": 1000},
                ]
            },
            "floors must fall",
        ),
        (
            {
                "tiers": [
                    {"floorPpm": 999_500, "creditBps": 2500},
                    {"floorPpm": 999_000, "creditBps": 1000},
                ]
            },
            "credits must rise",
        ),
        ({"tiers": [{"floorPpm": 999_500, "creditBps": 10_001}]}, "credit over 100 %"),
        ({"objectivePpm": 1_000_001}, "objective over 100 %"),
        ({"tiers": []}, "no credit tiers"),
    ],
)
def test_a_malformed_template_is_refused_at_proposal_time(
    as_member: list[Api], platform: Platform, change: dict[str, Any], reason: str
) -> None:
    platform.sync()  # the follower has caught up
    head = platform.gateway.head()
    result = as_member[0](
        "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { code message field } } }",
        {"in": {**GOLD, **change}},
    )["proposeSlaTemplate"]
    assert result["proposal"] is None
    assert result["errors"][0]["code"] == "VALIDATION" and reason in result["errors"][0]["message"]
    assert platform.gateway.head() == head and platform.sync() == 0  # nothing reached the chain


def _compiler_with(tmp_path: Path, anchor_source: Path) -> Compiler:
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, contracts)
    (contracts / "cooperative" / "Anchor.vy").write_text(anchor_source.read_text())
    return Compiler(cache_dir=tmp_path / "cache", contracts_dir=contracts)


def test_module_upgrade_keeps_records_and_refuses_a_bad_layout(
    platform: Platform, as_member: list[Api], as_admin: Api, tmp_path: Path
) -> None:
    anchor = platform.governance.handle("Anchor")
    platform.gateway.transact(
        platform.operator(), anchor.functions.post_checkpoint(b"\x11" * 32, 7, b"\x22" * 32)
    )

    bad = upgrades.deploy_implementation(
        platform.gateway,
        platform.operator(),
        _compiler_with(
            tmp_path / "bad", FIXTURES.parent.parent / "fixtures" / "AnchorBadLayout.vy"
        ),
        platform.deployment,
        "Anchor",
    )
    records.save(platform.deployment, platform.records_path)  # as `coop modules deploy` does
    refused = as_member[0](
        'mutation($impl: String!) { proposeModuleUpgrade(input: {module: "Anchor", implementation: $impl, version: 2, description: "bad"}) { proposal { id } errors { code message field } } }',
        {"impl": bad.address},
    )["proposeModuleUpgrade"]
    assert (
        refused["errors"][0]["code"] == "VALIDATION"
        and "`operator`" in refused["errors"][0]["message"]
    )

    good = upgrades.deploy_implementation(
        platform.gateway,
        platform.operator(),
        _compiler_with(tmp_path / "good", FIXTURES / "AnchorV2.vy"),
        platform.deployment,
        "Anchor",
    )
    records.save(platform.deployment, platform.records_path)
    proposal = ok(
        as_member[0](
            'mutation($impl: String!) { proposeModuleUpgrade(input: {module: "Anchor", implementation: $impl, version: 2, description: "Anchor v2: revocable checkpoints"}) { proposal { id kind actions { contract function } } errors { code message field } } }',
            {"impl": good.address},
        )["proposeModuleUpgrade"]
    )
    assert [a["function"] for a in proposal["actions"]] == ["upgradeTo", "record_upgrade"]
    passes(platform, as_member[:3], as_admin, proposal["id"])
    modules = {
        m["name"]: m
        for m in as_member[0]("{ modules { name implementation version codehash } }")["modules"]
    }
    assert modules["Anchor"]["implementation"] == good.address and modules["Anchor"]["version"] == 2
    assert modules["Anchor"]["codehash"] == good.codehash
    # A record written under v1 reads and writes under v2, through the same proxy.
    v2 = platform.gateway.contract(
        anchor.address,
        _compiler_with(tmp_path / "read", FIXTURES / "AnchorV2.vy").vyper("Anchor").abi,
    )
    assert v2.functions.checkpoints(0).call()[0] == b"\x11" * 32
    platform.gateway.transact(platform.operator(), v2.functions.revoke(0))
    assert v2.functions.revoked(0).call() is True and v2.functions.version().call() == 2


def test_rule_change_and_member_removal(
    platform: Platform, as_member: list[Api], as_admin: Api
) -> None:
    change = ok(
        as_member[2](
            'mutation { proposeRuleChange(input: {kind: ADMIT_MEMBER, quorumNumerator: 1, quorumDenominator: 2, approvalNumerator: 1, approvalDenominator: 2, approvalInclusive: false, votingDelaySeconds: 0, votingPeriodSeconds: 90, timelockDelaySeconds: 30, lateQuorumExtensionSeconds: 30, description: "Longer admission votes"}) { proposal { id kind } errors { code message } } }'
        )["proposeRuleChange"]
    )
    passes(platform, as_member[:3], as_admin, change["id"])
    assert platform.governance.rules(0).voting_period == 90

    dawn = next(
        e["node"]["address"]
        for e in as_member[0]("{ members(first: 100) { edges { node { address name } } } }")[
            "members"
        ]["edges"]
        if e["node"]["name"] == "Dawn Networks"
    )
    removal = ok(
        as_member[0](
            'mutation($a: String!) { proposeMemberRemoval(input: {address: $a, description: "Dawn leaves"}) { proposal { id kind } errors { code message } } }',
            {"a": dawn},
        )["proposeMemberRemoval"]
    )
    passes(platform, as_member[:3], as_admin, removal["id"])
    assert "Dawn Networks" not in member_names(as_member[0])


def test_refusals_have_codes(platform: Platform, as_member: list[Api], as_admin: Api) -> None:
    not_member = as_admin(
        'mutation { proposeMemberAdmission(input: {name: "X", description: "x"}) { proposal { id } errors { code message } } }'
    )["proposeMemberAdmission"]
    assert not_member["errors"][0]["code"] == "FORBIDDEN"
    missing = as_member[0](VOTE, {"id": "Proposal:0x" + "ab" * 32, "support": "FOR"})["castVote"]
    assert missing["errors"][0] == {
        "code": "NOT_FOUND",
        "message": f"proposal 0x{'ab' * 32} does not exist",
        "field": None,
    }
    for wrong in ("0x" + "ab" * 32, "Order:1", "SlaTemplate:1"):  # not a proposal's id
        refused = as_member[0](VOTE, {"id": wrong, "support": "FOR"})["castVote"]["errors"][0]
        assert (refused["code"], refused["field"]) == ("VALIDATION", "proposalId"), refused
    bad_rules = as_member[0](
        'mutation { proposeRuleChange(input: {kind: CHANGE_RULES, quorumNumerator: 3, quorumDenominator: 2, approvalNumerator: 1, approvalDenominator: 2, approvalInclusive: false, votingDelaySeconds: 0, votingPeriodSeconds: 60, timelockDelaySeconds: 30, lateQuorumExtensionSeconds: 0, description: "x"}) { errors { code message field } } }'
    )["proposeRuleChange"]
    assert bad_rules["errors"][0]["code"] == "VALIDATION"

    # Guardian cancel of a queued proposal (an admin acts as the guardian).
    member = as_member[1]("{ me { member { address } } }")["me"]["member"]["address"]
    created = ok(
        as_member[0](
            'mutation($a: String!) { proposeMemberRemoval(input: {address: $a, description: "test guardian"}) { proposal { id } errors { code message } } }',
            {"a": member},
        )["proposeMemberRemoval"]
    )
    ok(as_member[0](VOTE, {"id": created["id"], "support": "FOR"})["castVote"])
    proposer_late = as_member[0](CANCEL, {"id": created["id"]})["cancelProposal"]
    assert proposer_late["errors"][0]["code"] == "INVALID_STATE"
    ok(as_member[2](VOTE, {"id": created["id"], "support": "FOR"})["castVote"])
    platform.gateway.increase_time(61)
    ok(as_admin(QUEUE, {"id": created["id"]})["queueProposal"])
    assert ok(as_admin(CANCEL, {"id": created["id"]})["cancelProposal"])["state"] == "CANCELED"
    platform.gateway.increase_time(31)
    late = as_admin(EXECUTE, {"id": created["id"]})["executeProposal"]
    assert late["errors"][0]["code"] == "INVALID_STATE"
    assert "Borealis Networks" in member_names(as_member[0])


def test_a_proposal_id_may_be_abbreviated_where_unambiguous(
    platform: Platform, as_member: list[Api]
) -> None:
    created = ok(
        as_member[0](
            'mutation { proposeMemberAdmission(input: {name: "Faro Fibre", description: "Admit Faro"}) { proposal { id } errors { code message } } }'
        )["proposeMemberAdmission"]
    )
    full = created["id"]
    key = full.removeprefix("Proposal:")
    short = "Proposal:" + key[:10]  # 0x and 8 hex digits, as a person copies it
    assert as_member[1](PROPOSAL, {"id": short})["proposal"]["id"] == full
    upper = "Proposal:" + key[:10].upper().replace("0X", "0x")
    voted = as_member[1](VOTE, {"id": upper, "support": "FOR"})
    assert voted["castVote"]["errors"] == []
    assert voted["castVote"]["proposal"]["tally"]["forVotes"] == 1
    too_short = as_member[1](VOTE, {"id": "Proposal:" + key[:6], "support": "FOR"})["castVote"][
        "errors"
    ]
    assert too_short[0]["code"] == "NOT_FOUND"
    # Another proposal whose id starts the same: the abbreviation no longer names one.
    twin = key[:10] + "0" * 56
    with Session(platform.engine) as session:
        original = session.get(ProposalRecord, key)
        assert original is not None
        session.add(ProposalRecord(**{**original.model_dump(), "id": twin}))
        session.commit()
    try:
        ambiguous = as_member[2](VOTE, {"id": short, "support": "FOR"})["castVote"]["errors"]
        assert ambiguous[0]["code"] == "VALIDATION" and "more than one" in ambiguous[0]["message"]
        assert ambiguous[0]["field"] == "proposalId"
    finally:
        with Session(platform.engine) as session:
            session.delete(session.get(ProposalRecord, twin))
            session.commit()
