"""The whole governance system in titanoboa, deployed the way `deployments/deploy.py` does
it, and small helpers to drive proposals through their lifecycle.

Order (as deploy.py): Timelock(minimum_delay) -> Membership(timelock, founders, names) ->
SlaTemplates(timelock) -> modules (Anchor: implementation, UpgradeableBeacon owned by the
Timelock, BeaconProxy) -> ModuleRegistry(timelock, modules) -> Governor(membership,
timelock, sla_templates, registry, guardian, rules) -> timelock.set_governor(governor) by
the deployer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boa
from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple
from vyper.compiler.output import build_abi_output

from governance.rules import Kind, ProposalState, Rules, rules_in_kind_order, short_rules

from .helpers import ZERO_ADDRESS, ZERO_BYTES32, deploy_solidity, vyper_at

VOTING_PERIOD = 3600
TIMELOCK_DELAY = 600
MINIMUM_DELAY = 60
GRACE_PERIOD = 14 * 86400
FOUNDERS = 5

FLAG_CANCELED = 1
FLAG_QUEUED = 2
FLAG_EXECUTED = 4
FLAG_EXTENDED = 8
FLAG_APPROVAL_INCLUSIVE = 16

AGAINST, FOR, ABSTAIN = 0, 1, 2

# One fixed deployer: after a test's anchor rolls its nonce back, the next test deploys at
# the same addresses. (py-evm never forgets an account whose storage was written; with a
# fresh deployer per test the set grows and every later call gets slower.)
DEPLOYER = to_checksum_address(keccak(text="carriercoop test deployer")[:20])

Action = tuple[str, int, bytes]  # target, value, calldata


def short_test_rules() -> dict[Kind, Rules]:
    return short_rules(voting_period=VOTING_PERIOD, timelock_delay=TIMELOCK_DELAY)


def founder_accounts(n: int = FOUNDERS) -> list[LocalAccount]:
    """Deterministic founder keys (so ballots can be signed in Python)."""
    return [Account.from_key(keccak(text=f"carriercoop test founder {i}")) for i in range(n)]


def founder_names(n: int) -> list[str]:
    return [f"Founder Carrier {i}" for i in range(n)]


@dataclass
class Contracts:
    """The compiled (not deployed) contracts, loaded once per session."""

    timelock: Any
    membership: Any
    sla_templates: Any
    registry: Any
    governor: Any
    anchor: Any
    anchor_v2: Any
    beacon_artifact: Any
    proxy_artifact: Any


@dataclass
class System:
    timelock: Any
    membership: Any
    sla_templates: Any
    registry: Any
    governor: Any
    founders: list[str]
    deployer: str
    guardian: str
    anchor: Any = None  # the Anchor module, through its proxy
    beacon: Any = None
    anchor_implementation: Any = None
    keys: dict[str, LocalAccount] = field(default_factory=dict)


@cache
def _constructor_types(deployer: Any) -> list[str]:
    abi = build_abi_output(deployer.compiler_data)
    constructor = next((item for item in abi if item["type"] == "constructor"), None)
    return [collapse_if_tuple(i) for i in constructor["inputs"]] if constructor else []


def deploy(deployer: Any, *args: Any) -> Any:
    """`deployer.deploy(*args)` without the deployment source map, which titanoboa 0.2.8
    recompiles on every deploy (most of the system fixture's time). Use `.deploy()` where
    a constructor revert is expected: its error reporting needs that map."""
    types = _constructor_types(deployer)
    initcode = deployer.compiler_data.bytecode + encode(types, list(args))
    address, _ = boa.env.deploy_code(bytecode=initcode)
    return deployer.at(address)


def deploy_module(
    contract: Any,
    init_args: list[Any],
    system: System,
    compiler: Any,
    *,
    deployer: str = DEPLOYER,
) -> tuple[Any, Any, Any]:
    """A cooperative module as deployments/deploy.py deploys one, by the fixed deployer
    (or another fixed one: a contract deployed at an address where earlier tests deployed
    another kind confuses titanoboa's storage dump, whose traces outlive the rollback):
    the implementation, an UpgradeableBeacon owned by the Timelock, and the module at a
    BeaconProxy whose constructor calls `initialize(*init_args)` (nothing when empty).
    Returns (implementation, beacon, module through its proxy)."""
    with boa.env.prank(deployer):
        implementation = deploy(contract)
        beacon = deploy_solidity(
            compiler.openzeppelin("UpgradeableBeacon"),
            ["address", "address"],
            [implementation.address, system.timelock.address],
        )
        init = implementation.initialize.prepare_calldata(*init_args) if init_args else b""
        proxy = deploy_solidity(
            compiler.openzeppelin("BeaconProxy"), ["address", "bytes"], [beacon.address, init]
        )
    return implementation, beacon, vyper_at(contract, proxy.address)


def deploy_system(
    contracts: Contracts,
    founders: list[str],
    names: list[str] | None = None,
    *,
    rules: dict[Kind, Rules] | None = None,
    guardian: str = ZERO_ADDRESS,
    minimum_delay: int = MINIMUM_DELAY,
    operator: str | None = None,
    with_modules: bool = True,
) -> System:
    names = names or founder_names(len(founders))
    deployer = DEPLOYER
    with boa.env.prank(deployer):
        timelock = deploy(contracts.timelock, minimum_delay)
        membership = deploy(contracts.membership, timelock.address, founders, names)
        sla_templates = deploy(contracts.sla_templates, timelock.address)
        anchor = beacon = implementation = None
        entries: list[tuple[str, str, str, int, bytes]] = []
        if with_modules:
            implementation = deploy(contracts.anchor)
            beacon = deploy_solidity(
                contracts.beacon_artifact,
                ["address", "address"],
                [implementation.address, timelock.address],
            )
            init = implementation.initialize.prepare_calldata(
                operator or boa.env.generate_address("operator")
            )
            proxy = deploy_solidity(
                contracts.proxy_artifact, ["address", "bytes"], [beacon.address, init]
            )
            anchor = vyper_at(contracts.anchor, proxy.address)
            entries.append((proxy.address, beacon.address, implementation.address, 1, ZERO_BYTES32))
        registry = deploy(
            contracts.registry, timelock.address, entries, ["Anchor"] if with_modules else []
        )
        governor = deploy(
            contracts.governor,
            membership.address,
            timelock.address,
            sla_templates.address,
            registry.address,
            guardian,
            rules_in_kind_order(rules or short_test_rules()),
        )
        timelock.set_governor(governor.address)
    return System(
        timelock=timelock,
        membership=membership,
        sla_templates=sla_templates,
        registry=registry,
        governor=governor,
        founders=list(founders),
        deployer=deployer,
        guardian=guardian,
        anchor=anchor,
        beacon=beacon,
        anchor_implementation=implementation,
    )


# ------------------------------------------------------------------ proposals


@dataclass
class Proposal:
    governor: Any
    id: bytes
    proposer: str
    kind: int
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str
    created: Any = None  # the computation of `propose`

    @property
    def args(self) -> tuple[Any, ...]:
        """The arguments of queue / execute / cancel."""
        description_hash = keccak(text=self.description)
        return (self.proposer, self.targets, self.values, self.calldatas, description_hash)

    def state(self) -> ProposalState:
        return ProposalState(self.governor.state(self.id))

    def data(self) -> Any:
        return self.governor.proposal(self.id)

    # The transactions return their computation, for the events logged during them
    # (any later call, even a view, replaces the contract's last computation).

    def vote(self, voter: str, support: int) -> Any:
        self.governor.castVote(self.id, support, sender=voter)
        return self.governor._computation

    def queue(self, sender: str | None = None) -> Any:
        assert self.governor.queue(*self.args, sender=sender or self.proposer) == self.id
        return self.governor._computation

    def execute(self, sender: str | None = None) -> Any:
        assert self.governor.execute(*self.args, sender=sender or self.proposer) == self.id
        return self.governor._computation

    def cancel(self, sender: str) -> Any:
        assert self.governor.cancel(*self.args, sender=sender) == self.id
        return self.governor._computation

    def operation_id(self, timelock: Any) -> bytes:
        return timelock.operation_id(self.targets, self.values, self.calldatas, self.id)


def propose(
    system: System, kind: int, actions: list[Action], description: str, proposer: str
) -> Proposal:
    targets = [str(a[0]) for a in actions]
    values = [a[1] for a in actions]
    calldatas = [a[2] for a in actions]
    proposal_id = system.governor.propose(
        int(kind), targets, values, calldatas, description, sender=proposer
    )
    return Proposal(
        system.governor,
        proposal_id,
        proposer,
        int(kind),
        targets,
        values,
        calldatas,
        description,
        created=system.governor._computation,
    )


def end_voting(proposal: Proposal) -> None:
    """Move the clock just past the proposal's (possibly extended) end of voting."""
    boa.env.timestamp = proposal.data().vote_end + 1


def pass_vote(proposal: Proposal, voters: list[str]) -> None:
    """Everyone in `voters` votes For; the vote ends; the proposal has Succeeded."""
    for voter in voters:
        proposal.vote(voter, FOR)
    end_voting(proposal)
    assert proposal.state() == ProposalState.SUCCEEDED


def enact(proposal: Proposal, voters: list[str]) -> Any:
    """Vote through, queue, wait the delay and execute; assert every state on the way.
    Returns the computation of `execute` (for the events the actions logged)."""
    pass_vote(proposal, voters)
    proposal.queue()
    assert proposal.state() == ProposalState.QUEUED
    boa.env.timestamp = proposal.data().eta
    computation = proposal.execute()
    assert proposal.state() == ProposalState.EXECUTED
    return computation


# ------------------------------------------------------------------ actions


def call(contract: Any, method: str, *args: Any, value: int = 0) -> Action:
    return (contract.address, value, getattr(contract, method).prepare_calldata(*args))


# ------------------------------------------------------------------ EIP-712 ballots


def ballot_typed_data(
    governor_address: str, chain_id: int, proposal_id: bytes, support: int, voter: str, nonce: int
) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Ballot": [
                {"name": "proposalId", "type": "bytes32"},
                {"name": "support", "type": "uint8"},
                {"name": "voter", "type": "address"},
                {"name": "nonce", "type": "uint256"},
            ],
        },
        "primaryType": "Ballot",
        "domain": {
            "name": "CarrierCoop Governor",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": str(governor_address),
        },
        "message": {
            "proposalId": bytes(proposal_id),
            "support": support,
            "voter": str(voter),
            "nonce": nonce,
        },
    }


def sign_ballot(
    key: LocalAccount,
    governor: Any,
    proposal_id: bytes,
    support: int,
    *,
    voter: str | None = None,
    nonce: int | None = None,
    chain_id: int | None = None,
    verifying_contract: str | None = None,
) -> bytes:
    """A 65-byte r || s || v signature of a Ballot, by `key` (for `voter`, default the key's
    own address, with the voter's current nonce on `governor` unless given)."""
    voter = voter or key.address
    data = ballot_typed_data(
        verifying_contract or governor.address,
        boa.env.evm.patch.chain_id if chain_id is None else chain_id,
        proposal_id,
        support,
        voter,
        governor.nonces(voter) if nonce is None else nonce,
    )
    signed = Account.sign_typed_data(key.key, full_message=data)
    return signed.signature
