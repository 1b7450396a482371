"""GraphQL for billing and settlement: invoices, settlement cycles (each member sees its
own position and payments), and the CFO's `liabilities` view with its balance per
counterparty (DESIGN names)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from cooperative import billing as billing_service
from cooperative.access import DataAccess
from cooperative.api.context import IDEMPOTENCY_KEY, AppInfo, mutate, query
from cooperative.api.ids import global_id, key_of, reference, refetchable
from cooperative.api.scalars import BigInt
from cooperative.api.types import (
    Connection,
    InvoiceState,
    LiabilityDirection,
    Node,
    SettlementCycleState,
    SettlementPaymentState,
    UserError,
    copy_fields,
)
from cooperative.billing import Billing, Settlement
from cooperative.periods import period_label
from cooperative.states import PaymentState
from cooperative.store import models


def _billing(info: AppInfo, access: DataAccess) -> Billing:
    return Billing(info.context.platform, access)


def _settlement(info: AppInfo, access: DataAccess) -> Settlement:
    return Settlement(info.context.platform, access)


@strawberry.type(
    description="An invoice seller -> buyer for one period (MEF 141 states); its two parties only."
)
class Invoice(Node):
    seller: str
    buyer: str
    period: str
    currency: str
    state: InvoiceState  # type: ignore[valid-type]
    charges: BigInt  # type: ignore[valid-type]
    credits: BigInt  # type: ignore[valid-type]
    amount_due: BigInt  # type: ignore[valid-type]
    document: JSON
    commitment: str
    cycle_id: strawberry.ID | None = reference("SettlementCycle")

    @classmethod
    def from_row(cls, row: models.InvoiceRecord) -> Invoice:
        return copy_fields(
            cls,
            row,
            period=period_label(row.period),
            charges=int(row.charges),
            credits=int(row.credits),
            amount_due=int(row.amount_due),
        )


@strawberry.type(description="A payment of a settlement cycle; its payer and payee only.")
class SettlementPayment(Node):
    cycle_id: strawberry.ID = reference("SettlementCycle")
    index: int
    payer: str
    payee: str
    amount: BigInt  # type: ignore[valid-type]
    confirmed_by_payer: bool
    confirmed_by_payee: bool

    @strawberry.field(description="Which of its parties have confirmed it (from the two flags).")
    def state(self) -> SettlementPaymentState:  # type: ignore[valid-type]
        flags = (
            PaymentState.PAYER * self.confirmed_by_payer
            | PaymentState.PAYEE * self.confirmed_by_payee
        )
        return PaymentState(flags).api  # type: ignore[return-value]

    @classmethod
    def from_row(cls, row: models.SettlementPaymentRecord) -> SettlementPayment:
        return copy_fields(cls, row, amount=int(row.amount))


@strawberry.type(
    description="A settlement cycle as the caller takes part in it: its own position and payments."
)
class SettlementCycle(Node):
    currency: str
    state: SettlementCycleState  # type: ignore[valid-type]
    # (no participant or payment counts: they would tell a member how many others had
    # invoices due; its own payments are in `payments`)
    opened_at: datetime
    as_seller: BigInt  # type: ignore[valid-type]
    as_buyer: BigInt  # type: ignore[valid-type]
    net: BigInt  # type: ignore[valid-type]
    payments: list[SettlementPayment]


def _cycle_view(
    settlement: Settlement, position: models.SettlementPositionRecord
) -> SettlementCycle:
    cycle = settlement.cycle(position.cycle_id)
    return SettlementCycle(
        id=global_id("SettlementCycle", cycle.id),
        currency=cycle.currency,
        state=cycle.state,
        opened_at=cycle.opened_at,
        as_seller=int(position.as_seller),
        as_buyer=int(position.as_buyer),
        net=int(position.net),
        payments=[SettlementPayment.from_row(p) for p in settlement.payments(cycle.id)],
    )


@strawberry.type(
    description="What the caller owes (payable) or is owed (receivable) by one counterparty, in one currency."
)
class Liability:
    counterparty: str
    currency: str
    direction: LiabilityDirection  # type: ignore[valid-type]
    credits_calculated: BigInt = strawberry.field(
        description="SLA credits computed, not endorsed by both yet"
    )  # type: ignore[valid-type]
    credits_endorsed: BigInt = strawberry.field(
        description="SLA credits endorsed, not invoiced yet"
    )  # type: ignore[valid-type]
    invoiced: BigInt = strawberry.field(description="invoiced amounts due, not settled yet")  # type: ignore[valid-type]


@strawberry.type(
    description="The caller's balance with one counterparty in one currency: what it owes, what it is owed, the net."
)
class CounterpartyBalance:
    counterparty: str
    currency: str
    payable: BigInt = strawberry.field(  # type: ignore[valid-type]
        description="What the caller owes: invoices it must pay, not settled, and SLA credits it owes (calculated or endorsed), not invoiced"
    )
    receivable: BigInt = strawberry.field(  # type: ignore[valid-type]
        description="What the caller is owed, the same way"
    )
    net: BigInt = strawberry.field(  # type: ignore[valid-type]
        description="receivable - payable: positive when the counterparty owes the caller"
    )


def counterparty_balances(
    liabilities: list[billing_service.Liability],
) -> list[CounterpartyBalance]:
    """`liabilities` (one row per counterparty, currency and direction) summed into one
    balance per counterparty and currency, in the same order."""
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for item in liabilities:
        amounts = sums.setdefault((item.counterparty, item.currency), defaultdict(int))
        amounts[item.direction] += item.credits_calculated + item.credits_endorsed + item.invoiced
    return [
        CounterpartyBalance(
            counterparty=counterparty,
            currency=currency,
            payable=amounts["payable"],
            receivable=amounts["receivable"],
            net=amounts["receivable"] - amounts["payable"],
        )
        for (counterparty, currency), amounts in sums.items()
    ]


@strawberry.type
class BillingQuery:
    @strawberry.field(description="Invoices the caller issued or received.")
    def invoices(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        state: InvoiceState | None = None,  # type: ignore[valid-type]
    ) -> Connection[Invoice]:
        return query(
            info,
            lambda a: Connection.from_page(
                _billing(info, a).invoices(first, after, state), Invoice.from_row
            ),
        )

    @strawberry.field
    def invoice(self, info: AppInfo, id: strawberry.ID) -> Invoice:
        return _invoice(info, key_of(id, "Invoice", "id"))

    @strawberry.field(
        description="Settlement cycles the caller took part in, with its own position and payments."
    )
    def settlement_cycles(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[SettlementCycle]:
        def work(a: DataAccess) -> Connection[SettlementCycle]:
            settlement = _settlement(info, a)
            return Connection.from_page(
                settlement.cycles(first, after), lambda p: _cycle_view(settlement, p)
            )

        return query(info, work)

    @strawberry.field(
        description="The CFO view: outstanding credits and unsettled amounts per counterparty."
    )
    def liabilities(self, info: AppInfo) -> list[Liability]:
        return query(
            info,
            lambda a: [
                Liability(
                    counterparty=item.counterparty,
                    currency=item.currency,
                    direction=item.direction,
                    credits_calculated=item.credits_calculated,
                    credits_endorsed=item.credits_endorsed,
                    invoiced=item.invoiced,
                )
                for item in _settlement(info, a).liabilities()
            ],
        )

    @strawberry.field(
        description="The CFO view summed per counterparty and currency: payable, receivable and net (the same amounts as `liabilities`)."
    )
    def counterparty_balances(self, info: AppInfo) -> list[CounterpartyBalance]:
        return query(info, lambda a: counterparty_balances(_settlement(info, a).liabilities()))


# the by-id reads, which node(id:) uses too
@refetchable("Invoice")
def _invoice(info: AppInfo, key: int) -> Invoice:
    return query(info, lambda a: Invoice.from_row(_billing(info, a).invoice(key)))


@refetchable("SettlementCycle")
def _cycle(info: AppInfo, key: int) -> SettlementCycle:
    def work(a: DataAccess) -> SettlementCycle:
        settlement = _settlement(info, a)
        return _cycle_view(settlement, settlement.position(key))

    return query(info, work)


@refetchable("SettlementPayment")
def _payment(info: AppInfo, key: str) -> SettlementPayment:
    return query(info, lambda a: SettlementPayment.from_row(_settlement(info, a).payment(key)))


@strawberry.input
class IssueInvoiceInput:
    buyer: str
    period: str = strawberry.field(description="The month, YYYY-MM; over")
    currency: str
    service_ids: list[strawberry.ID] | None = reference(
        "Service",
        default=None,
        description="Default: every active service of the pair in the currency whose credit for the period is endorsed and not invoiced",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class RunSettlementCycleInput:
    currency: str
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class ConfirmPaymentInput:
    payment_id: strawberry.ID = reference("SettlementPayment")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class InvoicePayload:
    invoice: Invoice | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SettlementCyclePayload:
    cycle: SettlementCycle | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentPayload:
    payment: SettlementPayment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BillingMutation:
    @strawberry.mutation(description="The seller invoices a buyer for a period that is over.")
    def issue_invoice(self, info: AppInfo, input: IssueInvoiceInput) -> InvoicePayload:
        return mutate(
            info,
            InvoicePayload,
            lambda a: InvoicePayload(
                invoice=Invoice.from_row(
                    _billing(info, a).issue_invoice(
                        input.buyer,
                        input.period,
                        input.currency,
                        input.service_ids,
                    )
                )
            ),
            input,
        )

    @strawberry.mutation(
        description="Net every payment-due invoice in a currency among all members."
    )
    def run_settlement_cycle(
        self, info: AppInfo, input: RunSettlementCycleInput
    ) -> SettlementCyclePayload:
        def work(a: DataAccess) -> SettlementCyclePayload:
            settlement = _settlement(info, a)
            cycle = settlement.run_settlement_cycle(input.currency)
            a.session.flush()
            position = a.session.get(
                models.SettlementPositionRecord, f"{cycle.id}-{a.viewer.principal}"
            )
            if (
                position is None
            ):  # the runner (an admin, or a member without invoices) has no position
                position = models.SettlementPositionRecord(
                    id="",
                    cycle_id=cycle.id,
                    member=a.viewer.principal,
                    as_seller=0,
                    as_buyer=0,
                    net=0,
                )
            return SettlementCyclePayload(cycle=_cycle_view(settlement, position))

        return mutate(info, SettlementCyclePayload, work, input)

    @strawberry.mutation(
        description="Payer or payee confirms a payment; the cycle settles when all are confirmed."
    )
    def confirm_payment(self, info: AppInfo, input: ConfirmPaymentInput) -> PaymentPayload:
        return mutate(
            info,
            PaymentPayload,
            lambda a: PaymentPayload(
                payment=SettlementPayment.from_row(
                    _settlement(info, a).confirm_payment(input.payment_id)
                )
            ),
            input,
        )
