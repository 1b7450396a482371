"""Trouble tickets: the buyer opens, the seller acknowledges, works, resolves; the buyer
closes, reopens or cancels; a resolved ticket left unanswered is deemed closed after the
template's window. Every transition, every refusal (a revert with its reason that writes
nothing, for the whole batch), the module's setup and its ticket numbering."""

import boa
import pytest
from eth.exceptions import Revert

from .assurance_fixtures import (
    ACKNOWLEDGED,
    CANCELLED,
    CLOSED,
    IN_PROGRESS,
    NONE,
    OPENED,
    PENDING,
    REOPENED,
    RESOLVED,
    START,
    START_PERIOD,
    WINDOW,
    adopt,
    assurance_contract_fixture,  # noqa: F401
    desk_fixture,  # noqa: F401
    refused,
    ticket_id,
)
from .credit_model import (
    CUSTOMER_SIDE,
    DEGRADED,
    DOWN,
    FIBER_CUT,
    INTERMITTENT,
    PLANNED_MAINTENANCE,
    POWER,
    UNKNOWN,
    Outage,
    period_of,
)
from .helpers import ZERO_ADDRESS, deploy_solidity, events, revert_reason_data
from .ordering_fixtures import DAY, HOUR, commitment

MINUTE = 60


@pytest.fixture
def service(desk):
    """An active service, and the clock a day into the first period."""
    (service_id,) = desk.services(1)
    desk.at(START + DAY)
    return service_id


def states(desk, ids):
    return [desk.state(i) for i in ids]


def at_state(desk, tid, state):
    """Drive a fresh ticket `tid` (opened an hour ago) to `state`."""
    desk.open([(tid, desk.now - HOUR)])
    if state == OPENED:
        return
    desk.acknowledge([tid])
    if state in (IN_PROGRESS, PENDING):
        desk.assurance.progress_tickets([tid], state, sender=desk.seller)
    if state in (RESOLVED, CLOSED, REOPENED):
        desk.resolve([(tid, desk.now - MINUTE)])
    if state == CLOSED:
        desk.close([tid])
    if state == REOPENED:
        desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    if state == CANCELLED:
        desk.assurance.cancel_tickets([tid], sender=desk.buyer)
    assert desk.state(tid) == state


# ------------------------------------------------------------------ setup


def test_the_module_behind_its_proxy(desk, assurance_contract, compiler):
    assurance = desk.assurance
    system = desk.market.system
    assert assurance.version() == 2  # final at close
    assert assurance.initialized()
    assert assurance.membership() == system.membership.address
    assert assurance.sla_templates() == system.sla_templates.address
    assert assurance.ordering() == desk.ordering.address
    # SLA accounting starts in the month the proxy was initialized
    assert assurance.first_period() == START_PERIOD
    assert desk.beacon.implementation() == desk.implementation.address
    assert desk.beacon.owner() == system.timelock.address
    # the code is the project's artifact (as test_artifacts.py checks the others)
    runtime = bytes.fromhex(compiler.vyper("Assurance").runtime_bytecode.removeprefix("0x"))
    assert boa.env.get_code(desk.implementation.address) == runtime


def test_initialize_runs_once_and_never_on_the_implementation(desk):
    system = desk.market.system
    args = (system.membership.address, system.sla_templates.address, desk.ordering.address)
    with refused("already initialized"):
        desk.assurance.initialize(*args)
    with refused("already initialized"):
        desk.implementation.initialize(*args)
    assert desk.implementation.membership() == ZERO_ADDRESS


@pytest.mark.parametrize("zero", [0, 1, 2])
def test_a_proxy_needs_all_three_addresses(desk, compiler, zero):
    system = desk.market.system
    args = [system.membership.address, system.sla_templates.address, desk.ordering.address]
    args[zero] = ZERO_ADDRESS
    init = desk.implementation.initialize.prepare_calldata(*args)
    with pytest.raises(Revert) as refusal:  # BeaconProxy's constructor passes the reason on
        deploy_solidity(
            compiler.openzeppelin("BeaconProxy"), ["address", "bytes"], [desk.beacon.address, init]
        )
    assert refusal.value.args[0] == revert_reason_data("Assurance: zero address")


# ------------------------------------------------------------------ opening


