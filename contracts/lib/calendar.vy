# pragma version 0.4.3
"""
@title calendar
@custom:contract-name calendar
@license Apache-2.0
@notice UTC calendar months for SLA periods and invoices.
@dev A period is a calendar month numbered from January 1970: period = (year - 1970) * 12
     + (month - 1). Its start is midnight UTC of the month's first day; it ends where the
     next period starts. Stateless internal functions: a contract `import`s this module and
     calls them; nothing to initialize.

     Days from the civil date use Howard Hinnant's algorithm (public domain), restricted to
     dates from 1970 on, so every intermediate value is non-negative.
"""

SECONDS_PER_DAY: constant(uint256) = 86_400
# @dev Day number of 1970-01-01 in Hinnant's era-based count from 0000-03-01.
EPOCH_DAY: constant(uint256) = 719_468


@internal
@pure
def days_from_civil(year: uint256, month: uint256, day: uint256) -> uint256:
    """
    @notice Days since 1970-01-01 of a UTC date.
    @dev The year is counted from March, so the leap day is the last day of its year.
    """
    y: uint256 = year
    if month <= 2:
        y -= 1
    era: uint256 = y // 400
    year_of_era: uint256 = y - era * 400
    shifted_month: uint256 = month + 9 if month <= 2 else month - 3
    day_of_year: uint256 = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era: uint256 = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - EPOCH_DAY


@internal
@pure
def period_start(period: uint256) -> uint256:
    """
    @notice The timestamp at which a period (calendar month) starts.
    """
    return self.days_from_civil(1970 + period // 12, period % 12 + 1, 1) * SECONDS_PER_DAY


@internal
@pure
def period_end(period: uint256) -> uint256:
    """
    @notice The timestamp at which a period ends (the next one starts).
    """
    return self.period_start(period + 1)


@internal
@pure
def period_of(timestamp: uint256) -> uint256:
    """
    @notice The period a timestamp falls in.
    @dev Estimates from 30.44-day months, then corrects by at most one month either way.
    """
    period: uint256 = timestamp // (SECONDS_PER_DAY * 30_436_875 // 1_000_000)
    if period > 0 and self.period_start(period) > timestamp:
        period -= 1
    if self.period_start(period + 1) <= timestamp:
        period += 1
    return period
