# pragma version 0.4.3
"""
@title Ordering
@custom:contract-name Ordering
@license Apache-2.0
@notice The cooperative's marketplace, in MEF LSO Sonata's shapes: sellers publish
        product offerings; a buyer asks one or more sellers for quotes; each answers with
        price terms or declines; the buyer accepts one answer and orders against it; the
        seller acknowledges, works and completes the order, which creates the service
        both parties signed for. Carriers also bring their live circuits: the seller
        registers them in bulk and the buyer confirms them in bulk.
@dev Privacy by commitment: only parties, states, timestamps, the charges later modules
     compute with (MRC, NRC, currency) and reputation counters are in storage. Every
     private document (site addresses, full terms, contacts) stays in the platform's
     store; its salted keccak256 commitment is emitted with the transition it belongs to,
     so a party can later prove the document's content to anyone.

     A cooperative module: it runs behind an OpenZeppelin BeaconProxy, so its state is set
     by `initialize()`; the implementation itself is locked at deployment. New versions
     append storage variables only (checked by `coop modules check`).

     Currencies are ISO 4217 numeric codes (978 EUR, 840 USD); amounts are minor units.
"""

# @dev The member register (is_member) and the SLA templates (is_adopted).
from interfaces import IMembership
from interfaces import ISlaTemplates

VERSION: constant(uint256) = 1

# Quote request states
REQUEST_OPEN: constant(uint8) = 0
REQUEST_ACCEPTED: constant(uint8) = 1
REQUEST_REJECTED: constant(uint8) = 2

# A seller's answer to a request (Sonata quote states, simplified)
ANSWER_PENDING: constant(uint8) = 0  # inProgress: the seller has not answered
ANSWER_READY: constant(uint8) = 1  # approved.orderable: price terms given
ANSWER_DECLINED: constant(uint8) = 2  # unableToProvide (by the seller) or declined (by the buyer)
ANSWER_ACCEPTED: constant(uint8) = 3  # accepted
ANSWER_ORDERED: constant(uint8) = 4  # accepted and ordered: one order per quote

# Product order states (Sonata)
ORDER_SUBMITTED: constant(uint8) = 0
ORDER_ACKNOWLEDGED: constant(uint8) = 1
ORDER_IN_PROGRESS: constant(uint8) = 2
ORDER_COMPLETED: constant(uint8) = 3
ORDER_REJECTED: constant(uint8) = 4
ORDER_CANCELLED: constant(uint8) = 5

# Service states
SERVICE_PENDING_CONFIRMATION: constant(uint8) = 1  # registered by the seller, not yet by the buyer
SERVICE_ACTIVE: constant(uint8) = 2

MAX_SELLERS: constant(uint256) = 16
MAX_TEMPLATES: constant(uint256) = 8
MAX_BATCH: constant(uint256) = 200
MAX_ISO_4217: constant(uint256) = 999
# @dev MRC and NRC must fit 96 bits of a packed word (7.9e28 minor units).
MAX_AMOUNT: constant(uint256) = 2**96 - 1
ADDRESS_MASK: constant(uint256) = 2**160 - 1


struct Offering:
    seller: address
    active: bool


struct QuoteRequest:
    buyer: address
    sla_template: uint256
    respond_by: uint256  # answers after this count as late for the seller's reputation
    expires_at: uint256  # no answers after this
    requested_delivery: uint256
    state: uint8


struct Answer:
    state: uint8
    currency: uint256
    mrc: uint256
    nrc: uint256
    valid_until: uint256
    answered_at: uint256


struct Order:
    buyer: address
    seller: address
    request_id: uint256
    sla_template: uint256
    currency: uint256
    mrc: uint256
    requested_delivery: uint256
    state: uint8


struct Service:
    buyer: address
    seller: address
    sla_template: uint256
    currency: uint256
    mrc: uint256
    started_at: uint256
    state: uint8


struct ExistingService:
    sla_template: uint256
    currency: uint256
    mrc: uint256
    started_at: uint256
    commitment: bytes32


struct Reputation:
    quotes_in_time: uint256
    quotes_late: uint256  # answered after the window, or never
    orders_on_time: uint256
    orders_late: uint256
    rejected_after_acknowledgement: uint256


# ------------------------------------------------------------------ events

event OfferingPublished:
    offering_id: indexed(uint256)
    seller: indexed(address)
    sla_templates: DynArray[uint256, MAX_TEMPLATES]
    commitment: bytes32


event OfferingWithdrawn:
    offering_id: indexed(uint256)