def test_buyer_opens_tickets_in_a_batch(desk):
    a, b = desk.services(2)
    desk.at(START + DAY)
    start = desk.now - HOUR
    openings = [
        (ticket_id(a, 0), DOWN, start, commitment("a0")),
        (ticket_id(a, 1), DEGRADED, start + 1, commitment("a1")),
        (ticket_id(b, 0), INTERMITTENT, desk.now, commitment("b0")),
    ]
    desk.assurance.open_tickets(openings, sender=desk.buyer)

    assert events(desk.assurance, "TicketsOpened") == [{"buyer": desk.buyer, "openings": openings}]
    assert desk.assurance.ticket(ticket_id(a, 1)) == (a, 1, OPENED, DEGRADED, 0, start + 1, 0, 0)
    assert desk.assurance.ticket(ticket_id(a, 0)) == (a, 0, OPENED, DOWN, 0, start, 0, 0)
    assert desk.assurance.ticket(ticket_id(b, 0)) == (b, 0, OPENED, INTERMITTENT, 0, desk.now, 0, 0)
    assert desk.assurance.next_ticket_number(a) == 2
    assert desk.assurance.next_ticket_number(b) == 1
    # numbers go on across batches, and a word holds tickets 2k and 2k + 1
    desk.open([(ticket_id(a, 2), start), (ticket_id(a, 3), start), (ticket_id(a, 4), start)])
    assert desk.assurance.next_ticket_number(a) == 5
    assert states(desk, [ticket_id(a, n) for n in range(6)]) == [OPENED] * 5 + [NONE]


def test_an_unknown_ticket_reads_empty(desk, service):
    assert desk.assurance.ticket(ticket_id(service, 0)) == (service, 0, NONE, 0, 0, 0, 0, 0)
    assert desk.assurance.next_ticket_number(service) == 0
    assert desk.assurance.next_ticket_number(999) == 0


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("stranger", "not a member"),
        ("third member", "not your service"),
        ("the seller", "not your service"),
        ("unknown service", "not your service"),
        ("service 0", "not your service"),
        ("pending service", "the service is not active"),
        ("impact 0", "unknown impact"),
        ("impact 4", "unknown impact"),
        ("start in the future", "the outage cannot start in the future"),
        ("start before the service", "the outage starts before the service"),
        ("number taken (even)", "the ticket exists"),
        ("number taken (odd)", "the ticket exists"),
        ("number taken in the batch", "the ticket exists"),
        ("gap at 3", "the previous ticket number is not taken"),
        ("gap at 4", "the previous ticket number is not taken"),
        ("1 before 0", "the previous ticket number is not taken"),
        ("2 before 0", "the previous ticket number is not taken"),
    ],
)
def test_bad_openings_are_refused_and_the_batch_writes_nothing(desk, case, reason):
    a, b, c = desk.services(3)
    (pending,) = desk.services(1, confirm=False)
    desk.at(START + DAY)
    desk.open([(ticket_id(b, 0), desk.now - HOUR), (ticket_id(b, 1), desk.now - HOUR)])
    sender, start = desk.buyer, desk.now - HOUR
    good = [(ticket_id(a, 0), start), (ticket_id(a, 1), start)]
    bad: tuple = (ticket_id(a, 2), start)
    if case == "stranger":
        sender = desk.stranger
    elif case == "third member":
        sender = desk.third
    elif case == "the seller":
        sender = desk.seller
    elif case == "unknown service":
        bad = (ticket_id(999, 0), start)
    elif case == "service 0":
        bad = (ticket_id(0, 0), start)
    elif case == "pending service":
        bad = (ticket_id(pending, 0), start)
    elif case == "impact 0":
        bad = (ticket_id(a, 2), start, 0)
    elif case == "impact 4":
        bad = (ticket_id(a, 2), start, 4)
    elif case == "start in the future":
        bad = (ticket_id(a, 2), desk.now + 1)
    elif case == "start before the service":
        bad = (ticket_id(a, 2), START - 30 * DAY - 1)
    elif case == "number taken (even)":
        bad = (ticket_id(b, 0), start)
    elif case == "number taken (odd)":
        bad = (ticket_id(b, 1), start)
    elif case == "number taken in the batch":
        bad = (ticket_id(a, 1), start)
    elif case == "gap at 3":
        bad = (ticket_id(a, 3), start)
    elif case == "gap at 4":
        bad = (ticket_id(b, 4), start)
    elif case == "1 before 0":
        bad = (ticket_id(c, 1), start)
    elif case == "2 before 0":
        bad = (ticket_id(c, 2), start)
    with refused(reason):
        desk.open([*good, bad], sender=sender)
    assert states(desk, [ticket_id(a, n) for n in range(4)]) == [NONE] * 4
    assert states(desk, [ticket_id(b, n) for n in range(5)]) == [OPENED, OPENED, NONE, NONE, NONE]
    assert states(desk, [ticket_id(c, n) for n in range(3)]) == [NONE] * 3


