"""Times as the contracts take them: seconds since 1970 from zoned datetimes, and SLA and
billing periods, calendar months (UTC) numbered from January 1970 as the contracts number
them (contracts/lib/calendar.vy): period = (year - 1970) * 12 + month - 1. The API names a
period "YYYY-MM"."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cooperative.errors import ValidationFailed

_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def epoch_seconds(moment: datetime, field: str) -> int:
    """A datetime from the API as the chain's seconds; VALIDATION without a time zone."""
    if moment.tzinfo is None:
        raise ValidationFailed(
            "give times with a time zone (e.g. 2027-01-31T00:00:00Z)", field=field
        )
    seconds = int(moment.timestamp())
    if seconds < 0:  # the contracts count unsigned seconds since 1970
        raise ValidationFailed("give a time from 1970 on", field=field)
    return seconds


def parse_period(label: str, field: str = "period") -> int:
    match = _LABEL.match(label)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise ValidationFailed(f"a period is a month written YYYY-MM, not {label!r}", field=field)
    return (int(match.group(1)) - 1970) * 12 + int(match.group(2)) - 1


def period_label(period: int) -> str:
    return f"{1970 + period // 12:04d}-{period % 12 + 1:02d}"


def period_start(period: int) -> datetime:
    return datetime(1970 + period // 12, period % 12 + 1, 1, tzinfo=UTC)


def period_of(moment: datetime) -> int:
    return (moment.year - 1970) * 12 + moment.month - 1
