"""Period closes, SLA credits, endorsements and disputes: a period closes once it is over,
in order, when its down tickets are closed; the credit follows the template (checked
against credit_model.py); each party endorses a credit whose period has an outage fact (a
down ticket in it), while a period without one is final at its close; a dispute reopens
only the tickets it names, and closing the period again recomputes the credit. Every
refusal writes nothing.

The desk's clock starts on 1 February 2027 (P, 28 days); its services started in January,
so February is their first SLA period (the module was initialized in February)."""

import boa
import pytest

from deployments.upgrades import layout_problems

from .assurance_fixtures import (
    CALCULATED,
    CANCELLED,
    CLOSED,
    CREDIT_NONE,
    DISPUTED,
    ENDORSED,
    MRC,
    OPENED,
    REOPENED,
    RESOLVED,
    START,
    START_PERIOD,
    WINDOW,
    adopt,
    assurance_contract_fixture,  # noqa: F401
    deploy_assurance,
    desk_fixture,  # noqa: F401
    refused,
    ticket_id,
)
from .credit_model import (
    DEGRADED,
    DOWN,
    FIBER_CUT,
    INTERMITTENT,
    PLANNED_MAINTENANCE,
    POWER,
    Outage,
    credit,
    period_end,
    period_start,
)
from .helpers import ZERO_ADDRESS, events
from .ordering_fixtures import DAY, EUR, HOUR, TIERS

P = START_PERIOD  # February 2027
FEB, MAR = period_start(P), period_start(P + 1)
MINUTE = 60


def expected(outages, period=P, tiers=TIERS, mrc=MRC, exclude=True):
    """The model's credit as the contract's `credit` view fields (state calculated)."""
    c = credit(outages, period, tiers, mrc, exclude_planned_maintenance=exclude)
    return (CALCULATED, c.amount, c.credit_bps, c.availability_ppm, c.outage_seconds, False, False)


def closing(desk, service_id):
    return desk.assurance.closing(service_id)


def compliance(desk, seller=None):
    return tuple(desk.assurance.compliance(seller or desk.seller))


# ------------------------------------------------------------------ closing


def test_a_quiet_period_closes_final_with_no_credit(desk):
    a, b = desk.services(2)
    assert desk.assurance.next_period(a) == P
    desk.close_period(P, [a, b])

    assert events(desk.assurance, "CreditCalculated") == [
        {
            "service_id": s,
            "period": P,
            "availability_ppm": 1_000_000,
            "outage_seconds": 0,
            "credit_bps": 0,
            "amount": 0,
        }
        for s in (a, b)
    ]
    # no ticket: nothing to endorse or dispute, the close itself endorses (party: nobody)
    assert events(desk.assurance, "CreditEndorsed") == [
        {"service_id": s, "period": P, "party": ZERO_ADDRESS, "state": ENDORSED} for s in (a, b)
    ]
    assert desk.assurance.credit(a, P) == (ENDORSED, 0, 0, 1_000_000, 0, True, True)
    assert desk.assurance.period_credit(a, P) == (ENDORSED, 0)
    assert closing(desk, a) == (True, P, MAR, 0, 0)
    assert desk.assurance.next_period(a) == P + 1
    assert compliance(desk) == (2, 0)


def test_an_hour_down_in_february_earns_the_second_tier(desk):
    (s,) = desk.services(1)
    outage = Outage(FEB + DAY, FEB + DAY + HOUR)
    desk.outages(s, [outage])
    desk.close_period(P, [s])
    assert events(desk.assurance, "CreditCalculated")[0]["amount"] == 25_000
    # 1 - 3600 / (28 * 86400) = 99.8511 %: below 99.9 %, not below 99 %
    assert desk.assurance.credit(s, P) == (CALCULATED, 25_000, 2_500, 998_511, 3_600, False, False)
    assert desk.assurance.credit(s, P) == expected([outage])
    assert compliance(desk) == (0, 1)


