"""The marketplace: offerings, quote requests and quotes, orders, services.

What the chain holds in clear (parties, ids, states, prices, times) comes from the events
and, for an order's or service's fixed terms, from the contract; the private part (the
offering's details, the request's site, the quote's terms, the circuit) from the documents
the outbox kept under the commitments the events carry.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from cooperative.currencies import currency_code
from cooperative.projectors.base import Event, Handler, Projector, Run, chain_time, hex32
from cooperative.states import (
    DECLINED_BY_BUYER,
    NOT_ACCEPTED_EVENT,
    SERVICE_ENDING_EVENT,
    AnswerState,
    OrderState,
    RequestState,
    ServiceState,
)
from cooperative.store.models import (
    OfferingRecord,
    OrderRecord,
    QuoteRecord,
    QuoteRequestRecord,
    ServiceRecord,
)


def _asked_of(request: dict[str, Any], seller: str) -> dict[str, Any]:
    """The request document as one seller sees it: the offering links to other sellers
    (which of their offerings the buyer also asked for, and so who they are) left out,
    and no trace of them (a seller asked about none gets no `offerings` at all)."""
    if "offerings" not in request:
        return request
    seen = {k: v for k, v in request.items() if k != "offerings"}
    own = [o for o in request["offerings"] if str(o.get("seller", "")).lower() == seller.lower()]
    return {**seen, "offerings": own} if own else seen


class OrderingProjector(Projector):
    contract_name = "Ordering"

    def handlers(self) -> dict[str, Handler]:
        return {
            "OfferingPublished": self._offering_published,
            "OfferingWithdrawn": self._offering_withdrawn,
            "QuoteRequested": self._quote_requested,
            "QuoteAnswered": self._quote_answered,
            "QuoteRequestClosed": self._request_closed,
            "OrderChanged": self._order_changed,
            "ServiceChanged": self._service_changed,
            "ServiceEnded": self._service_ended,
        }

    def prefetch(self, run: Run, events: list[Event]) -> None:
        """The fixed terms of the orders placed and services created (a registration
        creates up to 200): one batch of reads."""
        if not run.records:
            return
        wanted: list[tuple[str, int]] = []
        for event in events:
            if event.name == "OrderChanged" and event.args["state"] == OrderState.SUBMITTED:
                wanted.append(("orders", event.args["order_id"]))
            elif event.name == "ServiceChanged" and (
                run.get(ServiceRecord, event.args["service_id"]) is None
            ):
                wanted.append(("services", event.args["service_id"]))
        calls = [getattr(self.contract.functions, kind)(key) for kind, key in wanted]
        run.chain.update(zip(wanted, self.projection.gateway.call_many(calls), strict=True))

    def _terms(self, run: Run, kind: str, key: int) -> dict[str, Any]:
        """An order's or service's terms as the contract holds them (prefetched)."""
        if (kind, key) not in run.chain:
            run.chain.update(
                zip(
                    [(kind, key)],
                    self.projection.gateway.call_many(
                        [getattr(self.contract.functions, kind)(key)]
                    ),
                    strict=True,
                )
            )
        return dict(run.chain[(kind, key)])

    # ------------------------------------------------------------------ offerings

    def _offering_published(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        args = event.args
        _salt, document = run.documents.committed(event, args["commitment"])
        run.add(
            OfferingRecord(
                id=args["offering_id"],
                seller=args["seller"],
                product_type=document.get("productType", ""),
                bandwidths_mbps=document.get("bandwidthsMbps", []),
                serving_area=document.get("servingArea", []),
                sla_templates=list(args["sla_templates"]),
                term_months=document.get("termMonths", []),
                commitment=hex32(args["commitment"]),
                created_at=event.time,
            )
        )

    def _offering_withdrawn(self, run: Run, event: Event) -> None:
        offering = run.get(OfferingRecord, event.args["offering_id"])
        if run.records and offering is not None:
            offering.active = False
            run.add(offering)

    # ------------------------------------------------------------------ quotes

    def _quote_requested(self, run: Run, event: Event) -> None:
        args = event.args
        request_id, buyer, sellers = args["request_id"], args["buyer"], list(args["sellers"])
        if run.records:
            salt, document = run.documents.committed(event, args["commitment"])
            commitment = hex32(args["commitment"])
            run.add(
                QuoteRequestRecord(
                    id=request_id,
                    buyer=buyer,
                    sellers=sellers,
                    sla_template=args["sla_template"],
                    respond_by=chain_time(args["respond_by"]),
                    expires_at=chain_time(args["expires_at"]),
                    requested_delivery=chain_time(args["requested_delivery"]),
                    state=RequestState.OPEN.api,
                    document=document,
                    salt=salt,
                    commitment=commitment,
                    created_at=event.time,
                )
            )
            for seller in sellers:
                asked = _asked_of(document, seller)
                run.add(
                    QuoteRecord(
                        id=f"{request_id}-{seller}",
                        request_id=request_id,
                        buyer=buyer,
                        seller=seller,
                        state=AnswerState.PENDING.api,
                        # the request's terms as the contract holds them (chain time)
                        sla_template=args["sla_template"],
                        respond_by=chain_time(args["respond_by"]),
                        expires_at=chain_time(args["expires_at"]),
                        requested_delivery=chain_time(args["requested_delivery"]),
                        # what the document asks of this seller
                        site=asked.get("site"),
                        bandwidth_mbps=asked.get("bandwidthMbps"),
                        term_months=asked.get("termMonths"),
                        level=asked.get("level"),
                        product_type=asked.get("productType"),
                        offering_id=next(
                            (o["offeringId"] for o in asked.get("offerings", [])), None
                        ),
                        document={"request": asked, "requestCommitment": commitment},
                        updated_at=event.time,
                    )
                )
        kind = RequestState.OPEN.event
        for seller in sellers:
            run.feed(event, seller, kind, requestId=request_id, quoteId=f"{request_id}-{seller}")
        run.feed(event, buyer, kind, requestId=request_id)

    def _quote_answered(self, run: Run, event: Event) -> None:
        args = event.args
        request_id, seller = args["request_id"], args["seller"]
        quote_id = f"{request_id}-{seller}"
        answer = AnswerState(args["state"])  # READY or DECLINED
        quote = run.get(QuoteRecord, quote_id)
        if run.records and quote is not None:
            salt, document = run.documents.committed(event, args["commitment"])
            quote.state, quote.salt, quote.commitment = answer.api, salt, hex32(args["commitment"])
            if answer == AnswerState.READY:
                terms = document.get("terms", {})
                quote.currency = currency_code(args["currency"])
                quote.mrc, quote.nrc = args["mrc"], args["nrc"]
                quote.valid_until = chain_time(args["valid_until"])
                quote.level = terms.get("level", quote.document.get("request", {}).get("level"))
            # The record keeps the document exactly as committed (the quote's document with
            # the answer's terms and prices, or with the decline's reason), so that a proof
            # of it opens the commitment. A decline from before that committed the reason
            # alone is merged into the quote's document, as it was then.
            if answer == AnswerState.READY or "declineReason" in document:
                quote.document = document
            else:
                quote.document = {**quote.document, "declineReason": document.get("reason", "")}
            quote.updated_at = event.time
            run.add(quote)
        for member in (self._buyer_of_request(run, request_id), seller):
            run.feed(event, member, answer.event, requestId=request_id, quoteId=quote_id)

    def _request_closed(self, run: Run, event: Event) -> None:
        args = event.args
        request_id = args["request_id"]
        closed = RequestState(args["state"])  # ACCEPTED or REJECTED
        accepted = args["accepted_seller"] if closed == RequestState.ACCEPTED else None
        request = run.get(QuoteRequestRecord, request_id)
        if run.records and request is not None:
            request.state = closed.api
            run.add(request)
            for quote in run.session.exec(
                select(QuoteRecord).where(QuoteRecord.request_id == request_id)
            ).all():
                if quote.state == AnswerState.DECLINED.api:
                    continue  # the seller's own refusal stays what it was: unableToProvide
                quote.state = (
                    AnswerState.ACCEPTED.api if quote.seller == accepted else DECLINED_BY_BUYER
                )
                quote.updated_at = event.time
                run.add(quote)
        if not run.feeds:
            return
        if request is not None:
            buyer, sellers = request.buyer, list(request.sellers)
        else:
            buyer = self._buyer_of_request(run, request_id)
            sellers = self.contract.functions.request_seller_list(request_id).call()
        if not accepted:
            for member in [buyer, *sellers]:
                run.feed(event, member, closed.event, requestId=request_id)
            return
        # Who won is the buyer's and the winner's business: a losing seller learns only
        # that its own quote was not accepted.
        for member in [buyer, accepted]:
            run.feed(
                event,
                member,
                closed.event,
                requestId=request_id,
                quoteId=f"{request_id}-{accepted}",
            )
        for seller in sellers:
            if seller != accepted:
                run.feed(
                    event,
                    seller,
                    NOT_ACCEPTED_EVENT,
                    requestId=request_id,
                    quoteId=f"{request_id}-{seller}",
                )

    # ------------------------------------------------------------------ orders and services

    def _order_changed(self, run: Run, event: Event) -> None:
        args = event.args
        order_id, state = args["order_id"], OrderState(args["state"])
        if run.records:
            order = run.get(OrderRecord, order_id)
            if order is None and state == OrderState.SUBMITTED:
                self._order_placed(run, event)
            elif order is not None:
                order.state, order.updated_at = state.api, event.time
                if state == OrderState.REJECTED:
                    _salt, document = run.documents.committed(event, args["commitment"])
                    if document:
                        order.document = {**order.document, "rejectionReason": document["reason"]}
                run.add(order)
        for member in (args["buyer"], args["seller"]):
            run.feed(event, member, state.event, orderId=order_id)

    def _order_placed(self, run: Run, event: Event) -> None:
        args = event.args
        # the order's fixed terms, as the contract took them from the accepted answer
        terms = self._terms(run, "orders", args["order_id"])
        request_id = terms["request_id"]
        salt, document = run.documents.committed(event, args["commitment"])
        run.add(
            OrderRecord(
                id=args["order_id"],
                request_id=request_id,
                buyer=args["buyer"],
                seller=args["seller"],
                state=OrderState.SUBMITTED.api,
                sla_template=terms["sla_template"],
                currency=currency_code(terms["currency"]),
                mrc=terms["mrc"],
                requested_delivery=chain_time(terms["requested_delivery"]),
                document=document,
                salt=salt,
                commitment=hex32(args["commitment"]),
                updated_at=event.time,
            )
        )
        quote = run.get(QuoteRecord, f"{request_id}-{args['seller']}")
        if quote is not None:
            quote.state, quote.updated_at = AnswerState.ORDERED.api, event.time
            run.add(quote)

    def _service_changed(self, run: Run, event: Event) -> None:
        args = event.args
        service_id, state = args["service_id"], ServiceState(args["state"])
        if run.records:
            service = run.get(ServiceRecord, service_id)
            if service is None:
                self._service_created(run, event)
            else:
                service.state = state.api
                run.add(service)
        subject: dict[str, Any] = {"serviceId": service_id}
        if args["order_id"]:
            subject["orderId"] = args["order_id"]
        for member in (args["buyer"], args["seller"]):
            run.feed(event, member, state.event, **subject)

    def _service_created(self, run: Run, event: Event) -> None:
        """A service from a completed order, or a live circuit registered by its seller:
        its terms and start as the contract holds them (billing's clock)."""
        args = event.args
        terms = self._terms(run, "services", args["service_id"])
        salt, document = run.documents.committed(event, args["commitment"])
        run.add(
            ServiceRecord(
                id=args["service_id"],
                buyer=terms["buyer"],
                seller=terms["seller"],
                state=ServiceState(args["state"]).api,
                sla_template=terms["sla_template"],
                currency=currency_code(terms["currency"]),
                mrc=terms["mrc"],
                started_at=chain_time(terms["started_at"]),
                order_id=args["order_id"] or None,
                document=document,
                salt=salt,
                commitment=hex32(args["commitment"]),
            )
        )
        if args["order_id"]:
            order = run.get(OrderRecord, args["order_id"])
            if order is not None:
                order.service_id = args["service_id"]
                run.add(order)

    def _service_ended(self, run: Run, event: Event) -> None:
        args = event.args
        service = run.get(ServiceRecord, args["service_id"])
        if run.records and service is not None:
            service.ended_at = chain_time(args["ended_at"])
            run.add(service)
        for member in (args["buyer"], args["seller"]):
            run.feed(
                event,
                member,
                SERVICE_ENDING_EVENT,
                serviceId=args["service_id"],
                endedAt=args["ended_at"],
            )

    def _buyer_of_request(self, run: Run, request_id: int) -> str:
        request = run.get(QuoteRequestRecord, request_id)
        if request is not None:
            return request.buyer
        return str(self.contract.functions.requests(request_id).call()[0])
