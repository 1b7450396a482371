"""Pro-rating: a line charges MRC * billable days // days in the month, a billable day
being a UTC day of the period on which the service was active at any moment (the day it
starts counts, the day it ends counts unless it ended at that day's midnight). Checked
against the day-by-day Python reference in billing_fixtures (`expected_line`) for months
of 28, 29 (leap February), 30 and 31 days, at the edges, and for random services."""

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .billing_fixtures import (
    billing_contracts_fixture,  # noqa: F401
    books_fixture,  # noqa: F401
    days_in,
    expected_line,
    period_at,
    period_end,
    period_of,
    period_start,
)
from .helpers import events
from .ordering_fixtures import DAY, EUR, MAX_AMOUNT

HOUR = 3600


def test_the_python_calendar_reference():
    assert period_of(1970, 1) == 0
    assert period_start(0) == 0
    assert period_end(0) == 31 * DAY
    assert [days_in(period_of(2028, m)) for m in (1, 2, 4)] == [31, 29, 30]
    assert days_in(period_of(2027, 2)) == 28
    assert days_in(period_of(2100, 2)) == 28  # divisible by 100, not by 400
    assert days_in(period_of(2400, 2)) == 29
    assert period_at(period_start(700) - 1) == 699
    # a whole month charges the MRC; one day of a 31-day month, MRC // 31
    assert expected_line(3_100, 0, 0, period_of(2028, 1)) == (31, 3_100)
    start = period_start(period_of(2028, 1))
    assert expected_line(3_100, start + 30 * DAY + 1, 0, period_of(2028, 1)) == (1, 100)


def run_services(books, specs):
    """Create services `specs` [(mrc, started_at, ended_at or 0)] in time order: each
    registered (and confirmed) when it starts, ended when it ends; their ids."""
    steps = []
    for index, (_, started_at, ended_at) in enumerate(specs):
        steps.append((started_at, 0, index))
        if ended_at:
            steps.append((ended_at, 1, index))
    ids = [0] * len(specs)
    for moment, kind, index in sorted(steps):
        boa.env.timestamp = max(books.now, moment)
        if kind == 0:
            mrc, started_at, _ = specs[index]
            (ids[index],) = books.services(1, mrc=mrc, started_at=started_at)
        else:
            books.ordering.end_service(ids[index], specs[index][2], sender=books.buyer)
    return ids


def check_invoice(books, period, specs, ids):
    """Invoice the services with a billable day; every line is the reference's."""
    expected = {i: expected_line(*spec, period) for i, spec in zip(ids, specs, strict=True)}
    billable = [i for i in ids if expected[i][0] > 0]
    for i in ids:
        assert books.billing.recurring_charge(i, period) == expected[i]
    if not billable:
        return
    books.after(period)
    books.endorse(billable, period)
    books.billing.issue_invoice(books.buyer, period, EUR, billable, sender=books.seller)
    lines = events(books.billing, "InvoiceLine")
    assert [(e["service_id"], e["billable_days"], e["charge"], e["credit"]) for e in lines] == [
        (i, *expected[i], 0) for i in billable
    ]
    invoice = books.billing.invoices(books.billing.invoice_count())
    assert invoice.charges == sum(expected[i][1] for i in billable)


def month_ahead(books, days):
    """The first period at least two months ahead of the clock with `days` days (29: a
    leap February)."""
    period = books.next_period(2)
    while days_in(period) != days:
        period += 1
    return period