def test_a_period_closes_only_once_it_is_over(desk):
    (s,) = desk.services(1)
    desk.at(MAR - 1)
    with refused("the period is not over"):
        desk.assurance.close_periods(P, [s], sender=desk.buyer)
    with refused("the period is not over"):
        desk.assurance.close_periods(P + 1, [s], sender=desk.buyer)
    assert desk.assurance.credit(s, P).state == CREDIT_NONE
    desk.at(MAR)
    desk.assurance.close_periods(P, [s], sender=desk.seller)  # either party closes
    assert desk.assurance.period_credit(s, P) == (ENDORSED, 0)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("third member", "not a party to the service"),
        ("stranger", "not a member"),
        ("another buyer's service", "not a party to the service"),
        ("unknown service", "not a party to the service"),
        ("pending service", "the service is not active"),
        ("listed twice", "the period is already closed"),
        ("before the first period", "the period is before the service's first SLA period"),
        ("skipping a period", "an earlier period is not closed"),
    ],
)
def test_bad_closes_are_refused_and_the_batch_writes_nothing(desk, case, reason):
    a, b = desk.services(2)
    (pending,) = desk.services(1, confirm=False)
    (others,) = desk.services(1, buyer=desk.third)
    desk.outages(a, [Outage(FEB + DAY, FEB + DAY + HOUR)])
    period, batch, sender = P, [a, b], desk.buyer
    if case == "third member":
        sender = desk.third
    elif case == "stranger":
        sender = desk.stranger
    elif case == "another buyer's service":
        batch = [a, others, b]
    elif case == "unknown service":
        batch = [a, 999]
    elif case == "pending service":
        batch = [a, pending]
    elif case == "listed twice":
        batch = [a, b, a]
    elif case == "before the first period":
        period = P - 1
    elif case == "skipping a period":
        period = P + 1
    desk.at(period_end(P + 1))
    with refused(reason):
        desk.assurance.close_periods(period, batch, sender=sender)
    for s in (a, b):
        assert desk.assurance.credit(s, P).state == CREDIT_NONE
        assert closing(desk, s) == (False, 0, 0, 0, 0)
    assert compliance(desk) == (0, 0)


def test_periods_close_one_after_the_other(desk):
    (s,) = desk.services(1)
    desk.at(period_end(P + 3))
    with refused("an earlier period is not closed"):
        desk.assurance.close_periods(P + 2, [s], sender=desk.buyer)
    for p in (P, P + 1, P + 2):
        assert desk.assurance.next_period(s) == p
        desk.assurance.close_periods(p, [s], sender=desk.buyer)
        with refused("the period is already closed"):
            desk.assurance.close_periods(p, [s], sender=desk.seller)
    with refused("the period is already closed"):
        desk.assurance.close_periods(P, [s], sender=desk.buyer)
    assert closing(desk, s) == (True, P + 2, period_start(P + 3), 0, 0)
    assert compliance(desk) == (3, 0)


def test_a_service_started_later_begins_in_its_own_month(desk):
    desk.at(MAR + 10 * DAY)
    (s,) = desk.services(1, started_at=MAR + 5 * DAY)
    assert desk.assurance.next_period(s) == P + 1
    desk.at(period_end(P + 1))
    with refused("the period is before the service's first SLA period"):
        desk.assurance.close_periods(P, [s], sender=desk.buyer)
    desk.assurance.close_periods(P + 1, [s], sender=desk.buyer)
    assert desk.assurance.period_credit(s, P + 1) == (ENDORSED, 0)


def test_an_ended_service_closes_up_to_its_end_and_no_outage_counts_after_it(desk):
    (s,) = desk.services(1)
    desk.at(FEB + 10 * DAY)
    end = MAR + 2 * DAY
    desk.ordering.end_service(s, end, sender=desk.buyer)
    # down from an hour before the end to a day after it: an hour counts
    desk.outages(s, [Outage(end - HOUR, end + DAY)])
    desk.close_period(P, [s])
    desk.close_period(P + 1, [s])
    assert desk.assurance.credit(s, P + 1).outage_seconds == HOUR
    desk.at(period_end(P + 2))
    with refused("the service ended before the period"):
        desk.assurance.close_periods(P + 2, [s], sender=desk.buyer)


# ------------------------------------------------------------------ what counts


def test_overlapping_and_nested_outages_count_once(desk):
    (s,) = desk.services(1)
    t = FEB + 3 * DAY
    outages = [
        Outage(t, t + 2 * HOUR),
        Outage(t + HOUR, t + 3 * HOUR),  # overlaps the first
        Outage(t + 30 * MINUTE, t + 90 * MINUTE),  # nested in the first
        Outage(t + 3 * HOUR, t + 4 * HOUR),  # touches the second
        Outage(t + 5 * HOUR, t + 5 * HOUR),  # no time at all
        Outage(t - HOUR, t + 10 * HOUR),  # covers them all
        Outage(t + DAY, t + DAY + MINUTE),  # apart
    ]
    desk.outages(s, outages)
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P).outage_seconds == 11 * HOUR + MINUTE
    assert desk.assurance.credit(s, P) == expected(outages)


