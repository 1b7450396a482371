# pragma version 0.4.3
"""
@title Settlement
@custom:contract-name Settlement
@license Apache-2.0
@notice Multilateral netting of the members' invoices. A settlement cycle takes invoices
        that are paymentDue, all in one currency (several currencies: several cycles),
        and a proposed set of payments. The contract computes each member's net position
        (what the buyers of its invoices owe it, less what it owes as a buyer), checks that
        the positions sum to zero and that the payments clear every position exactly,
        from net debtors to net creditors, with at most (participating members - 1)
        payments. The cycle's invoices are then locked: no other cycle can take them.
        Each payment is confirmed by its payer (sent) and by its payee (received); with the
        last confirmation the cycle is settled and Billing marks all its invoices settled.
@dev Who runs a cycle: any member, or the platform operator on the members' behalf. The
     payment set is computed off chain (e.g. greedy matching of the largest debtor with the
     largest creditor, which needs at most members - 1 payments) and verified here, so a
     wrong set is refused whoever proposes it. A cycle nobody has confirmed anything of
     yet can be cancelled by whoever ran it or by the operator, which unlocks its
     invoices (e.g. to run a corrected cycle); after the first confirmation it can only
     settle.

     Sizes: up to MAX_MEMBERS members and MAX_INVOICES invoices a cycle. The invoice ids
     of a cycle are kept packed, four 64-bit ids a word, so the last confirmation can hand
     them to Billing; a bitmap (256 invoices a word) locks them.

     Events: the platform indexes them and shows each member its own position
     (NetPosition, indexed by member) and its own payments (PaymentInstructed, indexed by
     payer and payee).

     A cooperative module: it runs behind an OpenZeppelin BeaconProxy, so its state is set
     by `initialize()`; the implementation itself is locked at deployment. New versions
     append storage variables only (checked by `coop modules check`).
"""

from interfaces import IBilling
from interfaces import IMembership

VERSION: constant(uint256) = 1

# Cycle states: 0 is an unknown cycle
CYCLE_CONFIRMING: constant(uint8) = 1  # payments instructed, awaiting confirmations
CYCLE_SETTLED: constant(uint8) = 2  # every payment confirmed by both parties; invoices settled
CYCLE_CANCELLED: constant(uint8) = 3  # cancelled before any confirmation; invoices unlocked

# Confirmation flags of a payment
CONFIRMED_BY_PAYER: constant(uint8) = 1
CONFIRMED_BY_PAYEE: constant(uint8) = 2
CONFIRMED_BY_BOTH: constant(uint8) = 3

# Billing's invoice state a cycle takes
INVOICE_PAYMENT_DUE: constant(uint8) = 2

MAX_MEMBERS: constant(uint256) = 20
MAX_PAYMENTS: constant(uint256) = MAX_MEMBERS - 1
# @dev The same bound as IBilling.mark_settled's batch.
MAX_INVOICES: constant(uint256) = 500
MAX_ISO_4217: constant(uint256) = 999
IDS_PER_WORD: constant(uint256) = 4
ID_MASK: constant(uint256) = 2**64 - 1


struct Cycle:
    currency: uint256
    state: uint8
    runner: address  # the member (or operator) who ran it
    invoice_count: uint256
    participant_count: uint256
    payment_count: uint256
    pending_confirmations: uint256  # two per payment until confirmed
    opened_at: uint256


# @dev A payment the runner proposes.
struct PaymentOrder:
    payer: address
    payee: address
    amount: uint256


struct Payment:
    payer: address
    payee: address
    amount: uint256
    confirmations: uint8  # CONFIRMED_BY_PAYER | CONFIRMED_BY_PAYEE


# ------------------------------------------------------------------ events

event SettlementCycleOpened:
    cycle_id: indexed(uint256)
    runner: indexed(address)
    currency: uint256
    participant_count: uint256
    payment_count: uint256
    invoice_ids: DynArray[uint256, MAX_INVOICES]


# @dev One per participating member: the amounts due of its invoices in the cycle as seller
#      (owed to it) and as buyer (owed by it), and the net: positive for a net creditor
#      (it is paid), negative for a net debtor (it pays).
event NetPosition:
    cycle_id: indexed(uint256)
    member: indexed(address)
    as_seller: uint256
    as_buyer: uint256
    net: int256


