"""Proposal states (Pending, Active, Canceled, Defeated, Succeeded, Queued, Expired,
Executed), cancellation by the proposer and the guardian, what each kind may call, and
what nobody can do without an executed proposal."""

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from governance.rules import Kind, ProposalState, Rules

from . import dao
from .helpers import events, reverts_with_custom_error

TEMPLATE_ARGS = ("Gold", keccak(text="doc"), 0, 999_500, 0, [(999_000, 1_000)], 86400, False)


def admission(system, proposer=None, description="Admit a carrier"):
    carrier = boa.env.generate_address(description)
    action = dao.call(system.membership, "admit", carrier, "Carrier")
    return dao.propose(
        system, Kind.ADMIT_MEMBER, [action], description, proposer or system.founders[0]
    )


def queued(system):
    proposal = admission(system)
    dao.pass_vote(proposal, system.founders[:3])
    proposal.queue()
    return proposal


# ------------------------------------------------------------------ states


def test_pending_until_the_voting_delay_has_passed(governance_contracts, founder_keys):
    rules = dao.short_test_rules()
    rules[Kind.ADMIT_MEMBER] = Rules(**{**rules[Kind.ADMIT_MEMBER].__dict__, "voting_delay": 300})
    founders = [k.address for k in founder_keys]
    system = dao.deploy_system(governance_contracts, founders, rules=rules, with_modules=False)
    created = boa.env.timestamp
    proposal = admission(system)

    assert (proposal.data().vote_start, proposal.data().vote_end) == (
        created + 300,
        created + 300 + dao.VOTING_PERIOD,
    )
    assert proposal.state() == ProposalState.PENDING
    with boa.reverts("Governor: voting is closed"):
        proposal.vote(founders[0], dao.FOR)
    boa.env.timestamp = created + 299
    assert proposal.state() == ProposalState.PENDING
    boa.env.timestamp = created + 300
    assert proposal.state() == ProposalState.ACTIVE
    proposal.vote(founders[0], dao.FOR)
    assert proposal.data().for_votes == 1


def test_pending_proposal_may_be_canceled_by_its_proposer(governance_contracts, founder_keys):
    rules = dao.short_test_rules()
    rules[Kind.ADMIT_MEMBER] = Rules(**{**rules[Kind.ADMIT_MEMBER].__dict__, "voting_delay": 300})
    founders = [k.address for k in founder_keys]
    system = dao.deploy_system(governance_contracts, founders, rules=rules, with_modules=False)
    proposal = admission(system)
    assert proposal.state() == ProposalState.PENDING
    proposal.cancel(founders[0])
    assert proposal.state() == ProposalState.CANCELED
    boa.env.time_travel(seconds=300)
    assert proposal.state() == ProposalState.CANCELED


def test_states_through_a_whole_lifecycle(system):
    proposal = admission(system)
    assert proposal.state() == ProposalState.ACTIVE
    dao.pass_vote(proposal, system.founders[:3])
    assert proposal.state() == ProposalState.SUCCEEDED
    boa.env.time_travel(seconds=90 * 86400)
    assert proposal.state() == ProposalState.SUCCEEDED  # waits to be queued
    proposal.queue()
    assert proposal.state() == ProposalState.QUEUED
    boa.env.timestamp = proposal.data().eta
    proposal.execute()
    assert proposal.state() == ProposalState.EXECUTED
    boa.env.time_travel(seconds=dao.GRACE_PERIOD * 2)
    assert proposal.state() == ProposalState.EXECUTED  # never expires once executed


def test_unknown_proposal_has_no_state(system):
    with boa.reverts("Governor: unknown proposal"):
        system.governor.state(b"\x02" * 32)


def test_a_defeated_proposal_cannot_be_queued(system):
    proposal = admission(system)
    proposal.vote(system.founders[0], dao.FOR)
    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.DEFEATED
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()
    with boa.reverts("Governor: proposal not queued"):
        proposal.execute()


def test_an_active_proposal_cannot_be_queued_even_with_every_vote(system):
    proposal = admission(system)
    for voter in system.founders:
        proposal.vote(voter, dao.FOR)
    assert proposal.state() == ProposalState.ACTIVE
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()


