# pragma version 0.4.3
"""
@title Assurance
@custom:contract-name Assurance
@license Apache-2.0
@notice SLA assurance, in MEF LSO Sonata's trouble ticket shapes: the buyer of a service
        opens a ticket with the observed impact and the outage's start; the seller
        acknowledges it, works on it and resolves it with the outage's end and a root
        cause; the buyer closes it or reopens it, and a resolved ticket the buyer leaves
        unanswered for the template's resolution window is deemed closed. So every outage
        second is a fact both parties signed. Closing a service's period (a calendar month)
        computes its availability from the closed `down` tickets, applies the service's SLA
        template and records an SLA credit that each party endorses, or disputes: a dispute
        names the tickets whose facts it contests and reopens those only; once they are
        closed again, the period is closed again and the credit recomputed. A period with
        no outage fact (no `down` ticket in it that a dispute could name) has nothing to
        endorse or dispute: its close records the credit (zero) endorsed at once.
@dev Privacy by commitment: a ticket's description stays in the platform's store; its
     salted keccak256 commitment is emitted with the opening, never stored.

     Gas (budget: 40,000 per ticket lifecycle open -> acknowledge -> resolve -> close, in
     batches): a large carrier pair has thousands of services, so every entry point takes
     a batch (up to 500) and logs one event per batch. Tickets are packed two to a storage
     word (see `ticket_words`). Ticket ids are chosen by the buyer: `service_id << 32 | n`,
     with n = 0, 1, 2, ... per service (the contract checks that n is free and n - 1 is
     taken), so opening a ticket writes no per-service counter. The parties of a ticket are
     kept as their permanent member indexes (Membership.index_of), so acknowledging,
     resolving and closing read one word and ask no other contract.

     Availability is counted in seconds (timestamps are seconds; nothing is rounded to
     minutes): outage = the union of the intervals of the closed (or deemed closed) `down`
     tickets, clipped to the period and to the service's end (Ordering.service_ended_at),
     planned maintenance left out where the template says so; availability in parts per
     million = (period - outage) * 1e6 // period, rounded down, which gives exactly the tier
     that comparing the unrounded ratio with the integer floors gives. The period is the
     whole calendar month, also when the service started or ended in it. The credit is the
     tier's basis points of the MRC, rounded down to a minor unit, never above the MRC; a
     zero MRC earns zero. A period that earned no tier counts as met for the seller's
     compliance, any tier as breached (also on a zero MRC).

     What needs endorsing: a credit whose period has at least one outage fact, a closed
     (or deemed closed), not cancelled `down` ticket in the period (starting before its
     end and either ending after its start or starting in it: the tickets
     `dispute_credit` accepts; planned maintenance and zero-length outages included,
     since their cause and end can be contested), even when the credit is zero. A period
     without one cannot earn a tier (availability 100 %) and a dispute could name no
     ticket of it, so two endorsements would change nothing: its close records the
     credit endorsed by both (state endorsed, both endorsement bits), and logs
     CreditEndorsed with the zero address as the party. Degraded and intermittent
     tickets never count toward the credit and cannot be disputed: they do not call for
     endorsements either. Closing a disputed period again applies the same rule to the
     tickets as they now stand.

     Periods of a service close one after the other, from the later of the month this
     contract was initialized in (`first_period`) and the month the service started, up
     to the month it ended. A down ticket that starts before the period's end and is not
     closed holds the close (while it is open, resolved or reopened its end can still
     change); no ticket may start in a closed period. Only the latest closed period can be
     disputed, and the next period cannot be closed while it is disputed. A per-service
     mark (`closings`) remembers from which ticket number the next close reads: the first
     ticket that can still matter after the closed period, so a close reads the tickets
     of about one month, not the service's whole history.

     A cooperative module: it runs behind an OpenZeppelin BeaconProxy, so its state is set
     by `initialize()`; the implementation itself is locked at deployment. New versions
     append storage variables only (checked by `coop modules check`).

     Timestamps are packed in 34 bits (valid until the year 2514); member indexes in 16.
"""

# @dev The member register (is_member, index_of), the SLA templates (template) and the
#      services (services, service_ended_at) of the Ordering module.
from interfaces import IAssurance
from interfaces import IMembership
from interfaces import IOrdering
from interfaces import ISlaTemplates
from lib import calendar

implements: IAssurance

# 2: a period with no outage fact is final at its close (ENDORSED by the close itself)
VERSION: constant(uint256) = 2

# Ticket states (MEF Sonata trouble ticket states; `opened` is the buyer's submission the
# seller has not acknowledged yet, a separate transaction on chain)
TICKET_NONE: constant(uint256) = 0
TICKET_OPENED: constant(uint256) = 1
TICKET_ACKNOWLEDGED: constant(uint256) = 2
TICKET_IN_PROGRESS: constant(uint256) = 3
TICKET_PENDING: constant(uint256) = 4  # the seller waits on the buyer
TICKET_RESOLVED: constant(uint256) = 5  # awaiting the buyer; closed by itself after the resolution window
TICKET_CLOSED: constant(uint256) = 6
TICKET_REOPENED: constant(uint256) = 7  # by the buyer within the window, or by a dispute
TICKET_CANCELLED: constant(uint256) = 8