event QuoteRequested:
    request_id: indexed(uint256)
    buyer: indexed(address)
    sellers: DynArray[address, MAX_SELLERS]
    sla_template: uint256
    respond_by: uint256
    expires_at: uint256
    requested_delivery: uint256
    commitment: bytes32


event QuoteAnswered:
    request_id: indexed(uint256)
    seller: indexed(address)
    state: uint8
    currency: uint256
    mrc: uint256
    nrc: uint256
    valid_until: uint256
    commitment: bytes32


event QuoteRequestClosed:
    request_id: indexed(uint256)
    state: uint8
    accepted_seller: address


event OrderChanged:
    order_id: indexed(uint256)
    buyer: indexed(address)
    seller: indexed(address)
    state: uint8
    commitment: bytes32


event ServiceChanged:
    service_id: indexed(uint256)
    buyer: indexed(address)
    seller: indexed(address)
    state: uint8
    order_id: uint256
    commitment: bytes32


event ServiceEnded:
    service_id: indexed(uint256)
    buyer: address
    seller: address
    ended_at: uint256


# ------------------------------------------------------------------ storage

initialized: public(bool)
membership: public(address)
sla_templates: public(address)

offerings: public(HashMap[uint256, Offering])
offering_count: public(uint256)
requests: public(HashMap[uint256, QuoteRequest])
request_sellers: HashMap[uint256, DynArray[address, MAX_SELLERS]]
answers: public(HashMap[uint256, HashMap[address, Answer]])
request_count: public(uint256)
orders: public(HashMap[uint256, Order])
order_count: public(uint256)
# @dev Services are packed in two words (carriers bring tens of thousands):
#      buyer 160 | SLA template 32 | currency 16 | state 8 | started_at 40, and seller 160 | MRC 96
service_words: HashMap[uint256, uint256[2]]
service_count: public(uint256)
reputation: public(HashMap[address, Reputation])
# @dev Appended (storage only grows): when each service ends, the buyer's disconnect; 0 while
#      it is open-ended. Billing charges a service up to its end.
service_end: HashMap[uint256, uint256]


@deploy
def __init__():
    # Lock the implementation: only proxies, with their own storage, get initialized.
    self.initialized = True


@external
def initialize(_membership: address, _sla_templates: address):
    """
    @notice Set up a proxy's storage. Called once, by the proxy's constructor.
    @param _membership The member register.
    @param _sla_templates The SLA template register.
    """
    assert not self.initialized, "Ordering: already initialized"
    assert _membership != empty(address) and _sla_templates != empty(address), "Ordering: zero address"
    self.initialized = True
    self.membership = _membership
    self.sla_templates = _sla_templates


@external
@pure
def version() -> uint256:
    """
    @notice The implementation's version.
    @return The version number.
    """
    return VERSION


# ------------------------------------------------------------------ offerings


@external
def publish_offering(sla_templates: DynArray[uint256, MAX_TEMPLATES], commitment: bytes32) -> uint256:
    """
    @notice Publish a product offering; its details (product, bandwidths, serving area,
            terms) are public to members in the platform's store, committed here.
    @param sla_templates The adopted SLA templates offered.
    @param commitment keccak256 commitment of the offering document.
    @return The offering id.
    """
    self._only_member(msg.sender)
    assert len(sla_templates) > 0, "Ordering: an offering needs an SLA template"
    for template: uint256 in sla_templates:
        self._adopted(template)
    offering_id: uint256 = self.offering_count + 1
    self.offering_count = offering_id
    self.offerings[offering_id] = Offering(seller=msg.sender, active=True)
    log OfferingPublished(offering_id=offering_id, seller=msg.sender, sla_templates=sla_templates, commitment=commitment)
    return offering_id


@external
def withdraw_offering(offering_id: uint256):
    """
    @notice Withdraw one of the caller's offerings.
    @param offering_id The offering.
    """
    offering: Offering = self.offerings[offering_id]
    assert offering.seller == msg.sender, "Ordering: not your offering"
    assert offering.active, "Ordering: offering already withdrawn"
    self.offerings[offering_id].active = False
    log OfferingWithdrawn(offering_id=offering_id)


# ------------------------------------------------------------------ quotes