@pytest.mark.parametrize("days", [31, 30, 28, 29])
def test_starts_and_ends_inside_months_of_every_length(books, days):
    period = month_ahead(books, days)
    start, end, days = period_start(period), period_end(period), days_in(period)
    mrc = 1_000_003
    specs = [
        (mrc, start - 40 * DAY, 0),  # whole month
        (mrc, start, 0),  # starts at the first midnight: whole month
        (mrc, start + 14 * DAY + 12 * HOUR, 0),  # starts on the 15th, midday
        (mrc, end - 1, 0),  # starts in the last second: one day
        (mrc, start - DAY, start + 10 * DAY),  # ends at the 11th's midnight: 10 days
        (mrc, start - DAY, start + 10 * DAY + 1),  # a second into the 11th: 11 days
        (mrc, start + 2 * DAY, start + 2 * DAY + 60),  # a minute on the 3rd: one day
        (mrc, start + 5 * DAY, end),  # from the 6th to the end
        (mrc, start - DAY, end + 10 * DAY),  # ends after the month: whole month
        (mrc, start - 5 * DAY, start + 1),  # a second into the month: one day
    ]
    ids = run_services(books, specs)
    expected_days = [days, days, days - 14, 1, 10, 11, 1, days - 5, days, 1]
    assert [expected_line(*spec, period)[0] for spec in specs] == expected_days
    check_invoice(books, period, specs, ids)
    # a whole month charges the MRC exactly, whatever its length
    assert books.billing.recurring_charge(ids[0], period) == (days, mrc)


def test_leap_february_charges_by_29ths(books):
    period = month_ahead(books, 29)
    assert period % 12 == 1 and (1970 + period // 12) % 4 == 0
    start = period_start(period)
    ids = run_services(books, [(2_900, start + 14 * DAY, 0), (2_800, start + 14 * DAY, 0)])
    assert books.billing.recurring_charge(ids[0], period) == (15, 1_500)
    assert books.billing.recurring_charge(ids[1], period) == (15, 2_800 * 15 // 29)
    # the same start in the common February after it: by 28ths
    common = period + 12
    ids = run_services(books, [(2_800, period_start(common) + 14 * DAY, 0)])
    assert books.billing.recurring_charge(ids[0], common) == (14, 1_400)


def test_rounding_is_down_per_line(books):
    period = month_ahead(books, 30)
    start = period_start(period)
    specs = [(7, start + 29 * DAY, 0)] * 3  # 7 * 1 // 30 = 0 each
    ids = run_services(books, specs)
    check_invoice(books, period, specs, ids)
    assert books.billing.invoices(1).charges == 0


def test_the_largest_mrc_does_not_overflow(books):
    period = month_ahead(books, 31)
    specs = [(MAX_AMOUNT, period_start(period) + 3 * DAY, 0)]
    ids = run_services(books, specs)
    check_invoice(books, period, specs, ids)
    assert books.billing.invoices(1).charges == MAX_AMOUNT * 28 // 31


# ------------------------------------------------------------------ random services


@st.composite
def services_in_a_period(draw):
    months_ahead = draw(st.integers(min_value=3, max_value=40))
    specs_for = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        mrc = draw(st.one_of(st.integers(1, 10**6), st.integers(1, MAX_AMOUNT)))
        # starts up to 40 days before the month or inside it (to the second, or on midnights)
        start_offset = draw(
            st.one_of(
                st.integers(-40 * DAY, 31 * DAY),
                st.integers(-40, 31).map(lambda d: d * DAY),
            )
        )
        end = draw(
            st.one_of(
                st.none(),
                st.integers(1, 70 * DAY),
                st.integers(1, 70).map(lambda d: d * DAY),
            )
        )
        specs_for.append((mrc, start_offset, end))
    return months_ahead, specs_for


@settings(
    max_examples=40,
    deadline=None,
    # the deployed contracts are shared on purpose; each example runs in its own anchor
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=services_in_a_period())
def test_random_services_are_charged_as_the_reference(books, drawn):
    months_ahead, relative = drawn
    with boa.env.anchor():
        period = books.next_period(months_ahead)
        start = period_start(period)
        end_of_month = period_end(period)
        specs = []
        for mrc, start_offset, duration in relative:
            started_at = min(start + start_offset, end_of_month - 1)
            specs.append((mrc, started_at, started_at + duration if duration else 0))
        ids = run_services(books, specs)
        check_invoice(books, period, specs, ids)
        # the next period: what remains of the same services
        nxt = period + 1
        assert all(
            books.billing.recurring_charge(i, nxt) == expected_line(*spec, nxt)
            for i, spec in zip(ids, specs, strict=True)
        )
