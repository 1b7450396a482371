"""GraphQL for the member's own event feed: `events(after, first)`, for ERP sync."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import strawberry

from cooperative.access import DataAccess
from cooperative.api.context import AppInfo, query
from cooperative.api.ids import global_id
from cooperative.api.scalars import BigInt
from cooperative.api.types import Connection, MemberEventType, copy_fields
from cooperative.store.models import MemberEvent as MemberEventRecord

log = logging.getLogger(__name__)


@strawberry.type(
    description="Something that happened on chain to a record the caller is a party to: "
    "its type and the ids of the records it concerns."
)
class MemberEvent:
    type: MemberEventType  # type: ignore[valid-type]
    subjects: list[strawberry.ID] = strawberry.field(
        description="The records it concerns, most specific first (a quote before its request); "
        "`node(id:)` refetches each of them but a QuoteRequest (its quotes are the record)."
    )
    block: BigInt  # type: ignore[valid-type]
    tx: str
    log_index: int
    occurred_at: datetime

    @classmethod
    def from_row(cls, row: MemberEventRecord) -> MemberEvent:
        return copy_fields(cls, row, subjects=subjects(row.subject))


# the feed's stored subject keys (cooperative.projectors) and the records they name
SUBJECT_TYPES = {
    "creditId": "SlaCredit",
    "quoteId": "Quote",
    "requestId": "QuoteRequest",
    "orderId": "Order",
    "serviceId": "Service",
    "invoiceId": "Invoice",
    "cycleId": "SettlementCycle",
}


def subjects(subject: dict[str, Any]) -> list[strawberry.ID]:
    ids = [global_id("TroubleTicket", t) for t in subject.get("ticketIds", [])]
    if "paymentIndex" in subject:
        ids.append(
            global_id("SettlementPayment", f"{subject['cycleId']}-{subject['paymentIndex']}")
        )
    ids += [global_id(kind, subject[key]) for key, kind in SUBJECT_TYPES.items() if key in subject]
    return ids


def _feed(access: DataAccess, first: int | None, after: str | None) -> Connection[MemberEvent]:
    page = access.page(access.private(MemberEventRecord), MemberEventRecord.id, first, after)
    return Connection.from_page(page, MemberEvent.from_row)


@strawberry.type
class EventsQuery:
    @strawberry.field(
        description=(
            "The caller's own events in chain order. Poll with `after` = the last "
            "`pageInfo.endCursor` you processed: nothing is skipped or repeated."
        )
    )
    def events(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[MemberEvent]:
        try:  # bring the feed up to the chain, so it holds the caller's latest transactions
            info.context.platform.sync()
        except (
            Exception
        ):  # the node may be restarting: serve what is indexed; the follower catches up
            log.warning("indexer sync before `events` failed", exc_info=True)
        return query(info, lambda access: _feed(access, first, after))
