"""Trouble tickets exported by an ERP as CSV, for `coop tickets import` and the
`importTroubleTickets` mutation.

Columns (a header line first; order free): service_id, impact, started_at, description and
optionally external_id (the ERP's own ticket reference). service_id names the service by its
number (`12`, as a NOC export has it) or by the API's id (`Service:12`). Each row is checked
on its own; a bad row is reported with its line number and reason and never written, the
good rows are opened. Line numbers count the header as line 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from cooperative.assurance import IMPACTS, MAX_BATCH, Assurance, TicketOpening
from cooperative.errors import CoopError, ValidationFailed
from cooperative.store.models import TroubleTicketRecord, whole_number

REQUIRED_COLUMNS = ("service_id", "impact", "started_at", "description")
SERVICE = "Service"  # the type in a service's id, `Service:12` (cooperative.api.ids)


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


def parse_ticket_csv(text: str) -> tuple[list[tuple[int, TicketOpening]], list[RowProblem]]:
    """(line, opening) for every well-formed row, and a problem for every other one."""
    reader = csv.DictReader(io.StringIO(text, newline=""))  # the csv module reads line ends
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        return [], [RowProblem(1, f"not CSV the platform can read: {exc}")]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [RowProblem(1, f"the header lacks {', '.join(missing)}")]
    good: list[tuple[int, TicketOpening]] = []
    problems: list[RowProblem] = []
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
            line = reader.line_num + 1  # the line it could not finish
            problems.append(RowProblem(line, f"not CSV the platform can read: {exc}"))
            break  # the reader cannot go on past it
        line = reader.line_num
        try:
            good.append((line, _opening(row)))
        except ValueError as exc:
            problems.append(RowProblem(line, str(exc)))
    return good, problems


def service_number(text: str) -> int:
    """The service a service_id cell names: its number (`12`) or its id (`Service:12`)."""
    named, colon, key = text.partition(":")
    number = whole_number(key if colon else text) if named == SERVICE or not colon else None
    if not number:  # (none, 0, or another record's id)
        raise ValueError(
            f"service_id must be a service number (12) or id (Service:12), not {text[:80]!r}"
        )
    return number


def _opening(row: dict[str, str | None]) -> TicketOpening:
    service_id = service_number((row.get("service_id") or "").strip())
    impact = (row.get("impact") or "").strip()
    if impact not in IMPACTS:
        raise ValueError(f"impact must be one of {', '.join(IMPACTS)}, not {impact!r}")
    raw_start = (row.get("started_at") or "").strip()
    try:
        started = datetime.fromisoformat(raw_start.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"started_at must be an ISO 8601 time, not {raw_start!r}") from None
    if started.tzinfo is None:
        raise ValueError("started_at needs a time zone (e.g. 2026-11-02T08:15:00Z)")
    description = (row.get("description") or "").strip()
    external = (row.get("external_id") or "").strip() or None
    return TicketOpening(service_id, impact, started, description, external)


def import_tickets(
    assurance: Assurance, text: str
) -> tuple[list[TroubleTicketRecord], list[RowProblem]]:
    """Open the good rows of a CSV export (at most one batch) in one transaction; every
    other row comes back with its line number and reason, and is not written."""
    good, problems = parse_ticket_csv(text)
    if len(good) + len(problems) > MAX_BATCH:
        raise ValidationFailed(
            f"at most {MAX_BATCH} rows per request; `coop tickets import` sends larger files in batches",
            field="csv",
        )
    now = assurance.chain_now()
    accepted = []
    for line, opening in good:
        try:
            assurance.check_opening(opening, now)
            accepted.append(opening)
        except CoopError as error:
            problems.append(RowProblem(line, error.message))
    opened = assurance.open_tickets(accepted) if accepted else []
    return opened, sorted(problems, key=lambda p: p.line)
