"""The marketplace for the platform's users: offerings, quotes, orders and services.

Each step is one Ordering transaction signed by the acting member's own key, with the
private document committed on chain and kept in the store for the two parties only.
Records are read and changed through the data-access layer, so a member who is not a
party finds nothing (NOT_FOUND), exactly as for a record that does not exist. The store
is written only after the transaction succeeded, in the request's one DB transaction:
a refused step leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from web3 import Web3
from web3.contract import Contract

from cooperative.access import Page
from cooperative.commitments import commit
from cooperative.currencies import currency_number
from cooperative.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from cooperative.module_service import ModuleService
from cooperative.periods import epoch_seconds
from cooperative.states import (
    AnswerState,
    OrderState,
    ServiceState,
)
from cooperative.store.models import (
    MAX_COLUMN_INT,
    OfferingRecord,
    OrderRecord,
    QuoteRecord,
    QuoteRequestRecord,
    ServiceRecord,
)
from cooperative.transactions import chain_errors
from deployments.chain import Receipt

PRODUCT_TYPES = (
    "carrier-ethernet-access",
    "e-line",
    "e-lan",
    "ip-transit",
    "wavelength",
    "dark-fiber",
)
QUOTE_LEVELS = ("budgetary", "firm")
MAX_AMOUNT = 2**96 - 1  # the contract's packed MRC/NRC
MAX_BATCH = 200  # the contract's batch bound

OFFERING_SORTS = ("id", "reputation", "price")


def _future(moment: datetime, field: str) -> int:
    seconds = epoch_seconds(moment, field)
    if seconds <= int(datetime.now(UTC).timestamp()):
        raise ValidationFailed(f"`{field}` must be in the future", field=field)
    return seconds


def _amount(value: int, field: str, *, positive: bool) -> int:
    if value < 0 or (positive and value == 0) or value > MAX_AMOUNT:
        low = "more than zero" if positive else "zero or more"
        raise ValidationFailed(
            f"`{field}` must be {low} and at most {MAX_AMOUNT} minor units", field=field
        )
    return value


class Marketplace(ModuleService):
    module = "Ordering"

    # ------------------------------------------------------------------ plumbing

    @property
    def ordering(self) -> Contract:
        return self.contract

    def _adopted(self, template: int) -> None:
        if (
            not self.platform.governance.handle("SlaTemplates")
            .functions.is_adopted(template)
            .call()
        ):
            raise ValidationFailed(f"SLA template {template} is not adopted", field="slaTemplate")

    # ------------------------------------------------------------------ offerings

    def publish_offering(
        self,
        product_type: str,
        bandwidths_mbps: list[int],
        serving_area: list[dict[str, str]],
        sla_templates: list[int],
        term_months: list[int],
    ) -> OfferingRecord:
        _seller, account = self._member()
        if product_type not in PRODUCT_TYPES:
            raise ValidationFailed(
                f"product type must be one of {', '.join(PRODUCT_TYPES)}", field="productType"
            )
        if not bandwidths_mbps or any(b <= 0 for b in bandwidths_mbps):
            raise ValidationFailed("bandwidths are positive Mbit/s values", field="bandwidthsMbps")
        if not term_months or any(t <= 0 or t > 120 for t in term_months):
            raise ValidationFailed("terms are 1 to 120 months", field="termMonths")
        if not serving_area or any(len(a.get("country", "")) != 2 for a in serving_area):
            raise ValidationFailed(
                "each serving area names an ISO 3166 country code", field="servingArea"
            )
        if not sla_templates:
            raise ValidationFailed("an offering needs an SLA template", field="slaTemplates")
        for template in sla_templates:
            self._adopted(template)
        document = {
            "productType": product_type,
            "bandwidthsMbps": sorted(bandwidths_mbps),
            "servingArea": serving_area,
            "slaTemplates": sla_templates,
            "termMonths": sorted(term_months),
        }
        _salt, commitment = commit(document)
        receipt = self._send(
            account, "publish_offering", sla_templates, bytes.fromhex(commitment[2:])
        )
        return self._projected(
            OfferingRecord, self._event(receipt, "OfferingPublished")["offering_id"]
        )

    def offerings(
        self,
        first: int | None,
        after: str | None,
        country: str | None = None,
        product_type: str | None = None,
        min_bandwidth_mbps: int | None = None,
        sla_template: int | None = None,
        sort: str = "id",
    ) -> Page[OfferingRecord]:
        """Active offerings (public to members), filtered, in one of OFFERING_SORTS:
        `id` (publication order), `reputation` (the seller's score, best first; sellers
        without a track record last) or `price` (the lowest monthly charge the seller
        quoted the viewer, in any currency, cheapest first; sellers who never quoted the
        viewer last)."""
        self.access.shared_with_members("offerings")
        if sort not in OFFERING_SORTS:
            raise ValidationFailed(f"sort is one of {', '.join(OFFERING_SORTS)}", field="sort")
        rows = self.access.session.exec(
            select(OfferingRecord)
            .where(OfferingRecord.active == True)  # noqa: E712
            .order_by(col(OfferingRecord.id))
        ).all()
        matching = [
            r
            for r in rows
            if (product_type is None or r.product_type == product_type)
            and (
                country is None or any(a.get("country") == country.upper() for a in r.serving_area)
            )
            and (min_bandwidth_mbps is None or max(r.bandwidths_mbps) >= min_bandwidth_mbps)
            and (sla_template is None or sla_template in r.sla_templates)
        ]
        if sort == "reputation":
            scores = {
                seller: self.reputation(seller)["score"] for seller in {r.seller for r in matching}
            }
            matching.sort(key=lambda r: (scores[r.seller] is None, -(scores[r.seller] or 0.0)))
        elif sort == "price":
            prices = self._lowest_quoted_prices()
            matching.sort(key=lambda r: (r.seller not in prices, prices.get(r.seller, 0)))
        return self.access.page_list(matching, first, after)

    def offering(self, offering_id: int) -> OfferingRecord:
        """One offering, active or withdrawn (public to members)."""
        self.access.shared_with_members("offerings")
        row = self.access.session.get(OfferingRecord, offering_id)
        if row is None:
            raise NotFound(f"offering {offering_id} does not exist")
        return row

    def _lowest_quoted_prices(self) -> dict[str, int]:
        """Seller -> the lowest MRC it quoted the viewer (the viewer's own quotes only)."""
        buyer = self.access.viewer.principal
        quotes = self.access.session.exec(
            self.access.private(QuoteRecord).where(
                QuoteRecord.buyer == buyer, col(QuoteRecord.mrc).is_not(None)
            )
        ).all()
        prices: dict[str, int] = {}
        for quote in quotes:
            prices[quote.seller] = min(int(quote.mrc or 0), prices.get(quote.seller, MAX_AMOUNT))
        return prices

    # ------------------------------------------------------------------ quotes

    def request_quote(
        self,
        sellers: list[str],
        sla_template: int,
        respond_by: datetime,
        expires_at: datetime,
        requested_delivery: datetime,
        site: dict[str, str],
        bandwidth_mbps: int,
        term_months: int,
        level: str,
        product_type: str | None = None,
        offerings: list[dict[str, Any]] | None = None,
    ) -> QuoteRequestRecord:
        """Ask `sellers` for a quote; optionally for a product type and, per seller, one of
        its published offerings (`offerings`: {seller, offeringId}, a Sonata quote item's
        productOffering), each checked to offer the template, bandwidth and term asked. The
        links are in the committed request document; each seller's quote shows its own."""
        _buyer, account = self._member()
        try:
            sellers = [Web3.to_checksum_address(s) for s in sellers]
        except ValueError as exc:
            raise ValidationFailed("sellers are member addresses", field="sellers") from exc
        if not sellers:
            raise ValidationFailed("ask at least one seller", field="sellers")
        if level not in QUOTE_LEVELS:
            raise ValidationFailed("level is budgetary or firm", field="level")
        if bandwidth_mbps <= 0 or not 0 < term_months <= 120:
            raise ValidationFailed(
                "bandwidth and term must be positive (term at most 120 months)",
                field="bandwidthMbps",
            )
        self._adopted(sla_template)
        if product_type is not None and product_type not in PRODUCT_TYPES:
            raise ValidationFailed(
                f"product type must be one of {', '.join(PRODUCT_TYPES)}", field="productType"
            )
        links = self._offering_links(
            offerings or [], sellers, sla_template, bandwidth_mbps, term_months, product_type
        )
        times = (
            _future(respond_by, "respondBy"),
            _future(expires_at, "expiresAt"),
            _future(requested_delivery, "requestedDelivery"),
        )
        document = {
            "site": site,
            "bandwidthMbps": bandwidth_mbps,
            "termMonths": term_months,
            "level": level,
        }
        if product_type is not None:
            document["productType"] = product_type
        if links:
            document["offerings"] = links
        _salt, commitment = commit(document)
        receipt = self._send(
            account, "request_quote", sellers, sla_template, *times, bytes.fromhex(commitment[2:])
        )
        return self._projected(
            QuoteRequestRecord, self._event(receipt, "QuoteRequested")["request_id"]
        )

    def _offering_links(
        self,
        offerings: list[dict[str, Any]],
        sellers: list[str],
        sla_template: int,
        bandwidth_mbps: int,
        term_months: int,
        product_type: str | None,
    ) -> list[dict[str, Any]]:
        """The offerings asked for, one per seller asked at most, each an active offering
        of that seller (as the contract holds it) offering what is requested."""
        links: list[dict[str, Any]] = []
        for index, choice in enumerate(offerings):
            at = f"offerings[{index}]"
            try:
                seller = Web3.to_checksum_address(choice["seller"])
            except ValueError as exc:
                raise ValidationFailed(
                    "the seller is a member address", field=f"{at}.seller"
                ) from exc
            if seller not in sellers:
                raise ValidationFailed(
                    f"{seller} is not among the sellers asked", field=f"{at}.seller"
                )
            if any(link["seller"] == seller for link in links):
                raise ValidationFailed(
                    f"ask {seller} about one offering per request", field=f"{at}.seller"
                )
            offering_id = choice["offeringId"]
            field = f"{at}.offeringId"
            record = (
                self.access.session.get(OfferingRecord, offering_id)
                if 0 < offering_id <= MAX_COLUMN_INT
                else None
            )
            if record is None:
                raise ValidationFailed(f"offering {offering_id} does not exist", field=field)
            with chain_errors():
                on_chain_seller, active = self.platform.gateway.call(
                    self.ordering.functions.offerings(offering_id)
                )
            if on_chain_seller != seller:
                raise ValidationFailed(
                    f"offering {offering_id} is not one of {seller}'s", field=field
                )
            if not active or not record.active:
                raise ValidationFailed(f"offering {offering_id} is withdrawn", field=field)
            wanted = (
                (sla_template in record.sla_templates, f"SLA template {sla_template}"),
                (bandwidth_mbps in record.bandwidths_mbps, f"{bandwidth_mbps} Mbit/s"),
                (term_months in record.term_months, f"a {term_months}-month term"),
                (
                    product_type is None or product_type == record.product_type,
                    f"product type {product_type}",
                ),
            )
            for offered, what in wanted:
                if not offered:
                    raise ValidationFailed(
                        f"offering {offering_id} does not offer {what}", field=field
                    )
            links.append({"seller": seller, "offeringId": offering_id})
        return links

    def quote(self, quote_id: str) -> QuoteRecord:
        return self.access.get_private(QuoteRecord, quote_id, what="quote")

    def quotes(self, first: int | None, after: str | None) -> Page[QuoteRecord]:
        return self.access.page(self.access.private(QuoteRecord), QuoteRecord.id, first, after)

    def respond_to_quote(
        self,
        quote_id: str,
        currency: str,
        mrc: int,
        nrc: int,
        valid_until: datetime,
        terms: dict[str, Any],
    ) -> QuoteRecord:
        seller, account = self._member()
        quote = self.quote(quote_id)
        if quote.seller != seller:
            raise NotFound(
                f"quote {quote_id} does not exist"
            )  # the buyer cannot answer its own request
        number = currency_number(currency)
        _amount(mrc, "mrc", positive=True)
        _amount(nrc, "nrc", positive=False)
        until = _future(valid_until, "validUntil")
        _salt, commitment = commit(
            {**quote.document, "terms": terms, "mrc": mrc, "nrc": nrc, "currency": currency}
        )
        self._send(
            account,
            "respond_to_quote",
            quote.request_id,
            number,
            mrc,
            nrc,
            until,
            bytes.fromhex(commitment[2:]),
        )
        return self._projected(QuoteRecord, quote_id)

    def decline_quote(self, quote_id: str, reason: str) -> QuoteRecord:
        seller, account = self._member()
        quote = self.quote(quote_id)
        if quote.seller != seller:
            raise NotFound(f"quote {quote_id} does not exist")
        # The quote's document with the reason, as an answer commits it with its terms: the
        # committed document is the one the record keeps and a proof hands out.
        _salt, commitment = commit({**quote.document, "declineReason": reason})
        self._send(account, "decline_quote", quote.request_id, bytes.fromhex(commitment[2:]))
        return self._projected(QuoteRecord, quote_id)

    def accept_quote(self, quote_id: str) -> QuoteRecord:
        buyer, account = self._member()
        quote = self.quote(quote_id)
        if quote.buyer != buyer:
            raise Forbidden("only the buyer accepts a quote")
        self._send(account, "accept_quote", quote.request_id, quote.seller)
        return self._projected(QuoteRecord, quote_id)

    def reject_quote(self, request_id: int) -> QuoteRequestRecord:
        _buyer, account = self._member()
        self.access.get_private(QuoteRequestRecord, request_id, what="quote request")
        self._send(account, "reject_quote", request_id)
        return self._projected(QuoteRequestRecord, request_id)

    # ------------------------------------------------------------------ orders and services

    def place_order(
        self, quote_id: str, requested_delivery: datetime, details: dict[str, Any]
    ) -> OrderRecord:
        buyer, account = self._member()
        quote = self.quote(quote_id)
        if quote.buyer != buyer:
            raise Forbidden("only the buyer orders")
        self._refuse_unless(
            quote.state == AnswerState.ACCEPTED.api,
            ValidationFailed("order against an accepted quote", field="quoteId"),
        )
        delivery = _future(requested_delivery, "requestedDelivery")
        document = {"quote": quote.id, "details": details}
        _salt, commitment = commit(document)
        receipt = self._send(
            account,
            "place_order",
            quote.request_id,
            quote.seller,
            delivery,
            bytes.fromhex(commitment[2:]),
        )
        return self._projected(OrderRecord, self._event(receipt, "OrderChanged")["order_id"])

    def order(self, order_id: int) -> OrderRecord:
        return self.access.get_private(OrderRecord, order_id, what="order")

    def orders(self, first: int | None, after: str | None) -> Page[OrderRecord]:
        return self.access.page(self.access.private(OrderRecord), OrderRecord.id, first, after)

    def _order_step(
        self,
        order_id: int,
        function: str,
        new_state: OrderState,
        *,
        seller_step: bool,
        args: tuple[Any, ...] = (),
    ) -> tuple[OrderRecord, Receipt]:
        """One step of an order by its seller or buyer; `new_state` is where the contract
        moves it (and its event tells the projector)."""
        member, account = self._member()
        order = self.order(order_id)
        if (order.seller if seller_step else order.buyer) != member:
            raise Forbidden(f"only the {'seller' if seller_step else 'buyer'} may do this")
        receipt = self._send(account, function, order_id, *args)
        return self._projected(OrderRecord, order_id), receipt

    def acknowledge_order(self, order_id: int) -> OrderRecord:
        return self._order_step(
            order_id, "acknowledge_order", OrderState.ACKNOWLEDGED, seller_step=True
        )[0]

    def start_order(self, order_id: int) -> OrderRecord:
        return self._order_step(order_id, "start_order", OrderState.IN_PROGRESS, seller_step=True)[
            0
        ]

    def cancel_order(self, order_id: int) -> OrderRecord:
        return self._order_step(order_id, "cancel_order", OrderState.CANCELLED, seller_step=False)[
            0
        ]

    def reject_order(self, order_id: int, reason: str) -> OrderRecord:
        _salt, commitment = commit({"reason": reason})
        args = (bytes.fromhex(commitment[2:]),)
        return self._order_step(
            order_id, "reject_order", OrderState.REJECTED, seller_step=True, args=args
        )[0]

    def complete_order(
        self, order_id: int, circuit: dict[str, Any]
    ) -> tuple[OrderRecord, ServiceRecord]:
        """Complete the order; the service it creates starts now, with the circuit's
        details (committed on chain) as its private document."""
        document = {"circuit": circuit}
        _salt, commitment = commit(document)
        order, receipt = self._order_step(
            order_id,
            "complete_order",
            OrderState.COMPLETED,
            seller_step=True,
            args=(bytes.fromhex(commitment[2:]),),
        )
        service_id = self._event(receipt, "ServiceChanged")["service_id"]
        return order, self._projected(ServiceRecord, service_id)

    def end_service(self, service_id: int, ended_at: datetime) -> ServiceRecord:
        """The buyer disconnects a service, now or at a later time; it is billed until then."""
        buyer, account = self._member()
        service = self.service(service_id)
        if service.buyer != buyer:
            raise Forbidden("only the buyer ends a service")
        self._refuse_unless(
            service.state == ServiceState.ACTIVE.api,
            InvalidState(f"service {service_id} is not active"),
        )
        self._refuse_unless(
            service.ended_at is None,
            InvalidState(f"service {service_id} already ends at {service.ended_at}"),
        )
        end = epoch_seconds(ended_at, "endedAt")
        self._refuse_unless(
            end >= self.chain_now(),
            ValidationFailed("`endedAt` must not be in the past", field="endedAt"),
        )
        self._send(account, "end_service", service_id, end)
        return self._projected(ServiceRecord, service_id)

    def service(self, service_id: int) -> ServiceRecord:
        return self.access.get_private(ServiceRecord, service_id, what="service")

    def services(self, first: int | None, after: str | None) -> Page[ServiceRecord]:
        return self.access.page(self.access.private(ServiceRecord), ServiceRecord.id, first, after)

    def reputation(self, member: str) -> dict[str, Any]:
        self.access.shared_with_members("sellers' reputations")
        self.access.member(member)  # NotFound for a non-member
        counts = self.ordering.functions.reputation(Web3.to_checksum_address(member)).call()
        keys = (
            "quotesInTime",
            "quotesLate",
            "ordersOnTime",
            "ordersLate",
            "rejectedAfterAcknowledgement",
        )
        record: dict[str, Any] = dict(zip(keys, counts, strict=True))
        good = record["quotesInTime"] + record["ordersOnTime"]
        total = sum(counts)
        # the share of the seller's counted outcomes that went well; None until it has any
        record["score"] = good / total if total else None
        return record

    # ------------------------------------------------------------------ existing circuits

    def register_services(self, buyer: str, circuits: list[dict[str, Any]]) -> list[ServiceRecord]:
        """The seller registers live circuits it provides to `buyer` (each: slaTemplate,
        currency, mrc, startedAt, circuit details); they await the buyer's confirmation."""
        _seller, account = self._member()
        try:
            buyer = Web3.to_checksum_address(buyer)
        except ValueError as exc:
            raise ValidationFailed("the buyer is a member address", field="buyer") from exc
        self.access.member(buyer)
        if not 0 < len(circuits) <= MAX_BATCH:
            raise ValidationFailed(f"register 1 to {MAX_BATCH} circuits per call", field="circuits")
        entries = []
        now = self.chain_now()
        for template in {circuit["slaTemplate"] for circuit in circuits}:
            self._adopted(template)
        for index, circuit in enumerate(circuits):
            started = epoch_seconds(circuit["startedAt"], f"circuits[{index}].startedAt")
            if started > now:
                raise ValidationFailed(
                    "a live circuit cannot start in the future",
                    field=f"circuits[{index}].startedAt",
                )
            number = currency_number(circuit["currency"])
            mrc = _amount(circuit["mrc"], f"circuits[{index}].mrc", positive=True)
            _salt, commitment = commit({"circuit": circuit.get("details", {})})
            entries.append(
                (circuit["slaTemplate"], number, mrc, started, bytes.fromhex(commitment[2:]))
            )
        receipt = self._send(account, "register_services", buyer, entries)
        return [
            self._projected(ServiceRecord, event["service_id"])
            for event in self._events(receipt, "ServiceChanged")
        ]

    def confirm_services(self, service_ids: list[int]) -> list[ServiceRecord]:
        """The buyer confirms registered circuits; only then are they services."""
        buyer, account = self._member()
        if not 0 < len(service_ids) <= MAX_BATCH:
            raise ValidationFailed(
                f"confirm 1 to {MAX_BATCH} services per call", field="serviceIds"
            )
        services = self.access.get_private_many(ServiceRecord, service_ids, what="service")
        for service in services:
            if service.buyer != buyer:
                raise Forbidden(f"only the buyer confirms service {service.id}")
            self._refuse_unless(
                service.state == ServiceState.PENDING_CONFIRMATION.api,
                InvalidState(f"service {service.id} is not awaiting confirmation"),
            )
        self._send(account, "confirm_services", service_ids)
        return [self._projected(ServiceRecord, service.id) for service in services]
