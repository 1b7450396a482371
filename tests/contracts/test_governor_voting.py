"""Who may vote and how: eligibility fixed at the proposal's snapshot, one vote per member,
and EIP-712 signed ballots (castVoteBySig) that nobody can replay, forge or alter."""

import boa
import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from governance.rules import Kind, ProposalState, Rules

from . import dao
from .helpers import events

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def admission(system, proposer=None, description="Admit a carrier"):
    carrier = boa.env.generate_address(description)
    action = dao.call(system.membership, "admit", carrier, "Carrier")
    return dao.propose(
        system, Kind.ADMIT_MEMBER, [action], description, proposer or system.founders[0]
    )


def admit_now(system, account, name="Late Carrier"):
    """What an executed admission does, without the vote."""
    system.membership.admit(account, name, sender=system.timelock.address)


def remove_now(system, account):
    system.membership.remove(account, sender=system.timelock.address)


# ------------------------------------------------------------------ eligibility


def test_a_member_admitted_after_creation_cannot_vote(system, newcomer):
    proposal = admission(system)
    admit_now(system, newcomer)
    assert system.membership.is_member(newcomer)
    with boa.reverts("Membership: not a member at the snapshot"):
        proposal.vote(newcomer, dao.FOR)
    assert proposal.data().for_votes == 0
    # ...but it votes on the proposals made after its admission
    later = admission(system, description="later")
    later.vote(newcomer, dao.FOR)
    assert later.data().for_votes == 1
    assert later.data().eligible == 6


def test_a_member_admitted_by_an_executed_proposal_cannot_vote_on_running_ones(system, newcomer):
    # removals vote for ten hours; an admission passes and executes within that
    rules = dao.short_test_rules()[Kind.REMOVE_MEMBER]
    longer = Rules(**{**rules.__dict__, "voting_period": 36_000})
    system.governor.set_rules(Kind.REMOVE_MEMBER, longer.as_tuple(), sender=system.timelock.address)
    removal = dao.call(system.membership, "remove", system.founders[4])
    running = dao.propose(system, Kind.REMOVE_MEMBER, [removal], "Remove", system.founders[0])

    action = dao.call(system.membership, "admit", newcomer, "Delta Telecom")
    admit = dao.propose(system, Kind.ADMIT_MEMBER, [action], "Admit Delta", system.founders[1])
    dao.enact(admit, system.founders[:3])
    assert system.membership.is_member(newcomer)
    assert running.state() == ProposalState.ACTIVE
    with boa.reverts("Membership: not a member at the snapshot"):
        running.vote(newcomer, dao.AGAINST)
    running.vote(system.founders[4], dao.AGAINST)
    assert running.data().against_votes == 1


def test_a_member_removed_after_creation_still_votes_on_it(system):
    proposal = admission(system)
    leaving = system.founders[4]
    remove_now(system, leaving)
    assert not system.membership.is_member(leaving)
    vote = proposal.vote(leaving, dao.AGAINST)
    assert events(system.governor, "VoteCast", vote) == [
        {"voter": leaving, "proposal_id": proposal.id, "support": dao.AGAINST, "reason": ""}
    ]
    assert proposal.data().against_votes == 1
    assert system.governor.has_voted(proposal.id, leaving)


def test_a_removed_member_cannot_vote_on_proposals_created_after_removal(system):
    leaving = system.founders[4]
    remove_now(system, leaving)
    proposal = admission(system)
    assert proposal.data().eligible == 4
    with boa.reverts("Membership: not a member at the snapshot"):
        proposal.vote(leaving, dao.FOR)


def test_a_readmitted_member_votes_again_with_its_old_index(system):
    member = system.founders[2]
    before = admission(system, description="before")  # member eligible
    remove_now(system, member)
    gap = admission(system, description="gap")  # member not eligible
    admit_now(system, member, "Gamma again")
    after = admission(system, description="after")  # eligible again

    before.vote(member, dao.FOR)
    with boa.reverts("Membership: not a member at the snapshot"):
        gap.vote(member, dao.FOR)
    after.vote(member, dao.FOR)
    # one bit per member index, per proposal
    with boa.reverts("Governor: already voted"):
        before.vote(member, dao.AGAINST)
    assert (before.data().for_votes, gap.data().for_votes, after.data().for_votes) == (1, 0, 1)


