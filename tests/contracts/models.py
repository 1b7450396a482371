"""Small Python reference models of the governance rules, for the property tests."""

from dataclasses import dataclass, field

from .helpers import ZERO_ADDRESS


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


@dataclass(frozen=True)
class Fractions:
    """A kind's quorum and approval, as the Governor counts them."""

    quorum_numerator: int
    quorum_denominator: int
    approval_numerator: int
    approval_denominator: int
    approval_inclusive: bool


def succeeded(rules: Fractions, eligible: int, for_: int, against: int, abstain: int) -> bool:
    """The cooperative's rule: enough members took part (abstentions count), at least one
    voted For, and For carries the approval fraction of the decided (For + Against) votes:
    more than it (simple majority) or at least it (two thirds)."""
    participation = for_ + against + abstain
    if participation * rules.quorum_denominator < rules.quorum_numerator * eligible:
        return False
    if for_ == 0:
        return False
    decided = for_ + against
    if rules.approval_inclusive:
        return for_ * rules.approval_denominator >= rules.approval_numerator * decided
    return for_ * rules.approval_denominator > rules.approval_numerator * decided