def test_a_proposal_is_queued_once(system):
    proposal = queued(system)
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()


def test_execution_before_the_eta_is_refused(system):
    proposal = queued(system)
    eta = proposal.data().eta
    assert eta == boa.env.timestamp + dao.TIMELOCK_DELAY
    boa.env.timestamp = eta - 1
    with boa.reverts("Governor: timelock delay not over"):
        proposal.execute()
    assert proposal.state() == ProposalState.QUEUED
    boa.env.timestamp = eta
    proposal.execute()
    assert proposal.state() == ProposalState.EXECUTED


def test_a_queued_proposal_expires_after_the_grace_period(system):
    proposal = queued(system)
    eta = proposal.data().eta
    boa.env.timestamp = eta + dao.GRACE_PERIOD - 1
    assert proposal.state() == ProposalState.QUEUED
    boa.env.timestamp = eta + dao.GRACE_PERIOD
    assert proposal.state() == ProposalState.EXPIRED
    with boa.reverts("Governor: proposal not queued"):
        proposal.execute()
    with boa.reverts("Governor: proposal is final"):
        proposal.cancel(system.guardian)


def test_execution_on_the_last_second_of_the_grace_period(system):
    proposal = queued(system)
    boa.env.timestamp = proposal.data().eta + dao.GRACE_PERIOD - 1
    proposal.execute()
    assert proposal.state() == ProposalState.EXECUTED


# ------------------------------------------------------------------ proposing


def test_the_same_proposal_twice_is_refused(system):
    proposal = admission(system, description="same")
    with boa.reverts("Governor: proposal exists"):
        dao.propose(
            system,
            Kind.ADMIT_MEMBER,
            list(zip(proposal.targets, proposal.values, proposal.calldatas, strict=True)),
            "same",
            system.founders[0],
        )


def test_the_proposal_id_binds_the_proposer(system):
    """Copying a proposal (front-running it) makes another proposal, never the same id."""
    actions = [dao.call(system.membership, "admit", boa.env.generate_address("x"), "X")]
    mine = dao.propose(system, Kind.ADMIT_MEMBER, actions, "Admit X", system.founders[0])
    copy = dao.propose(system, Kind.ADMIT_MEMBER, actions, "Admit X", system.founders[1])
    assert mine.id != copy.id
    assert mine.id == keccak(
        encode(
            ["address", "bytes32", "bytes32"],
            [
                system.founders[0],
                keccak(
                    encode(
                        ["address[]", "uint256[]", "bytes[]"],
                        [mine.targets, mine.values, mine.calldatas],
                    )
                ),
                keccak(text="Admit X"),
            ],
        )
    )
    # the copy cannot be queued or canceled as the original
    with boa.reverts("Governor: only the proposer or the guardian"):
        mine.cancel(system.founders[1])


@pytest.mark.parametrize(
    "targets, values, calldatas, reason",
    [
        ([], [], [], "Governor: no actions"),
        (["membership"], [0, 0], [b"\x00" * 4], "Governor: actions differ in length"),
        (["membership"], [0], [], "Governor: actions differ in length"),
        (["membership"], [0], [b"\x01\x02"], "Governor: action without a function"),
    ],
    ids=["no-actions", "values-length", "calldatas-length", "no-selector"],
)
def test_malformed_proposals_are_refused(system, targets, values, calldatas, reason):
    targets = [system.membership.address for _ in targets]
    with boa.reverts(reason):
        system.governor.propose(
            Kind.ADMIT_MEMBER, targets, values, calldatas, "x", sender=system.founders[0]
        )


def test_an_unknown_kind_is_refused(system):
    action = dao.call(system.membership, "admit", boa.env.generate_address("x"), "X")
    with boa.reverts("Governor: unknown kind"):
        dao.propose(system, 6, [action], "x", system.founders[0])


