"""Every proposal kind through its whole lifecycle on the deployed governance system:
propose -> vote -> Succeeded -> queue -> Queued -> execute -> Executed, and its effect."""

import boa
import pytest
from eth_utils import keccak

from governance.rules import Kind, ProposalState, Rules

from . import dao
from .helpers import codehash, events

DOCUMENT = keccak(text="salted SLA document")
TIERS = [(999_500, 1_000), (999_000, 2_500), (990_000, 10_000)]
TEMPLATE_ARGS = ("Gold availability", DOCUMENT, 0, 999_500, 0, TIERS, 3 * 86400, True)


def executed(computation, name, emitter):
    """The `name` events `emitter` logged during `computation` (e.g. the Governor's execute)."""
    return events(emitter, name, computation)


def test_deployment_wires_the_system_like_deploy_py(system, guardian):
    assert system.timelock.governor() == system.governor.address
    assert system.timelock.deployer() == dao.ZERO_ADDRESS
    assert system.timelock.minimum_delay() == dao.MINIMUM_DELAY
    assert system.membership.timelock() == system.timelock.address
    assert system.sla_templates.timelock() == system.timelock.address
    assert system.registry.owner() == system.timelock.address
    assert system.beacon.owner() == system.timelock.address
    assert system.governor.membership() == system.membership.address
    assert system.governor.timelock() == system.timelock.address
    assert system.governor.sla_templates() == system.sla_templates.address
    assert system.governor.module_registry() == system.registry.address
    assert system.governor.guardian() == guardian
    assert system.membership.member_count() == dao.FOUNDERS
    for kind, rules in dao.short_test_rules().items():
        assert Rules.from_tuple(system.governor.rules(kind)) == rules


def test_unknown_kind_has_no_rules(system):
    with boa.reverts("Governor: unknown kind"):
        system.governor.rules(6)


# ------------------------------------------------------------------ ADMIT_MEMBER


