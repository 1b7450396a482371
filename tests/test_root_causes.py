"""Root-cause suggestions (cooperative.root_causes): how well a seller's model ranks the
causes of tickets it has not seen, and that each seller's model learns from its own
tickets only and answers its own tickets only, through the GraphQL API on a real node."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from cooperative import root_causes
from cooperative.api.ids import global_id
from cooperative.platform import Platform
from cooperative.root_causes import seller_access, training_set
from cooperative.states import RootCause
from cooperative.store.models import RootCauseModel
from tests import ticket_text
from tests.conftest import Api
from tests.hardhat import evm_under_test
from tests.test_assurance_api import OPEN, RESOLVE, chain_time, step

# Measured (1,600 tickets to train on, 400 held out): seed 0, the one below, top-1 0.86 and
# top-3 0.95; seeds 0-9, top-1 0.87 (0.84-0.91) and top-3 0.95 (0.92-0.97). Tickets that
# name a hint of their cause are ranked first every time; the misses are those that show
# only symptoms several causes share (16 %) or nothing at all (4 %), which no model can
# place. So top-3 is 0.95 on average but not on every draw: its floor sits under the
# spread, where a regression shows and a library's rounding does not.
TOP_1_FLOOR = 0.80
TOP_3_FLOOR = 0.93


def test_a_model_ranks_held_out_tickets() -> None:
    tickets = ticket_text.tickets(per_cause=250, seed=0)
    cut = len(tickets) * 8 // 10
    train, test = tickets[:cut], tickets[cut:]
    started = time.perf_counter()
    pipeline = root_causes.fit(
        [root_causes.ticket_text(t.description, t.impact) for t in train], [t.cause for t in train]
    )
    seconds = time.perf_counter() - started
    ranked = root_causes.rank(
        pipeline, [root_causes.ticket_text(t.description, t.impact) for t in test]
    )
    top_1 = sum(r[0].cause == t.cause for r, t in zip(ranked, test, strict=True)) / len(test)
    top_3 = sum(t.cause in {s.cause for s in r[:3]} for r, t in zip(ranked, test, strict=True))
    top_3 /= len(test)
    hinted = [(r, t) for r, t in zip(ranked, test, strict=True) if t.clue == "hint"]
    hinted_top_1 = sum(r[0].cause == t.cause for r, t in hinted) / len(hinted)
    size = len(root_causes.dump(pipeline))
    print(
        f"\nroot causes: top-1 {top_1:.3f}, top-3 {top_3:.3f} on {len(test)} held-out tickets "
        f"(top-1 {hinted_top_1:.3f} on the {len(hinted)} with a hint); trained on {len(train)} "
        f"in {seconds:.2f} s; model {size / 1024:.0f} KB"
    )
    assert top_1 >= TOP_1_FLOOR
    assert top_3 >= TOP_3_FLOOR
    assert hinted_top_1 >= 0.95
    # the probabilities are a ranking of every cause the seller has recorded
    assert {s.cause for s in ranked[0]} == {c.api for c in RootCause if c.api}
    assert abs(sum(s.probability for s in ranked[0]) - 1) < 0.01
    assert root_causes.load(root_causes.dump(pipeline)).classes_.tolist() == list(pipeline.classes_)


# ------------------------------------------------------------------ through the API

SUGGESTED = (
    "query($id: ID!) { troubleTicket(id: $id) { id suggestedRootCauses { cause probability } } }"
)
HABITS = 12  # tickets of each kind per seller: 24 each, over the minimum of 20


@pytest.fixture(scope="module")
def two_sellers(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> dict[str, str]:
    """Borealis sells a circuit to Aurora; Cirrus sells one to Borealis (so Borealis is
    the buyer of tickets a different seller resolves)."""
    started = (chain_time(platform) - timedelta(days=30)).isoformat()
    circuit = {"slaTemplate": template_id, "currency": "EUR", "mrc": "1000", "startedAt": started}
    services = {}
    for seller, buyer in ((1, 0), (2, 1)):
        registered = as_member[seller](
            "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
            {"in": {"buyer": addresses[buyer], "circuits": [circuit]}},
        )["registerServices"]
        assert registered["errors"] == []
        service_id = registered["services"][0]["id"]
        confirmed = as_member[buyer](
            "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code message } } }",
            {"ids": [service_id]},
        )["confirmServices"]
        assert confirmed["errors"] == []
        services[addresses[seller]] = service_id
    return services


def open_tickets(
    platform: Platform, buyer: Api, service_id: str, generated: list[ticket_text.GeneratedTicket]
) -> list[str]:
    started = (chain_time(platform) - timedelta(hours=2)).isoformat()
    opened = buyer(
        OPEN,
        {
            "in": {
                "tickets": [
                    {
                        "serviceId": service_id,
                        "impact": t.impact,
                        "startedAt": started,
                        "description": t.description,
                    }
                    for t in generated
                ]
            }
        },
    )["openTroubleTicket"]
    assert opened["errors"] == []
    return [t["id"] for t in opened["tickets"]]


def resolve(platform: Platform, seller: Api, causes: dict[str, str]) -> None:
    assert step(seller, "acknowledgeTroubleTicket", list(causes))["errors"] == []
    ended = (chain_time(platform) - timedelta(hours=1)).isoformat()
    resolved = seller(
        RESOLVE,
        {
            "in": {
                "tickets": [
                    {"ticketId": ticket, "endedAt": ended, "rootCause": cause}
                    for ticket, cause in causes.items()
                ]
            }
        },
    )["resolveTroubleTicket"]
    assert resolved["errors"] == []


def suggested(api: Api, ticket: str) -> list[dict[str, Any]]:
    return api(SUGGESTED, {"id": ticket})["troubleTicket"]["suggestedRootCauses"]


def test_each_seller_learns_its_own_habits_and_only_it_sees_them(
    platform: Platform, as_member: list[Api], addresses: list[str], two_sellers: dict[str, str]
) -> None:
    aurora, borealis, cirrus = as_member
    # The same words, two habits: Borealis owns its fibre (a cut is a fibre cut), Cirrus
    # leases it (the same symptoms are its third party's).
    fibre = [ticket_text.ticket(RootCause.FIBER_CUT, seed=i) for i in range(HABITS)]
    power = [ticket_text.ticket(RootCause.POWER, seed=100 + i) for i in range(HABITS)]
    habits = {
        addresses[1]: (aurora, borealis, RootCause.FIBER_CUT.api),
        addresses[2]: (borealis, cirrus, RootCause.THIRD_PARTY.api),
    }
    resolved: dict[str, set[str]] = {}
    for seller, (buyer, api, fibre_cause) in habits.items():
        ids = open_tickets(platform, buyer, two_sellers[seller], fibre + power)
        resolve(
            platform, api, dict(zip(ids, [fibre_cause] * HABITS + ["power"] * HABITS, strict=True))
        )
        resolved[seller] = set(ids)

    # no model yet: no suggestion, not a guess
    assert suggested(borealis, next(iter(resolved[addresses[1]]))) == []
    assert platform.root_causes.due() == sorted(habits)

    # each seller's training reads its own tickets as seller: Borealis's set holds none of
    # the tickets it bought from Cirrus, though it is a party to them
    with Session(platform.engine) as session:
        for seller in habits:
            examples = training_set(seller_access(session, seller))
            assert {global_id("TroubleTicket", e.ticket_id) for e in examples} == resolved[seller]
    trained = {t.seller: t for t in platform.root_causes.train_due()}
    assert set(trained) == set(habits) and all(t.trained for t in trained.values())
    assert trained[addresses[1]].causes == ["fiberCut", "power"]
    assert trained[addresses[2]].causes == ["power", "thirdParty"]
    assert platform.root_causes.due() == []

    # a new ticket with the same words on each seller's circuit
    new = ticket_text.ticket(RootCause.FIBER_CUT, seed=999)
    (on_borealis,) = open_tickets(platform, aurora, two_sellers[addresses[1]], [new])
    (on_cirrus,) = open_tickets(platform, borealis, two_sellers[addresses[2]], [new])
    borealis_says, cirrus_says = suggested(borealis, on_borealis), suggested(cirrus, on_cirrus)
    assert [s["cause"] for s in borealis_says] == ["fiberCut", "power"]
    assert [s["cause"] for s in cirrus_says] == ["thirdParty", "power"]
    assert borealis_says[0]["probability"] > 0.5
    # the buyers get nothing: Aurora, and Borealis on the ticket it bought, although it has
    # a model of its own; a member party to neither ticket finds none
    assert suggested(aurora, on_borealis) == []
    assert suggested(borealis, on_cirrus) == []
    hidden = cirrus.post(SUGGESTED, {"id": on_borealis}).json()
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # a list of the seller's tickets carries them too
    listed = borealis(
        "query($s: ID!) { troubleTickets(serviceId: $s, first: 100) { edges { node { id suggestedRootCauses { cause } } } } }",
        {"s": two_sellers[addresses[1]]},
    )["troubleTickets"]["edges"]
    assert {e["node"]["id"]: e["node"]["suggestedRootCauses"][0]["cause"] for e in listed}[
        on_borealis
    ] == "fiberCut"

    # Borealis takes its top suggestion, Cirrus overrides its own: the next training counts
    resolve(platform, borealis, {on_borealis: "fiberCut"})
    resolve(platform, cirrus, {on_cirrus: "fiberCut"})
    again = {s: platform.root_causes.train(s) for s in habits}
    assert (again[addresses[1]].checked, again[addresses[1]].taken) == (1, 1)
    assert (again[addresses[2]].checked, again[addresses[2]].taken) == (1, 0)


def test_a_seller_with_too_few_tickets_gets_no_model(
    platform: Platform, addresses: list[str]
) -> None:
    aurora = addresses[0]  # a buyer only: it resolved nothing
    outcome = platform.root_causes.train(aurora)
    assert (outcome.trained, outcome.tickets) == (False, 0)
    with Session(platform.engine) as session:
        assert session.get(RootCauseModel, aurora) is None


@pytest.mark.skipif(
    evm_under_test() != "anvil",
    reason="a command joins a running platform through its embedded node only (with "
    "COOP_RPC_URL set it finds the data directory locked)",
)
def test_coop_assurance_train_beside_the_running_platform(
    platform: Platform, addresses: list[str], two_sellers: dict[str, str]
) -> None:
    from tests.test_cli import coop

    data_dir = str(platform.settings.data_dir)
    one = coop("assurance", "train", "--seller", addresses[1].lower(), "--data-dir", data_dir)
    assert one.returncode == 0, one.stderr
    assert f"{addresses[1]}: trained on " in one.stdout
    every = coop("assurance", "train", "--data-dir", data_dir)
    assert every.returncode == 0, every.stderr
    assert [line.split(":")[0] for line in every.stdout.splitlines()] == sorted(two_sellers)
    bad = coop("assurance", "train", "--seller", "nobody", "--data-dir", data_dir)
    assert bad.returncode == 1 and "nobody is not an address" in bad.stderr


def test_the_server_retrains_a_seller_once_enough_tickets_are_resolved(
    platform: Platform, as_member: list[Api], addresses: list[str], two_sellers: dict[str, str]
) -> None:
    """The background trainer `coop serve` starts (after the tests above trained Borealis's
    model): 25 new resolutions make it due, and it is trained again, outside any request."""
    aurora, borealis, _ = as_member
    seller = addresses[1]

    def stored() -> RootCauseModel | None:
        with Session(platform.engine) as session:
            return session.get(RootCauseModel, seller)

    before = stored()
    assert before is not None and platform.root_causes.due() == []
    more = [
        ticket_text.ticket(RootCause.POWER, seed=200 + i) for i in range(root_causes.RETRAIN_AFTER)
    ]
    ids = open_tickets(platform, aurora, two_sellers[seller], more)
    resolve(platform, borealis, dict.fromkeys(ids, "power"))
    assert platform.root_causes.due() == [seller]
    platform.train_root_causes(interval=0.2)
    deadline = time.monotonic() + 60
    while (now := stored()) is None or now.tickets < before.tickets + len(ids):
        assert time.monotonic() < deadline, "the background trainer did not retrain the model"
        time.sleep(0.2)
    assert now.trained_at > before.trained_at
