"""Property: any sequence of admit/remove calls keeps Membership in step with a small
model of the register: members, epochs, member count after every epoch, permanent
indexes, and every account's eligibility at every past snapshot."""

import boa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FOUNDER_NAMES
from .helpers import ZERO_ADDRESS, past_periods
from .models import Register

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


def founders_register(founders) -> Register:
    model = Register()
    for account, name in zip(founders, FOUNDER_NAMES, strict=True):
        model.admit(account, name)
    return model


def check_record(membership, model: Register, account: str) -> None:
    record = model.records.get(account)
    if record is None:
        assert membership.members(account) == ("", 0, (0, 0))
        return
    assert membership.members(account) == (record.name, record.index, tuple(record.periods[-1]))
    assert past_periods(membership, account) == [tuple(p) for p in record.periods[:-1]]


@settings(
    max_examples=50,
    deadline=None,
    # the deployed contract is shared on purpose; each example runs in its own anchor
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(st.one_of(admits, removes), max_size=25))
def test_member_register_matches_a_model(membership, timelock, founders, stranger, operations):
    accounts = [ZERO_ADDRESS, *founders, *(boa.env.generate_address() for _ in range(3))]
    callers = [timelock, founders[0], stranger]
    with boa.env.anchor():
        model = founders_register(founders)
        for op, account_index, name, caller_index in operations:
            account, caller = accounts[account_index], callers[caller_index]
            reason = model.expected_revert(op, account, name, caller, timelock)
            call = membership.admit if op == "admit" else membership.remove
            args = (account, name) if op == "admit" else (account,)

            if reason is None:
                call(*args, sender=caller)
                model.admit(account, name) if op == "admit" else model.remove(account)
                check_record(membership, model, account)
            else:
                before = membership.members(account)
                with boa.reverts(reason):
                    call(*args, sender=caller)
                assert membership.members(account) == before

            assert membership.epoch() == model.epoch
            assert membership.member_count() == model.count

        assert membership.last_index() == model.last_index
        assert all(membership.is_member(a) == model.is_member(a) for a in accounts)
        # every epoch's member count, and every account's eligibility at every snapshot
        for snapshot in range(model.epoch + 2):
            assert membership.member_count_at(snapshot) == model.count_at.get(snapshot, 0)
            for account in accounts:
                assert membership.was_member_at(account, snapshot) == model.was_member_at(
                    account, snapshot
                ), (account, snapshot)
            eligible = sum(model.was_member_at(a, snapshot) for a in accounts)
            assert eligible == model.count_at.get(snapshot, 0) or snapshot > model.epoch
        for account in accounts:
            check_record(membership, model, account)

    # the anchor rolled every example back to the founders-only register
    assert membership.member_count() == len(FOUNDER_NAMES)
    assert membership.epoch() == len(FOUNDER_NAMES)