def test_a_proposal_of_the_maximum_size_fits(system):
    """Eight actions, each an SLA template with eight tiers and a 64-character name."""
    tiers = [(999_500 - i, 100 * (i + 1)) for i in range(8)]
    actions = [
        dao.call(
            system.sla_templates,
            "adopt",
            f"{i}" * 64,
            keccak(text=str(i)),
            0,
            999_500,
            0,
            tiers,
            1,
            True,
        )
        for i in range(8)
    ]
    proposal = dao.propose(system, Kind.ADOPT_SLA_TEMPLATE, actions, "D" * 2048, system.founders[0])
    dao.enact(proposal, system.founders[:3])
    assert system.sla_templates.template_count() == 8
    assert system.sla_templates.template(8).tiers == tiers


# ------------------------------------------------------------------ what each kind may call


def disallowed_actions(system):
    beacon = system.beacon
    return {
        Kind.ADMIT_MEMBER: [
            dao.call(system.membership, "remove", system.founders[1]),
            dao.call(system.registry, "record_upgrade", "Anchor", 2),
            dao.call(system.sla_templates, "adopt", *TEMPLATE_ARGS),
            dao.call(system.governor, "set_guardian", system.founders[0]),
        ],
        Kind.REMOVE_MEMBER: [
            dao.call(system.membership, "admit", system.founders[1], "X"),
            dao.call(system.timelock, "set_minimum_delay", 1),
        ],
        Kind.ADOPT_SLA_TEMPLATE: [
            dao.call(system.sla_templates, "retire", 1),
            dao.call(system.membership, "admit", system.founders[1], "X"),
        ],
        Kind.RETIRE_SLA_TEMPLATE: [
            dao.call(system.sla_templates, "adopt", *TEMPLATE_ARGS),
            dao.call(
                system.governor,
                "set_rules",
                0,
                dao.short_test_rules()[Kind.ADMIT_MEMBER].as_tuple(),
            ),
        ],
        Kind.UPGRADE_MODULE: [
            dao.call(system.membership, "admit", system.founders[1], "X"),
            dao.call(system.timelock, "set_minimum_delay", 1),
            dao.call(system.governor, "set_guardian", system.founders[0]),
            # upgradeTo's selector sent to a governance contract
            (system.membership.address, 0, beacon.upgradeTo.prepare_calldata(system.founders[0])),
            (system.timelock.address, 0, beacon.upgradeTo.prepare_calldata(system.founders[0])),
            (system.governor.address, 0, beacon.upgradeTo.prepare_calldata(system.founders[0])),
            (
                system.sla_templates.address,
                0,
                beacon.upgradeTo.prepare_calldata(system.founders[0]),
            ),
            # the registry only for registering and recording
            (system.registry.address, 0, beacon.upgradeTo.prepare_calldata(system.founders[0])),
        ],
    }


@pytest.mark.parametrize("kind", list(Kind)[:5], ids=[k.name for k in list(Kind)[:5]])
def test_a_kind_may_not_call_what_belongs_to_another(system, kind):
    allowed = {
        Kind.ADMIT_MEMBER: dao.call(system.membership, "admit", boa.env.generate_address("n"), "N"),
        Kind.REMOVE_MEMBER: dao.call(system.membership, "remove", system.founders[4]),
        Kind.ADOPT_SLA_TEMPLATE: dao.call(system.sla_templates, "adopt", *TEMPLATE_ARGS),
        Kind.RETIRE_SLA_TEMPLATE: dao.call(system.sla_templates, "retire", 1),
        Kind.UPGRADE_MODULE: dao.call(
            system.beacon, "upgradeTo", system.anchor_implementation.address
        ),
    }[kind]
    for action in disallowed_actions(system)[kind]:
        with boa.reverts("Governor: action not allowed for this kind"):
            dao.propose(system, kind, [action], "mislabelled", system.founders[0])
        # hiding it behind an allowed action does not help
        with boa.reverts("Governor: action not allowed for this kind"):
            dao.propose(system, kind, [allowed, action], "mislabelled", system.founders[0])
    # the allowed action alone is fine
    proposal = dao.propose(system, kind, [allowed], "labelled", system.founders[0])
    assert proposal.state() == ProposalState.ACTIVE


