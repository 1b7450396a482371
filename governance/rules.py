"""Proposal kinds and their rules, as the Governor contract knows them.

Defaults are DESIGN's: admitting or removing a member and adopting or retiring an SLA
template need half of the eligible members to take part and more than half of the
decided votes For; a module upgrade or a rule change needs two thirds taking part and at
least two thirds For. Demo mode keeps the fractions and shortens the clocks.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, replace
from enum import IntEnum

DAY = 86_400
HOUR = 3_600


class Kind(IntEnum):
    ADMIT_MEMBER = 0
    REMOVE_MEMBER = 1
    ADOPT_SLA_TEMPLATE = 2
    RETIRE_SLA_TEMPLATE = 3
    UPGRADE_MODULE = 4
    CHANGE_RULES = 5


class ProposalState(IntEnum):
    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class Support(IntEnum):
    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


@dataclass(frozen=True)
class Rules:
    """One kind's rules; the field order is the contract's `Rules` struct."""

    quorum_numerator: int
    quorum_denominator: int
    approval_numerator: int
    approval_denominator: int
    approval_inclusive: bool
    voting_delay: int
    voting_period: int
    timelock_delay: int
    late_quorum_extension: int

    def as_tuple(self) -> tuple[int | bool, ...]:
        return astuple(self)

    @classmethod
    def from_tuple(cls, values: tuple[int | bool, ...] | list[int | bool]) -> Rules:
        return cls(*values)  # type: ignore[arg-type]


SIMPLE_MAJORITY = Rules(
    quorum_numerator=1,
    quorum_denominator=2,
    approval_numerator=1,
    approval_denominator=2,
    approval_inclusive=False,  # more than half
    voting_delay=HOUR,
    voting_period=5 * DAY,
    timelock_delay=2 * DAY,
    late_quorum_extension=DAY,
)
TWO_THIRDS = Rules(
    quorum_numerator=2,
    quorum_denominator=3,
    approval_numerator=2,
    approval_denominator=3,
    approval_inclusive=True,  # at least two thirds
    voting_delay=HOUR,
    voting_period=7 * DAY,
    timelock_delay=7 * DAY,
    late_quorum_extension=2 * DAY,
)

DEFAULT_RULES: dict[Kind, Rules] = {
    Kind.ADMIT_MEMBER: SIMPLE_MAJORITY,
    Kind.REMOVE_MEMBER: SIMPLE_MAJORITY,
    Kind.ADOPT_SLA_TEMPLATE: SIMPLE_MAJORITY,
    Kind.RETIRE_SLA_TEMPLATE: SIMPLE_MAJORITY,
    Kind.UPGRADE_MODULE: TWO_THIRDS,
    Kind.CHANGE_RULES: TWO_THIRDS,
}
DEFAULT_MINIMUM_DELAY = DAY


def short_rules(voting_period: int, timelock_delay: int) -> dict[Kind, Rules]:
    """The default fractions with short clocks (demo mode: voting 60 s, delay 30 s)."""
    return {
        kind: replace(
            rules,
            voting_delay=0,
            voting_period=voting_period,
            timelock_delay=timelock_delay,
            late_quorum_extension=min(rules.late_quorum_extension, voting_period // 2),
        )
        for kind, rules in DEFAULT_RULES.items()
    }


def rules_in_kind_order(rules: dict[Kind, Rules]) -> list[tuple[int | bool, ...]]:
    return [rules[kind].as_tuple() for kind in Kind]


def rules_problem(rules: Rules) -> str | None:
    """Why the Governor would refuse these rules (its `set_rules` checks), or None.
    Checked when proposing, so a rule change cannot pass the vote and fail at execution."""
    if not 0 < rules.quorum_denominator < 256:
        return "the quorum denominator must be between 1 and 255"
    if not 0 < rules.quorum_numerator <= rules.quorum_denominator:
        return "the quorum must be a fraction in (0, 1]"
    if not 0 < rules.approval_denominator < 256:
        return "the approval denominator must be between 1 and 255"
    if not 0 < rules.approval_numerator < rules.approval_denominator:
        return "the approval threshold must be a fraction in (0, 1)"
    if rules.voting_period <= 0:
        return "the voting period must be positive"
    if rules.late_quorum_extension > rules.voting_period:
        return "the late-quorum extension cannot be longer than the voting period"
    return None