def test_a_stranger_cannot_vote(system, stranger):
    proposal = admission(system)
    with boa.reverts("Membership: not a member at the snapshot"):
        proposal.vote(stranger, dao.FOR)


def test_a_non_member_cannot_propose(system, stranger):
    with boa.reverts("Membership: proposer is not a member"):
        admission(system, proposer=stranger)


def test_a_removed_member_cannot_propose(system):
    remove_now(system, system.founders[4])
    with boa.reverts("Membership: proposer is not a member"):
        admission(system, proposer=system.founders[4])


def test_the_proposal_snapshots_the_register(system, newcomer):
    admit_now(system, newcomer)
    remove_now(system, system.founders[0])
    proposal = admission(system, proposer=newcomer)
    assert (proposal.data().snapshot, proposal.data().eligible) == (7, 5)


# ------------------------------------------------------------------ one vote each


def test_a_member_votes_once(system):
    proposal = admission(system)
    proposal.vote(system.founders[0], dao.FOR)
    for support in (dao.FOR, dao.AGAINST, dao.ABSTAIN):
        with boa.reverts("Governor: already voted"):
            proposal.vote(system.founders[0], support)
    with boa.reverts("Governor: already voted"):
        system.governor.castVoteWithReason(
            proposal.id, dao.AGAINST, "again", sender=system.founders[0]
        )
    assert (proposal.data().for_votes, proposal.data().against_votes) == (1, 0)


def test_an_invalid_support_value_is_refused(system):
    proposal = admission(system)
    with boa.reverts("Governor: invalid vote"):
        proposal.vote(system.founders[0], 3)
    assert not system.governor.has_voted(proposal.id, system.founders[0])


def test_voting_on_an_unknown_proposal_is_refused(system):
    with boa.reverts("Governor: unknown proposal"):
        system.governor.castVote(b"\x01" * 32, dao.FOR, sender=system.founders[0])


def test_has_voted_of_an_unknown_proposal_is_false(system):
    assert not system.governor.has_voted(b"\x01" * 32, system.founders[0])


def test_votes_of_members_far_apart_in_the_bitmap_are_independent(system):
    # members with indexes 6..260: the bitmap spans two words
    carriers = [boa.env.generate_address(f"c{i}") for i in range(255)]
    for carrier in carriers:
        admit_now(system, carrier, "Carrier")
    assert system.membership.members(carriers[-1]).index == 260
    proposal = admission(system)
    proposal.vote(carriers[-1], dao.FOR)  # index 260: word 1, bit 4
    proposal.vote(carriers[250], dao.FOR)  # index 256: word 1, bit 0
    proposal.vote(system.founders[3], dao.FOR)  # index 4: word 0, bit 4
    voted = [system.governor.has_voted(proposal.id, a) for a in [*system.founders, *carriers]]
    assert [i + 1 for i, v in enumerate(voted) if v] == [4, 256, 260]
    assert proposal.data().eligible == 260


# ------------------------------------------------------------------ signed ballots


def relay(system, proposal, support, voter, signature, relayer=None):
    system.governor.castVoteBySig(
        proposal.id, support, voter, signature, sender=relayer or system.founders[0]
    )
    return system.governor._computation


def test_domain_separator_is_eip712(system):
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
                ),
                keccak(text="CarrierCoop Governor"),
                keccak(text="1"),
                boa.env.evm.patch.chain_id,
                system.governor.address,
            ],
        )
    )
    assert system.governor.DOMAIN_SEPARATOR() == domain


def test_a_signed_ballot_counts_for_its_signer(system, founder_keys, stranger):
    proposal = admission(system)
    key = founder_keys[2]
    assert system.governor.nonces(key.address) == 0
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)

    vote = relay(system, proposal, dao.FOR, key.address, signature, relayer=stranger)

    assert events(system.governor, "VoteCast", vote) == [
        {"voter": key.address, "proposal_id": proposal.id, "support": dao.FOR, "reason": ""}
    ]
    assert system.governor.has_voted(proposal.id, key.address)
    assert not system.governor.has_voted(proposal.id, system.founders[0])  # not the relayer's
    assert proposal.data().for_votes == 1
    assert system.governor.nonces(key.address) == 1