def test_an_outage_across_months_is_split_between_them(desk):
    (s,) = desk.services(1)
    outage = Outage(MAR - HOUR, MAR + 2 * HOUR)
    (tid,) = desk.outages(s, [outage])
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P).outage_seconds == HOUR
    # the ticket still matters for March: the next close reads from it
    n = tid & (2**32 - 1)
    assert closing(desk, s) == (True, P, MAR, 0, n)
    desk.close_period(P + 1, [s])
    assert desk.assurance.credit(s, P + 1).outage_seconds == 2 * HOUR
    assert desk.assurance.credit(s, P + 1) == expected([outage], period=P + 1)
    assert closing(desk, s) == (True, P + 1, period_start(P + 2), n, n + 1)


def test_planned_maintenance_is_left_out_where_the_template_says_so(desk):
    lenient = adopt(desk.market.system, TIERS, exclude_planned_maintenance=False)
    (strict,) = desk.services(1)
    (counted,) = desk.services(1, template=lenient)
    outages = [
        Outage(FEB + DAY, FEB + DAY + 2 * HOUR, cause=PLANNED_MAINTENANCE),
        Outage(FEB + DAY + HOUR, FEB + DAY + 3 * HOUR, cause=POWER),
    ]
    desk.outages(strict, outages)
    desk.outages(counted, outages)
    desk.close_period(P, [strict, counted])
    assert desk.assurance.credit(strict, P).outage_seconds == 2 * HOUR
    assert desk.assurance.credit(counted, P).outage_seconds == 3 * HOUR
    assert desk.assurance.credit(strict, P) == expected(outages)
    assert desk.assurance.credit(counted, P) == expected(outages, exclude=False)


def test_degraded_intermittent_and_cancelled_tickets_do_not_count(desk):
    (s,) = desk.services(1)
    t = FEB + DAY
    desk.outages(
        s,
        [
            Outage(t, t + DAY, impact=DEGRADED),
            Outage(t, t + DAY, impact=INTERMITTENT),
            Outage(t, t + 10 * MINUTE),
        ],
    )
    cancelled = ticket_id(s, 3)
    desk.open([(cancelled, t)])
    desk.assurance.cancel_tickets([cancelled], sender=desk.buyer)
    # unresolved degraded tickets do not hold the close either
    desk.open([(ticket_id(s, 4), t, DEGRADED)])
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P).outage_seconds == 10 * MINUTE
    assert desk.state(ticket_id(s, 4)) == OPENED


def test_a_zero_mrc_service_earns_no_credit(desk, assurance_contract, compiler):
    # Ordering refuses a zero MRC; a stand-in Ordering offers one
    ordering = boa.loads(STAND_IN_ORDERING)
    system = desk.market.system
    _, _, assurance = deploy_assurance(assurance_contract, system, ordering, compiler)
    ordering.set_service(7, (desk.buyer, desk.seller, desk.template, EUR, 0, START - DAY, 2))
    desk.at(FEB + 2 * DAY)
    tid = ticket_id(7, 0)
    assurance.open_tickets([(tid, DOWN, FEB, b"\x01" * 32)], sender=desk.buyer)
    assurance.acknowledge_tickets([tid], sender=desk.seller)
    assurance.resolve_tickets([(tid, FEB + DAY, FIBER_CUT)], sender=desk.seller)
    assurance.close_tickets([tid], sender=desk.buyer)
    desk.at(MAR)
    assurance.close_periods(P, [7], sender=desk.buyer)
    # a day down: the top tier (100 % of the MRC), of nothing; the SLA was breached
    assert assurance.credit(7, P) == (CALCULATED, 0, 10_000, 964_285, DAY, False, False)
    assert assurance.period_credit(7, P) == (CALCULATED, 0)
    assert tuple(assurance.compliance(desk.seller)) == (0, 1)


STAND_IN_ORDERING = """
# pragma version 0.4.3
struct Service:
    buyer: address
    seller: address
    sla_template: uint256
    currency: uint256
    mrc: uint256
    started_at: uint256
    state: uint8

entries: HashMap[uint256, Service]

@external
def set_service(service_id: uint256, service: Service):
    self.entries[service_id] = service

@external
@view
def services(service_id: uint256) -> Service:
    return self.entries[service_id]

@external
@view
def service_ended_at(service_id: uint256) -> uint256:
    return 0
"""