def test_change_rules_may_call_anything(system):
    actions = [action for actions in disallowed_actions(system).values() for action in actions][:8]
    proposal = dao.propose(system, Kind.CHANGE_RULES, actions, "anything", system.founders[0])
    assert proposal.state() == ProposalState.ACTIVE
    assert proposal.data().kind == Kind.CHANGE_RULES
    # even an action without a function (a plain transfer)
    transfer = dao.propose(
        system, Kind.CHANGE_RULES, [(system.founders[0], 1, b"")], "pay", system.founders[0]
    )
    assert transfer.state() == ProposalState.ACTIVE


def test_upgrade_module_may_register_a_new_module(system):
    action = dao.call(
        system.registry, "register", "Anchor2", system.anchor.address, system.beacon.address, 1
    )
    proposal = dao.propose(system, Kind.UPGRADE_MODULE, [action], "register", system.founders[0])
    dao.enact(proposal, system.founders[:4])
    assert system.registry.module_count() == 2
    assert system.registry.modules("Anchor2").proxy == system.anchor.address


# ------------------------------------------------------------------ cancel


def test_the_proposer_cancels_before_any_vote(system):
    proposal = admission(system)
    cancel = proposal.cancel(system.founders[0])
    assert events(system.governor, "ProposalCanceled", cancel) == [
        {"proposal_id": proposal.id, "by": system.founders[0]}
    ]
    assert proposal.state() == ProposalState.CANCELED
    assert proposal.data().flags == dao.FLAG_CANCELED
    with boa.reverts("Governor: voting is closed"):
        proposal.vote(system.founders[1], dao.FOR)
    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.CANCELED
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()
    with boa.reverts("Governor: proposal is final"):
        proposal.cancel(system.founders[0])


def test_the_proposer_cannot_cancel_after_a_vote(system):
    proposal = admission(system)
    proposal.vote(system.founders[3], dao.ABSTAIN)
    with boa.reverts("Governor: votes were cast"):
        proposal.cancel(system.founders[0])
    assert proposal.state() == ProposalState.ACTIVE


def test_the_proposer_cannot_cancel_after_voting_ended(system):
    proposal = admission(system)
    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.DEFEATED
    with boa.reverts("Governor: voting is over"):
        proposal.cancel(system.founders[0])


@pytest.mark.parametrize("who", ["other-member", "stranger", "deployer", "timelock"])
def test_nobody_else_cancels(system, stranger, who):
    sender = {
        "other-member": system.founders[1],
        "stranger": stranger,
        "deployer": system.deployer,
        "timelock": system.timelock.address,
    }[who]
    proposal = admission(system)
    with boa.reverts("Governor: only the proposer or the guardian"):
        proposal.cancel(sender)
    assert proposal.state() == ProposalState.ACTIVE


def test_the_guardian_cancels_an_active_proposal_with_votes(system):
    proposal = admission(system)
    proposal.vote(system.founders[0], dao.FOR)
    cancel = proposal.cancel(system.guardian)
    assert events(system.governor, "ProposalCanceled", cancel) == [
        {"proposal_id": proposal.id, "by": system.guardian}
    ]
    assert proposal.state() == ProposalState.CANCELED


def test_the_guardian_cancels_a_succeeded_proposal(system):
    proposal = admission(system)
    dao.pass_vote(proposal, system.founders[:3])
    proposal.cancel(system.guardian)
    assert proposal.state() == ProposalState.CANCELED
    with boa.reverts("Governor: proposal not successful"):
        proposal.queue()


def test_the_guardian_cancels_a_queued_proposal_and_its_timelock_operation(system):
    proposal = queued(system)
    operation = proposal.operation_id(system.timelock)
    assert system.timelock.timestamps(operation) == proposal.data().eta

    cancel = proposal.cancel(system.guardian)

    assert events(system.timelock, "OperationCanceled", cancel) == [{"operation_id": operation}]
    assert system.timelock.timestamps(operation) == 0
    assert proposal.state() == ProposalState.CANCELED
    boa.env.timestamp = proposal.data().eta
    with boa.reverts("Governor: proposal not queued"):
        proposal.execute()
    # nor can the Governor's own Timelock run it any more
    with boa.reverts("Timelock: operation not scheduled"):
        system.timelock.execute(
            proposal.targets,
            proposal.values,
            proposal.calldatas,
            proposal.id,
            sender=system.governor.address,
        )