def test_the_python_digest_is_the_contracts(system, founder_keys):
    """The typed data the platform hands a member is what the contract verifies."""
    from eth_account.messages import encode_typed_data

    proposal = admission(system)
    key = founder_keys[0]
    data = dao.ballot_typed_data(
        system.governor.address,
        boa.env.evm.patch.chain_id,
        proposal.id,
        dao.ABSTAIN,
        key.address,
        0,
    )
    message = encode_typed_data(full_message=data)
    assert message.header == system.governor.DOMAIN_SEPARATOR()
    signature = Account.sign_message(message, key.key).signature
    relay(system, proposal, dao.ABSTAIN, key.address, signature)
    assert proposal.data().abstain_votes == 1


def test_signed_ballots_for_several_proposals_use_successive_nonces(system, founder_keys):
    key = founder_keys[1]
    first, second = admission(system, description="one"), admission(system, description="two")
    relay(
        system,
        first,
        dao.FOR,
        key.address,
        dao.sign_ballot(key, system.governor, first.id, dao.FOR),
    )
    relay(
        system,
        second,
        dao.AGAINST,
        key.address,
        dao.sign_ballot(key, system.governor, second.id, dao.AGAINST),
    )
    assert (first.data().for_votes, second.data().against_votes) == (1, 1)
    assert system.governor.nonces(key.address) == 2


def test_a_replayed_signature_is_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)
    relay(system, proposal, dao.FOR, key.address, signature)
    # the nonce moved on: the same signature now recovers to somebody else
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)
    # and replaying it on another proposal does not work either
    other = admission(system, description="other")
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, other, dao.FOR, key.address, signature)
    assert proposal.data().for_votes == 1
    assert system.governor.nonces(key.address) == 1


@pytest.mark.parametrize("nonce", [1, 2**256 - 1], ids=["future-nonce", "huge-nonce"])
def test_a_ballot_with_another_nonce_is_refused(system, founder_keys, nonce):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR, nonce=nonce)
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)
    assert system.governor.nonces(key.address) == 0


def test_a_stale_nonce_is_refused(system, founder_keys):
    key = founder_keys[0]
    first, second = admission(system, description="one"), admission(system, description="two")
    stale = dao.sign_ballot(key, system.governor, second.id, dao.FOR)  # nonce 0
    relay(
        system,
        first,
        dao.FOR,
        key.address,
        dao.sign_ballot(key, system.governor, first.id, dao.FOR),
    )
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, second, dao.FOR, key.address, stale)
    assert not system.governor.has_voted(second.id, key.address)


def test_a_signature_by_another_key_is_refused(system, founder_keys):
    proposal = admission(system)
    voter, other = founder_keys[0], founder_keys[1]
    # another member signs a ballot naming the voter
    forged = dao.sign_ballot(other, system.governor, proposal.id, dao.FOR, voter=voter.address)
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, voter.address, forged)
    assert not system.governor.has_voted(proposal.id, voter.address)
    assert not system.governor.has_voted(proposal.id, other.address)


def test_a_ballot_cannot_be_altered(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.AGAINST)
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)
    relay(system, proposal, dao.AGAINST, key.address, signature)
    assert (proposal.data().for_votes, proposal.data().against_votes) == (0, 1)


def test_a_malleable_high_s_signature_is_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28
    # the twin is a valid signature of the same digest by the same key
    assert (
        Account._recover_hash(
            _ballot_digest(system, proposal, dao.FOR, key.address, 0), signature=twin
        )
        == key.address
    )
    with boa.reverts("Governor: malleable signature"):
        relay(system, proposal, dao.FOR, key.address, twin)
    relay(system, proposal, dao.FOR, key.address, signature)
    assert proposal.data().for_votes == 1