def test_the_whole_mrc_at_most(desk):
    full = adopt(desk.market.system, [(999_000, 5_000), (990_000, 10_000)])
    (s,) = desk.services(1, template=full, mrc=2**96 - 1)
    desk.outages(s, [Outage(FEB, MAR)])  # down all month
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P) == (CALCULATED, 2**96 - 1, 10_000, 0, 28 * DAY, False, False)


# ------------------------------------------------------------------ what holds a close


@pytest.mark.parametrize("state", [OPENED, "acknowledged", "in progress", RESOLVED, REOPENED])
def test_a_down_ticket_of_the_period_that_is_not_closed_holds_the_close(desk, state):
    a, b = desk.services(2)
    tid = ticket_id(a, 0)
    desk.at(FEB + 2 * DAY)
    desk.open([(tid, FEB + DAY)])
    if state != OPENED:
        desk.acknowledge([tid])
    if state == "in progress":
        desk.assurance.progress_tickets([tid], 3, sender=desk.seller)
    if state in (RESOLVED, REOPENED):
        desk.at(MAR - HOUR)  # resolved late in February: its window ends in March
        desk.resolve([(tid, FEB + 2 * DAY)])
    if state == REOPENED:
        desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    desk.at(MAR)
    with refused("a down ticket of the period is not closed"):
        desk.assurance.close_periods(P, [b, a], sender=desk.buyer)
    assert desk.assurance.credit(b, P).state == CREDIT_NONE


def test_a_resolved_ticket_holds_the_close_until_its_window_ends(desk):
    (s,) = desk.services(1)
    tid = ticket_id(s, 0)
    desk.outages(s, [Outage(MAR - 2 * HOUR, MAR - HOUR)], close=False)
    resolved_at = desk.assurance.ticket(tid).resolved_at
    desk.at(resolved_at + WINDOW - 1)
    with refused("a down ticket of the period is not closed"):
        desk.assurance.close_periods(P, [s], sender=desk.seller)
    desk.at(resolved_at + WINDOW)
    desk.assurance.close_periods(P, [s], sender=desk.seller)  # deemed closed
    assert desk.assurance.credit(s, P).outage_seconds == HOUR
    assert desk.state(tid) == CLOSED


def test_a_ticket_of_the_next_month_does_not_hold_the_close(desk):
    (s,) = desk.services(1)
    desk.at(MAR + HOUR)
    desk.open([(ticket_id(s, 0), MAR)])  # open, in March
    desk.assurance.close_periods(P, [s], sender=desk.buyer)
    assert desk.assurance.period_credit(s, P) == (ENDORSED, 0)  # no fact of February
    assert closing(desk, s).next_from == 0  # March's close reads it
    with refused("a down ticket of the period is not closed"):
        desk.close_period(P + 1, [s])


def test_no_ticket_starts_in_a_closed_period(desk):
    (s,) = desk.services(1)
    desk.close_period(P, [s])
    with refused("the outage starts in a closed period"):
        desk.open([(ticket_id(s, 0), MAR - 1)])
    desk.open([(ticket_id(s, 0), MAR)])
    assert desk.state(ticket_id(s, 0)) == OPENED


def test_the_next_close_reads_from_the_first_ticket_that_still_matters(desk):
    (s,) = desk.services(1)
    t = FEB + DAY
    desk.outages(
        s,
        [
            Outage(t, t + HOUR),
            Outage(t, t + HOUR, impact=DEGRADED),
            Outage(t + DAY, MAR + HOUR),  # into March: ticket 2
            Outage(t + DAY, t + DAY + HOUR),
        ],
    )
    desk.close_period(P, [s])
    assert closing(desk, s)[3:] == (0, 2)
    desk.close_period(P + 1, [s])
    assert closing(desk, s)[3:] == (2, 4)
    assert desk.assurance.next_ticket_number(s) == 4
    desk.close_period(P + 2, [s])
    assert closing(desk, s)[3:] == (4, 4)


# ------------------------------------------------------------------ endorsements


