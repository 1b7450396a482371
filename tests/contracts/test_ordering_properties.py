"""Property: random sequences of quote, answer, accept/reject, order, acknowledge, start,
complete, reject and cancel actions, by random parties (often the right one), against a
small Python model of the states. Each call succeeds exactly when the model allows it (and
then the contract's states, counters and reputation are the model's), or reverts with the
model's reason and changes nothing."""

from dataclasses import dataclass, field

import boa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from .ordering_fixtures import (
    ACCEPTED,
    ACKNOWLEDGED,
    CANCELLED,
    COMPLETED,
    DAY,
    DECLINED,
    EUR,
    HOUR,
    IN_PROGRESS,
    ORDERED,
    PENDING,
    READY,
    REJECTED,
    REQUEST_ACCEPTED,
    REQUEST_OPEN,
    REQUEST_REJECTED,
    SUBMITTED,
    commitment,
    refused,
)

# ------------------------------------------------------------------ the model


@dataclass
class Request:
    buyer: str
    sellers: list[str]
    respond_by: int
    expires_at: int
    state: int = REQUEST_OPEN
    answers: dict[str, list[int]] = field(default_factory=dict)  # seller -> [state, valid_until]

    def answer(self, seller: str) -> list[int]:
        return self.answers.get(seller, [PENDING, 0])


@dataclass
class Order:
    buyer: str
    seller: str
    requested_delivery: int
    state: int = SUBMITTED


@dataclass
class Model:
    members: set[str]
    requests: dict[int, Request] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    # seller -> [quotes in time, quotes late, on time, late, rejected after acknowledgement]
    reputation: dict[str, list[int]] = field(default_factory=dict)
    services: int = 0

    def rep(self, seller: str) -> list[int]:
        return self.reputation.setdefault(seller, [0, 0, 0, 0, 0])

    # Each method returns the reason the contract must refuse with, or None and applies
    # the action. The checks are in the contract's order.

    def request_quote(self, caller, sellers, respond_by, expires_at, delivery, now):
        if caller not in self.members:
            return "not a member"
        if respond_by <= now:
            return "answer window in the past"
        if expires_at < respond_by:
            return "request expires before its answer window"
        if delivery <= now:
            return "requested delivery date in the past"
        listed = []
        for seller in sellers:
            if seller == caller:
                return "a buyer cannot ask itself"
            if seller not in self.members:
                return "not a member"
            if seller in listed:
                return "seller listed twice"
            listed.append(seller)
        self.requests[len(self.requests) + 1] = Request(caller, listed, respond_by, expires_at)
        return None

    def _answerable(self, request_id, caller, now):
        request = self.requests.get(request_id)
        if request is None or caller not in request.sellers:
            return "no such request for you"
        if request.state != REQUEST_OPEN:
            return "the request is closed"
        if now > request.expires_at:
            return "the request expired"
        if request.answer(caller)[0] != PENDING:
            return "already answered"
        return None

    def _count(self, request, seller, now):
        self.rep(seller)[0 if now <= request.respond_by else 1] += 1

    def respond(self, caller, request_id, mrc, valid_until, now):
        reason = self._answerable(request_id, caller, now)
        if reason:
            return reason
        if mrc == 0:
            return "zero MRC"
        if valid_until <= now:
            return "quote valid until a past date"
        request = self.requests[request_id]
        request.answers[caller] = [READY, valid_until]
        self._count(request, caller, now)
        return None

    def decline(self, caller, request_id, now):
        reason = self._answerable(request_id, caller, now)
        if reason:
            return reason
        request = self.requests[request_id]
        request.answers[caller] = [DECLINED, 0]
        self._count(request, caller, now)
        return None

    def _own_open(self, caller, request_id):
        request = self.requests.get(request_id)
        if request is None or request.buyer != caller:
            return "not your quote request"
        if request.state != REQUEST_OPEN:
            return "the request is closed"
        return None

    def _close(self, request, state, now):
        request.state = state
        for seller in request.sellers:
            answer = request.answer(seller)
            if answer[0] == PENDING:
                if now > request.respond_by:  # silent past its window: late
                    self.rep(seller)[1] += 1
                request.answers[seller] = [DECLINED, 0]
            elif answer[0] == READY:
                request.answers[seller] = [DECLINED, answer[1]]

    def accept(self, caller, request_id, seller, now):
        reason = self._own_open(caller, request_id)
        if reason:
            return reason
        request = self.requests[request_id]
        answer = request.answer(seller)
        if answer[0] != READY:
            return "no quote from this seller to accept"
        if now > answer[1]:
            return "the quote expired"
        request.answers[seller] = [ACCEPTED, answer[1]]
        self._close(request, REQUEST_ACCEPTED, now)
        return None

    def reject_quote(self, caller, request_id, now):
        reason = self._own_open(caller, request_id)
        if reason:
            return reason
        self._close(self.requests[request_id], REQUEST_REJECTED, now)
        return None

    def place_order(self, caller, request_id, seller, delivery, now):
        request = self.requests.get(request_id)
        if request is None or request.buyer != caller:
            return "not your quote request"
        answer = request.answer(seller)
        if answer[0] == ORDERED:
            return "this quote was already ordered"
        if answer[0] != ACCEPTED:
            return "no accepted quote from this seller"
        if now > answer[1]:
            return "the quote expired"
        if delivery <= now:
            return "requested delivery date in the past"
        request.answers[seller] = [ORDERED, answer[1]]
        self.orders[len(self.orders) + 1] = Order(caller, seller, delivery)
        return None

    def _seller_order(self, caller, order_id):
        order = self.orders.get(order_id)
        return (order, None) if order and order.seller == caller else (None, "not your order")

    def move(self, caller, order_id, expected, new_state):
        order, reason = self._seller_order(caller, order_id)
        if reason:
            return reason
        if order.state != expected:
            return "the order is not in the right state"
        order.state = new_state
        return None

    def reject_order(self, caller, order_id):
        order, reason = self._seller_order(caller, order_id)
        if reason:
            return reason
        if order.state not in (SUBMITTED, ACKNOWLEDGED):
            return "the order can no longer be rejected"
        if order.state == ACKNOWLEDGED:
            self.rep(caller)[4] += 1
        order.state = REJECTED
        return None

    def complete(self, caller, order_id, now):
        order, reason = self._seller_order(caller, order_id)
        if reason:
            return reason
        if order.state not in (ACKNOWLEDGED, IN_PROGRESS):
            return "the order cannot be completed"
        order.state = COMPLETED
        self.rep(caller)[2 if now <= order.requested_delivery else 3] += 1
        self.services += 1
        return None

    def cancel(self, caller, order_id):
        order = self.orders.get(order_id)
        if order is None or order.buyer != caller:
            return "not your order"
        if order.state > IN_PROGRESS:
            return "the order can no longer be cancelled"
        order.state = CANCELLED
        return None


