# pragma version 0.4.3
"""
@title Billing
@custom:contract-name Billing
@license Apache-2.0
@notice Invoices between members, in MEF 141 shapes: per seller -> buyer per period
        (a UTC calendar month), the recurring charges of the services the seller
        provided the buyer during the period, less the period's SLA credits
        both parties endorsed (credit memos), is the amount due. The seller issues an
        invoice once the period is over, in batches of lines (a carrier pair may have
        thousands of services), then finalizes it with the commitment of the invoice
        document: it is then paymentDue, and the settlement module nets it with the other
        members' invoices and marks it settled once the cycle's payments are confirmed.
        States: generated -> paymentDue -> settled.
@dev The charge of a line (service S, period P) is computed here from Ordering's terms,
     never taken from the seller:

         billable days = the UTC days of P on which S was active at any moment: from the
                         day S started (counted in full) to the day S ended, counted in
                         full unless S ended exactly at midnight (a disconnect at 00:00
                         UTC bills nothing of that day); every day of P for a service
                         that started before P and had not ended by its end.
         charge        = MRC * billable days / days in P's month, rounded down
                         (28, 29, 30 or 31 days; a whole month charges the MRC exactly).
         credit        = the SLA credit of (S, P), final (endorsed by both parties, or
                         by its close when P had no outage fact for S), capped at the
                         line's charge.

     A line is refused, with its reason, unless S belongs to this seller -> buyer pair, is
     in the invoice's currency, is active (confirmed by both parties), has at least one
     billable day in P, has never been invoiced for P, and its credit for P is endorsed:
     a period the assurance module has not closed, a credit awaiting an endorsement and a
     disputed credit all keep the service off the invoice until they are resolved. A
     period with no outage fact (no down ticket in it) is endorsed by its close already
     (Assurance.vy): such a service is invoiced as soon as its period is closed.

     How Billing and Settlement find each other: both are modules behind BeaconProxies,
     so their addresses never change across upgrades. Settlement takes Billing's address
     in its `initialize`; Billing cannot take Settlement's there (Settlement's proxy does
     not exist yet), so the account that deploys Billing's proxy (msg.sender of
     `initialize`, run by the proxy's constructor) wires it once with `set_settlement`,
     as it wires the Governor into the Timelock, and its role ends there. Only that
     address may mark invoices settled.

     A cooperative module: it runs behind an OpenZeppelin BeaconProxy, so its state is set
     by `initialize()`; the implementation itself is locked at deployment. New versions
     append storage variables only (checked by `coop modules check`).

     Privacy by commitment: the invoice document (line details, addresses, terms) stays
     in the platform's store; its salted keccak256 commitment is emitted when the invoice
     becomes paymentDue. Amounts are in the currency's minor units; currencies are
     ISO 4217 numeric codes.
"""

from interfaces import IAssurance
from interfaces import IBilling
from interfaces import IMembership
from interfaces import IOrdering

from lib import calendar

implements: IBilling

VERSION: constant(uint256) = 1

# Invoice states (MEF 141): 0 is an unknown invoice
INVOICE_GENERATED: constant(uint8) = 1  # the seller is adding lines
INVOICE_PAYMENT_DUE: constant(uint8) = 2  # finalized: the buyer owes the amount due
INVOICE_SETTLED: constant(uint8) = 3  # paid through a settlement cycle

# SLA credit states, as the assurance module reports them (IAssurance.period_credit)
CREDIT_NONE: constant(uint8) = 0  # the period is not closed for the service
CREDIT_CALCULATED: constant(uint8) = 1  # awaiting both parties' endorsement
CREDIT_ENDORSED: constant(uint8) = 2  # by both parties, or at the close (no outage fact)
CREDIT_DISPUTED: constant(uint8) = 3

# Ordering's service state that both parties signed for
SERVICE_ACTIVE: constant(uint8) = 2

# @dev Lines per transaction: about 44k gas a line for a service's first invoiced period
#      (a new bitmap word), 27k after, so a batch of 500 fits a 30M-gas block; an invoice
#      may have any number of batches.
MAX_LINES: constant(uint256) = 500
# @dev Invoices a settlement cycle marks settled at once (IBilling.mark_settled).
MAX_SETTLED: constant(uint256) = 500
SECONDS_PER_DAY: constant(uint256) = 86_400
MAX_ISO_4217: constant(uint256) = 999
ADDRESS_MASK: constant(uint256) = 2**160 - 1
MAX_UINT128: constant(uint256) = 2**128 - 1