def test_admit_member_lifecycle(system, newcomer):
    founders = system.founders
    action = dao.call(system.membership, "admit", newcomer, "Delta Telecom")
    now = boa.env.timestamp
    proposal = dao.propose(system, Kind.ADMIT_MEMBER, [action], "Admit Delta", founders[0])

    assert events(system.governor, "ProposalCreated", proposal.created) == [
        {
            "proposal_id": proposal.id,
            "proposer": founders[0],
            "kind": Kind.ADMIT_MEMBER,
            "targets": [system.membership.address],
            "values": [0],
            "calldatas": [action[2]],
            "description": "Admit Delta",
            "snapshot": 5,
            "eligible": 5,
            "vote_start": now,
            "vote_end": now + dao.VOTING_PERIOD,
        }
    ]
    assert proposal.id == system.governor.hash_proposal(*proposal.args)
    assert proposal.state() == ProposalState.ACTIVE
    data = proposal.data()
    assert (data.vote_start, data.vote_end) == (now, now + dao.VOTING_PERIOD)
    assert (data.snapshot, data.eligible, data.kind, data.flags, data.eta) == (5, 5, 0, 0, 0)
    assert (data.for_votes, data.against_votes, data.abstain_votes) == (0, 0, 0)
    # half of 5 members, rounded up, must take part; more than half of the decided For
    assert (data.quorum_votes, data.approval_numerator, data.approval_denominator) == (3, 1, 2)

    vote = proposal.vote(founders[0], dao.FOR)
    assert events(system.governor, "VoteCast", vote) == [
        {"voter": founders[0], "proposal_id": proposal.id, "support": dao.FOR, "reason": ""}
    ]
    proposal.vote(founders[1], dao.FOR)
    proposal.vote(founders[2], dao.AGAINST)
    system.governor.castVoteWithReason(proposal.id, dao.ABSTAIN, "no opinion", sender=founders[3])
    assert events(system.governor, "VoteCast") == [
        {
            "voter": founders[3],
            "proposal_id": proposal.id,
            "support": dao.ABSTAIN,
            "reason": "no opinion",
        }
    ]
    data = proposal.data()
    assert (data.for_votes, data.against_votes, data.abstain_votes) == (2, 1, 1)
    assert [system.governor.has_voted(proposal.id, f) for f in founders] == [True] * 4 + [False]
    assert proposal.state() == ProposalState.ACTIVE  # until the period ends

    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.SUCCEEDED

    queuing = proposal.queue(sender=newcomer)  # anyone may queue
    eta = boa.env.timestamp + dao.TIMELOCK_DELAY
    operation = proposal.operation_id(system.timelock)
    assert events(system.governor, "ProposalQueued", queuing) == [
        {"proposal_id": proposal.id, "eta": eta}
    ]
    assert events(system.timelock, "OperationScheduled", queuing) == [
        {"operation_id": operation, "salt": proposal.id, "ready_at": eta}
    ]
    assert system.timelock.timestamps(operation) == eta
    assert proposal.state() == ProposalState.QUEUED
    assert (proposal.data().eta, proposal.data().flags) == (eta, dao.FLAG_QUEUED)

    boa.env.timestamp = eta
    execution = proposal.execute(sender=newcomer)  # anyone may execute
    assert events(system.governor, "ProposalExecuted", execution) == [{"proposal_id": proposal.id}]
    assert events(system.timelock, "OperationExecuted", execution) == [
        {"operation_id": operation, "salt": proposal.id}
    ]
    assert events(system.membership, "MemberAdmitted", execution) == [
        {"member": newcomer, "name": "Delta Telecom", "index": 6, "epoch": 6}
    ]
    assert proposal.state() == ProposalState.EXECUTED
    assert proposal.data().flags == dao.FLAG_QUEUED | dao.FLAG_EXECUTED
    assert system.timelock.timestamps(operation) == 0  # cleared when executed
    assert system.membership.is_member(newcomer)
    assert system.membership.member_count() == 6

    # executed once only
    with boa.reverts("Governor: proposal not queued"):
        proposal.execute()


def test_one_proposal_may_admit_several_members(system):
    carriers = [boa.env.generate_address(f"carrier {i}") for i in range(2)]
    actions = [
        dao.call(system.membership, "admit", c, f"Carrier {i}") for i, c in enumerate(carriers)
    ]
    proposal = dao.propose(system, Kind.ADMIT_MEMBER, actions, "Two carriers", system.founders[1])
    dao.enact(proposal, system.founders[:3])
    assert [system.membership.members(c)[1:] for c in carriers] == [(6, (6, 0)), (7, (7, 0))]


# ------------------------------------------------------------------ REMOVE_MEMBER


def test_remove_member_lifecycle(system):
    founders = system.founders
    action = dao.call(system.membership, "remove", founders[4])
    proposal = dao.propose(system, Kind.REMOVE_MEMBER, [action], "Remove Epsilon", founders[0])
    # the member being removed may vote on its own removal (it is eligible at the snapshot)
    proposal.vote(founders[4], dao.AGAINST)
    execution = dao.enact(proposal, founders[:3])

    assert executed(execution, "MemberRemoved", system.membership) == [
        {"member": founders[4], "epoch": 6}
    ]
    assert not system.membership.is_member(founders[4])
    assert system.membership.member_count() == 4
    assert (proposal.data().for_votes, proposal.data().against_votes) == (3, 1)


# ------------------------------------------------------------------ SLA templates


def test_adopt_sla_template_lifecycle(system):
    action = dao.call(system.sla_templates, "adopt", *TEMPLATE_ARGS)
    proposal = dao.propose(system, Kind.ADOPT_SLA_TEMPLATE, [action], "Gold", system.founders[2])
    execution = dao.enact(proposal, system.founders[2:5])

    assert executed(execution, "TemplateAdopted", system.sla_templates) == [
        {"template_id": 1, "name": "Gold availability", "version": 1, "document": DOCUMENT}
    ]
    assert system.sla_templates.template_count() == 1
    assert system.sla_templates.is_adopted(1)
    assert system.sla_templates.template(1) == (
        "Gold availability",
        1,
        DOCUMENT,
        0,
        999_500,
        0,
        TIERS,
        3 * 86400,
        True,
        boa.env.timestamp,
        0,
    )