# ------------------------------------------------------------------ the actions

# The lifecycle's natural next step ("advance", what a busy ERP does) as often as all the
# other actions together; those are drawn with any parameters, mostly valid ones.
KINDS = ["advance"] * 11 + [
    "request",
    "respond",
    "decline",
    "accept",
    "reject_quote",
    "order",
    "acknowledge",
    "start",
    "complete",
    "reject_order",
    "cancel",
    "wait",
]
BUYER_STEPS = {"accept", "reject_quote", "order", "cancel"}
REQUEST_STEPS = {"respond", "decline", "accept", "reject_quote", "order"}
ORDER_STEPS = {"acknowledge", "start", "complete", "reject_order", "cancel"}
RIGHT = "right"  # the party the action needs: the target's buyer, or its (picked) seller


def mostly(usual, *others):
    """`usual` three times in four, else any of `others`."""
    return st.one_of(st.just(usual), st.just(usual), st.just(usual), st.sampled_from(others))


callers = mostly(RIGHT, 0, 1, 2, 3, 4)  # or any party by index (4: the stranger)
picks = st.integers(0, 7)  # which request / order / seller; 7: an unknown id


def pick(count, n):
    """An id in 1..count, or for the last pick (or none yet) the next, unknown one."""
    return count + 1 if n == 7 or count == 0 else n % count + 1


@dataclass
class Step:
    kind: str
    caller: object = RIGHT  # RIGHT or a party index
    request_id: int = 0
    seller_pick: int = 0
    order_id: int = 0
    args: dict = field(default_factory=dict)


