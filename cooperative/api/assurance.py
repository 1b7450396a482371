"""GraphQL for SLA assurance: trouble tickets and SLA credits (DESIGN names). Every
mutation takes a batch where an ERP moves many at once; single-ticket names take one."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from cooperative.access import DataAccess
from cooperative.api.context import IDEMPOTENCY_KEY, AppInfo, mutate, query
from cooperative.api.ids import decode_reference, key_of, reference, refetchable
from cooperative.api.inputs import long_text
from cooperative.api.limits import MAX_BODY_BYTES
from cooperative.api.scalars import BigInt
from cooperative.api.types import (
    Connection,
    Node,
    OutageImpact,
    RootCause,
    SlaCreditState,
    TroubleTicketState,
    UserError,
    copy_fields,
)
from cooperative.assurance import Assurance, TicketOpening, TicketResolution
from cooperative.periods import period_label
from cooperative.store import models
from cooperative.ticket_import import import_tickets


def _assurance(info: AppInfo, access: DataAccess) -> Assurance:
    return Assurance(info.context.platform, access)


@strawberry.type(description="A root cause the seller's own model suggests for one of its tickets.")
class RootCauseSuggestion:
    cause: RootCause  # type: ignore[valid-type]
    probability: float = strawberry.field(description="The model's probability, 0 to 1")


@strawberry.type(
    description="A trouble ticket (Sonata states); the service's buyer and seller only."
)
class TroubleTicket(Node):
    service_id: strawberry.ID = reference("Service")
    number: int
    buyer: str
    seller: str
    state: TroubleTicketState  # type: ignore[valid-type]
    impact: OutageImpact  # type: ignore[valid-type]
    root_cause: RootCause | None  # type: ignore[valid-type]
    started_at: datetime
    ended_at: datetime | None
    resolved_at: datetime | None
    document: JSON
    commitment: str

    @strawberry.field(
        description="For the ticket's seller: the root causes its own model, trained on its "
        "own resolved tickets, suggests from the description and impact, most likely first. "
        "Empty for anyone else, and until the seller has resolved enough tickets (20, with "
        "2 causes) for a model."
    )
    def suggested_root_causes(self, info: AppInfo) -> list[RootCauseSuggestion]:
        description = self.document.get("description") if isinstance(self.document, dict) else None
        if not isinstance(description, str):
            return []
        return query(
            info,
            lambda a: [
                RootCauseSuggestion(cause=s.cause, probability=s.probability)
                for s in info.context.platform.root_causes.suggest(
                    a, self.seller, self.impact, description
                )
            ],
        )

    @classmethod
    def from_row(cls, row: models.TroubleTicketRecord) -> TroubleTicket:
        return copy_fields(cls, row)


@strawberry.type(description="A service's SLA credit for one period, as the contract computed it.")
class SlaCredit(Node):
    service_id: strawberry.ID = reference("Service")
    period: str
    buyer: str
    seller: str
    currency: str
    state: SlaCreditState  # type: ignore[valid-type]
    amount: BigInt  # type: ignore[valid-type]
    credit_bps: int
    availability_ppm: int
    outage_seconds: int
    endorsed_by_buyer: bool
    endorsed_by_seller: bool
    invoice_id: strawberry.ID | None = reference("Invoice")

    @classmethod
    def from_row(cls, row: models.SlaCreditRecord) -> SlaCredit:
        return copy_fields(cls, row, period=period_label(row.period), amount=int(row.amount))


@strawberry.type
class AssuranceQuery:
    @strawberry.field(description="Trouble tickets on the caller's services, as buyer or seller.")
    def trouble_tickets(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        service_id: strawberry.ID | None = None,
        state: TroubleTicketState | None = None,  # type: ignore[valid-type]
    ) -> Connection[TroubleTicket]:
        service = decode_reference(service_id, "Service", "serviceId")
        return query(
            info,
            lambda a: Connection.from_page(
                _assurance(info, a).tickets(first, after, service, state), TroubleTicket.from_row
            ),
        )

    @strawberry.field
    def trouble_ticket(self, info: AppInfo, id: strawberry.ID) -> TroubleTicket:
        return _ticket(info, key_of(id, "TroubleTicket", "id"))

    @strawberry.field(
        description="SLA credits of the caller's services; filter by period (YYYY-MM)."
    )
    def sla_credits(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        period: str | None = None,
    ) -> Connection[SlaCredit]:
        return query(
            info,
            lambda a: Connection.from_page(
                _assurance(info, a).credits(first, after, period), SlaCredit.from_row
            ),
        )


# the by-id reads, which node(id:) uses too
@refetchable("TroubleTicket")
def _ticket(info: AppInfo, key: str) -> TroubleTicket:
    return query(info, lambda a: TroubleTicket.from_row(_assurance(info, a).ticket(key)))


@refetchable("SlaCredit")
def _credit(info: AppInfo, key: str) -> SlaCredit:
    return query(info, lambda a: SlaCredit.from_row(_assurance(info, a).credit(key)))


# ------------------------------------------------------------------ mutations


@strawberry.input
class TicketOpeningInput:
    service_id: strawberry.ID = reference("Service")
    impact: OutageImpact  # type: ignore[valid-type]
    started_at: datetime
    description: str
    external_id: str | None = None


@strawberry.input
class OpenTroubleTicketInput:
    tickets: list[TicketOpeningInput]
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class TicketIdsInput:
    ticket_ids: list[strawberry.ID] = reference("TroubleTicket")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class ProgressTroubleTicketInput:
    ticket_ids: list[strawberry.ID] = reference("TroubleTicket")
    state: TroubleTicketState = strawberry.field(description="inProgress or pending")  # type: ignore[valid-type]
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class TicketResolutionInput:
    ticket_id: strawberry.ID = reference("TroubleTicket")
    ended_at: datetime
    root_cause: RootCause  # type: ignore[valid-type]
    note: str = ""


@strawberry.input
class ResolveTroubleTicketInput:
    tickets: list[TicketResolutionInput]
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class SlaPeriodInput:
    period: str = strawberry.field(description="The month, YYYY-MM")
    service_ids: list[strawberry.ID] = reference("Service")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class DisputeSlaCreditInput:
    service_id: strawberry.ID = reference("Service")
    period: str
    ticket_ids: list[strawberry.ID] = reference("TroubleTicket")
    statement: str
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class TroubleTicketsPayload:
    tickets: list[TroubleTicket] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SlaCreditsPayload:
    credits: list[SlaCredit] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DisputePayload:
    credit: SlaCredit | None = None
    reopened: list[TroubleTicket] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


def _tickets(rows: list[models.TroubleTicketRecord]) -> TroubleTicketsPayload:
    return TroubleTicketsPayload(tickets=[TroubleTicket.from_row(r) for r in rows])


@strawberry.input
class ImportTroubleTicketsInput:
    csv: str = strawberry.field(
        description="CSV with a header: service_id, impact, started_at, description[, external_id]; at most 500 rows",
        metadata=long_text(MAX_BODY_BYTES),
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type(
    description="A CSV row that was not imported: its line (the header is line 1) and why."
)
class RejectedRow:
    line: int
    reason: str


@strawberry.type
class ImportTroubleTicketsPayload:
    tickets: list[TroubleTicket] = strawberry.field(default_factory=list)
    rejected: list[RejectedRow] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AssuranceMutation:
    @strawberry.mutation(
        description="The buyer imports tickets from its ERP's CSV export: good rows opened, bad rows reported by line."
    )
    def import_trouble_tickets(
        self, info: AppInfo, input: ImportTroubleTicketsInput
    ) -> ImportTroubleTicketsPayload:
        def work(a: DataAccess) -> ImportTroubleTicketsPayload:
            opened, problems = import_tickets(_assurance(info, a), input.csv)
            return ImportTroubleTicketsPayload(
                tickets=[TroubleTicket.from_row(t) for t in opened],
                rejected=[RejectedRow(line=p.line, reason=p.reason) for p in problems],
            )

        return mutate(info, ImportTroubleTicketsPayload, work, input)

    @strawberry.mutation(
        description="The buyer opens trouble tickets (one or a batch of up to 500)."
    )
    def open_trouble_ticket(
        self, info: AppInfo, input: OpenTroubleTicketInput
    ) -> TroubleTicketsPayload:
        def work(a: DataAccess) -> TroubleTicketsPayload:  # after check_input decoded the ids
            openings = [
                TicketOpening(t.service_id, t.impact, t.started_at, t.description, t.external_id)
                for t in input.tickets
            ]
            return _tickets(_assurance(info, a).open_tickets(openings))

        return mutate(info, TroubleTicketsPayload, work, input)

    @strawberry.mutation(description="The seller acknowledges submitted tickets.")
    def acknowledge_trouble_ticket(
        self, info: AppInfo, input: TicketIdsInput
    ) -> TroubleTicketsPayload:
        return mutate(
            info,
            TroubleTicketsPayload,
            lambda a: _tickets(_assurance(info, a).acknowledge_tickets(input.ticket_ids)),
            input,
        )

    @strawberry.mutation(
        description="The seller marks tickets inProgress, or pending on the buyer."
    )
    def progress_trouble_ticket(
        self, info: AppInfo, input: ProgressTroubleTicketInput
    ) -> TroubleTicketsPayload:
        return mutate(
            info,
            TroubleTicketsPayload,
            lambda a: _tickets(_assurance(info, a).progress_tickets(input.ticket_ids, input.state)),
            input,
        )

    @strawberry.mutation(
        description="The seller resolves tickets with the outage's end and root cause."
    )
    def resolve_trouble_ticket(
        self, info: AppInfo, input: ResolveTroubleTicketInput
    ) -> TroubleTicketsPayload:
        def work(a: DataAccess) -> TroubleTicketsPayload:  # after check_input decoded the ids
            resolutions = [
                TicketResolution(t.ticket_id, t.ended_at, t.root_cause, t.note)
                for t in input.tickets
            ]
            return _tickets(_assurance(info, a).resolve_tickets(resolutions))

        return mutate(info, TroubleTicketsPayload, work, input)

    @strawberry.mutation(
        description="The buyer closes resolved tickets: it agrees with their end and cause."
    )
    def close_trouble_ticket(self, info: AppInfo, input: TicketIdsInput) -> TroubleTicketsPayload:
        return mutate(
            info,
            TroubleTicketsPayload,
            lambda a: _tickets(_assurance(info, a).close_tickets(input.ticket_ids)),
            input,
        )

    @strawberry.mutation(
        description="The buyer reopens resolved tickets within the template's window."
    )
    def reopen_trouble_ticket(self, info: AppInfo, input: TicketIdsInput) -> TroubleTicketsPayload:
        return mutate(
            info,
            TroubleTicketsPayload,
            lambda a: _tickets(_assurance(info, a).reopen_tickets(input.ticket_ids)),
            input,
        )

    @strawberry.mutation(description="The buyer cancels tickets that are not resolved.")
    def cancel_trouble_ticket(self, info: AppInfo, input: TicketIdsInput) -> TroubleTicketsPayload:
        return mutate(
            info,
            TroubleTicketsPayload,
            lambda a: _tickets(_assurance(info, a).cancel_tickets(input.ticket_ids)),
            input,
        )

    @strawberry.mutation(
        description="Close a period of services: the contract computes availability and "
        "credit. A service with no outage fact in the period gets a credit final at once "
        "(endorsed, nothing to endorse); the others await both parties' endorsement."
    )
    def close_sla_period(self, info: AppInfo, input: SlaPeriodInput) -> SlaCreditsPayload:
        return mutate(
            info,
            SlaCreditsPayload,
            lambda a: SlaCreditsPayload(
                credits=[
                    SlaCredit.from_row(c)
                    for c in _assurance(info, a).close_period(input.period, input.service_ids)
                ]
            ),
            input,
        )

    @strawberry.mutation(
        description="Endorse the calculated credits of a period, as buyer or seller. A "
        "period with no outage fact is final at its close (state endorsed, both flags set): "
        "endorsing it is INVALID_STATE, it can be invoiced at once."
    )
    def endorse_sla_credit(self, info: AppInfo, input: SlaPeriodInput) -> SlaCreditsPayload:
        return mutate(
            info,
            SlaCreditsPayload,
            lambda a: SlaCreditsPayload(
                credits=[
                    SlaCredit.from_row(c)
                    for c in _assurance(info, a).endorse_credits(input.period, input.service_ids)
                ]
            ),
            input,
        )

    @strawberry.mutation(
        description="Dispute a calculated credit: the named tickets are reopened, the others stand."
    )
    def dispute_sla_credit(self, info: AppInfo, input: DisputeSlaCreditInput) -> DisputePayload:
        def work(a: DataAccess) -> DisputePayload:
            credit, tickets = _assurance(info, a).dispute_credit(
                input.service_id,
                input.period,
                input.ticket_ids,
                input.statement,
            )
            return DisputePayload(
                credit=SlaCredit.from_row(credit),
                reopened=[TroubleTicket.from_row(t) for t in tickets],
            )

        return mutate(info, DisputePayload, work, input)