def test_a_ticket_may_start_when_the_service_started_and_end_when_resolved(desk):
    desk.at(START + DAY)
    (service_id,) = desk.services(1, started_at=START + HOUR)
    tid = ticket_id(service_id, 0)
    desk.open([(tid, START + HOUR)])
    desk.acknowledge([tid])
    desk.resolve([(tid, desk.now)])  # ends now: allowed
    assert desk.assurance.ticket(tid)[5:8] == (START + HOUR, desk.now, desk.now)


def test_an_outage_after_the_service_ended_counts_for_nothing(desk, service):
    # Opening it is not refused on chain (the platform refuses it before sending); the
    # period close clips every outage to the service's end.
    end = desk.now + DAY
    desk.ordering.end_service(service, end, sender=desk.buyer)
    desk.at(end + 2 * HOUR)
    desk.outage(ticket_id(service, 0), end - HOUR, end + HOUR)
    desk.outage(ticket_id(service, 1), end, end + HOUR)
    period = period_of(end - HOUR)
    desk.close_period(period, [service])
    assert desk.assurance.credit(service, period).outage_seconds == HOUR


def test_a_ticket_may_last_no_time(desk, service):
    tid = ticket_id(service, 0)
    desk.open([(tid, desk.now - HOUR)])
    desk.acknowledge([tid])
    desk.resolve([(tid, desk.now - HOUR)])
    assert desk.assurance.ticket(tid).end == desk.now - HOUR


def test_a_batch_is_at_most_500(desk, service):
    openings = [(ticket_id(service, n), DOWN, desk.now, commitment("x")) for n in range(501)]
    with boa.reverts():  # the ABI decoder refuses a longer array
        desk.assurance.open_tickets(openings, sender=desk.buyer)
    desk.assurance.open_tickets(openings[:500], sender=desk.buyer)
    assert desk.assurance.next_ticket_number(service) == 500


# ------------------------------------------------------------------ the seller's steps


def test_the_seller_acknowledges_works_and_resolves(desk, service):
    ids = [ticket_id(service, n) for n in range(3)]
    start = desk.now - 2 * HOUR
    desk.open([(i, start) for i in ids])

    desk.acknowledge(ids)
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.seller, "state": ACKNOWLEDGED, "ticket_ids": ids}
    ]
    assert states(desk, ids) == [ACKNOWLEDGED] * 3

    desk.assurance.progress_tickets(ids[:2], IN_PROGRESS, sender=desk.seller)
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.seller, "state": IN_PROGRESS, "ticket_ids": ids[:2]}
    ]
    desk.assurance.progress_tickets(ids[1:2], PENDING, sender=desk.seller)
    assert states(desk, ids) == [IN_PROGRESS, PENDING, ACKNOWLEDGED]
    desk.assurance.progress_tickets(ids[1:], IN_PROGRESS, sender=desk.seller)
    desk.assurance.progress_tickets(ids[2:], PENDING, sender=desk.seller)
    assert states(desk, ids) == [IN_PROGRESS, IN_PROGRESS, PENDING]

    resolutions = [(ids[0], start + HOUR, POWER), (ids[1], start, UNKNOWN), (ids[2], desk.now, 5)]
    desk.assurance.resolve_tickets(resolutions, sender=desk.seller)
    assert events(desk.assurance, "TicketsResolved") == [
        {"seller": desk.seller, "resolutions": resolutions}
    ]
    assert desk.assurance.ticket(ids[0]) == (
        service,
        0,
        RESOLVED,
        DOWN,
        POWER,
        start,
        start + HOUR,
        desk.now,
    )
    assert [desk.assurance.ticket(i).cause for i in ids] == [POWER, UNKNOWN, 5]