def draw_step(data, kind, model):
    if kind == "wait":
        return Step(kind, args={"seconds": data.draw(st.sampled_from([1, HOUR, DAY, 3 * DAY]))})
    if kind == "request":
        return Step(
            kind,
            caller=data.draw(mostly(0, 1, 2, 3, 4)),
            args={
                "sellers": data.draw(mostly([1, 2], [1], [2], [1, 2, 3], [2, 0], [1, 4], [1, 1])),
                "respond_in": data.draw(mostly(DAY, -60, 0, HOUR)),
                "extra": data.draw(mostly(DAY, -1, 0)),  # expires_at - respond_by
                "deliver_in": data.draw(mostly(10 * DAY, 0, DAY)),
            },
        )
    step = Step(kind, caller=data.draw(callers))
    if kind in REQUEST_STEPS:
        step.request_id = pick(len(model.requests), data.draw(picks))
        step.seller_pick = data.draw(picks)
        if kind == "respond":
            step.args = {
                "mrc": data.draw(mostly(150_000, 0, 1)),
                "valid_for": data.draw(mostly(3 * DAY, 0, HOUR)),
            }
        elif kind == "order":
            step.args = {"deliver_in": data.draw(mostly(5 * DAY, 0, DAY))}
    else:
        step.order_id = pick(len(model.orders), data.draw(picks))
    return step


def advance(model, n):
    """A natural next step of one of the open requests and orders (picked by `n`): mostly
    the way to a service, sometimes a side road (decline, reject, cancel)."""
    main, later, side = [], [], []  # later: an order's steps, favoured to reach services
    for request_id, request in model.requests.items():
        is_open = request.state == REQUEST_OPEN
        for i, seller in enumerate(request.sellers):
            state = request.answer(seller)[0]
            at = {"request_id": request_id, "seller_pick": i}
            if is_open and state == PENDING:
                main.append(Step("respond", **at, args={"mrc": 150_000, "valid_for": 3 * DAY}))
                side.append(Step("decline", **at))
            elif is_open and state == READY:
                main.append(Step("accept", **at))
            elif state == ACCEPTED:
                main.append(Step("order", **at, args={"deliver_in": 5 * DAY}))
        if is_open:
            side.append(Step("reject_quote", request_id=request_id))
    following = {SUBMITTED: "acknowledge", ACKNOWLEDGED: "start", IN_PROGRESS: "complete"}
    for order_id, order in model.orders.items():
        if order.state in following:
            later.append(Step(following[order.state], order_id=order_id))
            side.append(Step("cancel", order_id=order_id))
        if order.state in (SUBMITTED, ACKNOWLEDGED):
            side.append(Step("reject_order", order_id=order_id))
    choices = main * 3 + later * 6 + side
    if not choices:
        return Step("request", caller=0, args=FIRM_REQUEST)
    return choices[n % len(choices)]


FIRM_REQUEST = {"sellers": [1, 2], "respond_in": DAY, "extra": DAY, "deliver_in": 10 * DAY}


# ------------------------------------------------------------------ playing a step