def test_each_party_endorses_and_the_credit_is_final(desk):
    a, b = desk.services(2)
    desk.outages(a, [Outage(FEB + DAY, FEB + DAY + HOUR)])
    desk.outages(b, [Outage(FEB + DAY, FEB + DAY + 10)])  # 10 s: no tier, still a fact
    desk.close_period(P, [a, b])
    assert events(desk.assurance, "CreditEndorsed") == []

    desk.assurance.endorse_credits(P, [a, b], sender=desk.seller)
    assert events(desk.assurance, "CreditEndorsed") == [
        {"service_id": s, "period": P, "party": desk.seller, "state": CALCULATED} for s in (a, b)
    ]
    assert desk.assurance.credit(a, P)[5:] == (False, True)
    assert desk.assurance.period_credit(a, P) == (CALCULATED, 25_000)

    desk.assurance.endorse_credits(P, [a], sender=desk.buyer)
    assert events(desk.assurance, "CreditEndorsed") == [
        {"service_id": a, "period": P, "party": desk.buyer, "state": ENDORSED}
    ]
    assert desk.assurance.credit(a, P) == (ENDORSED, 25_000, 2_500, 998_511, HOUR, True, True)
    assert desk.assurance.period_credit(a, P) == (ENDORSED, 25_000)
    assert desk.assurance.period_credit(b, P) == (CALCULATED, 0)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("twice", "already endorsed"),
        ("endorsed by both", "the credit is final"),
        ("final at the close", "the credit is final"),
        ("third member", "not a party to the service"),
        ("stranger", "not a member"),
        ("period not closed", "no credit for the period"),
        ("period out of range", "no credit for the period"),
        ("disputed", "the credit is disputed"),
    ],
)
def test_bad_endorsements_are_refused_and_write_nothing(desk, case, reason):
    a, b, quiet = desk.services(3)
    (tid,) = desk.outages(a, [Outage(FEB + DAY, FEB + DAY + HOUR)])
    desk.outages(b, [Outage(FEB + 2 * DAY, FEB + 2 * DAY + MINUTE)])
    desk.close_period(P, [a, b, quiet])
    period, sender = P, desk.buyer
    if case == "twice":
        desk.endorse(P, [b], desk.buyer)
    elif case == "endorsed by both":
        desk.endorse(P, [b])
        sender = desk.seller
    elif case == "third member":
        sender = desk.third
    elif case == "stranger":
        sender = desk.stranger
    elif case == "period not closed":
        period = P + 1
    elif case == "period out of range":
        period = 2**32
    elif case == "disputed":
        desk.assurance.dispute_credit(a, P, [tid], b"\x02" * 32, sender=desk.buyer)
    batch = [a, quiet] if case == "final at the close" else [a, b]
    before = [desk.assurance.credit(s, P) for s in (a, b, quiet)]
    with refused(reason):
        desk.assurance.endorse_credits(period, batch, sender=sender)
    assert [desk.assurance.credit(s, P) for s in (a, b, quiet)] == before


# ------------------------------------------------------------------ what needs endorsing


@pytest.mark.parametrize(
    ("case", "waits"),
    [
        ("no ticket", False),
        ("degraded and intermittent, closed", False),
        ("degraded, never resolved", False),
        ("down, cancelled", False),
        ("down, in the next month", False),
        ("down, ended as the period began", False),
        ("down for a second", True),  # no tier earned: the credit is zero, still a fact
        ("down for no time at all", True),  # its end can be disputed
        ("planned maintenance, left out", True),  # its cause can be disputed
        ("down from the month before", True),
        ("down, deemed closed", True),
    ],
)
def test_a_credit_waits_on_endorsements_only_when_its_period_has_an_outage_fact(desk, case, waits):
    """An outage fact is a closed down ticket in the period, one a dispute could name:
    without one, the close records the credit final (endorsed by both, by nobody)."""
    (s,) = desk.services(1)
    t = FEB + 5 * DAY
    if case == "degraded and intermittent, closed":
        desk.outages(
            s, [Outage(t, t + DAY, impact=DEGRADED), Outage(t, t + DAY, impact=INTERMITTENT)]
        )
    elif case == "degraded, never resolved":
        desk.at(t + HOUR)
        desk.open([(ticket_id(s, 0), t, DEGRADED)])
    elif case == "down, cancelled":
        desk.at(t + HOUR)
        desk.open([(ticket_id(s, 0), t)])
        desk.assurance.cancel_tickets([ticket_id(s, 0)], sender=desk.buyer)
    elif case == "down, in the next month":
        desk.at(MAR + HOUR)
        desk.open([(ticket_id(s, 0), MAR)])
    elif case == "down, ended as the period began":
        desk.outages(s, [Outage(FEB - HOUR, FEB)])
    elif case == "down for a second":
        desk.outages(s, [Outage(t, t + 1)])
    elif case == "down for no time at all":
        desk.outages(s, [Outage(t, t)])
    elif case == "planned maintenance, left out":
        desk.outages(s, [Outage(t, t + 3 * HOUR, cause=PLANNED_MAINTENANCE)])
    elif case == "down from the month before":
        desk.outages(s, [Outage(FEB - DAY, FEB + 1)])
    elif case == "down, deemed closed":
        desk.outages(s, [Outage(t, t + 1)], close=False)
        desk.at(desk.now + WINDOW)
    desk.close_period(P, [s])
    endorsed_by_close = [{"service_id": s, "period": P, "party": ZERO_ADDRESS, "state": ENDORSED}]
    assert events(desk.assurance, "CreditEndorsed") == ([] if waits else endorsed_by_close)
    got = desk.assurance.credit(s, P)
    assert (got.amount, got.credit_bps) == (0, 0)
    assert (got.state, got.endorsed_by_buyer, got.endorsed_by_seller) == (
        (CALCULATED, False, False) if waits else (ENDORSED, True, True)
    )
    assert compliance(desk) == (1, 0)  # met either way
    if waits:
        desk.endorse(P, [s])
        assert desk.assurance.period_credit(s, P) == (ENDORSED, 0)
    else:
        for party in (desk.buyer, desk.seller):
            with refused("the credit is final"):
                desk.assurance.endorse_credits(P, [s], sender=party)


