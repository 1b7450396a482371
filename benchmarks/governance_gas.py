"""Governance gas: our Governor against OpenZeppelin 5, side by side on one anvil node.

DESIGN's budget: our `castVote`, `castVoteBySig`, `queue` and `execute` each cost at most
0.7x what OpenZeppelin 5's `Governor` + `ERC20Votes` + `TimelockController` cost for the
same work, and `propose` at most 0.85x. Both systems are deployed on ONE fresh anvil node in
one run, and both go through the same script (`lifecycle`), step by step; every figure is
the `gasUsed` of the transaction's receipt (intrinsic cost and calldata included, refunds
deducted), exactly what a member pays.

The same action on both sides. The proposal makes one call: `Membership.admit(newcomer,
"Newcomer Carrier")`. On our side it is an ADMIT_MEMBER proposal against the cooperative's
Membership, executed by our Timelock. On OpenZeppelin's side a second instance of the very
same Membership contract (same bytecode, same five founders) is deployed with the
TimelockController as its timelock, so the executed call does exactly the same work and
the difference measured is the governance machinery alone.

The same electorate. Five members. Ours: five founders, one member one vote. OpenZeppelin:
`BenchVotes` (ERC20 + ERC20Permit + ERC20Votes) mints one whole token to each of the five,
and each delegates to itself, so again one member one vote. Quorum is half of the eligible
votes on both sides (OpenZeppelin's `GovernorVotesQuorumFraction(50)`, our ADMIT_MEMBER
default), a simple majority decides, and both timelocks wait 60 s.

OpenZeppelin's configuration is its standard one (the Contracts Wizard's composition,
`benchmarks/solidity/BenchGovernor.sol`), in its cheapest usual setting so the ratios are
conservative: proposal threshold 0 and an open executor role (anyone may execute a ready
operation; the Governor holds the proposer and canceller roles). Our Governor, in contrast,
lets only members propose; the OpenZeppelin equivalent of that rule is a threshold of one
token, which makes OpenZeppelin's propose dearer. That variant is measured too (a second
`BenchGovernor` with threshold 1 token, on the same token) and shown as an extra row.
OpenZeppelin's clock is ERC20Votes' default, block numbers: voting delay 1 block, voting
period 50 blocks, advanced with `anvil_mine`; ours runs on timestamps (`evm_increaseTime`).

Votes. Proposal A gets all five votes, For: castVote (first voter), castVote (a later
voter, before quorum), castVoteBySig (a later voter; its vote reaches quorum), castVote and
castVoteBySig after quorum. A second proposal B, made at the same time, takes one
castVoteBySig as its first vote, so the signed vote is measured both as a first and as a
later vote. Signed votes are relayed by the operator; each signer uses its first nonce on
both sides. A is then queued and executed (by the operator; anyone may), and the newcomer
must be a member afterwards on both sides. Since the admitted call is the same work on
both sides, execute is also split with anvil's call tracer into that call's own gas and
the rest (the governance machinery's share), shown under the table. Accounts come from
fixed keys, so addresses, signatures and therefore the figures repeat run to run.

The figures are reported, never enforced: missing the budget does not invalidate the run;
a failed transaction or a wrong outcome does.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from benchmarks.config import BenchConfig, BenchResult
from benchmarks.report import print_table
from deployments.chain import ChainGateway, Receipt
from deployments.compiler import Artifact, Compiler, npm_version
from deployments.deploy import Founder, contract, deploy_system
from deployments.node import LocalNode
from governance.rules import Kind, ProposalState, Support, rules_in_kind_order, short_rules

NAME = "governance-gas"

VOTERS = 5
TIMELOCK_DELAY = 60  # seconds, both timelocks
VOTING_PERIOD = 600  # seconds, ours
OZ_VOTING_DELAY_BLOCKS = 1
OZ_VOTING_PERIOD_BLOCKS = 50
OZ_QUORUM_PERCENT = 50
OZ_GOVERNOR_NAME = "OZ Bench Governor"
ONE_TOKEN = 10**18
FUNDS = 10**21  # wei for every account

NEWCOMER_NAME = "Newcomer Carrier"

# (operation, budget: our gas at most this share of OpenZeppelin's), in table order.
OPERATIONS: tuple[tuple[str, float], ...] = (
    ("propose", 0.85),
    ("castVote (first voter)", 0.7),
    ("castVote (later voter)", 0.7),
    ("castVoteBySig (first voter)", 0.7),
    ("castVoteBySig (later voter)", 0.7),
    ("queue", 0.7),
    ("execute", 0.7),
)
# Compared with OpenZeppelin's threshold-1-token governor (only a member may propose, as ours).
PROPOSE_MEMBERS_ONLY = "propose (OZ threshold 1 token)"
# Extra figures from tracing execute: the executed call alone, and execute without it.
ACTION_INSIDE_EXECUTE = "Membership.admit inside execute"
EXECUTE_WITHOUT_ACTION = "execute without the admit call"

BENCH_DIR = Path(__file__).resolve().parent
SOLIDITY_DIR = BENCH_DIR / "solidity"
OZ_CONTRACTS = ("BenchGovernor", "BenchVotes", "TimelockController")

# TimelockController roles (keccak of the role name; DEFAULT_ADMIN_ROLE is zero).
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
DEFAULT_ADMIN_ROLE = b"\0" * 32
ZERO_ADDRESS = "0x" + "00" * 20


class BenchmarkFailure(Exception):
    """The lifecycle did not reach the outcome it must (the figures would be meaningless)."""


# ---------------------------------------------------------------------- compiling OpenZeppelin


def compile_openzeppelin() -> dict[str, Artifact]:
    """BenchGovernor, BenchVotes and TimelockController, compiled by the platform's own
    compiler (solc-js, the settings of the platform's OpenZeppelin proxies, cached)."""
    sources = {
        f"benchmarks/solidity/{path.name}": path for path in sorted(SOLIDITY_DIR.glob("*.sol"))
    }
    return Compiler().solidity(list(OZ_CONTRACTS), sources)


# ---------------------------------------------------------------------- the two systems


@dataclass(frozen=True)
class Proposal:
    """One proposal's actions and id, as both systems need them to vote, queue, execute."""

    proposer: LocalAccount
    targets: list[str]
    values: list[int]
    calldatas: list[bytes]
    description: str
    proposal_id: Any  # bytes (ours) or int (OpenZeppelin)

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)