@external
def request_quote(
    sellers: DynArray[address, MAX_SELLERS],
    sla_template: uint256,
    respond_by: uint256,
    expires_at: uint256,
    requested_delivery: uint256,
    commitment: bytes32,
) -> uint256:
    """
    @notice Ask sellers for quotes (site, bandwidth, term, level in the committed document).
    @param sellers The members asked, at least one, never the buyer.
    @param sla_template An adopted SLA template.
    @param respond_by Answers after this count as late.
    @param expires_at No answers after this; not before `respond_by`.
    @param requested_delivery The delivery date the buyer wants; in the future.
    @param commitment Salted commitment of the request document.
    @return The request id.
    """
    self._only_member(msg.sender)
    assert len(sellers) > 0, "Ordering: no sellers"
    self._adopted(sla_template)
    assert respond_by > block.timestamp, "Ordering: answer window in the past"
    assert expires_at >= respond_by, "Ordering: request expires before its answer window"
    assert requested_delivery > block.timestamp, "Ordering: requested delivery date in the past"
    request_id: uint256 = self.request_count + 1
    self.request_count = request_id
    for seller: address in sellers:
        assert seller != msg.sender, "Ordering: a buyer cannot ask itself"
        self._only_member(seller)
        assert not self._listed(request_id, seller), "Ordering: seller listed twice"
        self.request_sellers[request_id].append(seller)
    self.requests[request_id] = QuoteRequest(
        buyer=msg.sender,
        sla_template=sla_template,
        respond_by=respond_by,
        expires_at=expires_at,
        requested_delivery=requested_delivery,
        state=REQUEST_OPEN,
    )
    log QuoteRequested(
        request_id=request_id,
        buyer=msg.sender,
        sellers=sellers,
        sla_template=sla_template,
        respond_by=respond_by,
        expires_at=expires_at,
        requested_delivery=requested_delivery,
        commitment=commitment,
    )
    return request_id


@external
def respond_to_quote(
    request_id: uint256, currency: uint256, mrc: uint256, nrc: uint256, valid_until: uint256, commitment: bytes32
):
    """
    @notice Answer a quote request addressed to the caller with price terms.
    @param request_id The request.
    @param currency ISO 4217 numeric code.
    @param mrc Monthly recurring charge, minor units, more than zero.
    @param nrc Non-recurring charge, minor units.
    @param valid_until The buyer may accept until then.
    @param commitment Salted commitment of the quote document.
    """
    self._answerable(request_id, msg.sender)
    self._only_member(msg.sender)
    assert currency > 0 and currency <= MAX_ISO_4217, "Ordering: not an ISO 4217 numeric currency"
    assert mrc > 0, "Ordering: zero MRC"
    assert mrc <= MAX_AMOUNT and nrc <= MAX_AMOUNT, "Ordering: amount too large"
    assert valid_until > block.timestamp, "Ordering: quote valid until a past date"
    self.answers[request_id][msg.sender] = Answer(
        state=ANSWER_READY, currency=currency, mrc=mrc, nrc=nrc, valid_until=valid_until, answered_at=block.timestamp
    )
    self._count_answer(request_id, msg.sender)
    log QuoteAnswered(
        request_id=request_id, seller=msg.sender, state=ANSWER_READY, currency=currency, mrc=mrc, nrc=nrc,
        valid_until=valid_until, commitment=commitment,
    )


@external
def decline_quote(request_id: uint256, commitment: bytes32):
    """
    @notice Answer that the caller is unable to provide.
    @param request_id The request.
    @param commitment Salted commitment of the reason.
    """
    self._answerable(request_id, msg.sender)
    self._only_member(msg.sender)
    self.answers[request_id][msg.sender] = Answer(
        state=ANSWER_DECLINED, currency=0, mrc=0, nrc=0, valid_until=0, answered_at=block.timestamp
    )
    self._count_answer(request_id, msg.sender)
    log QuoteAnswered(
        request_id=request_id, seller=msg.sender, state=ANSWER_DECLINED, currency=0, mrc=0, nrc=0, valid_until=0,
        commitment=commitment,
    )


@external
def accept_quote(request_id: uint256, seller: address):
    """
    @notice Accept one seller's answer; every other answer is declined.
    @param request_id The request.
    @param seller The seller whose quote is accepted.
    """
    request: QuoteRequest = self._own_open_request(request_id)
    self._only_member(msg.sender)
    answer: Answer = self.answers[request_id][seller]
    assert answer.state == ANSWER_READY, "Ordering: no quote from this seller to accept"
    assert block.timestamp <= answer.valid_until, "Ordering: the quote expired"
    self.answers[request_id][seller].state = ANSWER_ACCEPTED
    self._close_request(request_id, REQUEST_ACCEPTED, seller)


