"""Gas of the governance hot paths (ADMIT_MEMBER proposal, one action), measured in
titanoboa as a transaction would be charged: fresh state for each call (warm/cold access
and original storage values reset, as at a transaction boundary), plus the intrinsic cost
(21,000 and calldata, with Prague's calldata floor), minus the capped refund. `make bench`
measures the same on a real node, side by side with OpenZeppelin; these figures only
check the shape (a later vote is cheaper than the first, each path stays in its budget
band) and print the table (pytest -s)."""

from dataclasses import dataclass

import boa
from eth_account import Account
from eth_utils import keccak

from governance.rules import Kind, ProposalState

from . import dao


@dataclass
class Measured:
    total: int  # what the transaction would cost
    execution: int  # the EVM execution only
    calldata: int


def charged(env, contract) -> Measured:
    computation = contract._computation
    assert not computation.is_error
    data = bytes(computation.msg.data)
    zeros = data.count(0)
    tokens = zeros + 4 * (len(data) - zeros)
    used = 21_000 + 4 * tokens + computation.get_gas_used()
    refund = min(computation.get_gas_refund(), used // 5)
    return Measured(max(used - refund, 21_000 + 10 * tokens), computation.get_gas_used(), len(data))


def test_gas_of_an_admission_lifecycle(governance_contracts):
    # A separate environment, swapped in inside the test (after the plugin's anchor on the
    # shared one): its state is committed between calls, which no anchor would survive.
    fresh_env = boa.Env()
    with boa.swap_env(fresh_env):
        measure_an_admission_lifecycle(fresh_env, governance_contracts)


def measure_an_admission_lifecycle(fresh_env, governance_contracts):
    keys = [Account.from_key(keccak(text=f"gas founder {i}")) for i in range(5)]
    founders = [k.address for k in keys]
    system = dao.deploy_system(governance_contracts, founders)
    governor = system.governor
    newcomer = boa.env.generate_address("newcomer")

    def transaction(call):
        fresh_env.evm.vm.state.lock_changes()  # a transaction boundary
        call()
        return charged(fresh_env, governor)

    figures = {}
    action = dao.call(system.membership, "admit", newcomer, "Delta Telecom")
    proposals = []

    def propose(description):
        proposals.append(dao.propose(system, Kind.ADMIT_MEMBER, [action], description, founders[0]))

    figures["propose"] = transaction(lambda: propose("Admit Delta Telecom"))
    proposal = proposals[0]
    transaction(lambda: propose("A second proposal, for signed first votes"))
    other = proposals[1]
    figures["castVote (first voter)"] = transaction(lambda: proposal.vote(founders[0], dao.FOR))
    figures["castVote (later voter)"] = transaction(lambda: proposal.vote(founders[1], dao.FOR))
    figures["castVote (quorum reached)"] = transaction(
        lambda: proposal.vote(founders[2], dao.AGAINST)
    )
    # the first signed vote of proposal `other` (a fresh bitmap word, a fresh nonce word)
    signature = dao.sign_ballot(keys[4], governor, other.id, dao.FOR)
    figures["castVoteBySig (first voter)"] = transaction(
        lambda: governor.castVoteBySig(
            other.id, dao.FOR, founders[4], signature, sender=founders[0]
        )
    )
    # a later signed vote (members 4 and 5 share a nonce word, as 8 members do)
    signature = dao.sign_ballot(keys[3], governor, proposal.id, dao.FOR)
    figures["castVoteBySig (later voter)"] = transaction(
        lambda: governor.castVoteBySig(
            proposal.id, dao.FOR, founders[3], signature, sender=founders[0]
        )
    )
    dao.end_voting(proposal)
    assert proposal.state() == ProposalState.SUCCEEDED
    figures["queue"] = transaction(proposal.queue)
    boa.env.timestamp = proposal.data().eta
    figures["execute (admits a member)"] = transaction(proposal.execute)
    assert proposal.state() == ProposalState.EXECUTED
    assert system.membership.is_member(newcomer)

    print("\n{:<30}{:>10}{:>12}{:>10}".format("", "gas", "execution", "calldata"))
    for name, m in figures.items():
        print(f"{name:<30}{m.total:>10,}{m.execution:>12,}{m.calldata:>10,}")

    # a later voter's bit lands in an already written bitmap word
    assert figures["castVote (later voter)"].total < figures["castVote (first voter)"].total
    assert (
        figures["castVoteBySig (later voter)"].total < figures["castVoteBySig (first voter)"].total
    )
    # bands around DESIGN's budgets (OpenZeppelin: castVote 73-105k, castVoteBySig 83k,
    # propose 62k, queue 119k): loose enough for titanoboa's accounting, tight enough to
    # notice a regression by a large factor
    assert figures["castVote (first voter)"].total < 80_000
    assert figures["castVoteBySig (first voter)"].total < 100_000
    assert figures["propose"].total < 120_000
    assert figures["queue"].total < 120_000
