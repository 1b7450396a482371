"""Property: any sequence of admit/remove calls keeps Membership in step with a set."""

import boa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FOUNDER_NAMES
from .helpers import ZERO_ADDRESS

# Accounts an operation may target: index 0 is the zero address, 1..3 the founders,
# 4..6 outsiders. Callers: 0 the timelock, 1 a founder, 2 an outsider.
ACCOUNTS = 7
admits = st.tuples(
    st.just("admit"),
    st.integers(0, ACCOUNTS - 1),
    st.sampled_from(["", "Carrier", "N" * 64]),
    st.integers(0, 2),
)
removes = st.tuples(st.just("remove"), st.integers(0, ACCOUNTS - 1), st.just(""), st.integers(0, 2))


def expected_revert(op, account, name, caller, members, timelock):
    """The reason the contract must give, or None if the operation is valid."""
    if caller != timelock:
        return "Membership: only the timelock"
    if op == "remove":
        return None if account in members else "Membership: not a member"
    if account == ZERO_ADDRESS:
        return "Membership: zero address"
    if not name:
        return "Membership: empty name"
    return "Membership: already a member" if account in members else None


@settings(
    max_examples=50,
    deadline=None,
    # the deployed contract is shared on purpose; each example runs in its own anchor
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(st.one_of(admits, removes), max_size=20))
def test_member_register_matches_a_set_model(membership, timelock, founders, stranger, operations):
    accounts = [ZERO_ADDRESS, *founders, *(boa.env.generate_address() for _ in range(3))]
    callers = [timelock, founders[0], stranger]
    with boa.env.anchor():
        members = set(founders)
        for op, account_index, name, caller_index in operations:
            account, caller = accounts[account_index], callers[caller_index]
            reason = expected_revert(op, account, name, caller, members, timelock)
            call = membership.admit if op == "admit" else membership.remove
            args = (account, name) if op == "admit" else (account,)

            if reason is None:
                call(*args, sender=caller)
                (members.add if op == "admit" else members.discard)(account)
                record = membership.members(account)
                if op == "admit":
                    assert record == (name, boa.env.evm.patch.block_number, 0)
                else:
                    assert record.left_block == boa.env.evm.patch.block_number
            else:
                before = {a: membership.members(a) for a in accounts}
                with boa.reverts(reason):
                    call(*args, sender=caller)
                assert {a: membership.members(a) for a in accounts} == before

            assert membership.member_count() == len(members)
            assert all(membership.is_member(a) == (a in members) for a in accounts)
            boa.env.time_travel(blocks=1)

    # the anchor rolled every example back to the founders-only register
    assert membership.member_count() == len(FOUNDER_NAMES)