event PaymentInstructed:
    cycle_id: indexed(uint256)
    payer: indexed(address)
    payee: indexed(address)
    payment_index: uint256
    amount: uint256


event PaymentConfirmed:
    cycle_id: indexed(uint256)
    member: indexed(address)
    payment_index: uint256
    confirmations: uint8  # after this one: 1 payer, 2 payee, 3 both


event SettlementCycleSettled:
    cycle_id: indexed(uint256)
    currency: uint256
    invoice_count: uint256


event SettlementCycleCancelled:
    cycle_id: indexed(uint256)
    by: indexed(address)


# ------------------------------------------------------------------ storage

initialized: public(bool)
membership: public(address)
billing: public(address)
# @notice The platform operator, who may run and cancel cycles on the members' behalf.
operator: public(address)

cycles: public(HashMap[uint256, Cycle])
cycle_count: public(uint256)
payments: public(HashMap[uint256, HashMap[uint256, Payment]])
# @dev cycle -> word -> four 64-bit invoice ids (the first in the low bits)
cycle_invoice_words: HashMap[uint256, HashMap[uint256, uint256]]
# @dev Invoices taken by a cycle that was not cancelled: invoice // 256 -> bitmap
locked_words: HashMap[uint256, uint256]


@deploy
def __init__():
    # Lock the implementation: only proxies, with their own storage, get initialized.
    self.initialized = True


@external
def initialize(_membership: address, _billing: address, _operator: address):
    """
    @notice Set up a proxy's storage. Called once, by the proxy's constructor.
    @param _membership The member register.
    @param _billing The billing module (whose `set_settlement` must then name this proxy).
    @param _operator The platform operator.
    """
    assert not self.initialized, "Settlement: already initialized"
    assert _membership != empty(address) and _billing != empty(address) and _operator != empty(address), "Settlement: zero address"
    self.initialized = True
    self.membership = _membership
    self.billing = _billing
    self.operator = _operator


@external
@pure
def version() -> uint256:
    """
    @notice The implementation's version.
    @return The version number.
    """
    return VERSION


# ------------------------------------------------------------------ cycles


