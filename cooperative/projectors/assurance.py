"""SLA assurance: trouble tickets and the SLA credit of each service's closed period.

A batch of tickets is one feed entry per party, naming its tickets.
"""

from __future__ import annotations

from cooperative.projectors.base import Event, Handler, Projector, Run, chain_time, hex32
from cooperative.states import (
    CREDIT_EVENTS,
    CreditState,
    Impact,
    RootCause,
    TicketState,
    split_ticket_id,
    ticket_key,
)
from cooperative.store.models import ServiceRecord, SlaCreditRecord, TroubleTicketRecord

# CreditEndorsed's party when the period's close made the credit final (Assurance.vy)
CLOSE_ENDORSES = "0x0000000000000000000000000000000000000000"
RESOLUTION_NOTES = "resolutionNotes"  # the outbox note of a resolution: ticket id -> note
WINDOW = 7  # SlaTemplates.template(): the resolution window's place in the tuple


class AssuranceProjector(Projector):
    contract_name = "Assurance"

    def handlers(self) -> dict[str, Handler]:
        return {
            "TicketsOpened": self._opened,
            "TicketsResolved": self._resolved,
            "TicketsChanged": self._changed,
            "CreditCalculated": self._credit_calculated,
            "CreditEndorsed": self._credit_endorsed,
            "CreditDisputed": self._credit_disputed,
        }

    def prefetch(self, run: Run, events: list[Event]) -> None:
        """The credits and services a batch's events touch (up to 500 a transaction): the
        services for the feed's parties too."""
        credits = [
            f"{e.args['service_id']}-{e.args['period']}" for e in events if e.name in CREDIT_EVENTS
        ]
        services = {e.args["service_id"] for e in events if e.name in CREDIT_EVENTS}
        for event in events:
            if event.name == "TicketsOpened":
                services |= {split_ticket_id(o["ticket_id"])[0] for o in event.args["openings"]}
            elif event.name == "TicketsResolved":
                services |= {split_ticket_id(r["ticket_id"])[0] for r in event.args["resolutions"]}
            elif event.name == "TicketsChanged" and run.feeds:  # (the feed's parties)
                services |= {split_ticket_id(t)[0] for t in event.args["ticket_ids"]}
        if run.records:
            run.load(SlaCreditRecord, credits)
        run.load(ServiceRecord, sorted(services))

    # ------------------------------------------------------------------ tickets

    def _opened(self, run: Run, event: Event) -> None:
        openings = event.args["openings"]
        if run.records:
            for opening in openings:
                service_id, number = split_ticket_id(opening["ticket_id"])
                buyer, seller = self.projection.parties_of_service(run, service_id)
                salt, document = run.documents.committed(event, opening["commitment"])
                run.add(
                    TroubleTicketRecord(
                        id=ticket_key(service_id, number),
                        service_id=service_id,
                        number=number,
                        buyer=buyer,
                        seller=seller,
                        state=TicketState.OPENED.api,
                        impact=Impact(opening["impact"]).api,
                        started_at=chain_time(opening["start"]),
                        document=document,
                        salt=salt,
                        commitment=hex32(opening["commitment"]),
                        updated_at=event.time,
                    )
                )
        self._feed(run, event, [o["ticket_id"] for o in openings], TicketState.OPENED.event)

    def _resolved(self, run: Run, event: Event) -> None:
        resolutions = event.args["resolutions"]
        if run.records:
            notes = run.documents.note(event, RESOLUTION_NOTES) or {}
            for resolution, record in zip(
                resolutions, self._tickets(run, [r["ticket_id"] for r in resolutions]), strict=True
            ):
                if record is None:
                    continue
                record.state = TicketState.RESOLVED.api
                record.ended_at = chain_time(resolution["end"])
                record.root_cause = RootCause(resolution["cause"]).api
                record.resolved_at = event.time
                record.window_ends_at = chain_time(
                    event.timestamp + self._window(run, record.service_id)
                )
                if notes.get(record.id):
                    record.document = {**record.document, "resolutionNote": notes[record.id]}
                record.updated_at = event.time
                run.add(record)
        self._feed(run, event, [r["ticket_id"] for r in resolutions], TicketState.RESOLVED.event)

    def _changed(self, run: Run, event: Event) -> None:
        state = TicketState(event.args["state"])
        ids = list(event.args["ticket_ids"])
        if run.records:
            for record in self._tickets(run, ids):
                if record is not None:
                    record.state, record.updated_at = state.api, event.time
                    run.add(record)
        self._feed(run, event, ids, state.event)

    def _tickets(self, run: Run, chain_ids: list[int]) -> list[TroubleTicketRecord | None]:
        return run.get_many(
            TroubleTicketRecord, [ticket_key(*split_ticket_id(t)) for t in chain_ids]
        )

    def _window(self, run: Run, service_id: int) -> int:
        """The resolution window (seconds) of the service's SLA template."""
        service = run.get(ServiceRecord, service_id)
        template = (
            service.sla_template
            if service is not None
            else self.projection.handle("Ordering").functions.services(service_id).call()[2]
        )
        return self.projection.template_terms(template)[WINDOW]

    def _feed(self, run: Run, event: Event, chain_ids: list[int], kind: str) -> None:
        if not run.feeds:
            return
        by_member: dict[str, list[str]] = {}
        for ticket_id in chain_ids:
            service_id, number = split_ticket_id(ticket_id)
            for member in self.projection.parties_of_service(run, service_id):
                by_member.setdefault(member, []).append(ticket_key(service_id, number))
        for member, tickets in by_member.items():
            run.feed(event, member, kind, ticketIds=tickets)

    # ------------------------------------------------------------------ credits

    def _credit(self, run: Run, event: Event) -> SlaCreditRecord | None:
        return run.get(SlaCreditRecord, f"{event.args['service_id']}-{event.args['period']}")

    def _credit_calculated(self, run: Run, event: Event) -> None:
        args = event.args
        if run.records:
            record = self._credit(run, event)
            if record is None:
                service = run.get(ServiceRecord, args["service_id"])
                buyer, seller = self.projection.parties_of_service(run, args["service_id"])
                record = SlaCreditRecord(
                    id=f"{args['service_id']}-{args['period']}",
                    service_id=args["service_id"],
                    period=args["period"],
                    buyer=buyer,
                    seller=seller,
                    currency=service.currency if service is not None else "",
                    state=CreditState.CALCULATED.api,
                    amount=0,
                    credit_bps=0,
                    availability_ppm=0,
                    outage_seconds=0,
                )
            record.state = CreditState.CALCULATED.api
            record.amount, record.credit_bps = args["amount"], args["credit_bps"]
            record.availability_ppm = args["availability_ppm"]
            record.outage_seconds = args["outage_seconds"]
            record.endorsed_by_buyer = record.endorsed_by_seller = False
            record.updated_at = event.time
            run.add(record)
        self._credit_feed(run, event)

    def _credit_endorsed(self, run: Run, event: Event) -> None:
        """One party's endorsement; or, from the zero address, the close's own (a period
        with no outage fact is final at once: endorsed by both, nobody had to)."""
        record = self._credit(run, event)
        if run.records and record is not None:
            party = event.args["party"]
            if party == record.buyer or party == CLOSE_ENDORSES:
                record.endorsed_by_buyer = True
            if party == record.seller or party == CLOSE_ENDORSES:
                record.endorsed_by_seller = True
            record.state = CreditState(event.args["state"]).api
            record.updated_at = event.time
            run.add(record)
        self._credit_feed(run, event)

    def _credit_disputed(self, run: Run, event: Event) -> None:
        args = event.args
        record = self._credit(run, event)
        if run.records and record is not None:
            record.state, record.updated_at = CreditState.DISPUTED.api, event.time
            run.add(record)
            salt, document = run.documents.committed(event, args["commitment"])
            dispute = {
                "statement": document.get("statement", ""),
                "salt": salt,
                "commitment": hex32(args["commitment"]),
            }
            for ticket in self._tickets(run, list(args["ticket_ids"])):
                if ticket is not None:  # reopened by the TicketsChanged just before
                    ticket.document = {**ticket.document, "dispute": dispute}
                    run.add(ticket)
        self._credit_feed(run, event)

    def _credit_feed(self, run: Run, event: Event) -> None:
        if not run.feeds:
            return
        service_id, period = event.args["service_id"], event.args["period"]
        for member in self.projection.parties_of_service(run, service_id):
            run.feed(
                event,
                member,
                CREDIT_EVENTS[event.name],
                creditId=f"{service_id}-{period}",
                serviceId=service_id,
            )