@external
def reject_quote(request_id: uint256):
    """
    @notice Reject every answer and close the request.
    @param request_id The request.
    """
    self._own_open_request(request_id)
    self._close_request(request_id, REQUEST_REJECTED, empty(address))


@external
@view
def request_seller_list(request_id: uint256) -> DynArray[address, MAX_SELLERS]:
    """
    @notice The sellers a request was addressed to.
    @param request_id The request.
    @return The sellers.
    """
    return self.request_sellers[request_id]


# ------------------------------------------------------------------ orders


@external
def place_order(request_id: uint256, seller: address, requested_delivery: uint256, commitment: bytes32) -> uint256:
    """
    @notice Order against an accepted, unexpired quote.
    @param request_id The quote request.
    @param seller The seller whose quote was accepted.
    @param requested_delivery The delivery date the buyer wants; in the future.
    @param commitment Salted commitment of the order document.
    @return The order id.
    """
    request: QuoteRequest = self.requests[request_id]
    assert request.buyer == msg.sender, "Ordering: not your quote request"
    answer: Answer = self.answers[request_id][seller]
    assert answer.state != ANSWER_ORDERED, "Ordering: this quote was already ordered"
    assert answer.state == ANSWER_ACCEPTED, "Ordering: no accepted quote from this seller"
    assert block.timestamp <= answer.valid_until, "Ordering: the quote expired"
    assert requested_delivery > block.timestamp, "Ordering: requested delivery date in the past"
    self._only_member(msg.sender)
    self._adopted(request.sla_template)  # a retired template takes no new orders
    order_id: uint256 = self.order_count + 1
    self.order_count = order_id
    self.orders[order_id] = Order(
        buyer=msg.sender,
        seller=seller,
        request_id=request_id,
        sla_template=request.sla_template,
        currency=answer.currency,
        mrc=answer.mrc,
        requested_delivery=requested_delivery,
        state=ORDER_SUBMITTED,
    )
    self.answers[request_id][seller].state = ANSWER_ORDERED
    log OrderChanged(order_id=order_id, buyer=msg.sender, seller=seller, state=ORDER_SUBMITTED, commitment=commitment)
    return order_id


@external
def acknowledge_order(order_id: uint256):
    """
    @notice The seller acknowledges a submitted order.
    @param order_id The order.
    """
    self._move_order(order_id, msg.sender, ORDER_SUBMITTED, ORDER_ACKNOWLEDGED, empty(bytes32))


@external
def start_order(order_id: uint256):
    """
    @notice The seller starts work on an acknowledged order.
    @param order_id The order.
    """
    self._move_order(order_id, msg.sender, ORDER_ACKNOWLEDGED, ORDER_IN_PROGRESS, empty(bytes32))


@external
def reject_order(order_id: uint256, commitment: bytes32):
    """
    @notice The seller rejects an order it has not started; after acknowledging, this
            counts against its reputation.
    @param order_id The order.
    @param commitment Salted commitment of the reason.
    """
    order: Order = self.orders[order_id]
    assert order.seller == msg.sender, "Ordering: not your order"
    assert order.state == ORDER_SUBMITTED or order.state == ORDER_ACKNOWLEDGED, "Ordering: the order can no longer be rejected"
    if order.state == ORDER_ACKNOWLEDGED:
        self.reputation[msg.sender].rejected_after_acknowledgement += 1
    self.orders[order_id].state = ORDER_REJECTED
    log OrderChanged(order_id=order_id, buyer=order.buyer, seller=order.seller, state=ORDER_REJECTED, commitment=commitment)


@external
def cancel_order(order_id: uint256):
    """
    @notice The buyer cancels an order before completion.
    @param order_id The order.
    """
    order: Order = self.orders[order_id]
    assert order.buyer == msg.sender, "Ordering: not your order"
    assert order.state <= ORDER_IN_PROGRESS, "Ordering: the order can no longer be cancelled"
    self.orders[order_id].state = ORDER_CANCELLED
    log OrderChanged(order_id=order_id, buyer=order.buyer, seller=order.seller, state=ORDER_CANCELLED, commitment=empty(bytes32))