# Sets of states, one bit per state (1 << state)
SET_WORKING: constant(uint256) = 156  # acknowledged, inProgress, pending, reopened: the seller works on it
SET_CANCELLABLE: constant(uint256) = 158  # opened and the working states: not resolved

# Observed impact, given by the buyer. Only `down` counts as outage.
IMPACT_DOWN: constant(uint256) = 1
IMPACT_DEGRADED: constant(uint256) = 2
IMPACT_INTERMITTENT: constant(uint256) = 3

# Root causes, given by the seller when it resolves
CAUSE_FIBER_CUT: constant(uint256) = 1
CAUSE_POWER: constant(uint256) = 2
CAUSE_EQUIPMENT: constant(uint256) = 3
CAUSE_CONFIGURATION: constant(uint256) = 4
CAUSE_THIRD_PARTY: constant(uint256) = 5
CAUSE_PLANNED_MAINTENANCE: constant(uint256) = 6  # not outage where the template excludes it
CAUSE_CUSTOMER_SIDE: constant(uint256) = 7
CAUSE_UNKNOWN: constant(uint256) = 8

# Credit states (IAssurance): none (period not closed), calculated (awaiting both
# endorsements), endorsed by both parties (or by the close itself, for a period with no
# outage fact: final either way), disputed (awaiting a new close)
CREDIT_NONE: constant(uint256) = 0
CREDIT_CALCULATED: constant(uint256) = 1
CREDIT_ENDORSED: constant(uint256) = 2
CREDIT_DISPUTED: constant(uint256) = 3

# Ordering's state of a service both parties signed for
SERVICE_ACTIVE: constant(uint8) = 2

# @dev Availability in parts per million (99.95 % = 999_500); credits in basis points of MRC.
PPM: constant(uint256) = 1_000_000
MAX_CREDIT_BPS: constant(uint256) = 10_000
MAX_BATCH: constant(uint256) = 500
MAX_DISPUTED: constant(uint256) = 64
# @dev A period close reads at most this many tickets of a service (from its mark on) and
#      keeps at most this many separate outage intervals; a month has far fewer.
MAX_SCAN: constant(uint256) = 1_024
MAX_OUTAGES: constant(uint256) = 256
# @dev As SlaTemplates.MAX_TIERS.
MAX_TIERS: constant(uint256) = 8

# @dev Ticket word: buyer index 16 | seller index 16 | ticket 2n 112 | ticket 2n+1 112.
#      Ticket: state 4 | impact 2 | cause 4 | start 34 | end 34 | resolved_at 34.
INDEX_MASK: constant(uint256) = 2**16 - 1
TICKET_MASK: constant(uint256) = 2**112 - 1
TIME_MASK: constant(uint256) = 2**34 - 1
FIRST_TICKET: constant(uint256) = 32
TICKET_BITS: constant(uint256) = 112
IMPACT_SHIFT: constant(uint256) = 4
CAUSE_SHIFT: constant(uint256) = 6
START_SHIFT: constant(uint256) = 10
END_SHIFT: constant(uint256) = 44
RESOLVED_SHIFT: constant(uint256) = 78
# start and impact: what a reopened ticket keeps
OPENING_FACTS: constant(uint256) = (2**34 - 1) * 2**10 + 3 * 2**4
# every field but the state: what a change of state keeps
KEEP_ALL: constant(uint256) = TICKET_MASK - 15
# @dev Closing word: scan_from 32 | next_from 32 | closed_until 34 | latest closed period + 1 32.
NUMBER_MASK: constant(uint256) = 2**32 - 1
NEXT_FROM_SHIFT: constant(uint256) = 32
CLOSED_UNTIL_SHIFT: constant(uint256) = 64
LATEST_SHIFT: constant(uint256) = 98
# @dev Credit word: state 2 | endorsed by buyer 1 | by seller 1 | bps 14 | availability ppm 20
#      | outage seconds 32 | amount 96.
STATE_MASK: constant(uint256) = 3
BUYER_ENDORSED: constant(uint256) = 4
SELLER_ENDORSED: constant(uint256) = 8
BPS_SHIFT: constant(uint256) = 4
BPS_MASK: constant(uint256) = 2**14 - 1
PPM_MASK: constant(uint256) = 2**20 - 1
AVAILABILITY_SHIFT: constant(uint256) = 18
OUTAGE_SHIFT: constant(uint256) = 38
AMOUNT_SHIFT: constant(uint256) = 70


struct TicketOpening:
    ticket_id: uint256  # service_id << 32 | n
    impact: uint8
    start: uint256
    commitment: bytes32  # salted commitment of the ticket's description


struct TicketResolution:
    ticket_id: uint256
    end: uint256
    cause: uint8


struct Ticket:
    service_id: uint256
    number: uint256
    state: uint8  # as it stands now: a resolved ticket past its window reads closed
    impact: uint8
    cause: uint8  # 0 until resolved
    start: uint256
    end: uint256  # 0 until resolved
    resolved_at: uint256  # 0 until resolved


struct Credit:
    state: uint8
    amount: uint256  # minor units of the service's currency
    credit_bps: uint256
    availability_ppm: uint256
    outage_seconds: uint256
    endorsed_by_buyer: bool
    endorsed_by_seller: bool