@external
def run_settlement_cycle(
    currency: uint256, invoice_ids: DynArray[uint256, MAX_INVOICES], payments: DynArray[PaymentOrder, MAX_PAYMENTS]
) -> uint256:
    """
    @notice Net the invoices among their parties and instruct the payments that clear
            the positions; the invoices are locked in the cycle.
    @param currency ISO 4217 numeric code of every invoice.
    @param invoice_ids The invoices, paymentDue, in no other cycle, among at most
           MAX_MEMBERS members (all current members).
    @param payments From net debtors to net creditors, clearing every position exactly,
           at most (participating members - 1); none when every position is zero, and
           then the cycle settles at once.
    @return The cycle id.
    """
    assert msg.sender == self.operator or staticcall IMembership(self.membership).is_member(msg.sender), "Settlement: only a member or the operator runs a cycle"
    assert currency > 0 and currency <= MAX_ISO_4217, "Settlement: not an ISO 4217 numeric currency"
    assert len(invoice_ids) > 0, "Settlement: no invoices"
    cycle_id: uint256 = self.cycle_count + 1
    self.cycle_count = cycle_id

    members: DynArray[address, MAX_MEMBERS] = []
    as_seller: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    as_buyer: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    packed: uint256 = 0
    i: uint256 = 0
    for invoice_id: uint256 in invoice_ids:
        invoice: IBilling.Invoice = staticcall IBilling(self.billing).invoices(invoice_id)
        assert invoice.state == INVOICE_PAYMENT_DUE, "Settlement: invoice not payment due"
        assert invoice.currency == currency, "Settlement: invoice in another currency"
        self._lock(invoice_id)
        seller: uint256 = self._index(members, invoice.seller)
        if seller == len(members):
            assert len(members) < MAX_MEMBERS, "Settlement: more than 20 members in a cycle"
            members.append(invoice.seller)
        buyer: uint256 = self._index(members, invoice.buyer)
        if buyer == len(members):
            assert len(members) < MAX_MEMBERS, "Settlement: more than 20 members in a cycle"
            members.append(invoice.buyer)
        as_seller[seller] += invoice.amount_due
        as_buyer[buyer] += invoice.amount_due
        # invoice ids are Billing's consecutive counter: 64 bits never run out
        packed |= invoice_id << (64 * (i % IDS_PER_WORD))
        if i % IDS_PER_WORD == IDS_PER_WORD - 1 or i == len(invoice_ids) - 1:
            self.cycle_invoice_words[cycle_id][i // IDS_PER_WORD] = packed
            packed = 0
        i += 1

    # positions: what each member is owed less what it owes; they sum to zero
    net: int256[MAX_MEMBERS] = empty(int256[MAX_MEMBERS])
    total: int256 = 0
    for m: uint256 in range(len(members), bound=MAX_MEMBERS):
        assert staticcall IMembership(self.membership).is_member(members[m]), "Settlement: a party is not a member"
        net[m] = convert(as_seller[m], int256) - convert(as_buyer[m], int256)
        total += net[m]
    assert total == 0, "Settlement: positions do not sum to zero"

    # the proposed payments must clear every position, debtors paying creditors
    assert len(payments) < len(members), "Settlement: more payments than members - 1"
    remaining: int256[MAX_MEMBERS] = net
    index: uint256 = 0
    for payment: PaymentOrder in payments:
        assert payment.amount > 0, "Settlement: zero payment"
        payer: uint256 = self._index(members, payment.payer)
        payee: uint256 = self._index(members, payment.payee)
        assert payer < len(members) and payee < len(members), "Settlement: payment party not in the cycle"
        assert net[payer] < 0, "Settlement: payer is not a net debtor"
        assert net[payee] > 0, "Settlement: payee is not a net creditor"
        remaining[payer] += convert(payment.amount, int256)
        remaining[payee] -= convert(payment.amount, int256)
        self.payments[cycle_id][index] = Payment(payer=payment.payer, payee=payment.payee, amount=payment.amount, confirmations=0)
        index += 1
    for m: uint256 in range(len(members), bound=MAX_MEMBERS):
        assert remaining[m] == 0, "Settlement: payments do not clear the positions"

    self.cycles[cycle_id] = Cycle(
        currency=currency,
        state=CYCLE_CONFIRMING,
        runner=msg.sender,
        invoice_count=len(invoice_ids),
        participant_count=len(members),
        payment_count=len(payments),
        pending_confirmations=2 * len(payments),
        opened_at=block.timestamp,
    )
    log SettlementCycleOpened(
        cycle_id=cycle_id,
        runner=msg.sender,
        currency=currency,
        participant_count=len(members),
        payment_count=len(payments),
        invoice_ids=invoice_ids,
    )
    for m: uint256 in range(len(members), bound=MAX_MEMBERS):
        log NetPosition(cycle_id=cycle_id, member=members[m], as_seller=as_seller[m], as_buyer=as_buyer[m], net=net[m])
    index = 0
    for payment: PaymentOrder in payments:
        log PaymentInstructed(cycle_id=cycle_id, payer=payment.payer, payee=payment.payee, payment_index=index, amount=payment.amount)
        index += 1
    if len(payments) == 0:
        self._settle(cycle_id)
    return cycle_id


@external
def confirm_payment(cycle_id: uint256, payment_index: uint256):
    """
    @notice The payer confirms it sent a payment, or the payee that it received it. With
            the cycle's last confirmation, the cycle settles and its invoices are settled.
    @param cycle_id The cycle.
    @param payment_index The payment, numbered from 0 in the order instructed.
    """
    assert self.cycles[cycle_id].state == CYCLE_CONFIRMING, "Settlement: cycle not awaiting confirmations"
    assert payment_index < self.cycles[cycle_id].payment_count, "Settlement: no such payment"
    payment: Payment = self.payments[cycle_id][payment_index]
    flag: uint8 = 0
    if msg.sender == payment.payer:
        flag = CONFIRMED_BY_PAYER
    elif msg.sender == payment.payee:
        flag = CONFIRMED_BY_PAYEE
    else:
        raise "Settlement: not a party to this payment"
    assert payment.confirmations & flag == 0, "Settlement: already confirmed"
    confirmations: uint8 = payment.confirmations | flag
    self.payments[cycle_id][payment_index].confirmations = confirmations
    pending: uint256 = self.cycles[cycle_id].pending_confirmations - 1
    self.cycles[cycle_id].pending_confirmations = pending
    log PaymentConfirmed(cycle_id=cycle_id, member=msg.sender, payment_index=payment_index, confirmations=confirmations)
    if pending == 0:
        self._settle(cycle_id)


@external
def cancel_settlement_cycle(cycle_id: uint256):
    """
    @notice Cancel a cycle before anyone confirmed a payment; its invoices are unlocked.
    @param cycle_id The cycle; only its runner or the operator cancels it.
    """
    cycle: Cycle = self.cycles[cycle_id]
    assert cycle.state == CYCLE_CONFIRMING, "Settlement: cycle not awaiting confirmations"
    assert msg.sender == cycle.runner or msg.sender == self.operator, "Settlement: only the runner or the operator cancels"
    assert cycle.pending_confirmations == 2 * cycle.payment_count, "Settlement: payments already confirmed"
    self.cycles[cycle_id].state = CYCLE_CANCELLED
    ids: DynArray[uint256, MAX_INVOICES] = self._invoice_ids(cycle_id, cycle.invoice_count)
    for invoice_id: uint256 in ids:
        self.locked_words[invoice_id >> 8] &= ~(1 << (invoice_id & 255))
    log SettlementCycleCancelled(cycle_id=cycle_id, by=msg.sender)


# ------------------------------------------------------------------ views


@external
@view
def cycle_invoice_ids(cycle_id: uint256) -> DynArray[uint256, MAX_INVOICES]:
    """
    @notice The invoices of a cycle, in the order given.
    @param cycle_id The cycle.
    @return The invoice ids.
    """
    return self._invoice_ids(cycle_id, self.cycles[cycle_id].invoice_count)


@external
@view
def is_locked(invoice_id: uint256) -> bool:
    """
    @notice Whether an invoice is in a cycle (awaiting confirmations or settled).
    @param invoice_id The invoice.
    @return True when locked.
    """
    return (self.locked_words[invoice_id >> 8] >> (invoice_id & 255)) & 1 == 1


# ------------------------------------------------------------------ internals


@internal
@pure
def _index(members: DynArray[address, MAX_MEMBERS], member: address) -> uint256:
    """
    @dev The member's index in `members`; len(members) when absent.
    """
    for m: uint256 in range(len(members), bound=MAX_MEMBERS):
        if members[m] == member:
            return m
    return len(members)


@internal
def _lock(invoice_id: uint256):
    assert invoice_id <= ID_MASK, "Settlement: invoice id out of range"
    word: uint256 = self.locked_words[invoice_id >> 8]
    bit: uint256 = 1 << (invoice_id & 255)
    assert word & bit == 0, "Settlement: invoice already in a settlement cycle"
    self.locked_words[invoice_id >> 8] = word | bit


@internal
@view
def _invoice_ids(cycle_id: uint256, count: uint256) -> DynArray[uint256, MAX_INVOICES]:
    ids: DynArray[uint256, MAX_INVOICES] = []
    word: uint256 = 0
    for i: uint256 in range(count, bound=MAX_INVOICES):
        if i % IDS_PER_WORD == 0:
            word = self.cycle_invoice_words[cycle_id][i // IDS_PER_WORD]
        ids.append((word >> (64 * (i % IDS_PER_WORD))) & ID_MASK)
    return ids


@internal
def _settle(cycle_id: uint256):
    cycle: Cycle = self.cycles[cycle_id]
    self.cycles[cycle_id].state = CYCLE_SETTLED
    extcall IBilling(self.billing).mark_settled(self._invoice_ids(cycle_id, cycle.invoice_count), cycle_id)
    log SettlementCycleSettled(cycle_id=cycle_id, currency=cycle.currency, invoice_count=cycle.invoice_count)
