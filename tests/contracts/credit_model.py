"""A reference model of the SLA credit the Assurance module computes, in plain Python, for
the property tests to compare against. Written from the rules, not from the contract:

- a period is a UTC calendar month, numbered from January 1970 (period 0);
- outage = the union of the closed `down` tickets' intervals [start, end), clipped to the
  period, in seconds; tickets caused by planned maintenance left out where the template
  excludes them;
- availability in parts per million = (period length - outage) * 1e6 / length, rounded down;
- tiers (floor falling, credit rising): availability below a tier's floor earns its credit;
  the lowest floor it is below decides;
- amount = MRC * credit bps / 10,000, rounded down, at most the MRC;
- a credit needs both parties' endorsements when the period has an outage fact: a closed
  `down` ticket (of any cause, of any length) that is in the period, i.e. starts before
  the period's end and ends after its start or starts in it; without one it is final at
  the close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

PPM = 1_000_000
MAX_CREDIT_BPS = 10_000

# Impacts and root causes, as Assurance.vy numbers them
DOWN, DEGRADED, INTERMITTENT = 1, 2, 3
(
    FIBER_CUT,
    POWER,
    EQUIPMENT,
    CONFIGURATION,
    THIRD_PARTY,
    PLANNED_MAINTENANCE,
    CUSTOMER_SIDE,
    UNKNOWN,
) = range(1, 9)


def period_start(period: int) -> int:
    """Midnight UTC of the first day of the period's month."""
    year, month = divmod(period, 12)
    return int(datetime(1970 + year, month + 1, 1, tzinfo=UTC).timestamp())


def period_end(period: int) -> int:
    return period_start(period + 1)


def period_of(timestamp: int) -> int:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return (moment.year - 1970) * 12 + moment.month - 1


def period_for(year: int, month: int) -> int:
    return (year - 1970) * 12 + month - 1


@dataclass(frozen=True)
class Outage:
    """A closed ticket's facts."""

    start: int
    end: int
    impact: int = DOWN
    cause: int = FIBER_CUT


@dataclass(frozen=True)
class Credit:
    outage_seconds: int
    availability_ppm: int
    credit_bps: int
    amount: int


def outage_seconds(outages: list[Outage], period: int, exclude_planned_maintenance: bool) -> int:
    low, high = period_start(period), period_end(period)
    intervals = sorted(
        (max(o.start, low), min(o.end, high))
        for o in outages
        if o.impact == DOWN
        and not (exclude_planned_maintenance and o.cause == PLANNED_MAINTENANCE)
        and max(o.start, low) < min(o.end, high)
    )
    total, covered_until = 0, low
    for start, end in intervals:
        start = max(start, covered_until)
        if end > start:
            total += end - start
            covered_until = end
    return total


def credit_bps(availability_ppm: int, tiers: list[tuple[int, int]]) -> int:
    earned = [bps for floor, bps in tiers if availability_ppm < floor]
    return max(earned, default=0)


def credit(
    outages: list[Outage],
    period: int,
    tiers: list[tuple[int, int]],
    mrc: int,
    *,
    exclude_planned_maintenance: bool = True,
) -> Credit:
    seconds = outage_seconds(outages, period, exclude_planned_maintenance)
    length = period_end(period) - period_start(period)
    availability = (length - seconds) * PPM // length
    bps = credit_bps(availability, tiers)
    return Credit(seconds, availability, bps, min(mrc * bps // MAX_CREDIT_BPS, mrc))


def needs_endorsement(outages: list[Outage], period: int) -> bool:
    """Whether the period has an outage fact (`outages`: the closed tickets)."""
    low, high = period_start(period), period_end(period)
    return any(
        o.impact == DOWN and o.start < high and (o.end > low or o.start >= low) for o in outages
    )