struct Closing:
    closed_any: bool  # whether a period of the service was closed
    latest_period: uint256  # the latest closed period
    closed_until: uint256  # its end: no ticket may start before
    scan_from: uint256  # the ticket number its close started reading at
    next_from: uint256  # the ticket number the next close starts reading at


struct Compliance:
    periods_met: uint256  # closed periods whose availability earned no credit tier
    periods_breached: uint256  # closed periods that earned a tier (a disputed one counts again once closed again)


struct Terms:
    resolution_window: uint256
    exclude_planned_maintenance: bool
    tiers: DynArray[ISlaTemplates.Tier, MAX_TIERS]


# ------------------------------------------------------------------ events

# @dev Ticket events are one per batch (a fraction of the gas of one per ticket); the
#      batch's arguments are the facts.
event TicketsOpened:
    buyer: indexed(address)
    openings: DynArray[TicketOpening, MAX_BATCH]


event TicketsResolved:
    seller: indexed(address)
    resolutions: DynArray[TicketResolution, MAX_BATCH]


event TicketsChanged:
    party: indexed(address)
    state: uint8
    ticket_ids: DynArray[uint256, MAX_BATCH]


event CreditCalculated:
    service_id: indexed(uint256)
    period: indexed(uint256)
    availability_ppm: uint256
    outage_seconds: uint256
    credit_bps: uint256
    amount: uint256


# @dev `party` is the endorsing party, or the zero address when the close itself made the
#      credit final (a period with no outage fact: nothing to endorse); `state` is the
#      credit's state after it (endorsed once both parties have endorsed).
event CreditEndorsed:
    service_id: indexed(uint256)
    period: indexed(uint256)
    party: indexed(address)
    state: uint8


event CreditDisputed:
    service_id: indexed(uint256)
    period: indexed(uint256)
    party: indexed(address)
    ticket_ids: DynArray[uint256, MAX_DISPUTED]
    commitment: bytes32


# ------------------------------------------------------------------ storage

initialized: public(bool)
membership: public(address)
sla_templates: public(address)
ordering: public(address)
# @notice The first calendar month whose SLA credits this contract computes.
first_period: public(uint256)
# @dev (ticket_id >> 1) -> ticket word: tickets 2k and 2k + 1 of a service share a word.
ticket_words: HashMap[uint256, uint256]
# @dev service_id -> closing word
closings: HashMap[uint256, uint256]
# @dev service_id << 32 | period -> credit word
credits: HashMap[uint256, uint256]
# @notice Per seller: closed periods that met the SLA (no credit tier) and that breached it.
compliance: public(HashMap[address, Compliance])


@deploy
def __init__():
    # Lock the implementation: only proxies, with their own storage, get initialized.
    self.initialized = True


@external
def initialize(_membership: address, _sla_templates: address, _ordering: address):
    """
    @notice Set up a proxy's storage. Called once, by the proxy's constructor.
    @param _membership The member register.
    @param _sla_templates The SLA template register.
    @param _ordering The Ordering module (its proxy), where services are.
    """
    assert not self.initialized, "Assurance: already initialized"
    assert _membership != empty(address) and _sla_templates != empty(address) and _ordering != empty(address), "Assurance: zero address"
    self.initialized = True
    self.membership = _membership
    self.sla_templates = _sla_templates
    self.ordering = _ordering
    self.first_period = calendar.period_of(block.timestamp)


@external
@pure
def version() -> uint256:
    """
    @notice The implementation's version.
    @return The version number.
    """
    return VERSION


# ------------------------------------------------------------------ tickets


@external
def open_tickets(openings: DynArray[TicketOpening, MAX_BATCH]):
    """
    @notice The buyer opens trouble tickets on its active services.
    @dev Ticket n of a service is `service_id << 32 | n`; n must be free and n - 1 taken.
         An outage starting after the service's end is not refused here (the platform
         refuses it): a period close clips every outage to the end, so it counts for
         nothing, and not asking Ordering for the end saves ~3,600 gas per service.
    @param openings Ticket id, impact (down, degraded, intermittent), the outage's start
           (not in the future, not before the service, not in a closed period) and the
           commitment of the description.
    """
    buyer_index: uint256 = self._caller_index()
    service_id: uint256 = max_value(uint256)  # the service last looked up
    seller_index: uint256 = 0
    started_at: uint256 = 0
    closed_until: uint256 = 0
    for opening: TicketOpening in openings:
        ticket_id: uint256 = opening.ticket_id
        if ticket_id >> 32 != service_id:
            service_id = ticket_id >> 32
            service: IOrdering.Service = staticcall IOrdering(self.ordering).services(service_id)
            assert service.buyer == msg.sender, "Assurance: not your service"
            assert service.state == SERVICE_ACTIVE, "Assurance: the service is not active"
            seller_index = staticcall IMembership(self.membership).index_of(service.seller)
            assert seller_index <= INDEX_MASK, "Assurance: member index out of range"
            started_at = service.started_at
            closed_until = (self.closings[service_id] >> CLOSED_UNTIL_SHIFT) & TIME_MASK
        impact: uint256 = convert(opening.impact, uint256)
        assert impact >= IMPACT_DOWN and impact <= IMPACT_INTERMITTENT, "Assurance: unknown impact"
        assert opening.start <= block.timestamp, "Assurance: the outage cannot start in the future"
        assert opening.start >= started_at, "Assurance: the outage starts before the service"
        assert opening.start >= closed_until, "Assurance: the outage starts in a closed period"
        key: uint256 = ticket_id >> 1
        word: uint256 = self.ticket_words[key]
        if ticket_id & 1 == 0:
            assert word == 0, "Assurance: the ticket exists"
            if ticket_id & NUMBER_MASK != 0:
                assert self.ticket_words[key - 1] >> (FIRST_TICKET + TICKET_BITS) != 0, "Assurance: the previous ticket number is not taken"
            word = buyer_index | (seller_index << 16) | ((TICKET_OPENED | (impact << IMPACT_SHIFT) | (opening.start << START_SHIFT)) << FIRST_TICKET)
        else:
            assert word >> (FIRST_TICKET + TICKET_BITS) == 0, "Assurance: the ticket exists"
            assert word != 0, "Assurance: the previous ticket number is not taken"
            word = word | ((TICKET_OPENED | (impact << IMPACT_SHIFT) | (opening.start << START_SHIFT)) << (FIRST_TICKET + TICKET_BITS))
        self.ticket_words[key] = word
    log TicketsOpened(buyer=msg.sender, openings=openings)