class System:
    """The steps of one lifecycle; each transaction step returns the receipt's gas."""

    label = ""
    last_tx = ""
    governor: Contract
    membership: Contract

    def __init__(self, gateway: ChainGateway, relayer: LocalAccount) -> None:
        self.gateway = gateway
        self.relayer = relayer

    def _gas(self, sender: LocalAccount, fn: Any) -> int:
        receipt: Receipt = self.gateway.transact(sender, fn)  # raises on a revert
        self.last_tx = receipt.tx_hash
        return receipt.gas_used

    def inner_call_gas(self, tx_hash: str, target: str, selector: bytes) -> int:
        """The gas the call to `target` with `selector` used inside transaction `tx_hash`
        (anvil's call tracer), i.e. the executed action's own cost."""
        trace = self.gateway.w3.provider.make_request(
            "debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}]
        )
        if "result" not in trace:
            raise BenchmarkFailure(f"{self.label}: cannot trace {tx_hash}: {trace.get('error')}")
        frames = [trace["result"]]
        found = []
        while frames:
            frame = frames.pop()
            frames.extend(frame.get("calls", []))
            if (frame.get("to") or "").lower() == target.lower() and frame.get(
                "input", ""
            ).removeprefix("0x").startswith(selector.hex()):
                found.append(int(frame["gasUsed"], 16))
        if len(found) != 1:
            raise BenchmarkFailure(f"{self.label}: {len(found)} calls to {target} in {tx_hash}")
        return found[0]

    def admit_call(self, newcomer: str, name: str) -> bytes:
        fn = self.membership.functions.admit(newcomer, name)
        return bytes.fromhex(fn._encode_transaction_data().removeprefix("0x"))

    def is_member(self, account: str) -> bool:
        return self.gateway.call(self.membership.functions.is_member(account))

    def state(self, proposal: Proposal) -> ProposalState:
        return ProposalState(self.gateway.call(self.governor.functions.state(proposal.proposal_id)))

    def propose(
        self, proposer: LocalAccount, newcomer: str, name: str, description: str
    ) -> tuple[Proposal, int]:
        raise NotImplementedError

    def cast_vote(self, proposal: Proposal, voter: LocalAccount) -> int:
        fn = self.governor.functions.castVote(proposal.proposal_id, int(Support.FOR))
        return self._gas(voter, fn)

    def cast_vote_by_sig(self, proposal: Proposal, voter: LocalAccount) -> int:
        raise NotImplementedError

    def queue(self, proposal: Proposal) -> int:
        raise NotImplementedError

    def execute(self, proposal: Proposal) -> int:
        raise NotImplementedError

    def open_voting(self) -> None:
        """Let the voting delay pass."""

    def close_voting(self) -> None:
        """Let the voting period pass."""

    def wait_timelock(self) -> None:
        self.gateway.increase_time(TIMELOCK_DELAY + 1)

    def _sign_ballot(self, voter: LocalAccount, name: str, id_type: str, proposal_id: Any) -> bytes:
        nonce = self.gateway.call(self.governor.functions.nonces(voter.address))
        signed = Account.sign_typed_data(
            voter.key,
            domain_data={
                "name": name,
                "version": "1",
                "chainId": self.gateway.chain_id,
                "verifyingContract": self.governor.address,
            },
            message_types={
                "Ballot": [
                    {"name": "proposalId", "type": id_type},
                    {"name": "support", "type": "uint8"},
                    {"name": "voter", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                ]
            },
            message_data={
                "proposalId": proposal_id,
                "support": int(Support.FOR),
                "voter": voter.address,
                "nonce": nonce,
            },
        )
        return bytes(signed.signature)


class Ours(System):
    """contracts/governance: Governor + Membership + Timelock, deployed by deploy_system."""

    label = "ours"

    def __init__(
        self,
        gateway: ChainGateway,
        relayer: LocalAccount,
        compiler: Compiler,
        voters: list[LocalAccount],
    ) -> None:
        super().__init__(gateway, relayer)
        deployment = deploy_system(
            gateway,
            relayer,
            compiler,
            network="bench",
            founders=[
                Founder(v.address, f"Founding Carrier {i + 1}") for i, v in enumerate(voters)
            ],
            operator=relayer.address,
            governor_rules=rules_in_kind_order(
                short_rules(voting_period=VOTING_PERIOD, timelock_delay=TIMELOCK_DELAY)
            ),
            minimum_delay=TIMELOCK_DELAY,
        )
        self.governor = contract(gateway, compiler, deployment, "Governor")
        self.membership = contract(gateway, compiler, deployment, "Membership")

    def propose(
        self, proposer: LocalAccount, newcomer: str, name: str, description: str
    ) -> tuple[Proposal, int]:
        targets, values, calldatas = (
            [self.membership.address],
            [0],
            [self.admit_call(newcomer, name)],
        )
        fn = self.governor.functions.propose(
            int(Kind.ADMIT_MEMBER), targets, values, calldatas, description
        )
        gas = self._gas(proposer, fn)
        proposal_id = self.gateway.call(
            self.governor.functions.hash_proposal(
                proposer.address, targets, values, calldatas, keccak(text=description)
            )
        )
        return Proposal(proposer, targets, values, calldatas, description, proposal_id), gas

    def cast_vote_by_sig(self, proposal: Proposal, voter: LocalAccount) -> int:
        signature = self._sign_ballot(
            voter, "CarrierCoop Governor", "bytes32", proposal.proposal_id
        )
        fn = self.governor.functions.castVoteBySig(
            proposal.proposal_id, int(Support.FOR), voter.address, signature
        )
        return self._gas(self.relayer, fn)

    def _action_args(self, proposal: Proposal) -> tuple[Any, ...]:
        return (
            proposal.proposer.address,
            proposal.targets,
            proposal.values,
            proposal.calldatas,
            proposal.description_hash,
        )

    def queue(self, proposal: Proposal) -> int:
        return self._gas(self.relayer, self.governor.functions.queue(*self._action_args(proposal)))

    def execute(self, proposal: Proposal) -> int:
        fn = self.governor.functions.execute(*self._action_args(proposal))
        return self._gas(self.relayer, fn)

    def close_voting(self) -> None:
        self.gateway.increase_time(VOTING_PERIOD + 1)


class OpenZeppelin(System):
    """OpenZeppelin 5: BenchGovernor (Governor, GovernorSettings, GovernorCountingSimple,
    GovernorVotes, GovernorVotesQuorumFraction, GovernorTimelockControl) + BenchVotes
    (ERC20Votes) + TimelockController, executing on a twin of our Membership."""

    label = "OpenZeppelin 5"

    def __init__(
        self,
        gateway: ChainGateway,
        relayer: LocalAccount,
        compiler: Compiler,
        artifacts: dict[str, Artifact],
        voters: list[LocalAccount],
    ) -> None:
        super().__init__(gateway, relayer)
        deployer = relayer
        token = self._deploy(deployer, artifacts["BenchVotes"], [v.address for v in voters])
        # The deployer administers the timelock only until the roles are granted.
        timelock = self._deploy(
            deployer, artifacts["TimelockController"], TIMELOCK_DELAY, [], [], deployer.address
        )
        governor = self._deploy(
            deployer,
            artifacts["BenchGovernor"],
            OZ_GOVERNOR_NAME,
            token.address,
            timelock.address,
            OZ_VOTING_DELAY_BLOCKS,
            OZ_VOTING_PERIOD_BLOCKS,
            0,
            OZ_QUORUM_PERCENT,
        )
        # Same rules, except that only a token holder (a member) may propose, as with ours.
        self.members_only_governor = self._deploy(
            deployer,
            artifacts["BenchGovernor"],
            OZ_GOVERNOR_NAME,
            token.address,
            timelock.address,
            OZ_VOTING_DELAY_BLOCKS,
            OZ_VOTING_PERIOD_BLOCKS,
            ONE_TOKEN,
            OZ_QUORUM_PERCENT,
        )
        for role, account in (
            (PROPOSER_ROLE, governor.address),
            (CANCELLER_ROLE, governor.address),
            (EXECUTOR_ROLE, ZERO_ADDRESS),  # open: anyone may execute a ready operation
        ):
            gateway.transact(deployer, timelock.functions.grantRole(role, account))
        gateway.transact(
            deployer, timelock.functions.renounceRole(DEFAULT_ADMIN_ROLE, deployer.address)
        )
        membership_artifact = compiler.vyper("Membership")
        self.membership = self._deploy(
            deployer,
            membership_artifact,
            timelock.address,
            [v.address for v in voters],
            [f"Founding Carrier {i + 1}" for i in range(len(voters))],
        )
        for voter in voters:
            gateway.transact(voter, token.functions.delegate(voter.address))
        self.mine(1)  # the delegations are history before any proposal's snapshot
        self.token, self.timelock, self.governor = token, timelock, governor

    def _deploy(self, deployer: LocalAccount, artifact: Artifact, *args: Any) -> Contract:
        receipt = self.gateway.deploy(deployer, artifact, *args)
        assert receipt.contract_address is not None
        return self.gateway.contract(receipt.contract_address, artifact.abi)

    def mine(self, blocks: int) -> None:
        self.gateway.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def _propose_on(
        self,
        governor: Contract,
        proposer: LocalAccount,
        newcomer: str,
        name: str,
        description: str,
    ) -> tuple[Proposal, int]:
        targets, values, calldatas = (
            [self.membership.address],
            [0],
            [self.admit_call(newcomer, name)],
        )
        gas = self._gas(
            proposer, governor.functions.propose(targets, values, calldatas, description)
        )
        proposal_id = self.gateway.call(
            governor.functions.hashProposal(targets, values, calldatas, keccak(text=description))
        )
        return Proposal(proposer, targets, values, calldatas, description, proposal_id), gas

    def propose(
        self, proposer: LocalAccount, newcomer: str, name: str, description: str
    ) -> tuple[Proposal, int]:
        return self._propose_on(self.governor, proposer, newcomer, name, description)

    def propose_members_only(
        self, proposer: LocalAccount, newcomer: str, name: str, description: str
    ) -> int:
        return self._propose_on(self.members_only_governor, proposer, newcomer, name, description)[
            1
        ]

    def cast_vote_by_sig(self, proposal: Proposal, voter: LocalAccount) -> int:
        signature = self._sign_ballot(voter, OZ_GOVERNOR_NAME, "uint256", proposal.proposal_id)
        fn = self.governor.functions.castVoteBySig(
            proposal.proposal_id, int(Support.FOR), voter.address, signature
        )
        return self._gas(self.relayer, fn)

    def _action_args(self, proposal: Proposal) -> tuple[Any, ...]:
        return (proposal.targets, proposal.values, proposal.calldatas, proposal.description_hash)

    def queue(self, proposal: Proposal) -> int:
        return self._gas(self.relayer, self.governor.functions.queue(*self._action_args(proposal)))

    def execute(self, proposal: Proposal) -> int:
        fn = self.governor.functions.execute(*self._action_args(proposal))
        return self._gas(self.relayer, fn)

    def open_voting(self) -> None:
        # Voting opens once the clock (block number) has passed the snapshot.
        self.mine(OZ_VOTING_DELAY_BLOCKS + 1)

    def close_voting(self) -> None:
        self.mine(OZ_VOTING_PERIOD_BLOCKS + 1)


# ---------------------------------------------------------------------- the lifecycle


def _expect(system: System, proposal: Proposal, state: ProposalState, step: str) -> None:
    actual = system.state(proposal)
    if actual != state:
        raise BenchmarkFailure(
            f"{system.label}: proposal {proposal.description!r} is {actual.name} {step}, "
            f"expected {state.name}"
        )


def lifecycle(
    system: System, voters: list[LocalAccount], newcomers: tuple[str, str]
) -> dict[str, Any]:
    """The identical script for both systems; the gas of every transaction it sends."""
    gas: dict[str, int] = {}
    first, second = voters[0], voters[1]
    a, gas["propose"] = system.propose(
        first, newcomers[0], NEWCOMER_NAME, f"Admit {NEWCOMER_NAME} to the cooperative"
    )
    b, gas["propose (second proposal)"] = system.propose(
        first, newcomers[1], f"{NEWCOMER_NAME} B", f"Admit {NEWCOMER_NAME} B to the cooperative"
    )
    system.open_voting()
    _expect(system, a, ProposalState.ACTIVE, "when voting opens")
    gas["castVote (first voter)"] = system.cast_vote(a, first)
    gas["castVote (later voter)"] = system.cast_vote(a, second)
    gas["castVoteBySig (later voter)"] = system.cast_vote_by_sig(a, voters[2])
    gas["castVote (4th voter, after quorum)"] = system.cast_vote(a, voters[3])
    gas["castVoteBySig (5th voter, after quorum)"] = system.cast_vote_by_sig(a, voters[4])
    gas["castVoteBySig (first voter)"] = system.cast_vote_by_sig(b, first)
    system.close_voting()
    _expect(system, a, ProposalState.SUCCEEDED, "after the vote")
    gas["queue"] = system.queue(a)
    _expect(system, a, ProposalState.QUEUED, "after queueing")
    system.wait_timelock()
    if system.is_member(newcomers[0]):
        raise BenchmarkFailure(f"{system.label}: the newcomer is a member before execution")
    gas["execute"] = system.execute(a)
    # The executed call itself (Membership.admit, the same contract code on both sides) and
    # the rest of execute, which is the governance machinery's own share.
    admitted = system.inner_call_gas(system.last_tx, a.targets[0], a.calldatas[0][:4])
    gas[ACTION_INSIDE_EXECUTE] = admitted
    gas[EXECUTE_WITHOUT_ACTION] = gas["execute"] - admitted
    _expect(system, a, ProposalState.EXECUTED, "after execution")
    if not system.is_member(newcomers[0]):
        raise BenchmarkFailure(f"{system.label}: the executed proposal did not admit the newcomer")
    return gas


def _funded_accounts(gateway: ChainGateway, count: int) -> list[LocalAccount]:
    # Fixed keys: addresses and signatures (hence calldata, hence gas) repeat run to run.
    accounts = [Account.from_key(keccak(text=f"{NAME} account {i}")) for i in range(count)]
    for account in accounts:
        gateway.set_balance(account.address, FUNDS)
    return accounts


def measure(compiler: Compiler, artifacts: dict[str, Artifact]) -> dict[str, Any]:
    """Deploy both systems on one fresh anvil node and run the lifecycle on each."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-governance-gas-") as state_dir,
        LocalNode(Path(state_dir)) as gateway,
    ):
        relayer, *voters, newcomer_a, newcomer_b = _funded_accounts(gateway, 3 + VOTERS)
        newcomers = (newcomer_a.address, newcomer_b.address)
        print(f"[{NAME}] deploying our governance system…", flush=True)
        ours = Ours(gateway, relayer, compiler, voters)
        print(f"[{NAME}] deploying OpenZeppelin 5 Governor + ERC20Votes + Timelock…", flush=True)
        oz = OpenZeppelin(gateway, relayer, compiler, artifacts, voters)
        print(f"[{NAME}] running the lifecycle on both…", flush=True)
        ours_gas = lifecycle(ours, voters, newcomers)
        oz_gas = lifecycle(oz, voters, newcomers)
        # Only a member may propose, as with ours: the same proposal A, on the second governor.
        oz_gas[PROPOSE_MEMBERS_ONLY] = oz.propose_members_only(
            voters[0], newcomers[0], NEWCOMER_NAME, f"Admit {NEWCOMER_NAME} to the cooperative"
        )
        node = gateway.w3.client_version
        return {
            "node": node,
            "chain_id": gateway.chain_id,
            "ours": ours_gas,
            "openzeppelin": oz_gas,
        }


def comparison(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per budgeted operation (and the members-only propose variant)."""
    rows = []
    pairs = [(op, op, budget) for op, budget in OPERATIONS]
    pairs.insert(1, (PROPOSE_MEMBERS_ONLY, "propose", 0.85))
    for label, ours_key, budget in pairs:
        ours_gas = measured["ours"][ours_key]
        oz_gas = measured["openzeppelin"][label]
        ratio = ours_gas / oz_gas
        rows.append(
            {
                "operation": label,
                "ours": ours_gas,
                "openzeppelin": oz_gas,
                "ratio": round(ratio, 4),
                "budget": budget,
                "within_budget": ratio <= budget,
            }
        )
    return rows


def run(config: BenchConfig) -> BenchResult:
    del config  # gas does not depend on durations or client counts
    print(f"[{NAME}] compiling (our Vyper contracts; OpenZeppelin 5 with solc-js)…", flush=True)
    compiler = Compiler()
    artifacts = compile_openzeppelin()
    measured = measure(compiler, artifacts)
    rows = comparison(measured)
    print_table(
        ["operation", "ours gas", "OZ gas", "ratio", "budget", "within budget"],
        [
            [
                r["operation"],
                f"{r['ours']:,}",
                f"{r['openzeppelin']:,}",
                f"{r['ratio']:.3f}",
                f"{r['budget']:.2f}",
                "yes" if r["within_budget"] else "NO",
            ]
            for r in rows
        ],
    )
    extra = [
        key
        for key in measured["ours"]
        if key not in {op for op, _ in OPERATIONS} and key in measured["openzeppelin"]
    ]
    for key in extra:
        ours_gas, oz_gas = measured["ours"][key], measured["openzeppelin"][key]
        print(f"  also: {key}: ours {ours_gas:,}, OZ {oz_gas:,} ({ours_gas / oz_gas:.3f})")
    missed = [r["operation"] for r in rows if not r["within_budget"]]
    print(
        f"{VOTERS} voters, one-call ADMIT_MEMBER proposal on both sides; gas from receipts on "
        f"one anvil node ({measured['node']}). "
        + (f"Over budget: {', '.join(missed)}." if missed else "All within budget.")
    )
    data = {
        "voters": VOTERS,
        "openzeppelin_version": npm_version("@openzeppelin/contracts"),
        "solc": artifacts["BenchGovernor"].compiler,
        "node": measured["node"],
        "comparison": rows,
        "all_within_budget": not missed,
        "gas": {"ours": measured["ours"], "openzeppelin": measured["openzeppelin"]},
    }
    # Valid means every transaction succeeded and the outcomes were right; the budget is
    # reported, not enforced.
    return BenchResult(name=NAME, data=data, valid=True)
