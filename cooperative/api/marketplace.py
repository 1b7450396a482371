"""GraphQL for the marketplace: offerings, quotes, orders, services, reputation (DESIGN names)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from cooperative.access import DataAccess
from cooperative.api.context import IDEMPOTENCY_KEY, AppInfo, mutate, query
from cooperative.api.ids import decode_reference, global_id, key_of, reference, refetchable
from cooperative.api.scalars import BigInt
from cooperative.api.types import (
    Connection,
    Node,
    OrderState,
    QuoteState,
    ServiceState,
    UserError,
    copy_fields,
)
from cooperative.marketplace import Marketplace
from cooperative.store import models


def _market(info: AppInfo, access: DataAccess) -> Marketplace:
    return Marketplace(info.context.platform, access)


# ------------------------------------------------------------------ types


@strawberry.type
class ServingArea:
    country: str
    city: str | None
    site: str | None


@strawberry.type(description="A seller's product offering (visible to every member).")
class Offering(Node):
    seller: str
    product_type: str
    bandwidths_mbps: list[int]
    serving_area: list[ServingArea]
    sla_templates: list[strawberry.ID] = reference("SlaTemplate")
    term_months: list[int]
    active: bool
    commitment: str

    @classmethod
    def from_row(cls, r: models.OfferingRecord) -> Offering:
        return copy_fields(
            cls,
            r,
            serving_area=[
                ServingArea(country=a["country"], city=a.get("city"), site=a.get("site"))
                for a in r.serving_area
            ],
        )


@strawberry.type(
    description="A seller's quote on a buyer's request (Sonata states), with everything the "
    "seller needs to answer it; buyer and seller only."
)
class Quote(Node):
    request_id: strawberry.ID = reference(
        "QuoteRequest", description="The buyer's request; every quote on it carries it."
    )
    buyer: str
    seller: str
    state: QuoteState  # type: ignore[valid-type]
    sla_template: strawberry.ID = reference(
        "SlaTemplate", description="The SLA template asked for, as the contract holds it."
    )
    respond_by: datetime = strawberry.field(
        description="An answer after this counts as late for the seller's reputation (chain time, as the contract holds it)."
    )
    expires_at: datetime = strawberry.field(
        description="No answer after this (chain time, as the contract holds it)."
    )
    requested_delivery: datetime = strawberry.field(
        description="The delivery date the buyer wants (chain time, as the contract holds it)."
    )
    site: JSON = strawberry.field(description="Where the circuit is wanted, as the buyer sent it.")
    bandwidth_mbps: int
    term_months: int
    product_type: str | None = strawberry.field(
        description="The product type asked for, if the buyer named one."
    )
    offering_id: strawberry.ID | None = reference(
        "Offering",
        description="The offering of this quote's seller the buyer asked about (a Sonata quote item's productOffering), if any.",
    )
    request: JSON = strawberry.field(
        description="The request document as this quote's seller sees it.",
        deprecation_reason="Use the typed fields: slaTemplate, respondBy, expiresAt, requestedDelivery, site, bandwidthMbps, termMonths, level, productType, offeringId.",
    )
    currency: str | None
    mrc: BigInt | None  # type: ignore[valid-type]
    nrc: BigInt | None  # type: ignore[valid-type]
    valid_until: datetime | None
    level: str | None = strawberry.field(
        description="budgetary or firm: the level asked for, then the seller's answer's."
    )
    commitment: str | None

    @classmethod
    def from_row(cls, r: models.QuoteRecord) -> Quote:
        request = r.document.get("request", {})
        return copy_fields(
            cls,
            r,
            request=request,
            # a row projected before the typed columns has them in its document
            site=r.site if r.site is not None else request.get("site", {}),
            bandwidth_mbps=r.bandwidth_mbps or request.get("bandwidthMbps"),
            term_months=r.term_months or request.get("termMonths"),
            level=r.level or request.get("level"),
            mrc=int(r.mrc) if r.mrc is not None else None,
            nrc=int(r.nrc) if r.nrc is not None else None,
        )


@strawberry.type(description="A product order (Sonata states); buyer and seller only.")
class Order(Node):
    request_id: strawberry.ID = reference("QuoteRequest")
    buyer: str
    seller: str
    state: OrderState  # type: ignore[valid-type]
    sla_template: strawberry.ID = reference("SlaTemplate")
    currency: str
    mrc: BigInt  # type: ignore[valid-type]
    requested_delivery: datetime
    service_id: strawberry.ID | None = reference("Service")
    commitment: str

    @classmethod
    def from_row(cls, r: models.OrderRecord) -> Order:
        return copy_fields(cls, r, mrc=int(r.mrc))


@strawberry.type(description="A service both parties signed for; buyer and seller only.")
class Service(Node):
    buyer: str
    seller: str
    state: ServiceState  # type: ignore[valid-type]
    sla_template: strawberry.ID = reference("SlaTemplate")
    currency: str
    mrc: BigInt  # type: ignore[valid-type]
    started_at: datetime
    ended_at: datetime | None
    order_id: strawberry.ID | None = reference("Order")
    document: JSON
    commitment: str

    @classmethod
    def from_row(cls, r: models.ServiceRecord) -> Service:
        return copy_fields(cls, r, mrc=int(r.mrc))


@strawberry.enum(description="How offerings are ordered.")
class OfferingSort(enum.Enum):
    ID = "id"
    REPUTATION = "reputation"
    PRICE = "price"


@strawberry.type(description="A seller's track record, with the counts behind it.")
class Reputation:
    member: str
    score: float | None = strawberry.field(
        description="Share of the counted outcomes that went well (answers in time, orders on time); null without any."
    )
    quotes_in_time: int
    quotes_late: int
    orders_on_time: int
    orders_late: int
    rejected_after_acknowledgement: int


# ------------------------------------------------------------------ queries


@strawberry.type
class MarketplaceQuery:
    @strawberry.field(
        description="Active offerings; filter by country, product, bandwidth, SLA template; sort by publication (ID), the seller's reputation score (REPUTATION) or the lowest price the seller quoted you (PRICE)."
    )
    def offerings(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        country: str | None = None,
        product_type: str | None = None,
        min_bandwidth_mbps: int | None = None,
        sla_template: strawberry.ID | None = None,
        sort: OfferingSort = OfferingSort.ID,  # type: ignore[assignment]
    ) -> Connection[Offering]:
        return query(
            info,
            lambda a: Connection.from_page(
                _market(info, a).offerings(
                    first,
                    after,
                    country,
                    product_type,
                    min_bandwidth_mbps,
                    decode_reference(sla_template, "SlaTemplate", "slaTemplate"),
                    sort.value,
                ),
                Offering.from_row,
            ),
        )

    @strawberry.field(description="Quotes the caller asked for or was asked for.")
    def quotes(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Quote]:
        return query(
            info,
            lambda a: Connection.from_page(_market(info, a).quotes(first, after), Quote.from_row),
        )

    @strawberry.field
    def quote(self, info: AppInfo, id: strawberry.ID) -> Quote:
        return _quote(info, key_of(id, "Quote", "id"))

    @strawberry.field(description="The caller's orders, as buyer or seller.")
    def orders(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Order]:
        return query(
            info,
            lambda a: Connection.from_page(_market(info, a).orders(first, after), Order.from_row),
        )

    @strawberry.field
    def order(self, info: AppInfo, id: strawberry.ID) -> Order:
        return _order(info, key_of(id, "Order", "id"))

    @strawberry.field(description="The caller's services, as buyer or seller.")
    def services(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Service]:
        return query(
            info,
            lambda a: Connection.from_page(
                _market(info, a).services(first, after), Service.from_row
            ),
        )

    @strawberry.field
    def service(self, info: AppInfo, id: strawberry.ID) -> Service:
        return _service(info, key_of(id, "Service", "id"))

    @strawberry.field(
        description="A member's track record as a seller (visible to every member). "
        "`memberId` is the member's address, as `seller`, `buyer` and `voter` name a member "
        "everywhere (its Member id is `Member:<address>`)."
    )
    def reputation(self, info: AppInfo, member_id: str) -> Reputation:
        return query(
            info,
            lambda a: Reputation(
                member=member_id, **_snake(_market(info, a).reputation(member_id))
            ),
        )


# the by-id reads, which node(id:) uses too
@refetchable("Offering")
def _offering(info: AppInfo, key: int) -> Offering:
    return query(info, lambda a: Offering.from_row(_market(info, a).offering(key)))


@refetchable("Quote")
def _quote(info: AppInfo, key: str) -> Quote:
    return query(info, lambda a: Quote.from_row(_market(info, a).quote(key)))


@refetchable("Order")
def _order(info: AppInfo, key: int) -> Order:
    return query(info, lambda a: Order.from_row(_market(info, a).order(key)))


@refetchable("Service")
def _service(info: AppInfo, key: int) -> Service:
    return query(info, lambda a: Service.from_row(_market(info, a).service(key)))


def _snake(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "quotes_in_time": counts["quotesInTime"],
        "quotes_late": counts["quotesLate"],
        "orders_on_time": counts["ordersOnTime"],
        "orders_late": counts["ordersLate"],
        "rejected_after_acknowledgement": counts["rejectedAfterAcknowledgement"],
        "score": counts["score"],
    }


# ------------------------------------------------------------------ mutations


@strawberry.input
class ServingAreaInput:
    country: str
    city: str | None = None
    site: str | None = None


@strawberry.input
class PublishOfferingInput:
    product_type: str
    bandwidths_mbps: list[int]
    serving_area: list[ServingAreaInput]
    sla_templates: list[strawberry.ID] = reference("SlaTemplate")
    term_months: list[int]
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input(
    description="One seller's published offering the buyer asks about (a Sonata quote item's productOffering)."
)
class OfferingChoice:
    seller: str = strawberry.field(description="One of the request's sellers.")
    offering_id: strawberry.ID = reference(
        "Offering",
        description="An active offering of that seller offering the requested SLA template, bandwidth and term.",
    )


@strawberry.input
class RequestQuoteInput:
    sellers: list[str]
    sla_template: strawberry.ID = reference("SlaTemplate")
    respond_by: datetime
    expires_at: datetime
    requested_delivery: datetime
    site: JSON
    bandwidth_mbps: int
    term_months: int
    level: str = "firm"
    product_type: str | None = strawberry.field(
        default=None, description="Optional: the product type asked for (as offerings name it)."
    )
    offerings: list[OfferingChoice] | None = strawberry.field(
        default=None,
        description="Optional: per seller, at most one of its offerings asked about; each seller sees only its own.",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class RespondToQuoteInput:
    quote_id: strawberry.ID = reference("Quote")
    currency: str
    mrc: BigInt  # type: ignore[valid-type]
    nrc: BigInt  # type: ignore[valid-type]
    valid_until: datetime
    terms: JSON | None = strawberry.field(
        default=None, description="Optional; none is the same as {}."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class QuoteIdInput:
    quote_id: strawberry.ID = reference("Quote")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class RejectQuoteInput:
    request_id: strawberry.ID = reference("QuoteRequest")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class PlaceOrderInput:
    quote_id: strawberry.ID = reference("Quote")
    requested_delivery: datetime
    details: JSON | None = strawberry.field(
        default=None, description="Optional; none is the same as {}."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class OrderIdInput:
    order_id: strawberry.ID = reference("Order")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class CompleteOrderInput:
    order_id: strawberry.ID = reference("Order")
    circuit: JSON | None = strawberry.field(
        default=None, description="Optional; none is the same as {}."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class OfferingPayload:
    offering: Offering | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QuoteRequestPayload:
    request_id: strawberry.ID | None = None
    quotes: list[Quote] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QuotePayload:
    quote: Quote | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderPayload:
    order: Order | None = None
    service: Service | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _request_payload(market: Marketplace, request_id: int) -> QuoteRequestPayload:
    """A request's id and its quotes, as the caller may see them."""
    rows = market.access.session.exec(
        market.access.private(models.QuoteRecord).where(models.QuoteRecord.request_id == request_id)
    ).all()
    return QuoteRequestPayload(
        request_id=global_id("QuoteRequest", request_id), quotes=[Quote.from_row(r) for r in rows]
    )