@external
def acknowledge_tickets(ticket_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice The seller acknowledges opened tickets.
    @param ticket_ids The tickets.
    """
    self._move(ticket_ids, True, 2**TICKET_OPENED, TICKET_ACKNOWLEDGED, KEEP_ALL)


@external
def progress_tickets(ticket_ids: DynArray[uint256, MAX_BATCH], state: uint8):
    """
    @notice The seller marks tickets it works on as inProgress, or pending (waiting on the buyer).
    @param ticket_ids The tickets: acknowledged, inProgress, pending or reopened, not already in `state`.
    @param state TICKET_IN_PROGRESS or TICKET_PENDING.
    """
    new_state: uint256 = convert(state, uint256)
    assert new_state == TICKET_IN_PROGRESS or new_state == TICKET_PENDING, "Assurance: a ticket moves to inProgress or pending only"
    self._move(ticket_ids, True, SET_WORKING & ~(1 << new_state), new_state, KEEP_ALL)


@external
def resolve_tickets(resolutions: DynArray[TicketResolution, MAX_BATCH]):
    """
    @notice The seller resolves tickets it acknowledged (or that were reopened).
    @param resolutions Ticket id, the outage's end (not before its start, not in the
           future) and the root cause.
    """
    seller_index: uint256 = self._caller_index()
    for resolution: TicketResolution in resolutions:
        key: uint256 = resolution.ticket_id >> 1
        offset: uint256 = FIRST_TICKET + TICKET_BITS * (resolution.ticket_id & 1)
        word: uint256 = self.ticket_words[key]
        ticket: uint256 = (word >> offset) & TICKET_MASK
        assert ticket != 0, "Assurance: no such ticket"
        assert (word >> 16) & INDEX_MASK == seller_index, "Assurance: not the ticket's seller"
        assert ticket & 15 != TICKET_OPENED, "Assurance: the ticket is not acknowledged"
        assert (1 << (ticket & 15)) & SET_WORKING != 0, "Assurance: the ticket cannot be resolved"
        cause: uint256 = convert(resolution.cause, uint256)
        assert cause >= CAUSE_FIBER_CUT and cause <= CAUSE_UNKNOWN, "Assurance: unknown root cause"
        assert resolution.end >= (ticket >> START_SHIFT) & TIME_MASK, "Assurance: the outage ends before it starts"
        assert resolution.end <= block.timestamp, "Assurance: the outage cannot end in the future"
        ticket = (ticket & OPENING_FACTS) | TICKET_RESOLVED | (cause << CAUSE_SHIFT) | (resolution.end << END_SHIFT) | (block.timestamp << RESOLVED_SHIFT)
        self.ticket_words[key] = (word & ~(TICKET_MASK << offset)) | (ticket << offset)
    log TicketsResolved(seller=msg.sender, resolutions=resolutions)


@external
def close_tickets(ticket_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice The buyer closes resolved tickets: it agrees with their end and root cause.
    @dev A resolved ticket past its window is closed already; closing it records as much.
    @param ticket_ids The tickets.
    """
    self._move(ticket_ids, False, 2**TICKET_RESOLVED, TICKET_CLOSED, KEEP_ALL)