@external
def complete_order(order_id: uint256, commitment: bytes32) -> uint256:
    """
    @notice The seller completes the order: the service starts now.
    @param order_id The order.
    @param commitment Salted commitment of the service document (circuit details).
    @return The service id.
    """
    order: Order = self.orders[order_id]
    assert order.seller == msg.sender, "Ordering: not your order"
    assert order.state == ORDER_ACKNOWLEDGED or order.state == ORDER_IN_PROGRESS, "Ordering: the order cannot be completed"
    self._only_member(msg.sender)  # a service is between members
    self.orders[order_id].state = ORDER_COMPLETED
    if block.timestamp <= order.requested_delivery:
        self.reputation[msg.sender].orders_on_time += 1
    else:
        self.reputation[msg.sender].orders_late += 1
    log OrderChanged(order_id=order_id, buyer=order.buyer, seller=order.seller, state=ORDER_COMPLETED, commitment=empty(bytes32))
    return self._new_service(order.buyer, order.seller, order.sla_template, order.currency, order.mrc, block.timestamp, SERVICE_ACTIVE, order_id, commitment)


# ------------------------------------------------------------------ existing circuits


@external
def register_services(buyer: address, entries: DynArray[ExistingService, MAX_BATCH]) -> uint256:
    """
    @notice The seller registers live circuits it already provides to `buyer`; each
            becomes a service once the buyer confirms it.
    @param buyer The member buying them.
    @param entries The circuits: SLA template, currency, MRC, start, commitment.
    @return The first new service id (ids are consecutive).
    """
    self._only_member(msg.sender)
    self._only_member(buyer)
    assert buyer != msg.sender, "Ordering: a seller cannot sell to itself"
    assert len(entries) > 0, "Ordering: nothing to register"
    first: uint256 = self.service_count + 1
    for entry: ExistingService in entries:
        self._adopted(entry.sla_template)
        assert entry.currency > 0 and entry.currency <= MAX_ISO_4217, "Ordering: not an ISO 4217 numeric currency"
        assert entry.mrc > 0, "Ordering: zero MRC"
        assert entry.mrc <= MAX_AMOUNT, "Ordering: amount too large"
        assert entry.started_at <= block.timestamp, "Ordering: a live circuit cannot start in the future"
        self._new_service(buyer, msg.sender, entry.sla_template, entry.currency, entry.mrc, entry.started_at, SERVICE_PENDING_CONFIRMATION, 0, entry.commitment)
    return first