# ------------------------------------------------------------------ events

event SettlementSet:
    settlement: indexed(address)


event InvoiceGenerated:
    invoice_id: indexed(uint256)
    seller: indexed(address)
    buyer: indexed(address)
    period: uint256
    currency: uint256


# @dev One per line: the recurring charge and the credit memo set against it.
event InvoiceLine:
    invoice_id: indexed(uint256)
    service_id: indexed(uint256)
    billable_days: uint256
    charge: uint256
    credit: uint256


event InvoicePaymentDue:
    invoice_id: indexed(uint256)
    seller: indexed(address)
    buyer: indexed(address)
    lines: uint256
    charges: uint256
    credits: uint256
    amount_due: uint256
    commitment: bytes32


event InvoiceSettled:
    invoice_id: indexed(uint256)
    seller: indexed(address)
    buyer: indexed(address)
    cycle_id: uint256


# ------------------------------------------------------------------ storage

initialized: public(bool)
membership: public(address)
ordering: public(address)
assurance: public(address)
# @notice The settlement module (its proxy): the only address that marks invoices settled.
settlement: public(address)
# @dev The account that deployed the proxy, until it wires `settlement`.
deployer: public(address)

# @dev Invoices are packed in three words:
#      seller 160 | currency 16 | state 8 | period 32 (bits 184..215),
#      buyer 160 | lines 96, and charges 128 | credits 128.
invoice_words: HashMap[uint256, uint256[3]]
invoice_count: public(uint256)
# @dev Which periods of a service were invoiced: a bitmap per service, 256 periods
#      (21 years) a word: service -> period // 256 -> bit period % 256.
invoiced_periods: HashMap[uint256, HashMap[uint256, uint256]]


@deploy
def __init__():
    # Lock the implementation: only proxies, with their own storage, get initialized.
    self.initialized = True


@external
def initialize(_membership: address, _ordering: address, _assurance: address):
    """
    @notice Set up a proxy's storage. Called once, by the proxy's constructor; the
            account deploying the proxy then wires the settlement module with
            `set_settlement`.
    @param _membership The member register.
    @param _ordering The ordering module (services and their terms).
    @param _assurance The assurance module (SLA credits per service and period).
    """
    assert not self.initialized, "Billing: already initialized"
    assert _membership != empty(address) and _ordering != empty(address) and _assurance != empty(address), "Billing: zero address"
    self.initialized = True
    self.membership = _membership
    self.ordering = _ordering
    self.assurance = _assurance
    self.deployer = msg.sender


@external
def set_settlement(_settlement: address):
    """
    @notice Wire the settlement module. Once, by the account that deployed the proxy;
            that account's role ends here.
    @param _settlement The settlement module's proxy.
    """
    assert msg.sender == self.deployer and msg.sender != empty(address), "Billing: only the deployer, once"
    assert _settlement != empty(address), "Billing: zero settlement"
    self.settlement = _settlement
    self.deployer = empty(address)
    log SettlementSet(settlement=_settlement)


@external
@pure
def version() -> uint256:
    """
    @notice The implementation's version.
    @return The version number.
    """
    return VERSION


# ------------------------------------------------------------------ invoices


@external
def issue_invoice(buyer: address, period: uint256, currency: uint256, service_ids: DynArray[uint256, MAX_LINES]) -> uint256:
    """
    @notice The seller issues an invoice to `buyer` for a period that is over, with its
            first lines; more lines follow with `add_invoice_lines`, then `finalize_invoice`.
    @param buyer The member invoiced.
    @param period The calendar month invoiced (lib/calendar.vy numbering).
    @param currency ISO 4217 numeric code; every service must be in it.
    @param service_ids The services invoiced, at least one (see the line rules above).
    @return The invoice id.
    """
    self._only_member(msg.sender)
    self._only_member(buyer)
    assert buyer != msg.sender, "Billing: a seller cannot invoice itself"
    assert period < 2**32, "Billing: period out of range"
    assert block.timestamp >= calendar.period_end(period), "Billing: the period is not over"
    assert currency > 0 and currency <= MAX_ISO_4217, "Billing: not an ISO 4217 numeric currency"
    assert len(service_ids) > 0, "Billing: no services"
    invoice_id: uint256 = self.invoice_count + 1
    self.invoice_count = invoice_id
    self.invoice_words[invoice_id] = [
        convert(msg.sender, uint256) | (currency << 160) | (convert(INVOICE_GENERATED, uint256) << 176) | (period << 184),
        convert(buyer, uint256),
        0,
    ]
    log InvoiceGenerated(invoice_id=invoice_id, seller=msg.sender, buyer=buyer, period=period, currency=currency)
    self._add_lines(invoice_id, service_ids)
    return invoice_id