def _ballot_digest(system, proposal, support, voter, nonce):
    """The EIP-712 digest of a Ballot, spelled out."""
    ballot_type = keccak(
        text="Ballot(bytes32 proposalId,uint8 support,address voter,uint256 nonce)"
    )
    struct_hash = keccak(
        encode(
            ["bytes32", "bytes32", "uint8", "address", "uint256"],
            [ballot_type, proposal.id, support, voter, nonce],
        )
    )
    return keccak(b"\x19\x01" + system.governor.DOMAIN_SEPARATOR() + struct_hash)


@pytest.mark.parametrize("v", [0, 1, 29], ids=["v0", "v1", "v29"])
def test_a_bad_v_is_refused(system, founder_keys, v):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)
    with boa.reverts("Governor: bad signature"):
        relay(system, proposal, dao.FOR, key.address, signature[:64] + bytes([v]))


def test_a_short_signature_is_refused(system, founder_keys):
    proposal = admission(system)
    signature = dao.sign_ballot(founder_keys[0], system.governor, proposal.id, dao.FOR)
    with boa.reverts("Governor: signature must be 65 bytes"):
        relay(system, proposal, dao.FOR, founder_keys[0].address, signature[:64])


def test_a_ballot_for_another_chain_is_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    chain_id = boa.env.evm.patch.chain_id
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR, chain_id=chain_id + 1)
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)


def test_after_a_fork_ballots_of_the_old_chain_are_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    old_chain = boa.env.evm.patch.chain_id
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)
    old_domain = system.governor.DOMAIN_SEPARATOR()
    boa.env.evm.patch.chain_id = old_chain + 7  # the chain forked; the anchor restores it
    assert system.governor.DOMAIN_SEPARATOR() != old_domain  # recomputed for the new chain
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)
    fresh = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR, chain_id=old_chain + 7)
    relay(system, proposal, dao.FOR, key.address, fresh)
    assert proposal.data().for_votes == 1


def test_a_ballot_for_another_contract_is_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(
        key, system.governor, proposal.id, dao.FOR, verifying_contract=system.timelock.address
    )
    with boa.reverts("Governor: signature is not the voter's"):
        relay(system, proposal, dao.FOR, key.address, signature)


def test_a_ballot_signed_by_a_non_member_is_refused(system):
    outsider = Account.from_key(keccak(text="outsider"))
    proposal = admission(system)
    signature = dao.sign_ballot(outsider, system.governor, proposal.id, dao.FOR)
    with boa.reverts("Membership: not a member at the snapshot"):
        relay(system, proposal, dao.FOR, outsider.address, signature)
    assert system.governor.nonces(outsider.address) == 0


def test_a_member_cannot_vote_directly_and_by_signature(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[3]
    proposal.vote(key.address, dao.FOR)
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.AGAINST)
    with boa.reverts("Governor: already voted"):
        relay(system, proposal, dao.AGAINST, key.address, signature)
    assert system.governor.nonces(key.address) == 0  # the failed relay consumed nothing
    assert (proposal.data().for_votes, proposal.data().against_votes) == (1, 0)


def test_a_member_cannot_vote_by_signature_then_directly(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[3]
    relay(
        system,
        proposal,
        dao.FOR,
        key.address,
        dao.sign_ballot(key, system.governor, proposal.id, dao.FOR),
    )
    with boa.reverts("Governor: already voted"):
        proposal.vote(key.address, dao.AGAINST)
    assert (proposal.data().for_votes, proposal.data().against_votes) == (1, 0)


def test_a_signed_ballot_after_the_end_is_refused(system, founder_keys):
    proposal = admission(system)
    key = founder_keys[0]
    signature = dao.sign_ballot(key, system.governor, proposal.id, dao.FOR)
    dao.end_voting(proposal)
    with boa.reverts("Governor: voting is closed"):
        relay(system, proposal, dao.FOR, key.address, signature)


def test_has_voted_is_false_for_anyone_not_eligible(system):
    proposal = dao.propose(
        system,
        Kind.ADMIT_MEMBER,
        [dao.call(system.membership, "admit", boa.env.generate_address("n"), "N")],
        "x",
        system.founders[0],
    )
    stranger = boa.env.generate_address("stranger")
    assert system.governor.has_voted(proposal.id, stranger) is False