def test_a_zero_length_outage_at_the_months_boundary_is_the_next_months_fact(desk):
    """A ticket closed before the previous close, down from and to the instant the period
    begins: no fact of the month before (it starts at its end), one of this month (it
    starts in it), so the previous close leaves the next close's mark on it."""
    (s,) = desk.services(1)
    desk.at(MAR + HOUR)
    (tid,) = desk.outages(s, [Outage(MAR, MAR)])
    desk.close_period(P, [s])
    assert desk.assurance.period_credit(s, P) == (ENDORSED, 0)
    assert closing(desk, s).next_from == tid & (2**32 - 1)
    desk.close_period(P + 1, [s])
    assert desk.assurance.credit(s, P + 1) == (CALCULATED, 0, 0, 1_000_000, 0, False, False)


def test_a_credit_final_at_its_close_cannot_be_disputed(desk):
    (s,) = desk.services(1)
    desk.at(MAR + HOUR)
    (tid,) = desk.outages(s, [Outage(MAR, MAR + 10 * MINUTE)])  # March's, not February's
    desk.close_period(P, [s])
    with refused("only a calculated credit can be disputed"):
        desk.assurance.dispute_credit(s, P, [tid], b"\x07" * 32, sender=desk.buyer)
    assert desk.assurance.period_credit(s, P) == (ENDORSED, 0)


def test_a_period_closed_again_with_its_only_ticket_cancelled_is_final(desk):
    (s,) = desk.services(1)
    (tid,) = desk.outages(s, [Outage(FEB + DAY, FEB + DAY + HOUR)])
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P).state == CALCULATED
    desk.assurance.dispute_credit(s, P, [tid], b"\x08" * 32, sender=desk.seller)
    desk.assurance.cancel_tickets([tid], sender=desk.buyer)  # the buyer withdraws it
    desk.assurance.close_periods(P, [s], sender=desk.buyer)
    assert events(desk.assurance, "CreditEndorsed") == [
        {"service_id": s, "period": P, "party": ZERO_ADDRESS, "state": ENDORSED}
    ]
    assert desk.assurance.credit(s, P) == (ENDORSED, 0, 0, 1_000_000, 0, True, True)
    assert compliance(desk) == (1, 0)


# ------------------------------------------------------------------ disputes


