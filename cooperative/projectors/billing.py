"""Billing and settlement: invoices, settlement cycles, net positions and payments."""

from __future__ import annotations

from sqlmodel import col, select

from cooperative.currencies import currency_code
from cooperative.projectors.base import Event, Handler, Projector, Run, hex32
from cooperative.states import (
    PAYMENT_CONFIRMED_EVENT,
    PAYMENT_INSTRUCTED_EVENT,
    SETTLEMENT_POSITION_EVENT,
    CycleState,
    InvoiceState,
    PaymentState,
)
from cooperative.store.models import (
    InvoiceRecord,
    SettlementCycleRecord,
    SettlementPaymentRecord,
    SettlementPositionRecord,
    SlaCreditRecord,
)


class BillingProjector(Projector):
    contract_name = "Billing"

    def handlers(self) -> dict[str, Handler]:
        return {
            "InvoiceGenerated": self._generated,
            "InvoiceLine": self._line,
            "InvoicePaymentDue": self._payment_due,
            "InvoiceSettled": self._settled,
        }

    def prefetch(self, run: Run, events: list[Event]) -> None:
        """The credits an invoice's lines (up to 500 a transaction) invoice, in one go."""
        if not run.records:
            return
        periods = {
            e.args["invoice_id"]: e.args["period"] for e in events if e.name == "InvoiceGenerated"
        }
        credits = []
        for event in events:
            if event.name != "InvoiceLine":
                continue
            invoice_id = event.args["invoice_id"]
            if invoice_id not in periods:
                invoice = run.get(InvoiceRecord, invoice_id)
                periods[invoice_id] = invoice.period if invoice is not None else None
            if periods[invoice_id] is not None:
                credits.append(f"{event.args['service_id']}-{periods[invoice_id]}")
        run.load(SlaCreditRecord, credits)

    def _generated(self, run: Run, event: Event) -> None:
        """The seller started an invoice; its lines follow, its totals come when it is
        finalised (payment due)."""
        if not run.records:
            return
        args = event.args
        run.add(
            InvoiceRecord(
                id=args["invoice_id"],
                seller=args["seller"],
                buyer=args["buyer"],
                period=args["period"],
                currency=currency_code(args["currency"]),
                state=InvoiceState.GENERATED.api,
                charges=0,
                credits=0,
                amount_due=0,
                document={},
                salt="",
                commitment="",
                updated_at=event.time,
            )
        )

    def _line(self, run: Run, event: Event) -> None:
        """The line's service's credit for the period is invoiced with it."""
        invoice = run.get(InvoiceRecord, event.args["invoice_id"])
        if not run.records or invoice is None:
            return
        credit = run.get(SlaCreditRecord, f"{event.args['service_id']}-{invoice.period}")
        if credit is not None:
            credit.invoice_id = invoice.id
            run.add(credit)

    def _payment_due(self, run: Run, event: Event) -> None:
        args = event.args
        invoice = run.get(InvoiceRecord, args["invoice_id"])
        if run.records and invoice is not None:
            salt, document = run.documents.committed(event, args["commitment"])
            invoice.state = InvoiceState.PAYMENT_DUE.api
            invoice.charges, invoice.credits = args["charges"], args["credits"]
            invoice.amount_due = args["amount_due"]
            invoice.document, invoice.salt = document, salt
            invoice.commitment = hex32(args["commitment"])
            invoice.updated_at = event.time
            run.add(invoice)
        self._feed(run, event, InvoiceState.PAYMENT_DUE)

    def _settled(self, run: Run, event: Event) -> None:
        invoice = run.get(InvoiceRecord, event.args["invoice_id"])
        if run.records and invoice is not None:
            invoice.state, invoice.updated_at = InvoiceState.SETTLED.api, event.time
            invoice.cycle_id = event.args["cycle_id"]
            run.add(invoice)
        self._feed(run, event, InvoiceState.SETTLED)

    @staticmethod
    def _feed(run: Run, event: Event, state: InvoiceState) -> None:
        for member in (event.args["seller"], event.args["buyer"]):
            run.feed(event, member, state.event, invoiceId=event.args["invoice_id"])