def test_retire_sla_template_lifecycle(system):
    system.sla_templates.adopt(*TEMPLATE_ARGS, sender=system.timelock.address)
    action = dao.call(system.sla_templates, "retire", 1)
    proposal = dao.propose(system, Kind.RETIRE_SLA_TEMPLATE, [action], "Retire", system.founders[0])
    execution = dao.enact(proposal, system.founders[:3])

    assert executed(execution, "TemplateRetired", system.sla_templates) == [{"template_id": 1}]
    assert not system.sla_templates.is_adopted(1)
    assert system.sla_templates.template(1).retired_at == boa.env.timestamp


# ------------------------------------------------------------------ UPGRADE_MODULE


@pytest.fixture
def anchor_v2(governance_contracts):
    return governance_contracts.anchor_v2.deploy()


def upgrade_actions(system, implementation, version):
    return [
        dao.call(system.beacon, "upgradeTo", implementation.address),
        dao.call(system.registry, "record_upgrade", "Anchor", version),
    ]


def test_upgrade_module_lifecycle(system, governance_contracts, anchor_v2):
    operator = system.anchor.operator()
    root = b"\x11" * 32
    system.anchor.post_checkpoint(root, 7, b"\x22" * 32, sender=operator)  # under v1
    assert system.anchor.version() == 1

    actions = upgrade_actions(system, anchor_v2, 2)
    proposal = dao.propose(system, Kind.UPGRADE_MODULE, actions, "Anchor v2", system.founders[0])
    # two thirds of 5 members must take part: 4 votes
    execution = dao.enact(proposal, system.founders[:4])

    assert system.beacon.implementation() == anchor_v2.address
    v2_codehash = codehash(anchor_v2.address)
    assert executed(execution, "ModuleUpgraded", system.registry) == [
        {
            "name": "Anchor",
            "implementation": anchor_v2.address,
            "version": 2,
            "codehash": v2_codehash,
        }
    ]
    assert system.registry.modules("Anchor") == (
        system.anchor.address,
        system.beacon.address,
        anchor_v2.address,
        2,
        v2_codehash,
    )
    # the same proxy now runs v2 on v1's records
    module = dao.vyper_at(governance_contracts.anchor_v2, system.anchor.address)
    assert module.version() == 2
    assert module.latest_checkpoint().root == root
    module.revoke(0, sender=operator)
    assert module.revoked(0)


def test_upgrade_module_fails_with_three_of_five(system, anchor_v2):
    actions = upgrade_actions(system, anchor_v2, 2)
    proposal = dao.propose(system, Kind.UPGRADE_MODULE, actions, "Anchor v2", system.founders[0])
    for voter in system.founders[:3]:
        proposal.vote(voter, dao.FOR)
    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.DEFEATED  # 3/5 < 2/3 quorum
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()
    assert system.beacon.implementation() == system.anchor_implementation.address


# ------------------------------------------------------------------ CHANGE_RULES