@external
def add_invoice_lines(invoice_id: uint256, service_ids: DynArray[uint256, MAX_LINES]):
    """
    @notice Add lines to one of the caller's invoices while it is generated.
    @param invoice_id The invoice.
    @param service_ids The services, at least one.
    """
    self._own_generated(invoice_id)
    assert len(service_ids) > 0, "Billing: no services"
    self._add_lines(invoice_id, service_ids)


@external
def finalize_invoice(invoice_id: uint256, commitment: bytes32):
    """
    @notice The seller finalizes its invoice: it becomes paymentDue, with the commitment
            of the invoice document (every line, its charge and credit memo, the totals).
    @param invoice_id The invoice.
    @param commitment Salted keccak256 commitment of the invoice document.
    """
    words: uint256[3] = self._own_generated(invoice_id)
    self.invoice_words[invoice_id][0] = self._with_state(words[0], INVOICE_PAYMENT_DUE)
    charges: uint256 = words[2] & MAX_UINT128
    credits: uint256 = words[2] >> 128
    log InvoicePaymentDue(
        invoice_id=invoice_id,
        seller=msg.sender,
        buyer=convert(words[1] & ADDRESS_MASK, address),
        lines=words[1] >> 160,
        charges=charges,
        credits=credits,
        amount_due=charges - credits,
        commitment=commitment,
    )


@external
def mark_settled(invoice_ids: DynArray[uint256, MAX_SETTLED], cycle_id: uint256):
    """
    @notice The settlement module marks the invoices of a settled cycle settled.
    @param invoice_ids The cycle's invoices, each paymentDue.
    @param cycle_id The settlement cycle that paid them.
    """
    assert msg.sender == self.settlement and msg.sender != empty(address), "Billing: only the settlement module"
    for invoice_id: uint256 in invoice_ids:
        word: uint256 = self.invoice_words[invoice_id][0]
        assert (word >> 176) & 255 == convert(INVOICE_PAYMENT_DUE, uint256), "Billing: invoice not payment due"
        self.invoice_words[invoice_id][0] = self._with_state(word, INVOICE_SETTLED)
        log InvoiceSettled(
            invoice_id=invoice_id,
            seller=convert(word & ADDRESS_MASK, address),
            buyer=convert(self.invoice_words[invoice_id][1] & ADDRESS_MASK, address),
            cycle_id=cycle_id,
        )


# ------------------------------------------------------------------ views


@external
@view
def invoices(invoice_id: uint256) -> IBilling.Invoice:
    """
    @notice An invoice: parties, period, currency, state, lines and totals.
    @param invoice_id The invoice.
    @return The invoice (empty, state 0, when unknown).
    """
    words: uint256[3] = self.invoice_words[invoice_id]
    charges: uint256 = words[2] & MAX_UINT128
    credits: uint256 = words[2] >> 128
    return IBilling.Invoice(
        seller=convert(words[0] & ADDRESS_MASK, address),
        buyer=convert(words[1] & ADDRESS_MASK, address),
        period=(words[0] >> 184) & (2**32 - 1),
        currency=(words[0] >> 160) & 65535,
        state=convert((words[0] >> 176) & 255, uint8),
        lines=words[1] >> 160,
        charges=charges,
        credits=credits,
        amount_due=charges - credits,
    )


@external
@view
def is_invoiced(service_id: uint256, period: uint256) -> bool:
    """
    @notice Whether a service's period is on an invoice already.
    @param service_id The service.
    @param period The period.
    @return True once invoiced (by an invoice in any state).
    """
    return (self.invoiced_periods[service_id][period >> 8] >> (period & 255)) & 1 == 1


@external
@view
def recurring_charge(service_id: uint256, period: uint256) -> (uint256, uint256):
    """
    @notice What a line for the service and period would charge, before credits, by the
            pro-rating rule above (whatever the service's state or invoices).
    @param service_id The service.
    @param period The period.
    @return The billable days and the charge, in minor units.
    """
    service: IOrdering.Service = staticcall IOrdering(self.ordering).services(service_id)
    ended_at: uint256 = staticcall IOrdering(self.ordering).service_ended_at(service_id)
    return self._prorated(service.mrc, service.started_at, ended_at, period)