@pytest.mark.parametrize(
    ("state", "step", "reason"),
    [
        (ACKNOWLEDGED, "acknowledge", "the ticket is not awaiting acknowledgement"),
        (RESOLVED, "acknowledge", "the ticket is not awaiting acknowledgement"),
        (OPENED, "progress", "the ticket cannot move to that state"),
        (IN_PROGRESS, "progress", "the ticket cannot move to that state"),  # already
        (RESOLVED, "progress", "the ticket cannot move to that state"),
        (CLOSED, "progress", "the ticket cannot move to that state"),
        (CANCELLED, "progress", "the ticket cannot move to that state"),
        (OPENED, "resolve", "the ticket is not acknowledged"),
        (RESOLVED, "resolve", "the ticket cannot be resolved"),
        (CLOSED, "resolve", "the ticket cannot be resolved"),
        (CANCELLED, "resolve", "the ticket cannot be resolved"),
    ],
)
def test_seller_steps_from_the_wrong_state_are_refused(desk, service, state, step, reason):
    tid = ticket_id(service, 0)
    at_state(desk, tid, state)
    before = desk.assurance.ticket(tid)
    with refused(reason):
        if step == "acknowledge":
            desk.acknowledge([tid])
        elif step == "progress":
            desk.assurance.progress_tickets([tid], IN_PROGRESS, sender=desk.seller)
        else:
            desk.resolve([(tid, desk.now)])
    assert desk.assurance.ticket(tid) == before


@pytest.mark.parametrize("state", [0, ACKNOWLEDGED, RESOLVED, CLOSED, 9])
def test_progress_goes_to_in_progress_or_pending_only(desk, service, state):
    tid = ticket_id(service, 0)
    at_state(desk, tid, ACKNOWLEDGED)
    with refused("a ticket moves to inProgress or pending only"):
        desk.assurance.progress_tickets([tid], state, sender=desk.seller)
    assert desk.state(tid) == ACKNOWLEDGED


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("end before start", "the outage ends before it starts"),
        ("end in the future", "the outage cannot end in the future"),
        ("cause 0", "unknown root cause"),
        ("cause 9", "unknown root cause"),
        ("unknown ticket", "no such ticket"),
        ("the buyer", "not the ticket's seller"),
        ("third member", "not the ticket's seller"),
        ("stranger", "not a member"),
    ],
)
def test_bad_resolutions_are_refused_and_the_batch_writes_nothing(desk, service, case, reason):
    ids = [ticket_id(service, n) for n in range(3)]
    start = desk.now - HOUR
    desk.open([(i, start) for i in ids])
    desk.acknowledge(ids)
    sender = desk.seller
    bad: tuple = (ids[2], desk.now)
    if case == "end before start":
        bad = (ids[2], start - 1)
    elif case == "end in the future":
        bad = (ids[2], desk.now + 1)
    elif case == "cause 0":
        bad = (ids[2], desk.now, 0)
    elif case == "cause 9":
        bad = (ids[2], desk.now, 9)
    elif case == "unknown ticket":
        bad = (ticket_id(service, 3), desk.now)
    elif case == "the buyer":
        sender = desk.buyer
    elif case == "third member":
        sender = desk.third
    elif case == "stranger":
        sender = desk.stranger
    with refused(reason):
        desk.resolve([(ids[0], desk.now), (ids[1], start), bad], sender=sender)
    assert states(desk, ids) == [ACKNOWLEDGED] * 3
    assert desk.assurance.ticket(ids[0]).end == 0


@pytest.mark.parametrize("who", ["buyer", "third", "stranger"])
def test_only_the_seller_acknowledges_and_progresses(desk, service, who):
    tid = ticket_id(service, 0)
    at_state(desk, tid, OPENED)
    sender = getattr(desk, who)
    reason = "not a member" if who == "stranger" else "not the ticket's seller"
    with refused(reason):
        desk.acknowledge([tid], sender=sender)
    desk.acknowledge([tid])
    with refused(reason):
        desk.assurance.progress_tickets([tid], PENDING, sender=sender)
    assert desk.state(tid) == ACKNOWLEDGED


def test_the_seller_of_another_service_is_not_this_tickets_seller(desk, service):
    (other,) = desk.services(1, seller=desk.market.sellers[1])
    tid = ticket_id(service, 0)
    at_state(desk, tid, OPENED)
    desk.open([(ticket_id(other, 0), desk.now)])
    with refused("not the ticket's seller"):
        desk.acknowledge([ticket_id(other, 0), tid], sender=desk.market.sellers[1])
    assert states(desk, [tid, ticket_id(other, 0)]) == [OPENED, OPENED]