class SettlementProjector(Projector):
    """A cycle's public frame, each member's own position and the payments of its two
    parties."""

    contract_name = "Settlement"

    def handlers(self) -> dict[str, Handler]:
        return {
            "SettlementCycleOpened": self._opened,
            "NetPosition": self._position,
            "PaymentInstructed": self._payment_instructed,
            "PaymentConfirmed": self._payment_confirmed,
            "SettlementCycleSettled": self._closed,
            "SettlementCycleCancelled": self._closed,
        }

    def _opened(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        args = event.args
        cycle_id = args["cycle_id"]
        run.add(
            SettlementCycleRecord(
                id=cycle_id,
                currency=currency_code(args["currency"]),
                state=CycleState.CONFIRMING.api,
                runner=args["runner"],
                invoice_count=len(args["invoice_ids"]),
                participant_count=args["participant_count"],
                payment_count=args["payment_count"],
                opened_at=event.time,
                updated_at=event.time,
            )
        )
        for invoice in run.session.exec(
            select(InvoiceRecord).where(col(InvoiceRecord.id).in_(list(args["invoice_ids"])))
        ).all():
            invoice.cycle_id, invoice.updated_at = cycle_id, event.time
            run.add(invoice)

    def _position(self, run: Run, event: Event) -> None:
        args = event.args
        if run.records:
            run.add(
                SettlementPositionRecord(
                    id=f"{args['cycle_id']}-{args['member']}",
                    cycle_id=args["cycle_id"],
                    member=args["member"],
                    as_seller=args["as_seller"],
                    as_buyer=args["as_buyer"],
                    net=args["net"],
                )
            )
        run.feed(event, args["member"], SETTLEMENT_POSITION_EVENT, cycleId=args["cycle_id"])

    def _payment_instructed(self, run: Run, event: Event) -> None:
        args = event.args
        if run.records:
            run.add(
                SettlementPaymentRecord(
                    id=f"{args['cycle_id']}-{args['payment_index']}",
                    cycle_id=args["cycle_id"],
                    index=args["payment_index"],
                    payer=args["payer"],
                    payee=args["payee"],
                    amount=args["amount"],
                )
            )
        for member in (args["payer"], args["payee"]):
            run.feed(
                event,
                member,
                PAYMENT_INSTRUCTED_EVENT,
                cycleId=args["cycle_id"],
                paymentIndex=args["payment_index"],
            )

    def _payment_confirmed(self, run: Run, event: Event) -> None:
        args = event.args
        payment = run.get(SettlementPaymentRecord, f"{args['cycle_id']}-{args['payment_index']}")
        if run.records and payment is not None:
            payment.confirmed_by_payer = bool(args["confirmations"] & PaymentState.PAYER)
            payment.confirmed_by_payee = bool(args["confirmations"] & PaymentState.PAYEE)
            run.add(payment)
        if not run.feeds:
            return
        if payment is not None:
            parties = {payment.payer, payment.payee}
        else:
            on_chain = self.contract.functions.payments(
                args["cycle_id"], args["payment_index"]
            ).call()
            parties = {on_chain[0], on_chain[1]}
        for member in sorted(parties):
            run.feed(
                event,
                member,
                PAYMENT_CONFIRMED_EVENT,
                cycleId=args["cycle_id"],
                paymentIndex=args["payment_index"],
            )

    def _closed(self, run: Run, event: Event) -> None:
        """Settled (its invoices settle with it: Billing's InvoiceSettled) or cancelled;
        every member with a position in the cycle hears of it."""
        cycle_id = event.args["cycle_id"]
        state = (
            CycleState.SETTLED if event.name == "SettlementCycleSettled" else CycleState.CANCELLED
        )
        cycle = run.get(SettlementCycleRecord, cycle_id)
        if run.records and cycle is not None:
            cycle.state, cycle.updated_at = state.api, event.time
            run.add(cycle)
        if not run.feeds:
            return
        members = run.session.exec(
            select(SettlementPositionRecord.member).where(
                SettlementPositionRecord.cycle_id == cycle_id
            )
        ).all()
        for member in sorted(members):
            run.feed(event, member, state.event, cycleId=cycle_id)
