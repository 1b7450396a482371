"""Property: any sequence of admit/remove calls keeps Membership in step with a small
model of the register: members, epochs, member count after every epoch, permanent
indexes, and every account's eligibility at every past snapshot."""

from dataclasses import dataclass, field

import boa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import FOUNDER_NAMES
from .helpers import ZERO_ADDRESS, past_periods

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


@dataclass
class Record:
    name: str
    index: int
    periods: list[list[int]] = field(default_factory=list)  # [joined, left (0 = open)]


@dataclass
class Register:
    """The reference model."""

    epoch: int = 0
    count_at: dict[int, int] = field(default_factory=lambda: {0: 0})
    records: dict[str, Record] = field(default_factory=dict)
    last_index: int = 0

    @property
    def count(self) -> int:
        return self.count_at[self.epoch]

    def is_member(self, account: str) -> bool:
        record = self.records.get(account)
        return record is not None and record.periods[-1][1] == 0

    def was_member_at(self, account: str, snapshot: int) -> bool:
        record = self.records.get(account)
        return record is not None and any(
            joined <= snapshot and (left == 0 or left > snapshot) for joined, left in record.periods
        )

    def admit(self, account: str, name: str) -> None:
        count = self.count
        self.epoch += 1
        self.count_at[self.epoch] = count + 1
        if account not in self.records:
            self.last_index += 1
            self.records[account] = Record(name, self.last_index)
        record = self.records[account]
        record.name = name
        record.periods.append([self.epoch, 0])

    def remove(self, account: str) -> None:
        count = self.count
        self.epoch += 1
        self.count_at[self.epoch] = count - 1
        self.records[account].periods[-1][1] = self.epoch

    def expected_revert(self, op, account, name, caller, timelock):
        """The reason the contract must give, or None if the operation is valid."""
        if caller != timelock:
            return "Membership: only the timelock"
        if op == "remove":
            return None if self.is_member(account) else "Membership: not a member"
        if account == ZERO_ADDRESS:
            return "Membership: zero address"
        if not name:
            return "Membership: empty name"
        return "Membership: already a member" if self.is_member(account) else None


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