@external
def confirm_services(service_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice The buyer confirms registered circuits; only then are they services.
    @param service_ids The services to confirm.
    """
    for service_id: uint256 in service_ids:
        word: uint256 = self.service_words[service_id][0]
        assert convert(word & ADDRESS_MASK, address) == msg.sender, "Ordering: not your service"
        assert (word >> 208) & 255 == convert(SERVICE_PENDING_CONFIRMATION, uint256), "Ordering: service not awaiting confirmation"
        self.service_words[service_id][0] = (word & ~(255 << 208)) | (convert(SERVICE_ACTIVE, uint256) << 208)
        seller: address = convert(self.service_words[service_id][1] & ADDRESS_MASK, address)
        log ServiceChanged(service_id=service_id, buyer=msg.sender, seller=seller, state=SERVICE_ACTIVE, order_id=0, commitment=empty(bytes32))
    self._only_member(msg.sender)  # a buyer who left confirms nothing


@external
def end_service(service_id: uint256, ended_at: uint256):
    """
    @notice The buyer disconnects an active service: it ends at `ended_at`, now or later
            (a scheduled disconnect). A service ends once; it stays active until then and
            its state does not change: `service_ended_at` tells when it ends.
    @param service_id The service.
    @param ended_at When the service ends; not in the past, after the service started.
    """
    word: uint256 = self.service_words[service_id][0]
    assert convert(word & ADDRESS_MASK, address) == msg.sender, "Ordering: not your service"
    assert (word >> 208) & 255 == convert(SERVICE_ACTIVE, uint256), "Ordering: service not active"
    assert self.service_end[service_id] == 0, "Ordering: service already ended"
    assert ended_at >= block.timestamp, "Ordering: end in the past"
    assert ended_at > word >> 216, "Ordering: end before the service started"
    self._only_member(msg.sender)
    self.service_end[service_id] = ended_at
    seller: address = convert(self.service_words[service_id][1] & ADDRESS_MASK, address)
    log ServiceEnded(service_id=service_id, buyer=msg.sender, seller=seller, ended_at=ended_at)


@external
@view
def service_ended_at(service_id: uint256) -> uint256:
    """
    @notice When a service ends (its buyer's disconnect).
    @param service_id The service.
    @return The end timestamp; 0 while the service is open-ended.
    """
    return self.service_end[service_id]


@external
@view
def services(service_id: uint256) -> Service:
    """
    @notice A service: parties, SLA template, currency, MRC, start and state.
    @param service_id The service.
    @return The service (empty when unknown).
    """
    a: uint256 = self.service_words[service_id][0]
    b: uint256 = self.service_words[service_id][1]
    return Service(
        buyer=convert(a & ADDRESS_MASK, address),
        seller=convert(b & ADDRESS_MASK, address),
        sla_template=(a >> 160) & (2**32 - 1),
        currency=(a >> 192) & (2**16 - 1),
        mrc=b >> 160,
        started_at=a >> 216,
        state=convert((a >> 208) & 255, uint8),
    )


@external
@view
def is_active_service(service_id: uint256) -> bool:
    """
    @notice Whether a service is active (both parties signed for it).
    @param service_id The service.
    @return True when active.
    """
    return (self.service_words[service_id][0] >> 208) & 255 == convert(SERVICE_ACTIVE, uint256)


# ------------------------------------------------------------------ internals


@internal
@view
def _only_member(account: address):
    assert staticcall IMembership(self.membership).is_member(account), "Ordering: not a member"


@internal
@view
def _adopted(template: uint256):
    assert staticcall ISlaTemplates(self.sla_templates).is_adopted(template), "Ordering: SLA template not adopted"


@internal
@view
def _listed(request_id: uint256, seller: address) -> bool:
    for listed: address in self.request_sellers[request_id]:
        if listed == seller:
            return True
    return False


@internal
@view
def _answerable(request_id: uint256, seller: address):
    request: QuoteRequest = self.requests[request_id]
    assert request.buyer != empty(address) and self._listed(request_id, seller), "Ordering: no such request for you"
    assert request.state == REQUEST_OPEN, "Ordering: the request is closed"
    assert block.timestamp <= request.expires_at, "Ordering: the request expired"
    assert self.answers[request_id][seller].state == ANSWER_PENDING, "Ordering: already answered"


@internal
def _count_answer(request_id: uint256, seller: address):
    if block.timestamp <= self.requests[request_id].respond_by:
        self.reputation[seller].quotes_in_time += 1
    else:
        self.reputation[seller].quotes_late += 1


@internal
@view
def _own_open_request(request_id: uint256) -> QuoteRequest:
    request: QuoteRequest = self.requests[request_id]
    assert request.buyer == msg.sender, "Ordering: not your quote request"
    assert request.state == REQUEST_OPEN, "Ordering: the request is closed"
    return request


@internal
def _close_request(request_id: uint256, state: uint8, accepted: address):
    self.requests[request_id].state = state
    window_over: bool = block.timestamp > self.requests[request_id].respond_by
    for seller: address in self.request_sellers[request_id]:
        answer_state: uint8 = self.answers[request_id][seller].state
        if answer_state == ANSWER_PENDING:
            # Silent past its window: late. A buyer closing early cuts the others off
            # before their window ended; that is not held against them.
            if window_over:
                self.reputation[seller].quotes_late += 1
            self.answers[request_id][seller].state = ANSWER_DECLINED
        elif answer_state == ANSWER_READY:
            self.answers[request_id][seller].state = ANSWER_DECLINED
    log QuoteRequestClosed(request_id=request_id, state=state, accepted_seller=accepted)


@internal
def _move_order(order_id: uint256, seller: address, expected: uint8, new_state: uint8, commitment: bytes32):
    order: Order = self.orders[order_id]
    assert order.seller == seller, "Ordering: not your order"
    self._only_member(seller)
    assert order.state == expected, "Ordering: the order is not in the right state"
    self.orders[order_id].state = new_state
    log OrderChanged(order_id=order_id, buyer=order.buyer, seller=order.seller, state=new_state, commitment=commitment)


@internal
def _new_service(
    buyer: address,
    seller: address,
    sla_template: uint256,
    currency: uint256,
    mrc: uint256,
    started_at: uint256,
    state: uint8,
    order_id: uint256,
    commitment: bytes32,
) -> uint256:
    assert sla_template < 2**32 and started_at < 2**40, "Ordering: value out of range"
    service_id: uint256 = self.service_count + 1
    self.service_count = service_id
    self.service_words[service_id] = [
        convert(buyer, uint256) | (sla_template << 160) | (currency << 192) | (convert(state, uint256) << 208) | (started_at << 216),
        convert(seller, uint256) | (mrc << 160),
    ]
    log ServiceChanged(service_id=service_id, buyer=buyer, seller=seller, state=state, order_id=order_id, commitment=commitment)
    return service_id
