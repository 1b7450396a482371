"""Property: for random memberships, rules and ballots, the Governor's verdict is the
reference model's (models.succeeded), and eligibility follows the register at the
proposal's snapshot, whatever admissions and removals happen before and after it."""

import boa
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from governance.rules import Kind, ProposalState, Rules

from . import dao
from .models import Fractions, Register, succeeded

MAX_FOUNDERS = 12
OUTSIDERS = 4
# Fixed addresses (not generate_address, which makes new ones each time): founders first.
POOL = [
    Account.from_key(keccak(text=f"property account {i}")).address
    for i in range(MAX_FOUNDERS + OUTSIDERS)
]
NO_VOTE = None


def ballot_lists(choices):
    return st.lists(st.sampled_from(choices), min_size=len(POOL), max_size=len(POOL))


# each account's ballot; sometimes only abstentions, or only For and Against (ties)
ballots = st.one_of(
    ballot_lists([NO_VOTE, dao.AGAINST, dao.FOR, dao.ABSTAIN]),
    ballot_lists([NO_VOTE, dao.ABSTAIN]),
    ballot_lists([dao.AGAINST, dao.FOR]),
)


@st.composite
def any_fractions(draw):
    quorum_denominator = draw(st.integers(1, 12))
    approval_denominator = draw(st.integers(2, 12))
    return Fractions(
        quorum_numerator=draw(st.integers(1, quorum_denominator)),
        quorum_denominator=quorum_denominator,
        approval_numerator=draw(st.integers(1, approval_denominator - 1)),
        approval_denominator=approval_denominator,
        approval_inclusive=draw(st.booleans()),
    )


# DESIGN's two rule sets and their mirror images, where the edges (ties, exactly two
# thirds) are most often hit; and any fractions.
COMMON = [
    Fractions(1, 2, 1, 2, False),
    Fractions(2, 3, 2, 3, True),
    Fractions(1, 2, 1, 2, True),
    Fractions(2, 3, 2, 3, False),
]
fractions = st.one_of(st.sampled_from(COMMON), any_fractions())


def as_rules(f: Fractions, extension: int) -> Rules:
    return Rules(
        f.quorum_numerator,
        f.quorum_denominator,
        f.approval_numerator,
        f.approval_denominator,
        f.approval_inclusive,
        voting_delay=0,
        voting_period=dao.VOTING_PERIOD,
        timelock_delay=dao.TIMELOCK_DELAY,
        late_quorum_extension=extension,
    )


def toggle(system, model: Register, accounts: list[str], picks: list[int]) -> None:
    """Admit the picked accounts that are not members, remove those that are (never the
    last member), as executed proposals would; keep the model in step."""
    for pick in picks:
        account = accounts[pick % len(accounts)]
        if model.is_member(account):
            if model.count == 1:
                continue
            system.membership.remove(account, sender=system.timelock.address)
            model.remove(account)
        else:
            system.membership.admit(account, "Carrier", sender=system.timelock.address)
            model.admit(account, "Carrier")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n_founders=st.integers(3, MAX_FOUNDERS),
    rules=fractions,
    extension=st.sampled_from([0, 600]),
    rounds=st.lists(
        st.tuples(
            st.lists(st.integers(0, 63), max_size=4),  # register changes before the proposal
            st.integers(0, 63),  # which current member proposes
            st.lists(st.integers(0, 63), max_size=3),  # register changes after it
            ballots,
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_the_verdict_is_the_reference_models(
    governance_contracts, n_founders, rules, extension, rounds
):
    accounts = POOL[: n_founders + OUTSIDERS]
    founders = accounts[:n_founders]
    kind_rules = {kind: as_rules(rules, extension) for kind in Kind}
    system = dao.deploy_system(
        governance_contracts, founders, rules=kind_rules, with_modules=False, minimum_delay=60
    )
    model = Register()
    for account, name in zip(founders, dao.founder_names(n_founders), strict=True):
        model.admit(account, name)

    for round_number, (before, proposer_pick, after, votes) in enumerate(rounds):
        toggle(system, model, accounts, before)
        members = [a for a in accounts if model.is_member(a)]
        proposer = members[proposer_pick % len(members)]
        action = dao.call(system.membership, "admit", boa.env.generate_address("x"), "X")
        proposal = dao.propose(
            system, Kind.ADMIT_MEMBER, [action], f"round {round_number}", proposer
        )

        snapshot = model.epoch
        eligible = [a for a in accounts if model.was_member_at(a, snapshot)]
        data = proposal.data()
        assert (
            (data.snapshot, data.eligible) == (snapshot, len(eligible)) == (snapshot, model.count)
        )
        assert data.quorum_votes == -(
            -rules.quorum_numerator * len(eligible) // rules.quorum_denominator
        )

        toggle(system, model, accounts, after)  # changes nothing for this proposal

        tally = {dao.FOR: 0, dao.AGAINST: 0, dao.ABSTAIN: 0}
        for account, support in zip(accounts, votes, strict=False):
            if support is NO_VOTE:
                continue
            if account in eligible:
                proposal.vote(account, support)
                tally[support] += 1
            else:
                with boa.reverts("Membership: not a member at the snapshot"):
                    proposal.vote(account, support)
                event("an ineligible account tried to vote")

        dao.end_voting(proposal)
        data = proposal.data()
        assert (data.for_votes, data.against_votes, data.abstain_votes) == (
            tally[dao.FOR],
            tally[dao.AGAINST],
            tally[dao.ABSTAIN],
        )
        expected = succeeded(
            rules, len(eligible), tally[dao.FOR], tally[dao.AGAINST], tally[dao.ABSTAIN]
        )
        assert proposal.state() == (ProposalState.SUCCEEDED if expected else ProposalState.DEFEATED)
        event("succeeded" if expected else "defeated")
        if data.flags & dao.FLAG_EXTENDED:
            event("voting extended")
        reached_quorum = sum(tally.values()) >= data.quorum_votes
        if not reached_quorum or extension == 0:
            assert data.flags & dao.FLAG_EXTENDED == 0
