"""SLA assurance for the platform's users: trouble tickets both sides sign as they move,
and the SLA credits the Assurance contract computes when a service's period closes.

The buyer opens, closes, reopens or cancels tickets; the seller acknowledges, works on
and resolves them. Every step takes a batch (one transaction), so an ERP moves hundreds of
tickets at once. A ticket's description stays in the store for the two parties only; its
salted commitment goes on chain with the opening. A party who is not the buyer or seller of
a ticket's service finds nothing (NOT_FOUND), as for a ticket that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, func, select

from cooperative.access import Page
from cooperative.commitments import commit
from cooperative.errors import Forbidden, InvalidState, ValidationFailed
from cooperative.module_service import ModuleService
from cooperative.outbox import keep_note
from cooperative.periods import epoch_seconds, parse_period, period_start
from cooperative.projectors.assurance import RESOLUTION_NOTES
from cooperative.states import (
    CreditState,
    Impact,
    RootCause,
    ServiceState,
    TicketState,
    chain_ticket_id,
    split_ticket_id,
    ticket_key,
)
from cooperative.store.models import ServiceRecord, SlaCreditRecord, TroubleTicketRecord

IMPACTS = {impact.api: impact for impact in Impact}
ROOT_CAUSES = {cause.api: cause for cause in RootCause}
# The states in which the seller works on a ticket (Assurance.vy's SET_WORKING)
WORKING = frozenset(
    {TicketState.ACKNOWLEDGED, TicketState.IN_PROGRESS, TicketState.PENDING, TicketState.REOPENED}
)
MAX_BATCH = 500  # the contract's bound per call
MAX_DESCRIPTION = 2000
MAX_DISPUTED = 64


@dataclass(frozen=True)
class TicketOpening:
    service_id: int
    impact: str
    started_at: datetime
    description: str
    external_id: str | None = None  # the buyer's own ticket reference (e.g. its ERP's)


@dataclass(frozen=True)
class TicketResolution:
    ticket_id: str
    ended_at: datetime
    root_cause: str
    note: str = ""


def _batch(items: list[Any], field: str, limit: int = MAX_BATCH) -> None:
    if not 0 < len(items) <= limit:
        raise ValidationFailed(f"give 1 to {limit} items per call", field=field)


class Assurance(ModuleService):
    module = "Assurance"

    # ------------------------------------------------------------------ reads

    def ticket(self, ticket_id: str) -> TroubleTicketRecord:
        record = self.access.get_private(TroubleTicketRecord, ticket_id, what="trouble ticket")
        return self.current([record])[0]

    def tickets(
        self,
        first: int | None,
        after: str | None,
        service_id: int | None = None,
        state: str | None = None,
    ) -> Page[TroubleTicketRecord]:
        query = self.access.private(TroubleTicketRecord)
        if service_id is not None:
            query = query.where(TroubleTicketRecord.service_id == service_id)
        if state is not None:
            query = query.where(TroubleTicketRecord.state == state)
        page = self.access.page(query, TroubleTicketRecord.id, first, after)
        self.current(page.items)
        return page

    def current(self, records: list[TroubleTicketRecord]) -> list[TroubleTicketRecord]:
        """A resolved ticket the buyer left unanswered past the template's window reads
        closed, as the contract reads it. Only the answer says so: the row is taken out of
        the session first, so reading never writes the store."""
        waiting = [
            r
            for r in records
            if r.state == TicketState.RESOLVED.api and r.window_ends_at is not None
        ]
        if waiting:
            now = self.chain_now()
            for record in waiting:
                if now >= int(_aware(record.window_ends_at).timestamp()):  # type: ignore[arg-type]
                    if record in self.access.session:
                        self.access.session.expunge(record)
                    record.state = TicketState.CLOSED.api
        return records

    def _tickets(self, ticket_ids: list[str]) -> list[TroubleTicketRecord]:
        """The viewer's tickets by id, in one query."""
        return self.current(
            self.access.get_private_many(TroubleTicketRecord, ticket_ids, what="trouble ticket")
        )

    def _next_numbers(self, service_ids: Iterable[int]) -> dict[int, int]:
        """Each service's next ticket number: after the highest in the store (every ticket
        is opened through the platform; were the store behind, the contract refuses a
        number already taken, so nothing is overwritten)."""
        wanted = list(dict.fromkeys(service_ids))
        highest = dict(
            self.access.session.exec(
                select(TroubleTicketRecord.service_id, func.max(TroubleTicketRecord.number))
                .where(col(TroubleTicketRecord.service_id).in_(wanted))
                .group_by(TroubleTicketRecord.service_id)
            ).all()
        )
        return {s: highest[s] + 1 if s in highest else 0 for s in wanted}

    def _services(self, service_ids: Iterable[int]) -> dict[int, ServiceRecord]:
        """The viewer's services by id, in one query."""
        wanted = list(dict.fromkeys(service_ids))
        rows = self.access.get_private_many(ServiceRecord, wanted, what="service")
        return dict(zip(wanted, rows, strict=True))

    def credit(self, credit_id: str) -> SlaCreditRecord:
        return self.access.get_private(SlaCreditRecord, credit_id, what="SLA credit")

    def credits(
        self, first: int | None, after: str | None, period: str | None = None
    ) -> Page[SlaCreditRecord]:
        query = self.access.private(SlaCreditRecord)
        if period is not None:
            query = query.where(SlaCreditRecord.period == parse_period(period))
        return self.access.page(query, SlaCreditRecord.id, first, after)

    # ------------------------------------------------------------------ the buyer's steps

    def check_opening(
        self,
        opening: TicketOpening,
        now: int,
        field: str = "ticket",
        service: ServiceRecord | None = None,
    ) -> ServiceRecord:
        """The checks of one opening, before anything is sent; its service."""
        buyer, _account = self._member()
        service = service or self._service(opening.service_id)
        if service.buyer != buyer:
            raise Forbidden(f"only the buyer of service {service.id} opens tickets on it")
        if service.state != ServiceState.ACTIVE.api:
            raise InvalidState(f"service {service.id} is not active")
        if opening.impact not in IMPACTS:
            raise ValidationFailed(
                f"impact is one of {', '.join(IMPACTS)}", field=f"{field}.impact"
            )
        if not 1 <= len(opening.description.strip()) <= MAX_DESCRIPTION:
            raise ValidationFailed(
                f"a description has 1 to {MAX_DESCRIPTION} characters",
                field=f"{field}.description",
            )
        start = epoch_seconds(opening.started_at, f"{field}.startedAt")
        if start > now:
            raise ValidationFailed(
                "an outage cannot start in the future", field=f"{field}.startedAt"
            )
        # (the contract does not refuse it, to save gas: it would count for nothing)
        ended = _aware(service.ended_at) if service.ended_at is not None else None
        if ended is not None and start >= int(ended.timestamp()):
            raise ValidationFailed(
                f"service {service.id} ended at {ended.isoformat()}: no outage starts after that",
                field=f"{field}.startedAt",
            )
        return service

    def open_tickets(self, openings: list[TicketOpening]) -> list[TroubleTicketRecord]:
        """Open tickets on the viewer's services (as their buyer); one transaction."""
        _buyer, account = self._member()
        _batch(openings, "tickets")
        now = self.chain_now()
        services = self._services(o.service_id for o in openings)
        for index, opening in enumerate(openings):
            self.check_opening(opening, now, f"tickets[{index}]", services[opening.service_id])
        documents = [{"description": o.description, "externalId": o.external_id} for o in openings]
        committed = [commit(document) for document in documents]
        numbering = self.platform.ticket_numbers
        with numbering.reserving(services, self._next_numbers) as numbers:
            try:
                receipt = self._send_openings(account, openings, committed, numbers)
            except InvalidState as exc:
                if "the ticket exists" not in exc.message:
                    raise
                # The store is behind the chain (a ticket whose request died after it was
                # sent, not yet retried): number from the chain's counters instead.
                receipt = self._send_openings(
                    account, openings, committed, self._chain_next_numbers(services)
                )
            # The ids are the ones the chain took, matched by commitment (in the order
            # asked): a retry that answers from its first attempt's transaction gets its
            # numbers.
            by_commitment = {
                "0x" + bytes(o["commitment"]).hex(): o["ticket_id"]
                for o in self._event(receipt, "TicketsOpened")["openings"]
            }
            highest: dict[int, int] = {}
            for ticket_id in by_commitment.values():
                service_id, number = split_ticket_id(ticket_id)
                highest[service_id] = max(number, highest.get(service_id, -1))
            numbering.taken(highest)
        return [
            self._projected(TroubleTicketRecord, ticket_key(*split_ticket_id(by_commitment[c])))
            for _salt, c in committed
        ]

    def _send_openings(
        self,
        account: Any,
        openings: list[TicketOpening],
        committed: list[tuple[str, str]],
        next_numbers: dict[int, int],
    ) -> Any:
        numbers = dict(next_numbers)
        entries = []
        for opening, (_salt, commitment) in zip(openings, committed, strict=True):
            number = numbers[opening.service_id]
            numbers[opening.service_id] += 1
            entries.append(
                (
                    chain_ticket_id(opening.service_id, number),
                    int(IMPACTS[opening.impact]),
                    int(opening.started_at.timestamp()),
                    bytes.fromhex(commitment[2:]),
                )
            )
        # In ticket id order: a service's tickets side by side, so the contract reads the
        # service once for all of them (~12k gas saved per ticket after the first).
        return self._send(account, "open_tickets", sorted(entries))

    def _chain_next_numbers(self, service_ids: Iterable[int]) -> dict[int, int]:
        return {
            s: self.contract.functions.next_ticket_number(s).call()
            for s in dict.fromkeys(service_ids)
        }

    def close_tickets(self, ticket_ids: list[str]) -> list[TroubleTicketRecord]:
        return self._step(
            ticket_ids,
            "close_tickets",
            buyer_step=True,
            allowed={TicketState.RESOLVED},
        )

    def reopen_tickets(self, ticket_ids: list[str]) -> list[TroubleTicketRecord]:
        return self._step(
            ticket_ids,
            "reopen_tickets",
            buyer_step=True,
            allowed={TicketState.RESOLVED},
        )

    def cancel_tickets(self, ticket_ids: list[str]) -> list[TroubleTicketRecord]:
        return self._step(
            ticket_ids,
            "cancel_tickets",
            buyer_step=True,
            allowed={TicketState.OPENED, *WORKING},
        )

    # ------------------------------------------------------------------ the seller's steps

    def acknowledge_tickets(self, ticket_ids: list[str]) -> list[TroubleTicketRecord]:
        return self._step(
            ticket_ids,
            "acknowledge_tickets",
            buyer_step=False,
            allowed={TicketState.OPENED},
        )

    def progress_tickets(self, ticket_ids: list[str], state: str) -> list[TroubleTicketRecord]:
        if state not in (TicketState.IN_PROGRESS.api, TicketState.PENDING.api):
            raise ValidationFailed("a ticket moves to inProgress or pending", field="state")
        target = TicketState.from_api(state)
        return self._step(
            ticket_ids,
            "progress_tickets",
            buyer_step=False,
            allowed=WORKING - {target},
            extra=(int(target),),
        )

    def resolve_tickets(self, resolutions: list[TicketResolution]) -> list[TroubleTicketRecord]:
        seller, account = self._member()
        _batch(resolutions, "tickets")
        now = self.chain_now()
        entries, notes = [], {}
        loaded = self._tickets([r.ticket_id for r in resolutions])
        for index, (resolution, record) in enumerate(zip(resolutions, loaded, strict=True)):
            field = f"tickets[{index}]"
            if record.seller != seller:
                raise Forbidden(f"only the seller resolves ticket {record.id}")
            self._refuse_unless(
                record.state in {s.api for s in WORKING},
                InvalidState(f"ticket {record.id} is {record.state}: acknowledge it first"),
            )
            if resolution.root_cause not in ROOT_CAUSES:
                raise ValidationFailed(
                    f"root cause is one of {', '.join(ROOT_CAUSES)}", field=f"{field}.rootCause"
                )
            end = epoch_seconds(resolution.ended_at, f"{field}.endedAt")
            if end < epoch_seconds(_aware(record.started_at), "startedAt"):
                raise ValidationFailed(
                    "the outage cannot end before it started", field=f"{field}.endedAt"
                )
            if end > now:
                raise ValidationFailed(
                    "the outage cannot end in the future", field=f"{field}.endedAt"
                )
            entries.append(
                (
                    chain_ticket_id(record.service_id, record.number),
                    end,
                    int(ROOT_CAUSES[resolution.root_cause]),
                )
            )
            if resolution.note:
                notes[record.id] = resolution.note
        if notes:  # private, uncommitted: kept with the transaction for the projector
            keep_note(RESOLUTION_NOTES, notes)
        self._send(account, "resolve_tickets", entries)
        return [self._projected(TroubleTicketRecord, record.id) for record in loaded]

    # ------------------------------------------------------------------ periods and credits

    def close_period(self, period_label: str, service_ids: list[int]) -> list[SlaCreditRecord]:
        """Close a period of services the viewer is party to; the contract computes each
        one's availability and credit from the closed `down` tickets. A service whose
        period has no outage fact (no down ticket in it) comes back endorsed: final, with
        nothing for either party to endorse or dispute; the others are calculated."""
        _member, account = self._member()
        period = parse_period(period_label)
        _batch(service_ids, "serviceIds")
        self._services(service_ids)
        receipt = self._send(account, "close_periods", period, service_ids)
        return [
            self._projected(SlaCreditRecord, f"{event['service_id']}-{period}")
            for event in self._events(receipt, "CreditCalculated")
        ]

    def endorse_credits(self, period_label: str, service_ids: list[int]) -> list[SlaCreditRecord]:
        """Endorse calculated credits as their buyer or seller. A final credit (endorsed by
        both, or by its close when its period had no outage) needs no endorsement and is
        refused, as the contract refuses it."""
        member, account = self._member()
        period = parse_period(period_label)
        _batch(service_ids, "serviceIds")
        records = self.access.get_private_many(
            SlaCreditRecord, [f"{s}-{period}" for s in service_ids], what="SLA credit"
        )
        for record in records:
            if record.state == CreditState.ENDORSED.api:
                self._refuse_unless(False, InvalidState(self._why_final(record)))
            self._refuse_unless(
                record.state == CreditState.CALCULATED.api,
                InvalidState(f"the credit {record.id} is {record.state}"),
            )
            self._refuse_unless(
                not (
                    record.endorsed_by_buyer
                    if member == record.buyer
                    else record.endorsed_by_seller
                ),
                InvalidState(f"you already endorsed the credit {record.id}"),
            )
        self._send(account, "endorse_credits", period, service_ids)
        return [self._projected(SlaCreditRecord, record.id) for record in records]

    def dispute_credit(
        self, service_id: int, period_label: str, ticket_ids: list[str], statement: str
    ) -> tuple[SlaCreditRecord, list[TroubleTicketRecord]]:
        """Contest the facts of some tickets behind a calculated credit: those tickets are
        reopened (the others stand); once closed again, the period is closed again."""
        _member, account = self._member()
        period = parse_period(period_label)
        _batch(ticket_ids, "ticketIds", MAX_DISPUTED)
        record = self.credit(f"{service_id}-{period}")
        tickets = [self.ticket(ticket_id) for ticket_id in ticket_ids]
        for ticket in tickets:
            if ticket.service_id != service_id:
                raise ValidationFailed(
                    f"ticket {ticket.id} is not a ticket of service {service_id}", field="ticketIds"
                )
        _salt, commitment = commit({"statement": statement, "tickets": ticket_ids})
        self._send(
            account,
            "dispute_credit",
            service_id,
            period,
            [chain_ticket_id(t.service_id, t.number) for t in tickets],
            bytes.fromhex(commitment[2:]),
        )
        return self._projected(SlaCreditRecord, record.id), [
            self._projected(TroubleTicketRecord, ticket.id) for ticket in tickets
        ]

    # ------------------------------------------------------------------ internals

    def _why_final(self, credit: SlaCreditRecord) -> str:
        """Why an endorsed credit needs no endorsement: its period had no outage fact (the
        close made it final), or both parties endorsed it. The facts are Assurance.vy's:
        down tickets, not cancelled, in the period as a dispute has it (starting before
        its end, and ending after its start or starting in it)."""
        low = period_start(credit.period)
        high = period_start(credit.period + 1)
        tickets = self.access.session.exec(
            self.access.private(TroubleTicketRecord).where(
                TroubleTicketRecord.service_id == credit.service_id,
                TroubleTicketRecord.impact == Impact.DOWN.api,
                TroubleTicketRecord.state != TicketState.CANCELLED.api,
            )
        ).all()
        for ticket in tickets:
            start = _aware(ticket.started_at)
            end = _aware(ticket.ended_at) if ticket.ended_at is not None else None
            if start < high and (end is None or end > low or start >= low):
                return f"the credit {credit.id} is final: both parties endorsed it"
        return (
            f"the credit {credit.id} needs no endorsement: its period had no outage, "
            "so it was final when the period closed"
        )

    def _service(self, service_id: int) -> ServiceRecord:
        return self.access.get_private(ServiceRecord, service_id, what="service")

    def _step(
        self,
        ticket_ids: list[str],
        function: str,
        *,
        buyer_step: bool,
        allowed: Iterable[TicketState],
        extra: tuple[Any, ...] = (),
    ) -> list[TroubleTicketRecord]:
        member, account = self._member()
        _batch(ticket_ids, "ticketIds")
        records = self._tickets(ticket_ids)
        for record in records:
            if (record.buyer if buyer_step else record.seller) != member:
                raise Forbidden(
                    f"only the {'buyer' if buyer_step else 'seller'} may do this to ticket {record.id}"
                )
            self._refuse_unless(
                record.state in {s.api for s in allowed},
                InvalidState(f"ticket {record.id} is {record.state}"),
            )
        self._send(
            account, function, [chain_ticket_id(r.service_id, r.number) for r in records], *extra
        )
        return [self._projected(TroubleTicketRecord, record.id) for record in records]


def _aware(moment: datetime) -> datetime:
    """SQLite gives datetimes back without their zone; the store writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
