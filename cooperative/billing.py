"""Billing and settlement for the platform's users: invoices seller -> buyer per period,
multilateral netting cycles, payments both sides confirm, and the CFO's liability view.

The Billing contract computes every invoice line (pro-rated recurring charge less the
period's final SLA credit: endorsed by both parties, or by the period's close when the
service had no outage in it); the seller only chooses the services. Settlement nets a
currency's payment-due invoices among all members with the fewest payments the greedy
matching finds (at most members - 1, as the contract checks), and each payment is
confirmed by payer and payee. Invoices are visible to their two parties, a cycle shows
each member its own position and payments only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from web3 import Web3

from cooperative.access import Page
from cooperative.commitments import commit
from cooperative.currencies import currency_number
from cooperative.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from cooperative.module_service import ModuleService
from cooperative.periods import parse_period
from cooperative.signing import RelayedSigner
from cooperative.states import CreditState, Direction, InvoiceState, ServiceState
from cooperative.store.models import (
    InvoiceRecord,
    Role,
    ServiceRecord,
    SettlementCycleRecord,
    SettlementPaymentRecord,
    SettlementPositionRecord,
    SlaCreditRecord,
)
from deployments.chain import Signer

MAX_LINES = 500  # Billing.vy's bound per call
MAX_INVOICES = 500  # Settlement.vy's bound per cycle
# A confirmation that settles a full cycle: ~4.1 M gas measured for 380 invoices (titanoboa),
# so 500 invoices with headroom. Only the gas used is paid.
SETTLING_CONFIRMATION_GAS = 8_000_000


def net_payments(positions: dict[str, int]) -> list[tuple[str, str, int]]:
    """Payments (payer, payee, amount) that clear net positions summing to zero: the
    largest debtor pays the largest creditor, repeatedly. Each payment clears at least one
    position, so there are at most (members with a position) - 1 of them."""
    debtors = sorted(((-net, m) for m, net in positions.items() if net < 0), reverse=True)
    creditors = sorted(((net, m) for m, net in positions.items() if net > 0), reverse=True)
    payments: list[tuple[str, str, int]] = []
    d = c = 0
    owed = [amount for amount, _ in debtors]
    due = [amount for amount, _ in creditors]
    while d < len(debtors) and c < len(creditors):
        amount = min(owed[d], due[c])
        payments.append((debtors[d][1], creditors[c][1], amount))
        owed[d] -= amount
        due[c] -= amount
        if owed[d] == 0:
            d += 1
        if due[c] == 0:
            c += 1
    return payments


class Billing(ModuleService):
    module = "Billing"

    def invoice(self, invoice_id: int) -> InvoiceRecord:
        return self.access.get_private(InvoiceRecord, invoice_id, what="invoice")

    def invoices(
        self, first: int | None, after: str | None, state: str | None = None
    ) -> Page[InvoiceRecord]:
        query = self.access.private(InvoiceRecord)
        if state is not None:
            query = query.where(InvoiceRecord.state == state)
        return self.access.page(query, InvoiceRecord.id, first, after)

    def issue_invoice(
        self, buyer: str, period: str, currency: str, service_ids: list[int] | None = None
    ) -> InvoiceRecord:
        """The seller invoices a buyer for a period that is over. Without `service_ids`:
        every active service of the pair in that currency whose credit for the period is
        endorsed (final: by both parties, or by the period's close when the service had no
        outage in it, which needs no endorsement) and that is not invoiced yet."""
        seller, account = self._member()
        if service_ids == []:
            raise ValidationFailed(
                "name at least one service, or leave serviceIds out to invoice every one due",
                field="serviceIds",
            )
        try:
            buyer = Web3.to_checksum_address(buyer)
        except ValueError as exc:
            raise ValidationFailed("the buyer is a member address", field="buyer") from exc
        self.access.member(buyer)
        number = parse_period(period)
        code, numeric = currency.upper(), currency_number(currency)
        credits = {
            c.service_id: c
            for c in self.access.session.exec(
                self.access.private(SlaCreditRecord).where(
                    SlaCreditRecord.period == number,
                    SlaCreditRecord.seller == seller,
                    SlaCreditRecord.buyer == buyer,
                )
            ).all()
        }
        if service_ids is None:
            services = self.access.session.exec(
                self.access.private(ServiceRecord).where(
                    ServiceRecord.seller == seller,
                    ServiceRecord.buyer == buyer,
                    ServiceRecord.currency == code,
                    ServiceRecord.state == ServiceState.ACTIVE.api,
                )
            ).all()
            service_ids = [
                s.id
                for s in services
                if s.id in credits
                and credits[s.id].state == CreditState.ENDORSED.api
                and credits[s.id].invoice_id is None
            ]
            self._refuse_unless(
                bool(service_ids),
                ValidationFailed(
                    f"no service of this buyer in {code} has an endorsed, uninvoiced credit for {period}"
                    " (close the period first; a credit with outages needs both endorsements)",
                    field="period",
                ),
            )
        for service in self.access.get_private_many(ServiceRecord, service_ids, what="service"):
            if service.seller != seller:
                raise Forbidden(f"only the seller invoices service {service.id}")
        chunks = [
            service_ids[i : i + MAX_LINES] for i in range(0, len(service_ids), MAX_LINES)
        ] or [[]]  # (a retry answered from recorded transactions may find none left to pick)
        # Several transactions: projected together after the last one (see _send).
        receipts = [
            self._send(account, "issue_invoice", buyer, number, numeric, chunks[0], project=False)
        ]
        invoice_id = self._event(receipts[0], "InvoiceGenerated")["invoice_id"]
        for chunk in chunks[1:]:
            receipts.append(
                self._send(account, "add_invoice_lines", invoice_id, chunk, project=False)
            )
        lines = [line for receipt in receipts for line in self._lines(receipt)]
        _salt, commitment = commit({"period": period, "currency": code, "lines": lines})
        receipts.append(
            self._send(
                account,
                "finalize_invoice",
                invoice_id,
                bytes.fromhex(commitment[2:]),
                project=False,
            )
        )
        self._project(*receipts)
        return self._projected(InvoiceRecord, invoice_id)

    def _lines(self, receipt: Any) -> list[dict[str, Any]]:
        return [
            {
                "serviceId": e["service_id"],
                "billableDays": e["billable_days"],
                "charge": e["charge"],
                "credit": e["credit"],
            }
            for e in self._events(receipt, "InvoiceLine")
        ]


@dataclass(frozen=True)
class Liability:
    counterparty: str
    currency: str
    direction: Direction
    credits_calculated: int  # SLA credits computed, not endorsed by both yet
    credits_endorsed: int  # endorsed, not invoiced yet
    invoiced: int  # invoiced (amount due), not settled yet


class Settlement(ModuleService):
    module = "Settlement"

    def _runner(self) -> tuple[str, Signer]:
        """Who asks for a cycle, and who sends it: a member with its custodial key; the
        operator for an admin, and for a member holding its own key. The cycle's calldata
        lists every due invoice and every payment of the currency, which a member signing
        it would read; and running a cycle commits no member to anything (each payment
        waits on its payer's and payee's own confirmations), so the operator may send it."""
        operator = self.platform.operator()
        if self.access.viewer.role is Role.ADMIN:
            return operator.address, operator
        member, account = self._member()
        return member, operator if isinstance(account, RelayedSigner) else account

    def run_settlement_cycle(self, currency: str) -> SettlementCycleRecord:
        """Net every payment-due invoice in `currency` not yet in a cycle, among all members."""
        runner, account = self._runner()
        code, numeric = currency.upper(), currency_number(currency)
        # The netting reads every member's due invoices: a computation of the platform,
        # whose results (positions, payments) each member sees only for itself.
        invoices = self.access.system_rows(
            select(InvoiceRecord)
            .where(
                InvoiceRecord.currency == code,
                InvoiceRecord.state == InvoiceState.PAYMENT_DUE.api,
                col(InvoiceRecord.cycle_id).is_(None),
            )
            .order_by(col(InvoiceRecord.id))
            .limit(MAX_INVOICES)
        )
        # A member runs a cycle only for invoices it is party to, and the refusal is the
        # same whether other members have invoices due or not: it learns nothing of them.
        ours = self.access.viewer.role is Role.ADMIN or any(
            runner in (i.seller, i.buyer) for i in invoices
        )
        self._refuse_unless(
            bool(invoices) and ours,
            InvalidState(f"you have no invoice in {code} waiting for settlement"),
        )
        positions: dict[str, int] = defaultdict(int)
        for invoice in invoices:
            positions[invoice.seller] += int(invoice.amount_due)
            positions[invoice.buyer] -= int(invoice.amount_due)
        payments = net_payments(positions)
        receipt = self._send(
            account, "run_settlement_cycle", numeric, [i.id for i in invoices], payments
        )
        cycle_id = self._event(receipt, "SettlementCycleOpened")["cycle_id"]
        return self._projected(SettlementCycleRecord, cycle_id)

    def payment(self, payment_id: str) -> SettlementPaymentRecord:
        """One payment (`<cycle>-<index>`) the viewer pays or receives."""
        return self.access.get_private(SettlementPaymentRecord, payment_id, what="payment")

    def confirm_payment(self, payment_id: str) -> SettlementPaymentRecord:
        member, account = self._member()
        payment = self.payment(payment_id)
        cycle_id, payment_index = payment.cycle_id, payment.index
        already = (
            payment.confirmed_by_payer if member == payment.payer else payment.confirmed_by_payee
        )
        self._refuse_unless(
            not already, InvalidState(f"you already confirmed payment {payment.id}")
        )
        # Whichever confirmation comes last settles every invoice of the cycle (~11k gas
        # each): an estimate made while another confirmation was pending would be too low.
        self._send(
            account, "confirm_payment", cycle_id, payment_index, gas=SETTLING_CONFIRMATION_GAS
        )
        return self._projected(SettlementPaymentRecord, payment.id)

    def cycles(self, first: int | None, after: str | None) -> Page[SettlementPositionRecord]:
        """The viewer's positions, one per cycle it took part in."""
        return self.access.page(
            self.access.private(SettlementPositionRecord), SettlementPositionRecord.id, first, after
        )

    def position(self, cycle_id: int) -> SettlementPositionRecord:
        """The viewer's position in one cycle: a cycle is the viewer's where it has one."""
        position = self.access.session.exec(
            self.access.private(SettlementPositionRecord).where(
                SettlementPositionRecord.cycle_id == cycle_id
            )
        ).first()
        if position is None:
            raise NotFound(f"settlement cycle {cycle_id} does not exist")
        return position

    def cycle(self, cycle_id: int) -> SettlementCycleRecord:
        cycle = self.access.session.get(SettlementCycleRecord, cycle_id)
        if cycle is None:
            raise InvalidState(f"cycle {cycle_id} is not recorded")
        return cycle

    def payments(self, cycle_id: int) -> list[SettlementPaymentRecord]:
        return list(
            self.access.session.exec(
                self.access.private(SettlementPaymentRecord)
                .where(SettlementPaymentRecord.cycle_id == cycle_id)
                .order_by(col(SettlementPaymentRecord.index))
            ).all()
        )

    # ------------------------------------------------------------------ the CFO's view

    def liabilities(self) -> list[Liability]:
        """Per counterparty and currency, what the viewer owes (payable) and is owed
        (receivable): SLA credits calculated but not endorsed, endorsed but not invoiced,
        and invoiced amounts not settled. A credit is owed by the seller to the buyer; an
        invoice by the buyer to the seller."""
        me = self.access.viewer.principal
        sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        credits = self.access.session.exec(
            self.access.private(SlaCreditRecord).where(col(SlaCreditRecord.invoice_id).is_(None))
        ).all()
        for credit in credits:
            if int(credit.amount) == 0 or credit.state == CreditState.DISPUTED.api:
                continue
            buyer_side = credit.buyer == me
            key = (
                credit.seller if buyer_side else credit.buyer,
                credit.currency,
                Direction.RECEIVABLE if buyer_side else Direction.PAYABLE,
            )
            sums[key][0 if credit.state == CreditState.CALCULATED.api else 1] += int(credit.amount)
        invoices = self.access.session.exec(
            self.access.private(InvoiceRecord).where(
                InvoiceRecord.state != InvoiceState.SETTLED.api
            )
        ).all()
        for invoice in invoices:
            buyer_side = invoice.buyer == me
            key = (
                invoice.seller if buyer_side else invoice.buyer,
                invoice.currency,
                Direction.PAYABLE if buyer_side else Direction.RECEIVABLE,
            )
            sums[key][2] += int(invoice.amount_due)
        return [
            Liability(counterparty, currency, direction, *amounts)
            for (counterparty, currency, direction), amounts in sorted(sums.items())
        ]