def test_change_rules_lifecycle_sets_a_kinds_rules(system):
    new_rules = Rules(2, 3, 3, 4, True, 0, 7200, 900, 600)
    action = dao.call(system.governor, "set_rules", Kind.ADMIT_MEMBER, new_rules.as_tuple())
    proposal = dao.propose(system, Kind.CHANGE_RULES, [action], "Stricter", system.founders[0])
    execution = dao.enact(proposal, system.founders[:4])

    assert executed(execution, "RulesChanged", system.governor) == [
        {"kind": Kind.ADMIT_MEMBER, "rules": new_rules.as_tuple()}
    ]
    assert Rules.from_tuple(system.governor.rules(Kind.ADMIT_MEMBER)) == new_rules
    # the other kinds keep theirs
    assert (
        Rules.from_tuple(system.governor.rules(Kind.REMOVE_MEMBER))
        == (dao.short_test_rules()[Kind.REMOVE_MEMBER])
    )
    # a new admission proposal runs under the new rules: 7200 s of voting
    newcomer = boa.env.generate_address("after rules")
    admit = dao.call(system.membership, "admit", newcomer, "Later")
    later = dao.propose(system, Kind.ADMIT_MEMBER, [admit], "Admit", system.founders[0])
    assert later.data().vote_end - later.data().vote_start == 7200


def test_change_rules_lifecycle_changes_the_guardian(system, guardian):
    new_guardian = boa.env.generate_address("new guardian")
    action = dao.call(system.governor, "set_guardian", new_guardian)
    proposal = dao.propose(system, Kind.CHANGE_RULES, [action], "Guardian", system.founders[0])
    execution = dao.enact(proposal, system.founders[:4])

    assert executed(execution, "GuardianChanged", system.governor) == [
        {"old_guardian": guardian, "new_guardian": new_guardian}
    ]
    assert system.governor.guardian() == new_guardian


def test_change_rules_lifecycle_changes_the_timelock_minimum_delay(system):
    action = dao.call(system.timelock, "set_minimum_delay", 300)
    proposal = dao.propose(system, Kind.CHANGE_RULES, [action], "Delay", system.founders[0])
    execution = dao.enact(proposal, system.founders[:4])

    assert executed(execution, "MinimumDelayChanged", system.timelock) == [
        {"old_delay": dao.MINIMUM_DELAY, "new_delay": 300}
    ]
    assert system.timelock.minimum_delay() == 300


def test_change_rules_may_combine_any_calls(system, newcomer):
    actions = [
        dao.call(system.membership, "admit", newcomer, "Delta Telecom"),
        dao.call(system.sla_templates, "adopt", *TEMPLATE_ARGS),
        dao.call(system.timelock, "set_minimum_delay", 120),
    ]
    proposal = dao.propose(system, Kind.CHANGE_RULES, actions, "Omnibus", system.founders[0])
    dao.enact(proposal, system.founders[:4])
    assert system.membership.is_member(newcomer)
    assert system.sla_templates.is_adopted(1)
    assert system.timelock.minimum_delay() == 120


def test_a_failing_action_reverts_the_whole_execution(system, newcomer):
    # the second admission of the same account fails, so neither happens
    actions = [
        dao.call(system.membership, "admit", newcomer, "Delta Telecom"),
        dao.call(system.membership, "admit", newcomer, "Delta again"),
    ]
    proposal = dao.propose(system, Kind.ADMIT_MEMBER, actions, "Twice", system.founders[0])
    dao.pass_vote(proposal, system.founders[:3])
    proposal.queue()
    boa.env.timestamp = proposal.data().eta
    with boa.reverts("Membership: already a member"):
        proposal.execute()
    assert proposal.state() == ProposalState.QUEUED
    assert not system.membership.is_member(newcomer)
    assert system.timelock.timestamps(proposal.operation_id(system.timelock)) == proposal.data().eta


def test_execute_forwards_value_to_the_timelock_actions(system):
    payee = boa.env.generate_address("payee")
    proposal = dao.propose(
        system, Kind.CHANGE_RULES, [(payee, 10**18, b"")], "Pay", system.founders[0]
    )
    dao.pass_vote(proposal, system.founders[:4])
    proposal.queue()
    boa.env.timestamp = proposal.data().eta
    boa.env.set_balance(system.founders[0], 10**18)
    system.governor.execute(*proposal.args, value=10**18, sender=system.founders[0])
    assert boa.env.get_balance(payee) == 10**18
    assert proposal.state() == ProposalState.EXECUTED