def test_a_dispute_reopens_only_the_named_tickets_and_a_new_close_recomputes(desk):
    (s,) = desk.services(1)
    t = FEB + 5 * DAY
    first = [
        Outage(t, t + 10 * MINUTE),
        Outage(t + DAY, t + DAY + 2 * HOUR),
        Outage(t + 2 * DAY, t + 2 * DAY + 10 * MINUTE),
    ]
    ids = desk.outages(s, first)
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P) == expected(first)
    assert compliance(desk) == (0, 1)
    desk.endorse(P, [s], desk.seller)
    statement = b"\x03" * 32

    desk.assurance.dispute_credit(s, P, [ids[1]], statement, sender=desk.buyer)
    assert events(desk.assurance, "CreditDisputed") == [
        {
            "service_id": s,
            "period": P,
            "party": desk.buyer,
            "ticket_ids": [ids[1]],
            "commitment": statement,
        }
    ]
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.buyer, "state": REOPENED, "ticket_ids": [ids[1]]}
    ]
    assert [desk.state(i) for i in ids] == [CLOSED, REOPENED, CLOSED]
    assert desk.assurance.ticket(ids[1])[4:] == (0, t + DAY, 0, 0)  # end and cause contested
    assert desk.assurance.period_credit(s, P) == (DISPUTED, expected(first)[1])
    assert compliance(desk) == (0, 0)  # counted again once closed again
    assert desk.assurance.next_period(s) == P

    # the period cannot close again while the ticket is open, nor the next one at all
    with refused("a down ticket of the period is not closed"):
        desk.assurance.close_periods(P, [s], sender=desk.buyer)
    desk.at(period_end(P + 1))
    with refused("the previous period is disputed"):
        desk.assurance.close_periods(P + 1, [s], sender=desk.buyer)

    # the seller resolves it again: the outage was shorter; the buyer agrees
    desk.resolve([(ids[1], t + DAY + 10 * MINUTE, FIBER_CUT)])
    desk.close([ids[1]])
    desk.assurance.close_periods(P, [s], sender=desk.seller)
    assert events(desk.assurance, "CreditCalculated")[0]["outage_seconds"] == 30 * MINUTE
    second = [first[0], Outage(t + DAY, t + DAY + 10 * MINUTE), first[2]]
    assert desk.assurance.credit(s, P) == expected(second)  # endorsements start again
    assert (expected(first)[1], expected(second)[1]) == (25_000, 10_000)
    assert compliance(desk) == (0, 1)
    assert closing(desk, s) == (True, P, MAR, 0, 3)
    desk.endorse(P, [s])
    assert desk.assurance.period_credit(s, P) == (ENDORSED, expected(second)[1])
    desk.assurance.close_periods(P + 1, [s], sender=desk.buyer)
    assert compliance(desk) == (1, 1)


def test_the_seller_disputes_and_the_buyer_cancels_the_reopened_ticket(desk):
    (s,) = desk.services(1)
    t = FEB + 5 * DAY
    ids = desk.outages(s, [Outage(t, t + 2 * HOUR), Outage(t + DAY, t + DAY + HOUR)])
    desk.close_period(P, [s])
    desk.endorse(P, [s], desk.buyer)
    desk.assurance.dispute_credit(s, P, [ids[0]], b"\x04" * 32, sender=desk.seller)
    assert desk.assurance.credit(s, P)[0] == DISPUTED
    desk.assurance.cancel_tickets([ids[0]], sender=desk.buyer)
    desk.assurance.close_periods(P, [s], sender=desk.buyer)
    assert desk.state(ids[0]) == CANCELLED
    assert desk.assurance.credit(s, P) == expected([Outage(t + DAY, t + DAY + HOUR)])