class Run:
    def __init__(self, market):
        self.market = market
        self.ordering = market.ordering
        self.parties = [market.buyer, *market.sellers, market.third, market.stranger]
        self.model = Model(members=set(self.parties[:4]))

    def resolve(self, step):
        """The caller and the seller a step is about."""
        model, parties = self.model, self.parties
        buyer = seller = None
        if step.kind in REQUEST_STEPS:
            request = model.requests.get(step.request_id)
            if request:
                buyer = request.buyer
                seller = request.sellers[step.seller_pick % len(request.sellers)]
            else:
                seller = parties[1 + step.seller_pick % 3]
        elif step.kind in ORDER_STEPS and step.order_id in model.orders:
            buyer = model.orders[step.order_id].buyer
            seller = model.orders[step.order_id].seller
        if step.caller != RIGHT:
            return parties[step.caller], seller
        if step.kind in BUYER_STEPS or step.kind == "request":
            return buyer or parties[0], seller
        return seller or parties[1], seller

    def play(self, step):
        """Ask the model, make the call, compare. Returns the reason (None: success)."""
        model, ordering, now = self.model, self.ordering, boa.env.timestamp
        if step.kind == "wait":
            boa.env.time_travel(seconds=step.args["seconds"])
            return None
        caller, seller = self.resolve(step)
        a = step.args
        rid, oid = step.request_id, step.order_id
        if step.kind == "request":
            sellers = [self.parties[i] for i in a["sellers"]]
            respond_by = now + a["respond_in"]
            times = (respond_by, respond_by + a["extra"], now + a["deliver_in"])
            reason = model.request_quote(caller, sellers, *times, now)
            method = ordering.request_quote
            args = (sellers, self.market.template, *times, commitment("r"))
        elif step.kind == "respond":
            valid_until = now + a["valid_for"]
            reason = model.respond(caller, rid, a["mrc"], valid_until, now)
            method = ordering.respond_to_quote
            args = (rid, EUR, a["mrc"], 0, valid_until, commitment("q"))
        elif step.kind == "decline":
            reason = model.decline(caller, rid, now)
            method, args = ordering.decline_quote, (rid, commitment("d"))
        elif step.kind == "accept":
            reason = model.accept(caller, rid, seller, now)
            method, args = ordering.accept_quote, (rid, seller)
        elif step.kind == "reject_quote":
            reason = model.reject_quote(caller, rid, now)
            method, args = ordering.reject_quote, (rid,)
        elif step.kind == "order":
            due = now + a["deliver_in"]
            reason = model.place_order(caller, rid, seller, due, now)
            method, args = ordering.place_order, (rid, seller, due, commitment("o"))
        elif step.kind == "acknowledge":
            reason = model.move(caller, oid, SUBMITTED, ACKNOWLEDGED)
            method, args = ordering.acknowledge_order, (oid,)
        elif step.kind == "start":
            reason = model.move(caller, oid, ACKNOWLEDGED, IN_PROGRESS)
            method, args = ordering.start_order, (oid,)
        elif step.kind == "complete":
            reason = model.complete(caller, oid, now)
            method, args = ordering.complete_order, (oid, commitment("s"))
        elif step.kind == "reject_order":
            reason = model.reject_order(caller, oid)
            method, args = ordering.reject_order, (oid, commitment("x"))
        else:
            reason = model.cancel(caller, oid)
            method, args = ordering.cancel_order, (oid,)

        # what the step may change: the request or order it names, with its sellers'
        # answers and reputation (a new request or order shows in the counts)
        touched = model.requests.get(rid)
        parties = touched.sellers if touched else ([caller] if step.kind != "request" else [])
        requests = {rid: parties} if rid else {}
        orders = [oid] if oid else []
        if reason is None:
            method(*args, sender=caller)
        else:
            with refused(reason):
                method(*args, sender=caller)
        # the model changed only if the call succeeded (and agreed with the chain before
        # it): a refused call that changed anything observable fails here too
        seen = self.observe(requests, orders, parties)
        assert seen == self.expected(requests, orders, parties), step
        if step.kind == "complete" and reason is None:
            order = model.orders[oid]
            service = ordering.services(model.services)
            assert service[:2] == (order.buyer, order.seller)
            assert (service.started_at, service.state) == (now, 2)
        return reason

    def observe(self, requests, order_ids, reputation_of):
        """What the contract shows: the counters, the reputation of `reputation_of`, the
        `requests` (id -> the parties whose answers to show: state, valid-until) and the
        orders' states."""
        ordering = self.ordering
        return {
            "counts": (ordering.request_count(), ordering.order_count(), ordering.service_count()),
            "reputation": [list(ordering.reputation(p)) for p in reputation_of],
            "requests": {
                i: (ordering.requests(i).state, [tuple(ordering.answers(i, p))[::4] for p in ps])
                for i, ps in requests.items()
            },
            "orders": {i: ordering.orders(i).state for i in order_ids},
        }

    def expected(self, requests, order_ids, reputation_of):
        """The same, as the model has it (unknown ids: all zero)."""
        model = self.model
        unknown = Request("", [], 0, 0)
        return {
            "counts": (len(model.requests), len(model.orders), model.services),
            "reputation": [model.rep(p) for p in reputation_of],
            "requests": {
                i: (r.state, [tuple(r.answer(p)) for p in ps])
                for i, ps in requests.items()
                for r in [model.requests.get(i, unknown)]
            },
            "orders": {i: model.orders[i].state if i in model.orders else 0 for i in order_ids},
        }

    def check_everything(self):
        """Every request (each member's answer), order and member's reputation, and the
        next, unknown ids."""
        members = self.parties[:4]
        requests = {i: members for i in range(1, len(self.model.requests) + 2)}
        orders = list(range(1, len(self.model.orders) + 2))
        assert self.observe(requests, orders, members) == self.expected(requests, orders, members)


# ------------------------------------------------------------------ the property


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_contract_follows_the_model(market, data):
    run = Run(market)
    for _ in range(data.draw(st.integers(3, 12), label="actions")):
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        if kind == "advance":  # a burst of natural steps
            which = data.draw(st.lists(st.integers(0, 63), min_size=1, max_size=4), label="which")
            steps = [lambda n=n: advance(run.model, n) for n in which]
        else:
            steps = [lambda kind=kind: draw_step(data, kind, run.model)]
        for make in steps:
            step = make()
            reason = run.play(step)
            event(f"{step.kind}: {reason or 'succeeded'}")

    run.check_everything()
    completed = sum(o.state == COMPLETED for o in run.model.orders.values())
    event(f"{min(completed, 3)}{'+' if completed >= 3 else ''} services created")