def test_nobody_cancels_an_executed_proposal(system):
    proposal = admission(system)
    dao.enact(proposal, system.founders[:3])
    for sender in (system.guardian, system.founders[0]):
        with boa.reverts("Governor: proposal is final"):
            proposal.cancel(sender)
    assert proposal.state() == ProposalState.EXECUTED


def test_the_proposer_cannot_cancel_a_queued_proposal(system):
    proposal = queued(system)
    with boa.reverts("Governor: voting is over"):
        proposal.cancel(system.founders[0])
    assert proposal.state() == ProposalState.QUEUED


def test_without_a_guardian_the_zero_address_cannot_cancel(governance_contracts, founder_keys):
    founders = [k.address for k in founder_keys]
    system = dao.deploy_system(governance_contracts, founders, with_modules=False)
    assert system.governor.guardian() == dao.ZERO_ADDRESS
    proposal = admission(system)
    proposal.vote(founders[1], dao.FOR)
    with boa.reverts("Governor: only the proposer or the guardian"):
        proposal.cancel(dao.ZERO_ADDRESS)
    assert proposal.state() == ProposalState.ACTIVE


def test_a_removed_guardian_cannot_cancel(system):
    action = dao.call(system.governor, "set_guardian", dao.ZERO_ADDRESS)
    removal = dao.propose(system, Kind.CHANGE_RULES, [action], "No guardian", system.founders[0])
    dao.enact(removal, system.founders[:4])
    proposal = admission(system)
    proposal.vote(system.founders[0], dao.FOR)
    with boa.reverts("Governor: only the proposer or the guardian"):
        proposal.cancel(system.guardian)


# ------------------------------------------------------------------ no change without a proposal


def test_privileged_calls_not_from_the_timelock_revert(system, governance_contracts, newcomer):
    founder = system.founders[0]
    v2 = governance_contracts.anchor_v2.deploy()
    with boa.reverts("Membership: only the timelock"):
        system.membership.admit(newcomer, "Delta", sender=founder)
    with boa.reverts("Membership: only the timelock"):
        system.membership.remove(system.founders[1], sender=system.governor.address)
    with boa.reverts("SlaTemplates: only the timelock"):
        system.sla_templates.adopt(*TEMPLATE_ARGS, sender=system.guardian)
    with boa.reverts("ModuleRegistry: only the owner"):
        system.registry.record_upgrade("Anchor", 2, sender=system.deployer)
    with reverts_with_custom_error("OwnableUnauthorizedAccount(address)", system.governor.address):
        system.beacon.upgradeTo(v2.address, sender=system.governor.address)
    with boa.reverts("Governor: only the timelock"):
        system.governor.set_guardian(founder, sender=system.guardian)
    with boa.reverts("Timelock: only through a proposal"):
        system.timelock.set_minimum_delay(1, sender=system.governor.address)
    assert not system.membership.is_member(newcomer)
    assert system.beacon.implementation() == system.anchor_implementation.address


def test_an_unexecuted_proposal_changes_nothing(system, newcomer):
    action = dao.call(system.membership, "admit", newcomer, "Delta")
    proposal = dao.propose(system, Kind.ADMIT_MEMBER, [action], "Admit", system.founders[0])
    dao.pass_vote(proposal, system.founders[:3])
    # queueing other actions under this proposal's id is impossible: the id proves them
    other = dao.call(system.membership, "remove", system.founders[1])
    with boa.reverts("Governor: unknown proposal"):
        system.governor.queue(system.founders[0], [other[0]], [0], [other[2]], keccak(text="Admit"))
    proposal.queue()
    with boa.reverts("Governor: unknown proposal"):
        system.governor.execute(
            system.founders[0], [other[0]], [0], [other[2]], keccak(text="Admit")
        )
    assert not system.membership.is_member(newcomer)
    assert system.membership.is_member(system.founders[1])