def test_a_seller_that_left_cannot_act(desk, service):
    tid = ticket_id(service, 0)
    at_state(desk, tid, OPENED)
    desk.market.system.membership.remove(desk.seller, sender=desk.market.system.timelock.address)
    with refused("not a member"):
        desk.acknowledge([tid])
    # the buyer can still cancel
    desk.assurance.cancel_tickets([tid], sender=desk.buyer)
    assert desk.state(tid) == CANCELLED


# ------------------------------------------------------------------ the buyer's answer


def test_the_buyer_closes_resolved_tickets(desk, service):
    ids = [ticket_id(service, n) for n in range(2)]
    desk.open([(i, desk.now - HOUR) for i in ids])
    desk.acknowledge(ids)
    desk.resolve([(i, desk.now) for i in ids])
    desk.close(ids)
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.buyer, "state": CLOSED, "ticket_ids": ids}
    ]
    assert states(desk, ids) == [CLOSED, CLOSED]
    # closed stays closed, whatever the clock
    desk.at(desk.now + 10 * WINDOW)
    assert states(desk, ids) == [CLOSED, CLOSED]


@pytest.mark.parametrize("who", ["seller", "third", "stranger"])
def test_only_the_buyer_closes_reopens_and_cancels(desk, service, who):
    resolved, opened = ticket_id(service, 0), ticket_id(service, 1)
    at_state(desk, resolved, RESOLVED)
    at_state(desk, opened, OPENED)
    sender = getattr(desk, who)
    reason = "not a member" if who == "stranger" else "not the ticket's buyer"
    for _ in range(2):  # within the resolution window, and after it
        with refused(reason):
            desk.assurance.reopen_tickets([resolved], sender=sender)
        desk.at(desk.now + WINDOW)
    with refused(reason):
        desk.close([resolved], sender=sender)
    with refused(reason):
        desk.assurance.reopen_tickets([resolved], sender=sender)
    with refused(reason):
        desk.assurance.cancel_tickets([opened], sender=sender)
    # untouched: the resolved ticket is closed by its window only
    assert states(desk, [resolved, opened]) == [CLOSED, OPENED]
    assert desk.assurance.ticket(resolved).end != 0


@pytest.mark.parametrize("state", [OPENED, ACKNOWLEDGED, IN_PROGRESS, REOPENED, CLOSED, CANCELLED])
def test_only_a_resolved_ticket_is_closed_or_reopened(desk, service, state):
    tid = ticket_id(service, 0)
    at_state(desk, tid, state)
    with refused("the ticket is not resolved"):
        desk.close([tid])
    with refused("the ticket is not resolved"):
        desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    assert desk.state(tid) == state


def test_a_resolved_ticket_is_deemed_closed_when_its_window_ends(desk, service):
    tid = ticket_id(service, 0)
    at_state(desk, tid, RESOLVED)
    resolved_at = desk.assurance.ticket(tid).resolved_at
    desk.at(resolved_at + WINDOW - 1)
    assert desk.state(tid) == RESOLVED
    desk.at(resolved_at + WINDOW)
    assert desk.state(tid) == CLOSED
    with refused("the resolution window is over"):
        desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    # closing it explicitly changes nothing but the record
    desk.close([tid])
    assert desk.state(tid) == CLOSED


def test_the_buyer_reopens_within_the_window_and_the_seller_resolves_again(desk, service):
    tid = ticket_id(service, 0)
    start = desk.now - HOUR
    desk.open([(tid, start)])
    desk.acknowledge([tid])
    desk.resolve([(tid, desk.now - MINUTE, CUSTOMER_SIDE)])
    desk.at(desk.assurance.ticket(tid).resolved_at + WINDOW - 1)

    desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.buyer, "state": REOPENED, "ticket_ids": [tid]}
    ]
    # the contested facts are gone; the buyer's stay
    assert desk.assurance.ticket(tid) == (service, 0, REOPENED, DOWN, 0, start, 0, 0)
    desk.at(desk.now + 10 * WINDOW)  # a reopened ticket waits for the seller
    assert desk.state(tid) == REOPENED

    desk.assurance.progress_tickets([tid], IN_PROGRESS, sender=desk.seller)
    desk.resolve([(tid, desk.now - DAY, FIBER_CUT)])
    assert desk.assurance.ticket(tid) == (
        service,
        0,
        RESOLVED,
        DOWN,
        FIBER_CUT,
        start,
        desk.now - DAY,
        desk.now,
    )
    desk.close([tid])
    assert desk.state(tid) == CLOSED


