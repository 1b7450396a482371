"""The credit a period close computes, against the reference model (credit_model.py): every
tier boundary to the second in months of 28, 29, 30 and 31 days (leap years and century
years included), and a property test over random months, templates, MRCs and tickets:
overlapping and nested, across month boundaries, planned maintenance, other impacts,
cancelled, closed by the buyer or deemed closed; and whether the credit waits on both
parties' endorsements (a period with an outage fact) or is final at its close."""

import boa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .assurance_fixtures import (
    CALCULATED,
    ENDORSED,
    START_PERIOD,
    WINDOW,
    adopt,
    assurance_contract_fixture,  # noqa: F401
    desk_fixture,  # noqa: F401
    ticket_id,
)
from .credit_model import (
    DEGRADED,
    DOWN,
    INTERMITTENT,
    PPM,
    Outage,
    credit,
    needs_endorsement,
    period_end,
    period_for,
    period_start,
)
from .ordering_fixtures import DAY, HOUR

TIERS = [(999_900, 500), (999_500, 1_000), (999_000, 2_500), (990_000, 10_000)]
MRC = 1_234_567


def first_outage_below(floor_ppm: int, length: int) -> int:
    """The fewest outage seconds that take availability below `floor_ppm`."""
    return length * (PPM - floor_ppm) // PPM + 1


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [
        (2027, 2, 28),
        (2027, 3, 31),
        (2027, 4, 30),
        (2028, 2, 29),  # leap year
        (2100, 2, 28),  # a century: not a leap year
        (2400, 2, 29),  # every fourth century is
    ],
)
def test_every_tier_boundary_to_the_second(desk, year, month, days):
    period = period_for(year, month)
    start, end = period_start(period), period_end(period)
    assert end - start == days * DAY
    template = adopt(desk.market.system, TIERS, exclude_planned_maintenance=False)
    desk.at(start)
    # per tier: the last outage that stays at or above its floor, and the first below it
    outages = [0]
    for floor, _ in TIERS:
        below = first_outage_below(floor, end - start)
        outages += [below - 1, below]
    services = desk.services(len(outages), started_at=start, template=template, mrc=MRC)
    for service_id, seconds in zip(services, outages, strict=True):
        if seconds:
            desk.outages(service_id, [Outage(start + DAY, start + DAY + seconds)])
    desk.close_period(period, services)

    expected_bps = [0]
    for i, (_, bps) in enumerate(TIERS):
        expected_bps += [TIERS[i - 1][1] if i else 0, bps]
    for service_id, seconds, bps in zip(services, outages, expected_bps, strict=True):
        got = desk.assurance.credit(service_id, period)
        model = credit([Outage(start + DAY, start + DAY + seconds)], period, TIERS, MRC)
        assert (got.outage_seconds, got.credit_bps, got.amount) == (
            seconds,
            bps,
            MRC * bps // 10_000,
        )
        assert (got.availability_ppm, got.credit_bps, got.amount) == (
            model.availability_ppm,
            model.credit_bps,
            model.amount,
        )
    # at the boundary the availability is exactly the floor, or just under it
    for i, (floor, _) in enumerate(TIERS):
        at, below = services[1 + 2 * i], services[2 + 2 * i]
        assert desk.assurance.credit(at, period).availability_ppm >= floor
        assert desk.assurance.credit(below, period).availability_ppm == floor - 1


# ------------------------------------------------------------------ property


@st.composite
def tiers(draw):
    k = draw(st.integers(1, 8))
    floors = draw(st.lists(st.integers(900_000, 1_000_000), min_size=k, max_size=k, unique=True))
    credits = draw(st.lists(st.integers(1, 10_000), min_size=k, max_size=k, unique=True))
    return list(zip(sorted(floors, reverse=True), sorted(credits), strict=True))


FATES = ["closed", "deemed closed", "cancelled"]