# ------------------------------------------------------------------ internals


@internal
@view
def _only_member(account: address):
    assert staticcall IMembership(self.membership).is_member(account), "Billing: not a member"


@internal
@view
def _own_generated(invoice_id: uint256) -> uint256[3]:
    words: uint256[3] = self.invoice_words[invoice_id]
    assert convert(words[0] & ADDRESS_MASK, address) == msg.sender, "Billing: not your invoice"
    assert (words[0] >> 176) & 255 == convert(INVOICE_GENERATED, uint256), "Billing: the invoice is no longer generated"
    self._only_member(msg.sender)
    return words


@internal
@pure
def _with_state(word: uint256, state: uint8) -> uint256:
    return (word & ~(255 << 176)) | (convert(state, uint256) << 176)


@internal
@pure
def _prorated(mrc: uint256, started_at: uint256, ended_at: uint256, period: uint256) -> (uint256, uint256):
    """
    @dev Billable days (each UTC day of the period on which the service was active at
         any moment) and the charge MRC * days // days in the month.
    """
    first_day: uint256 = calendar.period_start(period) // SECONDS_PER_DAY
    end_day: uint256 = calendar.period_end(period) // SECONDS_PER_DAY  # exclusive
    month_days: uint256 = end_day - first_day
    first: uint256 = max(started_at // SECONDS_PER_DAY, first_day)
    last: uint256 = end_day  # exclusive
    if ended_at != 0:
        # the day of the end counts unless the service ended at its midnight
        last = min((ended_at + SECONDS_PER_DAY - 1) // SECONDS_PER_DAY, end_day)
    if last <= first:
        return 0, 0
    days: uint256 = last - first
    return days, mrc * days // month_days


@internal
def _add_lines(invoice_id: uint256, service_ids: DynArray[uint256, MAX_LINES]):
    words: uint256[3] = self.invoice_words[invoice_id]
    seller: address = convert(words[0] & ADDRESS_MASK, address)
    buyer: address = convert(words[1] & ADDRESS_MASK, address)
    currency: uint256 = (words[0] >> 160) & 65535
    period: uint256 = (words[0] >> 184) & (2**32 - 1)
    bitmap_word: uint256 = period >> 8
    bit: uint256 = 1 << (period & 255)
    charges: uint256 = words[2] & MAX_UINT128
    credits: uint256 = words[2] >> 128
    for service_id: uint256 in service_ids:
        service: IOrdering.Service = staticcall IOrdering(self.ordering).services(service_id)
        assert service.seller == seller and service.buyer == buyer, "Billing: service not between this seller and buyer"
        assert service.currency == currency, "Billing: service in another currency"
        assert service.state == SERVICE_ACTIVE, "Billing: service not active"
        ended_at: uint256 = staticcall IOrdering(self.ordering).service_ended_at(service_id)
        days: uint256 = 0
        charge: uint256 = 0
        days, charge = self._prorated(service.mrc, service.started_at, ended_at, period)
        assert days > 0, "Billing: service not active during the period"
        invoiced: uint256 = self.invoiced_periods[service_id][bitmap_word]
        assert invoiced & bit == 0, "Billing: service already invoiced for the period"
        self.invoiced_periods[service_id][bitmap_word] = invoiced | bit
        credit_state: uint8 = 0
        credit: uint256 = 0
        credit_state, credit = staticcall IAssurance(self.assurance).period_credit(service_id, period)
        assert credit_state != CREDIT_NONE, "Billing: SLA period not closed for the service"
        assert credit_state != CREDIT_CALCULATED, "Billing: SLA credit not endorsed by both parties"
        assert credit_state != CREDIT_DISPUTED, "Billing: SLA credit disputed"
        assert credit_state == CREDIT_ENDORSED, "Billing: unknown SLA credit state"
        credit = min(credit, charge)
        charges += charge
        credits += credit
        log InvoiceLine(invoice_id=invoice_id, service_id=service_id, billable_days=days, charge=charge, credit=credit)
    assert charges <= MAX_UINT128, "Billing: amount too large"
    lines: uint256 = (words[1] >> 160) + len(service_ids)
    self.invoice_words[invoice_id][1] = convert(buyer, uint256) | (lines << 160)
    self.invoice_words[invoice_id][2] = charges | (credits << 128)