def test_a_deemed_closed_ticket_can_be_disputed_and_spans_are_reopened_whole(desk):
    (s,) = desk.services(1)
    # from January into February: only its February part counts for February
    ids = desk.outages(s, [Outage(FEB - HOUR, FEB + HOUR)], close=False)
    desk.at(desk.now + WINDOW)
    desk.close_period(P, [s])
    assert desk.assurance.credit(s, P).outage_seconds == HOUR
    desk.assurance.dispute_credit(s, P, ids, b"\x05" * 32, sender=desk.buyer)
    assert desk.state(ids[0]) == REOPENED
    desk.resolve([(ids[0], FEB + 3 * HOUR)])
    desk.at(desk.now + WINDOW)
    desk.assurance.close_periods(P, [s], sender=desk.buyer)
    assert desk.assurance.credit(s, P).outage_seconds == 3 * HOUR


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("third member", "not a party to the service"),
        ("stranger", "not a member"),
        ("endorsed by the disputer", "you endorsed the credit"),
        ("endorsed by both", "only a calculated credit can be disputed"),
        ("period not closed", "only a calculated credit can be disputed"),
        ("already disputed", "only a calculated credit can be disputed"),
        ("not the latest period", "only the latest closed period can be disputed"),
        ("no tickets", "a dispute names the contested tickets"),
        ("ticket of another service", "not a ticket of the service"),
        ("unknown ticket", "no such ticket"),
        ("degraded ticket", "only down tickets count toward the credit"),
        ("ticket of another month", "the ticket is not in the period"),
        ("named twice", "the ticket is not closed"),
    ],
)
def test_bad_disputes_are_refused_and_write_nothing(desk, case, reason):
    a, b = desk.services(2)
    t = FEB + 5 * DAY
    ids = desk.outages(
        a,
        [
            Outage(t, t + HOUR),
            Outage(t, t + DAY, impact=DEGRADED),
            Outage(FEB - DAY, FEB - HOUR),  # in January
        ],
    )
    (other,) = desk.outages(b, [Outage(t, t + HOUR)])
    desk.close_period(P, [a, b])
    period, sender, named = P, desk.buyer, [ids[0]]
    if case == "third member":
        sender = desk.third
    elif case == "stranger":
        sender = desk.stranger
    elif case == "endorsed by the disputer":
        desk.endorse(P, [a], desk.buyer)
    elif case == "endorsed by both":
        desk.endorse(P, [a])
    elif case == "period not closed":
        period = P + 1
    elif case == "already disputed":
        desk.assurance.dispute_credit(a, P, [ids[0]], b"\x00" * 32, sender=desk.seller)
        named = [ids[2]]
    elif case == "not the latest period":
        desk.close_period(P + 1, [a])
    elif case == "no tickets":
        named = []
    elif case == "ticket of another service":
        named = [ids[0], other]
    elif case == "unknown ticket":
        named = [ticket_id(a, 7)]
    elif case == "degraded ticket":
        named = [ids[1]]
    elif case == "ticket of another month":
        named = [ids[2]]
    elif case == "named twice":
        named = [ids[0], ids[0]]
    before = (desk.assurance.credit(a, P), [desk.state(i) for i in ids], compliance(desk))
    with refused(reason):
        desk.assurance.dispute_credit(a, period, named, b"\x06" * 32, sender=sender)
    assert (desk.assurance.credit(a, P), [desk.state(i) for i in ids], compliance(desk)) == before


# ------------------------------------------------------------------ compliance and views


def test_compliance_counts_closed_periods_per_seller(desk):
    other_seller = desk.market.sellers[1]
    mine = desk.services(3)
    (theirs,) = desk.services(1, seller=other_seller)
    desk.outages(mine[0], [Outage(FEB + DAY, FEB + DAY + HOUR)])
    desk.outages(mine[1], [Outage(FEB + DAY, FEB + DAY + 10)])  # 10 s: still above 99.95 %
    desk.close_period(P, [*mine, theirs])
    assert compliance(desk) == (2, 1)
    assert compliance(desk, other_seller) == (1, 0)
    assert compliance(desk, desk.buyer) == (0, 0)
    desk.close_period(P + 1, mine)
    assert compliance(desk) == (5, 1)


def test_credits_of_unknown_services_and_periods_read_none(desk):
    (s,) = desk.services(1)
    assert desk.assurance.period_credit(s, P) == (CREDIT_NONE, 0)
    assert desk.assurance.period_credit(999, P) == (CREDIT_NONE, 0)
    assert desk.assurance.period_credit(s, 2**256 - 1) == (CREDIT_NONE, 0)
    assert desk.assurance.credit(s, 2**40) == (CREDIT_NONE, 0, 0, 0, 0, False, False)
    assert closing(desk, s) == (False, 0, 0, 0, 0)


# The layout of Assurance v1 as deployed (deployments records keep it; `coop modules check`
# compares against them): a period final at its close is written in the credit word's
# existing bits, so the module's storage stays as it was.
V1_LAYOUT = {
    "initialized": ("bool", 0),
    "membership": ("address", 1),
    "sla_templates": ("address", 2),
    "ordering": ("address", 3),
    "first_period": ("uint256", 4),
    "ticket_words": ("HashMap[uint256, uint256]", 5),
    "closings": ("HashMap[uint256, uint256]", 6),
    "credits": ("HashMap[uint256, uint256]", 7),
    "compliance": ("HashMap[address, Compliance]", 8),
}


def test_the_storage_layout_is_the_deployed_one(compiler):
    layout = compiler.vyper("Assurance").storage_layout
    v1 = {name: {"type": t, "slot": slot, "n_slots": 1} for name, (t, slot) in V1_LAYOUT.items()}
    assert layout_problems(v1, layout) == []
    assert layout == v1