def test_a_reopened_ticket_is_resolved_straight_away(desk, service):
    tid = ticket_id(service, 0)
    at_state(desk, tid, REOPENED)
    desk.resolve([(tid, desk.now, PLANNED_MAINTENANCE)])
    assert desk.assurance.ticket(tid).cause == PLANNED_MAINTENANCE


@pytest.mark.parametrize("state", [OPENED, ACKNOWLEDGED, IN_PROGRESS, PENDING, REOPENED])
def test_the_buyer_cancels_before_resolution(desk, service, state):
    tid = ticket_id(service, 0)
    at_state(desk, tid, state)
    desk.assurance.cancel_tickets([tid], sender=desk.buyer)
    assert events(desk.assurance, "TicketsChanged") == [
        {"party": desk.buyer, "state": CANCELLED, "ticket_ids": [tid]}
    ]
    assert desk.state(tid) == CANCELLED
    # a cancelled ticket is final; its number stays taken
    with refused("the ticket cannot be resolved"):
        desk.resolve([(tid, desk.now)])
    assert desk.assurance.next_ticket_number(service) == 1


@pytest.mark.parametrize("state", [RESOLVED, CLOSED, CANCELLED])
def test_a_resolved_closed_or_cancelled_ticket_cannot_be_cancelled(desk, service, state):
    tid = ticket_id(service, 0)
    at_state(desk, tid, state)
    with refused("the ticket can no longer be cancelled"):
        desk.assurance.cancel_tickets([tid], sender=desk.buyer)
    assert desk.state(tid) == state


def test_a_buyer_batch_with_one_bad_ticket_writes_nothing(desk, service):
    ids = [ticket_id(service, n) for n in range(4)]
    desk.open([(i, desk.now - HOUR) for i in ids])
    desk.acknowledge(ids)
    desk.resolve([(i, desk.now) for i in ids[:3]])
    with refused("the ticket is not resolved"):
        desk.close(ids)
    with refused("no such ticket"):
        desk.close([*ids[:3], ticket_id(service, 9)])
    with refused("the ticket is not resolved"):
        desk.close([ids[0], ids[1], ids[0]])  # listed twice: closed by the first
    with refused("the ticket can no longer be cancelled"):
        desk.assurance.cancel_tickets([ids[3], ids[0]], sender=desk.buyer)
    assert states(desk, ids) == [RESOLVED] * 3 + [ACKNOWLEDGED]


def test_a_ticket_on_another_buyers_service_is_not_this_buyers(desk):
    (mine,) = desk.services(1)
    (theirs,) = desk.services(1, buyer=desk.third)
    desk.at(START + DAY)
    desk.open([(ticket_id(theirs, 0), desk.now)], sender=desk.third)
    desk.acknowledge([ticket_id(theirs, 0)])
    desk.resolve([(ticket_id(theirs, 0), desk.now)])
    with refused("not your service"):
        desk.open([(ticket_id(mine, 0), desk.now), (ticket_id(theirs, 1), desk.now)])
    with refused("not the ticket's buyer"):
        desk.close([ticket_id(theirs, 0)])
    assert desk.state(ticket_id(theirs, 0)) == RESOLVED
    assert desk.state(ticket_id(mine, 0)) == NONE


@pytest.mark.parametrize("window", [0, 2**256 - 1])
def test_resolution_windows_of_no_time_and_of_forever(desk, window):
    template = adopt(desk.market.system, [(999_000, 1_000)], resolution_window=window)
    desk.at(START + DAY)
    (service_id,) = desk.services(1, template=template)
    tid = ticket_id(service_id, 0)
    desk.outages(service_id, [Outage(desk.now - HOUR, desk.now)], close=False)
    if window == 0:  # closed as soon as resolved: nothing to reopen
        assert desk.state(tid) == CLOSED
        with refused("the resolution window is over"):
            desk.assurance.reopen_tickets([tid], sender=desk.buyer)
    else:  # the buyer must answer: the ticket holds the period's close until then
        desk.at(desk.now + 100 * 365 * DAY)
        assert desk.state(tid) == RESOLVED
        with refused("a down ticket of the period is not closed"):
            desk.assurance.close_periods(START_PERIOD, [service_id], sender=desk.buyer)
        desk.assurance.reopen_tickets([tid], sender=desk.buyer)
        assert desk.state(tid) == REOPENED