@external
def reopen_tickets(ticket_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice The buyer reopens resolved tickets within the resolution window: the outage
            is not over, or the end or cause is wrong. The seller resolves them again.
    @param ticket_ids The tickets.
    """
    buyer_index: uint256 = self._caller_index()
    service_id: uint256 = max_value(uint256)
    window: uint256 = 0
    for ticket_id: uint256 in ticket_ids:
        word: uint256 = self.ticket_words[ticket_id >> 1]
        ticket: uint256 = (word >> self._shift(ticket_id)) & TICKET_MASK
        if ticket & 15 != TICKET_RESOLVED or word & INDEX_MASK != buyer_index:
            continue  # refused below, with its reason
        if ticket_id >> 32 != service_id:
            service_id = ticket_id >> 32
            window = self._terms(self._service(service_id).sla_template).resolution_window
        assert block.timestamp - ((ticket >> RESOLVED_SHIFT) & TIME_MASK) < window, "Assurance: the resolution window is over"
    # the end, root cause and resolution time are contested: cleared
    self._move(ticket_ids, False, 2**TICKET_RESOLVED, TICKET_REOPENED, OPENING_FACTS)


@external
def cancel_tickets(ticket_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice The buyer cancels tickets before they are resolved.
    @param ticket_ids The tickets.
    """
    self._move(ticket_ids, False, SET_CANCELLABLE, TICKET_CANCELLED, KEEP_ALL)


@external
@view
def ticket(ticket_id: uint256) -> Ticket:
    """
    @notice A ticket as it stands now (a resolved ticket past its window reads closed).
    @param ticket_id The ticket.
    @return The ticket (state 0 when unknown).
    """
    ticket: uint256 = (self.ticket_words[ticket_id >> 1] >> self._shift(ticket_id)) & TICKET_MASK
    state: uint256 = ticket & 15
    if state == TICKET_RESOLVED:
        window: uint256 = self._terms(self._service(ticket_id >> 32).sla_template).resolution_window
        if block.timestamp - ((ticket >> RESOLVED_SHIFT) & TIME_MASK) >= window:
            state = TICKET_CLOSED
    return Ticket(
        service_id=ticket_id >> 32,
        number=ticket_id & NUMBER_MASK,
        state=convert(state, uint8),
        impact=convert((ticket >> IMPACT_SHIFT) & 3, uint8),
        cause=convert((ticket >> CAUSE_SHIFT) & 15, uint8),
        start=(ticket >> START_SHIFT) & TIME_MASK,
        end=(ticket >> END_SHIFT) & TIME_MASK,
        resolved_at=(ticket >> RESOLVED_SHIFT) & TIME_MASK,
    )


@external
@view
def next_ticket_number(service_id: uint256) -> uint256:
    """
    @notice The number n of the service's next ticket (its id is `service_id << 32 | n`).
    @param service_id The service.
    @return The first free ticket number.
    """
    n: uint256 = (self.closings[service_id] >> NEXT_FROM_SHIFT) & NUMBER_MASK
    for i: uint256 in range(MAX_SCAN):
        if (self.ticket_words[(service_id << 31) | (n >> 1)] >> (FIRST_TICKET + TICKET_BITS * (n & 1))) & TICKET_MASK == 0:
            return n
        n += 1
    raise "Assurance: too many tickets to scan"


# ------------------------------------------------------------------ periods and credits


@external
def close_periods(period: uint256, service_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice Close a period of services the caller is party to: compute each one's
            availability and SLA credit from its closed tickets. Also closes again a
            disputed period whose reopened tickets are closed again. The credit of a
            period with no outage fact (no down ticket in it) is final at once: endorsed,
            by nobody, since there is nothing to endorse.
    @dev Periods of a service close in order; a down ticket starting before the period's
         end that is not closed (or cancelled) holds the close.
    @param period The calendar month (months since January 1970), over.
    @param service_ids The services.
    """
    self._only_member(msg.sender)
    period_start: uint256 = calendar.period_start(period)
    period_end: uint256 = calendar.period_end(period)
    assert block.timestamp >= period_end, "Assurance: the period is not over"
    template_id: uint256 = max_value(uint256)
    terms: Terms = empty(Terms)
    for service_id: uint256 in service_ids:
        service: IOrdering.Service = self._service(service_id)
        assert msg.sender == service.buyer or msg.sender == service.seller, "Assurance: not a party to the service"
        assert service.state == SERVICE_ACTIVE, "Assurance: the service is not active"
        ended_at: uint256 = staticcall IOrdering(self.ordering).service_ended_at(service_id)
        assert ended_at == 0 or ended_at > period_start, "Assurance: the service ended before the period"
        if service.sla_template != template_id:
            template_id = service.sla_template
            terms = self._terms(template_id)
        self._close_period(service_id, period, period_start, period_end, ended_at, service, terms)


@external
def endorse_credits(period: uint256, service_ids: DynArray[uint256, MAX_BATCH]):
    """
    @notice Endorse the calculated credits of a period, as the buyer or the seller of
            each service; endorsed by both, a credit is final (billing applies it). A
            credit final already (endorsed by both, or by its close for a period with no
            outage fact) is refused: it needs no endorsement.
    @param period The period.
    @param service_ids The services.
    """
    self._only_member(msg.sender)
    for service_id: uint256 in service_ids:
        bit: uint256 = self._party_bit(self._service(service_id))
        key: uint256 = self._credit_key(service_id, period)
        record: uint256 = self.credits[key]
        assert record & STATE_MASK != CREDIT_NONE, "Assurance: no credit for the period"
        assert record & STATE_MASK != CREDIT_DISPUTED, "Assurance: the credit is disputed"
        assert record & STATE_MASK != CREDIT_ENDORSED, "Assurance: the credit is final"
        assert record & bit == 0, "Assurance: already endorsed"
        record = record | bit
        if record & (BUYER_ENDORSED | SELLER_ENDORSED) == BUYER_ENDORSED | SELLER_ENDORSED:
            record = (record & ~STATE_MASK) | CREDIT_ENDORSED
        self.credits[key] = record
        log CreditEndorsed(service_id=service_id, period=period, party=msg.sender, state=convert(record & STATE_MASK, uint8))


@external
def dispute_credit(service_id: uint256, period: uint256, ticket_ids: DynArray[uint256, MAX_DISPUTED], commitment: bytes32):
    """
    @notice Dispute the calculated credit of the service's latest closed period: reopen
            the closed down tickets of the period whose facts (end, cause) the caller
            contests. The seller resolves them again (or the buyer cancels them); once
            they are closed again, closing the period recomputes the credit.
    @dev A reopened ticket that began in an earlier period changes only this period's credit.
    @param service_id The service.
    @param period The period.
    @param ticket_ids The contested tickets.
    @param commitment Salted commitment of the dispute's statement.
    """
    self._only_member(msg.sender)
    service: IOrdering.Service = self._service(service_id)
    bit: uint256 = self._party_bit(service)
    key: uint256 = self._credit_key(service_id, period)
    record: uint256 = self.credits[key]
    assert record & STATE_MASK == CREDIT_CALCULATED, "Assurance: only a calculated credit can be disputed"
    assert record & bit == 0, "Assurance: you endorsed the credit"
    assert (self.closings[service_id] >> LATEST_SHIFT) & NUMBER_MASK == period + 1, "Assurance: only the latest closed period can be disputed"
    assert len(ticket_ids) > 0, "Assurance: a dispute names the contested tickets"
    window: uint256 = self._terms(service.sla_template).resolution_window
    period_start: uint256 = calendar.period_start(period)
    period_end: uint256 = calendar.period_end(period)
    for ticket_id: uint256 in ticket_ids:
        assert ticket_id >> 32 == service_id, "Assurance: not a ticket of the service"
        offset: uint256 = self._shift(ticket_id)
        word: uint256 = self.ticket_words[ticket_id >> 1]
        ticket: uint256 = (word >> offset) & TICKET_MASK
        assert ticket != 0, "Assurance: no such ticket"
        assert (ticket >> IMPACT_SHIFT) & 3 == IMPACT_DOWN, "Assurance: only down tickets count toward the credit"
        assert self._is_closed(ticket, window), "Assurance: the ticket is not closed"
        start: uint256 = (ticket >> START_SHIFT) & TIME_MASK
        end: uint256 = (ticket >> END_SHIFT) & TIME_MASK
        assert start < period_end and (end > period_start or start >= period_start), "Assurance: the ticket is not in the period"
        self.ticket_words[ticket_id >> 1] = (word & ~(TICKET_MASK << offset)) | (((ticket & OPENING_FACTS) | TICKET_REOPENED) << offset)
    log TicketsChanged(party=msg.sender, state=convert(TICKET_REOPENED, uint8), ticket_ids=ticket_ids)
    self.credits[key] = (record & ~STATE_MASK) | CREDIT_DISPUTED
    # the period no longer counts for the seller's compliance until it is closed again
    if (record >> BPS_SHIFT) & BPS_MASK == 0:
        self.compliance[service.seller].periods_met -= 1
    else:
        self.compliance[service.seller].periods_breached -= 1
    log CreditDisputed(service_id=service_id, period=period, party=msg.sender, ticket_ids=ticket_ids, commitment=commitment)


@external
@view
def period_credit(service_id: uint256, period: uint256) -> (uint8, uint256):
    """
    @notice A period's SLA credit, for billing.
    @param service_id The service.
    @param period The period.
    @return The credit state (0 none, 1 calculated, 2 endorsed, 3 disputed) and the amount
            in minor units (a disputed credit shows the contested amount).
    """
    if period > NUMBER_MASK:
        return 0, 0
    record: uint256 = self.credits[(service_id << 32) | period]
    return convert(record & STATE_MASK, uint8), record >> AMOUNT_SHIFT


@external
@view
def credit(service_id: uint256, period: uint256) -> Credit:
    """
    @notice A period's SLA credit in full.
    @param service_id The service.
    @param period The period.
    @return The credit (state 0 when the period is not closed).
    """
    record: uint256 = 0
    if period <= NUMBER_MASK:
        record = self.credits[(service_id << 32) | period]
    return Credit(
        state=convert(record & STATE_MASK, uint8),
        amount=record >> AMOUNT_SHIFT,
        credit_bps=(record >> BPS_SHIFT) & BPS_MASK,
        availability_ppm=(record >> AVAILABILITY_SHIFT) & PPM_MASK,
        outage_seconds=(record >> OUTAGE_SHIFT) & NUMBER_MASK,
        endorsed_by_buyer=record & BUYER_ENDORSED != 0,
        endorsed_by_seller=record & SELLER_ENDORSED != 0,
    )


@external
@view
def closing(service_id: uint256) -> Closing:
    """
    @notice Where a service's period closes stand.
    @param service_id The service.
    @return The latest closed period (if any), its end, and the ticket marks.
    """
    word: uint256 = self.closings[service_id]
    latest: uint256 = (word >> LATEST_SHIFT) & NUMBER_MASK
    return Closing(
        closed_any=latest != 0,
        latest_period=latest - 1 if latest != 0 else 0,
        closed_until=(word >> CLOSED_UNTIL_SHIFT) & TIME_MASK,
        scan_from=word & NUMBER_MASK,
        next_from=(word >> NEXT_FROM_SHIFT) & NUMBER_MASK,
    )


@external
@view
def next_period(service_id: uint256) -> uint256:
    """
    @notice The period of the service to close next (a disputed latest period first).
    @param service_id The service.
    @return The period.
    """
    latest: uint256 = (self.closings[service_id] >> LATEST_SHIFT) & NUMBER_MASK
    if latest == 0:
        return max(self.first_period, calendar.period_of(self._service(service_id).started_at))
    if self.credits[(service_id << 32) | (latest - 1)] & STATE_MASK == CREDIT_DISPUTED:
        return latest - 1
    return latest


# ------------------------------------------------------------------ internals


@internal
@view
def _only_member(account: address):
    assert staticcall IMembership(self.membership).is_member(account), "Assurance: not a member"


@internal
@view
def _caller_index() -> uint256:
    self._only_member(msg.sender)
    index: uint256 = staticcall IMembership(self.membership).index_of(msg.sender)
    assert index <= INDEX_MASK, "Assurance: member index out of range"
    return index


@internal
@view
def _service(service_id: uint256) -> IOrdering.Service:
    return staticcall IOrdering(self.ordering).services(service_id)


@internal
@view
def _terms(template_id: uint256) -> Terms:
    template: ISlaTemplates.Template = staticcall ISlaTemplates(self.sla_templates).template(template_id)
    return Terms(
        resolution_window=template.resolution_window,
        exclude_planned_maintenance=template.exclude_planned_maintenance,
        tiers=template.tiers,
    )


@internal
@view
def _party_bit(service: IOrdering.Service) -> uint256:
    if msg.sender == service.buyer:
        return BUYER_ENDORSED
    assert msg.sender == service.seller, "Assurance: not a party to the service"
    return SELLER_ENDORSED


@internal
@pure
def _credit_key(service_id: uint256, period: uint256) -> uint256:
    assert period <= NUMBER_MASK, "Assurance: no credit for the period"
    return (service_id << 32) | period


@internal
@pure
def _shift(ticket_id: uint256) -> uint256:
    return FIRST_TICKET + TICKET_BITS * (ticket_id & 1)


@internal
def _move(ticket_ids: DynArray[uint256, MAX_BATCH], seller_side: bool, allowed: uint256, new_state: uint256, keep: uint256):
    """
    @dev Move tickets of the caller (their seller, or their buyer) that are in one of the
         `allowed` states (a set, one bit per state) to `new_state`, keeping the `keep`
         bits of the ticket; log the batch.
    """
    party_index: uint256 = self._caller_index()
    for ticket_id: uint256 in ticket_ids:
        key: uint256 = ticket_id >> 1
        offset: uint256 = FIRST_TICKET + TICKET_BITS * (ticket_id & 1)
        word: uint256 = self.ticket_words[key]
        ticket: uint256 = (word >> offset) & TICKET_MASK
        assert ticket != 0, "Assurance: no such ticket"
        if seller_side:
            assert (word >> 16) & INDEX_MASK == party_index, "Assurance: not the ticket's seller"
        else:
            assert word & INDEX_MASK == party_index, "Assurance: not the ticket's buyer"
        if (1 << (ticket & 15)) & allowed == 0:
            self._refuse(new_state)
        self.ticket_words[key] = (word & ~(TICKET_MASK << offset)) | (((ticket & keep) | new_state) << offset)
    log TicketsChanged(party=msg.sender, state=convert(new_state, uint8), ticket_ids=ticket_ids)


@internal
@pure
def _refuse(new_state: uint256):
    """
    @dev Revert with the reason a ticket cannot move to `new_state` from where it is.
    """
    if new_state == TICKET_ACKNOWLEDGED:
        raise "Assurance: the ticket is not awaiting acknowledgement"
    if new_state == TICKET_CLOSED or new_state == TICKET_REOPENED:
        raise "Assurance: the ticket is not resolved"
    if new_state == TICKET_CANCELLED:
        raise "Assurance: the ticket can no longer be cancelled"
    raise "Assurance: the ticket cannot move to that state"


@internal
@view
def _is_closed(ticket: uint256, window: uint256) -> bool:
    state: uint256 = ticket & 15
    if state == TICKET_CLOSED:
        return True
    # (resolved_at is never after now; no overflow whatever the template's window)
    return state == TICKET_RESOLVED and block.timestamp - ((ticket >> RESOLVED_SHIFT) & TIME_MASK) >= window


@internal
def _close_period(
    service_id: uint256,
    period: uint256,
    period_start: uint256,
    period_end: uint256,
    ended_at: uint256,
    service: IOrdering.Service,
    terms: Terms,
):
    closing: uint256 = self.closings[service_id]
    latest: uint256 = (closing >> LATEST_SHIFT) & NUMBER_MASK  # latest closed period + 1
    key: uint256 = (service_id << 32) | period
    scan_from: uint256 = (closing >> NEXT_FROM_SHIFT) & NUMBER_MASK
    if latest == 0:
        first: uint256 = max(self.first_period, calendar.period_of(service.started_at))
        assert period >= first, "Assurance: the period is before the service's first SLA period"
        assert period == first, "Assurance: an earlier period is not closed"
    elif period + 1 == latest:
        assert self.credits[key] & STATE_MASK == CREDIT_DISPUTED, "Assurance: the period is already closed"
        scan_from = closing & NUMBER_MASK  # closing again: read what the first close read
    else:
        assert period >= latest, "Assurance: the period is already closed"
        assert period == latest, "Assurance: an earlier period is not closed"
        assert self.credits[key - 1] & STATE_MASK != CREDIT_DISPUTED, "Assurance: the previous period is disputed"

    # Read the tickets from the mark on: the closed down tickets' intervals in the period,
    # merged into disjoint intervals (start << 128 | end), whether any of them is a fact
    # of the period (one a dispute could name), and the first ticket that can still
    # matter after this period (the next close starts there).
    outages: DynArray[uint256, MAX_OUTAGES] = []
    n: uint256 = scan_from
    next_from: uint256 = max_value(uint256)
    finished: bool = False
    facts: bool = False
    for i: uint256 in range(MAX_SCAN):
        ticket: uint256 = (self.ticket_words[(service_id << 31) | (n >> 1)] >> (FIRST_TICKET + TICKET_BITS * (n & 1))) & TICKET_MASK
        if ticket == 0:
            finished = True
            break
        n += 1
        if (ticket >> IMPACT_SHIFT) & 3 != IMPACT_DOWN or ticket & 15 == TICKET_CANCELLED:
            continue
        start: uint256 = (ticket >> START_SHIFT) & TIME_MASK
        if not self._is_closed(ticket, terms.resolution_window):
            assert start >= period_end, "Assurance: a down ticket of the period is not closed"
            next_from = min(next_from, n - 1)
            continue
        end: uint256 = (ticket >> END_SHIFT) & TIME_MASK
        # (ending at the period's end: a zero-length outage at that instant is the next
        # period's fact, so the next close reads it too)
        if end >= period_end:
            next_from = min(next_from, n - 1)
        # in the period as dispute_credit has it, whatever it adds to the outage
        if not facts and start < period_end and (end > period_start or start >= period_start):
            facts = True
        if terms.exclude_planned_maintenance and (ticket >> CAUSE_SHIFT) & 15 == CAUSE_PLANNED_MAINTENANCE:
            continue
        low: uint256 = max(start, period_start)
        high: uint256 = min(end, period_end)
        if ended_at != 0:
            high = min(high, ended_at)  # no outage after the service ended
        if low >= high:
            continue
        # absorb every interval this one overlaps or touches, then add it
        j: uint256 = 0
        for k: uint256 in range(MAX_OUTAGES):
            if j >= len(outages):
                break
            other: uint256 = outages[j]
            if other >> 128 <= high and low <= other & (2**128 - 1):
                low = min(low, other >> 128)
                high = max(high, other & (2**128 - 1))
                outages[j] = outages[len(outages) - 1]
                outages.pop()
            else:
                j += 1
        assert len(outages) < MAX_OUTAGES, "Assurance: too many separate outages in the period"
        outages.append((low << 128) | high)
    assert finished, "Assurance: too many tickets to scan"
    if next_from == max_value(uint256):
        next_from = n

    outage: uint256 = 0
    for interval: uint256 in outages:
        outage += (interval & (2**128 - 1)) - (interval >> 128)
    length: uint256 = period_end - period_start
    availability: uint256 = (length - outage) * PPM // length
    # floors fall from tier to tier: the last floor the availability is below decides
    credit_bps: uint256 = 0
    for tier: ISlaTemplates.Tier in terms.tiers:
        if availability >= tier.floor_ppm:
            break
        credit_bps = tier.credit_bps
    credit_bps = min(credit_bps, MAX_CREDIT_BPS)
    amount: uint256 = min(service.mrc * credit_bps // MAX_CREDIT_BPS, service.mrc)

    # no outage fact: nothing for either party to endorse or dispute, the credit is final
    state: uint256 = CREDIT_CALCULATED if facts else CREDIT_ENDORSED | BUYER_ENDORSED | SELLER_ENDORSED
    self.credits[key] = state | (credit_bps << BPS_SHIFT) | (availability << AVAILABILITY_SHIFT) | (outage << OUTAGE_SHIFT) | (amount << AMOUNT_SHIFT)
    self.closings[service_id] = scan_from | (next_from << NEXT_FROM_SHIFT) | (period_end << CLOSED_UNTIL_SHIFT) | ((period + 1) << LATEST_SHIFT)
    if credit_bps == 0:
        self.compliance[service.seller].periods_met += 1
    else:
        self.compliance[service.seller].periods_breached += 1
    log CreditCalculated(service_id=service_id, period=period, availability_ppm=availability, outage_seconds=outage, credit_bps=credit_bps, amount=amount)
    if not facts:
        log CreditEndorsed(service_id=service_id, period=period, party=empty(address), state=convert(CREDIT_ENDORSED, uint8))