@st.composite
def tickets(draw, span: int):
    """Tickets over three months (span seconds from the first one's start): start offset,
    duration, impact, cause, fate."""
    duration = st.one_of(
        st.integers(0, 2 * HOUR), st.integers(0, 3 * DAY), st.integers(0, 40 * DAY)
    )
    ticket = st.tuples(
        st.integers(0, span - 1),
        duration,
        st.sampled_from([DOWN, DOWN, DOWN, DEGRADED, INTERMITTENT]),
        st.integers(1, 8),
        st.sampled_from(FATES),
    )
    return draw(st.lists(ticket, max_size=10))


MONTHS = st.one_of(
    st.sampled_from(
        [
            period_for(2028, 2),  # 29 days
            period_for(2028, 3),  # after a leap day
            period_for(2100, 2),
            period_for(2400, 2),
            period_for(2027, 12),  # into a new year
            period_for(2028, 1),
        ]
    ),
    st.integers(START_PERIOD + 1, period_for(2500, 1)),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    period=MONTHS,
    schedule=tiers(),
    exclude=st.booleans(),
    mrc=st.integers(1, 2**96 - 1),
    data=st.data(),
)
def test_credits_follow_the_model(desk, period, schedule, exclude, mrc, data):
    """Tickets over the month before, the month and the month after; the three periods
    close in order and each credit is the model's."""
    first, last = period - 1, period + 1
    begin, finish = period_start(first), period_end(last)
    drawn = data.draw(tickets(finish - begin))
    with boa.env.anchor():
        template = adopt(
            desk.market.system,
            schedule,
            objective_ppm=schedule[0][0],
            exclude_planned_maintenance=exclude,
        )
        desk.at(begin)
        (service_id,) = desk.services(1, started_at=begin, template=template, mrc=mrc)
        outages = [
            (Outage(begin + offset, begin + offset + length, impact, cause), fate)
            for offset, length, impact, cause, fate in drawn
        ]
        desk.at(max([finish, *(o.end for o, _ in outages)]))
        ids = [ticket_id(service_id, n) for n in range(len(outages))]
        if ids:
            desk.open([(i, o.start, o.impact) for i, (o, _) in zip(ids, outages, strict=True)])
            desk.acknowledge(ids)
            cancelled = [
                i for i, (_, fate) in zip(ids, outages, strict=True) if fate == "cancelled"
            ]
            counted = [
                (i, o, fate)
                for i, (o, fate) in zip(ids, outages, strict=True)
                if fate != "cancelled"
            ]
            if cancelled:
                desk.assurance.cancel_tickets(cancelled, sender=desk.buyer)
            if counted:
                desk.resolve([(i, o.end, o.cause) for i, o, _ in counted])
                closed = [i for i, _, fate in counted if fate == "closed"]
                if closed:
                    desk.close(closed)
        desk.at(desk.now + WINDOW)  # the rest are deemed closed
        facts = [o for o, fate in outages if fate != "cancelled"]
        for p in (first, period, last):
            desk.assurance.close_periods(p, [service_id], sender=desk.buyer)
            model = credit(facts, p, schedule, mrc, exclude_planned_maintenance=exclude)
            got = desk.assurance.credit(service_id, p)
            assert (got.outage_seconds, got.availability_ppm, got.credit_bps, got.amount) == (
                model.outage_seconds,
                model.availability_ppm,
                model.credit_bps,
                model.amount,
            ), (p, facts)
            assert got.amount <= mrc
            # endorsements wait on a period with an outage fact only; else final at once
            waits = needs_endorsement(facts, p)
            assert (got.state, got.endorsed_by_buyer, got.endorsed_by_seller) == (
                (CALCULATED, False, False) if waits else (ENDORSED, True, True)
            ), (p, facts)
            event(f"credit tier reached: {got.credit_bps > 0}")
            event(f"needs endorsing: {waits}")
            event(f"tickets: {min(len(facts), 5)}+")