@strawberry.input
class ExistingCircuitInput:
    sla_template: strawberry.ID = reference("SlaTemplate")
    currency: str
    mrc: BigInt  # type: ignore[valid-type]
    started_at: datetime
    details: JSON | None = strawberry.field(
        default=None, description="Optional; none is the same as {}."
    )


@strawberry.input
class RegisterServicesInput:
    buyer: str
    circuits: list[ExistingCircuitInput]
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class ConfirmServicesInput:
    service_ids: list[strawberry.ID] = reference("Service")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class DeclineQuoteInput:
    quote_id: strawberry.ID = reference("Quote")
    reason: str = ""
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class RejectOrderInput:
    order_id: strawberry.ID = reference("Order")
    reason: str = ""
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.input
class EndServiceInput:
    service_id: strawberry.ID = reference("Service")
    ended_at: datetime = strawberry.field(description="Now or later; billed until then")
    idempotency_key: str | None = strawberry.field(default=None, description=IDEMPOTENCY_KEY)


@strawberry.type
class ServicePayload:
    service: Service | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ServicesPayload:
    services: list[Service] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MarketplaceMutation:
    @strawberry.mutation(
        description="A seller registers live circuits it provides to a buyer, in bulk; the buyer confirms them."
    )
    def register_services(self, info: AppInfo, input: RegisterServicesInput) -> ServicesPayload:
        def work(a: DataAccess) -> ServicesPayload:
            circuits = [
                {
                    "slaTemplate": c.sla_template,
                    "currency": c.currency,
                    "mrc": c.mrc,
                    "startedAt": c.started_at,
                    "details": c.details or {},
                }
                for c in input.circuits
            ]
            return ServicesPayload(
                services=[
                    Service.from_row(s)
                    for s in _market(info, a).register_services(input.buyer, circuits)
                ]
            )

        return mutate(info, ServicesPayload, work, input)

    @strawberry.mutation(
        description="The buyer confirms registered circuits in bulk; only then are they services."
    )
    def confirm_services(self, info: AppInfo, input: ConfirmServicesInput) -> ServicesPayload:
        return mutate(
            info,
            ServicesPayload,
            lambda a: ServicesPayload(
                services=[
                    Service.from_row(s)
                    for s in _market(info, a).confirm_services(input.service_ids)
                ]
            ),
            input,
        )

    @strawberry.mutation(
        description="The buyer disconnects a service (now or later); it is billed until then."
    )
    def end_service(self, info: AppInfo, input: EndServiceInput) -> ServicePayload:
        return mutate(
            info,
            ServicePayload,
            lambda a: ServicePayload(
                service=Service.from_row(
                    _market(info, a).end_service(input.service_id, input.ended_at)
                )
            ),
            input,
        )

    @strawberry.mutation(description="A seller answers that it is unable to provide.")
    def decline_quote(self, info: AppInfo, input: DeclineQuoteInput) -> QuotePayload:
        return mutate(
            info,
            QuotePayload,
            lambda a: QuotePayload(
                quote=Quote.from_row(_market(info, a).decline_quote(input.quote_id, input.reason))
            ),
            input,
        )

    @strawberry.mutation(description="The seller starts work on an acknowledged order.")
    def start_order(self, info: AppInfo, input: OrderIdInput) -> OrderPayload:
        return mutate(
            info,
            OrderPayload,
            lambda a: OrderPayload(
                order=Order.from_row(_market(info, a).start_order(input.order_id))
            ),
            input,
        )

    @strawberry.mutation(description="The seller rejects an order it has not started.")
    def reject_order(self, info: AppInfo, input: RejectOrderInput) -> OrderPayload:
        return mutate(
            info,
            OrderPayload,
            lambda a: OrderPayload(
                order=Order.from_row(_market(info, a).reject_order(input.order_id, input.reason))
            ),
            input,
        )

    @strawberry.mutation(description="Publish a product offering.")
    def publish_offering(self, info: AppInfo, input: PublishOfferingInput) -> OfferingPayload:
        def work(a: DataAccess) -> OfferingPayload:
            record = _market(info, a).publish_offering(
                input.product_type,
                input.bandwidths_mbps,
                [
                    {k: v for k, v in vars(area).items() if v is not None}
                    for area in input.serving_area
                ],
                input.sla_templates,
                input.term_months,
            )
            return OfferingPayload(offering=Offering.from_row(record))

        return mutate(info, OfferingPayload, work, input)

    @strawberry.mutation(description="Ask one or more sellers for a quote.")
    def request_quote(self, info: AppInfo, input: RequestQuoteInput) -> QuoteRequestPayload:
        def work(a: DataAccess) -> QuoteRequestPayload:
            market = _market(info, a)
            site: Any = input.site
            request = market.request_quote(
                input.sellers,
                input.sla_template,
                input.respond_by,
                input.expires_at,
                input.requested_delivery,
                site if isinstance(site, dict) else {"address": str(site)},
                input.bandwidth_mbps,
                input.term_months,
                input.level,
                input.product_type,
                [
                    {
                        "seller": choice.seller,
                        "offeringId": choice.offering_id,
                    }
                    for choice in input.offerings or []
                ],
            )
            a.session.flush()
            return _request_payload(market, request.id)

        return mutate(info, QuoteRequestPayload, work, input)

    @strawberry.mutation(description="A seller answers a quote request with price terms.")
    def respond_to_quote(self, info: AppInfo, input: RespondToQuoteInput) -> QuotePayload:
        def work(a: DataAccess) -> QuotePayload:
            terms: Any = input.terms or {}
            quote = _market(info, a).respond_to_quote(
                input.quote_id,
                input.currency,
                input.mrc,
                input.nrc,
                input.valid_until,
                terms or {},
            )
            return QuotePayload(quote=Quote.from_row(quote))

        return mutate(info, QuotePayload, work, input)

    @strawberry.mutation(description="The buyer accepts one quote; the others are declined.")
    def accept_quote(self, info: AppInfo, input: QuoteIdInput) -> QuotePayload:
        return mutate(
            info,
            QuotePayload,
            lambda a: QuotePayload(
                quote=Quote.from_row(_market(info, a).accept_quote(input.quote_id))
            ),
            input,
        )

    @strawberry.mutation(description="The buyer rejects every quote of a request.")
    def reject_quote(self, info: AppInfo, input: RejectQuoteInput) -> QuoteRequestPayload:
        def work(a: DataAccess) -> QuoteRequestPayload:
            market = _market(info, a)
            request = market.reject_quote(input.request_id)
            return _request_payload(market, request.id)

        return mutate(info, QuoteRequestPayload, work, input)

    @strawberry.mutation(description="Order against an accepted, unexpired quote.")
    def place_order(self, info: AppInfo, input: PlaceOrderInput) -> OrderPayload:
        def work(a: DataAccess) -> OrderPayload:
            details: Any = input.details or {}
            order = _market(info, a).place_order(
                input.quote_id, input.requested_delivery, details or {}
            )
            return OrderPayload(order=Order.from_row(order))

        return mutate(info, OrderPayload, work, input)

    @strawberry.mutation(description="The seller acknowledges an order.")
    def acknowledge_order(self, info: AppInfo, input: OrderIdInput) -> OrderPayload:
        return mutate(
            info,
            OrderPayload,
            lambda a: OrderPayload(
                order=Order.from_row(_market(info, a).acknowledge_order(input.order_id))
            ),
            input,
        )

    @strawberry.mutation(description="The seller completes an order; the service starts now.")
    def complete_order(self, info: AppInfo, input: CompleteOrderInput) -> OrderPayload:
        def work(a: DataAccess) -> OrderPayload:
            circuit: Any = input.circuit or {}
            order, service = _market(info, a).complete_order(input.order_id, circuit or {})
            return OrderPayload(order=Order.from_row(order), service=Service.from_row(service))

        return mutate(info, OrderPayload, work, input)

    @strawberry.mutation(description="The buyer cancels an order before completion.")
    def cancel_order(self, info: AppInfo, input: OrderIdInput) -> OrderPayload:
        return mutate(
            info,
            OrderPayload,
            lambda a: OrderPayload(
                order=Order.from_row(_market(info, a).cancel_order(input.order_id))
            ),
            input,
        )
