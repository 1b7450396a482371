"""The marketplace through GraphQL on a real anvil node: the ERP flow from offering to
service, isolation between members, and bad input — each a clear error, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from cooperative import apikeys
from cooperative.api.ids import global_id, key_of
from cooperative.platform import Platform
from cooperative.store.models import (
    OrderRecord,
    QuoteRecord,
    Role,
    ServiceRecord,
    TroubleTicketRecord,
)
from tests.conftest import Api, feed

OFFERING = {
    "productType": "carrier-ethernet-access",
    "bandwidthsMbps": [100, 1000],
    "servingArea": [{"country": "FI", "city": "Helsinki"}],
    "termMonths": [12, 36],
}


def soon(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def count(platform: Platform, model: type) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def request_quote(api: Api, to: list[str], template: str, **changes: Any) -> dict[str, Any]:
    variables = {
        "sellers": to,
        "slaTemplate": template,
        "respondBy": soon(2),
        "expiresAt": soon(5),
        "requestedDelivery": soon(30),
        "site": {"address": "Mannerheimintie 1, Helsinki"},
        "bandwidthMbps": 1000,
        "termMonths": 36,
        **changes,
    }
    return api(
        "mutation($in: RequestQuoteInput!) { requestQuote(input: $in) { requestId quotes { id seller state } errors { code message field } } }",
        {"in": variables},
    )["requestQuote"]


RESPOND = "mutation($in: RespondToQuoteInput!) { respondToQuote(input: $in) { quote { id state currency mrc } errors { code message field } } }"
ACCEPT = "mutation($id: ID!) { acceptQuote(input: {quoteId: $id}) { quote { id state } errors { code message } } }"
PLACE = "mutation($in: PlaceOrderInput!) { placeOrder(input: $in) { order { id state mrc currency } errors { code message field } } }"
ACK = "mutation($id: ID!) { acknowledgeOrder(input: {orderId: $id}) { order { id state } errors { code message } } }"
COMPLETE = 'mutation($id: ID!) { completeOrder(input: {orderId: $id, circuit: {circuitId: "HEL-1000-42"}}) { order { id state serviceId } service { id state mrc buyer seller } errors { code message } } }'
CANCEL = "mutation($id: ID!) { cancelOrder(input: {orderId: $id}) { order { id state } errors { code message } } }"


def test_the_erp_flow_from_offering_to_service(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    published = borealis(
        "mutation($in: PublishOfferingInput!) { publishOffering(input: $in) { offering { id seller productType } errors { code message field } } }",
        {"in": {**OFFERING, "slaTemplates": [template_id]}},
    )["publishOffering"]
    assert published["errors"] == [] and published["offering"]["seller"] == addresses[1]
    found = cirrus(
        '{ offerings(country: "FI", minBandwidthMbps: 500) { edges { node { id seller } } } }'
    )["offerings"]
    assert published["offering"]["id"] in [e["node"]["id"] for e in found["edges"]]
    by_template = "query($t: ID) { offerings(slaTemplate: $t) { edges { node { id } } } }"
    assert published["offering"]["id"] in [
        e["node"]["id"] for e in cirrus(by_template, {"t": template_id})["offerings"]["edges"]
    ]
    other = cirrus(by_template, {"t": global_id("SlaTemplate", 999)})["offerings"]["edges"]
    assert published["offering"]["id"] not in [e["node"]["id"] for e in other]
    wrong = cirrus.post(by_template, {"t": "Service:1"}).json()["errors"][0]["extensions"]
    assert (wrong["code"], wrong["field"]) == ("VALIDATION", "slaTemplate")

    requested = request_quote(aurora, [addresses[1], addresses[2]], template_id)
    assert requested["errors"] == [] and {q["state"] for q in requested["quotes"]} == {"inProgress"}
    quote_b = next(q["id"] for q in requested["quotes"] if q["seller"] == addresses[1])
    quote_c = next(q["id"] for q in requested["quotes"] if q["seller"] == addresses[2])

    answered = borealis(
        RESPOND,
        {
            "in": {
                "quoteId": quote_b,
                "currency": "EUR",
                "mrc": "150000",
                "nrc": "50000",
                "validUntil": soon(10),
            }
        },
    )["respondToQuote"]
    assert (
        answered["errors"] == []
        and answered["quote"]["state"] == "approved"
        and answered["quote"]["mrc"] == "150000"
    )
    accepted = aurora(ACCEPT, {"id": quote_b})["acceptQuote"]
    assert accepted["errors"] == []
    assert (
        cirrus("query($id: ID!) { quote(id: $id) { state } }", {"id": quote_c})["quote"]["state"]
        == "declined"
    )
    # The losing seller learns that its own quote was not accepted, not who won.
    platform.sync()
    about_this = [
        (e["type"], e["subjects"]) for e in feed(cirrus) if requested["requestId"] in e["subjects"]
    ]
    assert about_this == [
        ("quoteRequested", [quote_c, requested["requestId"]]),
        ("quoteNotAccepted", [quote_c, requested["requestId"]]),
    ]
    assert addresses[1].lower() not in str(about_this).lower()

    order = aurora(PLACE, {"in": {"quoteId": quote_b, "requestedDelivery": soon(20)}})["placeOrder"]
    assert (
        order["errors"] == []
        and order["order"]["state"] == "submitted"
        and order["order"]["currency"] == "EUR"
    )
    order_id = order["order"]["id"]
    assert borealis(ACK, {"id": order_id})["acknowledgeOrder"]["order"]["state"] == "acknowledged"
    completed = borealis(COMPLETE, {"id": order_id})["completeOrder"]
    assert completed["errors"] == [] and completed["order"]["state"] == "completed"
    service = completed["service"]
    assert service == {
        "id": completed["order"]["serviceId"],
        "state": "active",
        "mrc": "150000",
        "buyer": addresses[0],
        "seller": addresses[1],
    }
    ordering = platform.governance.handle("Ordering")
    assert ordering.functions.is_active_service(key_of(service["id"], "Service", "id")).call()
    reputation = cirrus(
        "query($m: String!) { reputation(memberId: $m) { quotesInTime ordersOnTime } }",
        {"m": addresses[1]},
    )["reputation"]
    assert reputation == {"quotesInTime": 1, "ordersOnTime": 1}

    # Isolation: Cirrus, a member but no party, sees none of it — by list or by guessed id.
    assert quote_b not in {
        e["node"]["id"] for e in cirrus("{ quotes { edges { node { id } } } }")["quotes"]["edges"]
    }
    assert cirrus("{ orders { edges { node { id } } } }")["orders"]["edges"] == []
    assert cirrus("{ services { edges { node { id } } } }")["services"]["edges"] == []
    for document, variables in (
        ("query($id: ID!) { quote(id: $id) { id } }", {"id": quote_b}),
        ("query($id: ID!) { order(id: $id) { id } }", {"id": order_id}),
        ("query($id: ID!) { service(id: $id) { id } }", {"id": service["id"]}),
    ):
        body = cirrus.post(document, variables).json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for mutation, field, variables in (
        (ACK, "acknowledgeOrder", {"id": order_id}),
        (CANCEL, "cancelOrder", {"id": order_id}),
        (ACCEPT, "acceptQuote", {"id": quote_b}),
    ):
        assert cirrus(mutation, variables)[field]["errors"][0]["code"] == "NOT_FOUND"
    assert aurora(ACCEPT, {"id": quote_b})["acceptQuote"]["errors"][0]["code"] == "INVALID_STATE"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"requestedDelivery": "2020-01-01T00:00:00+00:00"}, "requestedDelivery"),
        ({"respondBy": "2020-01-01T00:00:00+00:00"}, "respondBy"),
        ({"slaTemplate": "SlaTemplate:999"}, "slaTemplate"),
        ({"sellers": []}, "sellers"),
        ({"level": "maybe"}, "level"),
    ],
)
def test_bad_quote_requests_write_nothing(
    platform: Platform,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
    changes: dict[str, Any],
    field: str,
) -> None:
    before = (
        count(platform, QuoteRecord),
        platform.governance.handle("Ordering").functions.request_count().call(),
    )
    result = request_quote(as_member[0], [addresses[1]], template_id, **changes)
    assert result["requestId"] is None and result["errors"][0]["code"] == "VALIDATION"
    assert result["errors"][0]["field"] == field
    after = (
        count(platform, QuoteRecord),
        platform.governance.handle("Ordering").functions.request_count().call(),
    )
    assert after == before


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"currency": "XYZ", "mrc": "100", "nrc": "0"}, "currency"),
        ({"currency": "EUR", "mrc": "0", "nrc": "0"}, "mrc"),
        ({"currency": "EUR", "mrc": "-5", "nrc": "0"}, "mrc"),
        ({"currency": "EUR", "mrc": str(2**96), "nrc": "0"}, "mrc"),
        ({"currency": "EUR", "mrc": "100", "nrc": "-1"}, "nrc"),
    ],
)
def test_bad_answers_are_refused(
    as_member: list[Api], addresses: list[str], template_id: str, answer: dict[str, str], field: str
) -> None:
    requested = request_quote(as_member[0], [addresses[1]], template_id)
    quote_id = requested["quotes"][0]["id"]
    variables = {"in": {"quoteId": quote_id, "validUntil": soon(3), **answer}}
    if answer[field].startswith("-"):  # the BigInt scalar refuses it, naming the field
        (error,) = as_member[1].post(RESPOND, variables).json()["errors"]
        assert error["extensions"]["code"] == "VALIDATION" and f".{field}" in error["message"]
    else:
        result = as_member[1](RESPOND, variables)["respondToQuote"]
        assert result["quote"] is None and result["errors"][0] == {
            "code": "VALIDATION",
            "message": result["errors"][0]["message"],
            "field": field,
        }
    state = as_member[0]("query($id: ID!) { quote(id: $id) { state } }", {"id": quote_id})["quote"][
        "state"
    ]
    assert state == "inProgress"


def test_order_state_rules(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    quote = request_quote(aurora, [addresses[1]], template_id)["quotes"][0]["id"]
    borealis(
        RESPOND,
        {
            "in": {
                "quoteId": quote,
                "currency": "USD",
                "mrc": "90000",
                "nrc": "0",
                "validUntil": soon(3),
            }
        },
    )
    no_accept = aurora(PLACE, {"in": {"quoteId": quote, "requestedDelivery": soon(20)}})[
        "placeOrder"
    ]
    assert no_accept["errors"][0]["code"] == "VALIDATION"  # ordering without an accepted quote
    ok_accept = aurora(ACCEPT, {"id": quote})["acceptQuote"]
    assert ok_accept["errors"] == []
    order_id = aurora(PLACE, {"in": {"quoteId": quote, "requestedDelivery": soon(20)}})[
        "placeOrder"
    ]["order"]["id"]
    twice = aurora(PLACE, {"in": {"quoteId": quote, "requestedDelivery": soon(20)}})["placeOrder"]
    assert twice["errors"][0]["code"] == "VALIDATION"
    assert aurora(CANCEL, {"id": order_id})["cancelOrder"]["order"]["state"] == "cancelled"
    before = count(platform, ServiceRecord)
    completed = borealis(COMPLETE, {"id": order_id})["completeOrder"]
    assert (
        completed["errors"][0]["code"] == "INVALID_STATE"
        and "cannot be completed" in completed["errors"][0]["message"]
    )
    assert count(platform, ServiceRecord) == before
    with Session(platform.engine) as session:
        assert session.get(OrderRecord, key_of(order_id, "Order", "id")).state == "cancelled"
    not_seller = aurora(ACK, {"id": order_id})["acknowledgeOrder"]
    assert not_seller["errors"][0]["code"] == "FORBIDDEN"
    admin_tries = cirrus.post("query { me { role } }").json()
    assert admin_tries["data"]["me"]["role"] == "MEMBER"


REGISTER = "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id state mrc currency buyer seller } errors { code message field } } }"
CONFIRM = "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { services { id state } errors { code message } } }"


def test_live_circuits_registered_by_the_seller_and_confirmed_by_the_buyer(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    circuits = [
        {
            "slaTemplate": template_id,
            "currency": "EUR",
            "mrc": str(10_000 + i),
            "startedAt": "2025-03-01T00:00:00+00:00",
            "details": {"circuitId": f"HEL-{i}"},
        }
        for i in range(5)
    ]
    registered = borealis(REGISTER, {"in": {"buyer": addresses[0], "circuits": circuits}})[
        "registerServices"
    ]
    assert registered["errors"] == [] and len(registered["services"]) == 5
    assert {s["state"] for s in registered["services"]} == {"pendingConfirmation"}
    ids = [s["id"] for s in registered["services"]]
    keys = [key_of(i, "Service", "id") for i in ids]
    ordering = platform.governance.handle("Ordering")
    assert not any(ordering.functions.is_active_service(k).call() for k in keys)

    # Only the buyer confirms; a third member gets NOT_FOUND, the seller FORBIDDEN.
    assert cirrus(CONFIRM, {"ids": ids})["confirmServices"]["errors"][0]["code"] == "NOT_FOUND"
    assert borealis(CONFIRM, {"ids": ids})["confirmServices"]["errors"][0]["code"] == "FORBIDDEN"
    confirmed = aurora(CONFIRM, {"ids": ids})["confirmServices"]
    assert confirmed["errors"] == [] and {s["state"] for s in confirmed["services"]} == {"active"}
    assert all(ordering.functions.is_active_service(k).call() for k in keys)
    again = aurora(CONFIRM, {"ids": ids[:1]})["confirmServices"]
    assert again["errors"][0]["code"] == "INVALID_STATE"

    future = [{**circuits[0], "startedAt": soon(3)}]
    refused = borealis(REGISTER, {"in": {"buyer": addresses[0], "circuits": future}})[
        "registerServices"
    ]
    assert (
        refused["errors"][0]["code"] == "VALIDATION"
        and refused["errors"][0]["field"] == "circuits[0].startedAt"
    )


OFFERINGS_SORTED = "query($sort: OfferingSort!) { offerings(sort: $sort, first: 100) { edges { node { id seller } } } }"


def test_offerings_sort_by_the_viewers_own_quoted_prices_and_by_reputation(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    for seller in (borealis, cirrus):
        seller(
            "mutation($in: PublishOfferingInput!) { publishOffering(input: $in) { errors { code } } }",
            {"in": {**OFFERING, "slaTemplates": [template_id]}},
        )
    requested = request_quote(aurora, [addresses[1], addresses[2]], template_id)
    for api, mrc in ((borealis, "2"), (cirrus, "1")):
        quote = next(
            q["id"] for q in requested["quotes"] if q["seller"] == addresses[as_member.index(api)]
        )
        answer = api(
            RESPOND,
            {
                "in": {
                    "quoteId": quote,
                    "currency": "EUR",
                    "mrc": mrc,
                    "nrc": "0",
                    "validUntil": soon(3),
                }
            },
        )["respondToQuote"]
        assert answer["errors"] == []

    def sellers(api: Api, sort: str) -> list[str]:
        edges = api(OFFERINGS_SORTED, {"sort": sort})["offerings"]["edges"]
        order: list[str] = []
        for edge in edges:
            if edge["node"]["seller"] not in order:
                order.append(edge["node"]["seller"])
        return order

    # aurora was quoted 1 by cirrus and 2 (or more) by borealis: cirrus's offerings first
    by_price = sellers(aurora, "PRICE")
    assert by_price.index(addresses[2]) < by_price.index(addresses[1])
    # borealis has no quotes as a buyer: its price order is publication order
    by_id = [
        e["node"]["id"] for e in borealis(OFFERINGS_SORTED, {"sort": "ID"})["offerings"]["edges"]
    ]
    assert [
        e["node"]["id"] for e in borealis(OFFERINGS_SORTED, {"sort": "PRICE"})["offerings"]["edges"]
    ] == by_id
    # reputation: best score first, as `reputation` reports the scores
    scores = {
        member: aurora(
            "query($m: String!) { reputation(memberId: $m) { score } }",
            {"m": member},
        )["reputation"]["score"]
        for member in addresses
    }
    ranked = [scores[s] for s in sellers(aurora, "REPUTATION")]
    known = [s for s in ranked if s is not None]
    assert known == sorted(known, reverse=True) and ranked[: len(known)] == known


def test_offerings_pages_follow_the_sorted_order(as_member: list[Api], template_id: str) -> None:
    aurora = as_member[0]
    whole = [
        e["node"]["id"]
        for e in aurora(OFFERINGS_SORTED, {"sort": "REPUTATION"})["offerings"]["edges"]
    ]
    paged: list[str] = []
    after = None
    while True:
        page = aurora(
            "query($after: String) { offerings(sort: REPUTATION, first: 2, after: $after) { edges { node { id } } pageInfo { endCursor hasNextPage } } }",
            {"after": after},
        )["offerings"]
        paged += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert paged == whole and len(whole) >= 2


END = "mutation($in: EndServiceInput!) { endService(input: $in) { service { id endedAt } errors { code message field } } }"


def test_the_buyer_ends_a_service_once_and_nobody_else_can(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    started = soon(-30)
    registered = borealis(
        "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code } } }",
        {
            "in": {
                "buyer": addresses[0],
                "circuits": [
                    {
                        "slaTemplate": template_id,
                        "currency": "EUR",
                        "mrc": "5000",
                        "startedAt": started,
                    }
                ],
            }
        },
    )["registerServices"]["services"]
    service = registered[0]["id"]
    aurora(
        "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code } } }",
        {"ids": [service]},
    )
    later = soon(40)
    refused = [
        (borealis, {"serviceId": service, "endedAt": later}, "FORBIDDEN"),
        (cirrus, {"serviceId": service, "endedAt": later}, "NOT_FOUND"),
        (aurora, {"serviceId": service, "endedAt": soon(-1)}, "VALIDATION"),
    ]
    for api, variables, code in refused:
        answer = api(END, {"in": variables})["endService"]
        assert [e["code"] for e in answer["errors"]] == [code]
    service_key = key_of(service, "Service", "id")
    ordering = platform.governance.handle("Ordering")
    assert ordering.functions.service_ended_at(service_key).call() == 0
    ended = aurora(END, {"in": {"serviceId": service, "endedAt": later}})["endService"]
    assert ended["errors"] == [] and ended["service"]["endedAt"] is not None
    on_chain = ordering.functions.service_ended_at(service_key).call()
    assert on_chain == int(datetime.fromisoformat(later).timestamp())
    again = aurora(END, {"in": {"serviceId": service, "endedAt": soon(50)}})["endService"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]

    # Once it ended, no outage may start on it (the platform refuses; the contract would
    # take the ticket and count it for nothing): a clear error, nothing written.
    platform.gateway.increase_time(41 * 86_400)
    after_end = (datetime.fromisoformat(later) + timedelta(hours=1)).isoformat()
    tickets_before = count(platform, TroubleTicketRecord)
    opened = aurora(
        "mutation($in: OpenTroubleTicketInput!) { openTroubleTicket(input: $in) { errors { code field } } }",
        {
            "in": {
                "tickets": [
                    {
                        "serviceId": service,
                        "impact": "down",
                        "startedAt": after_end,
                        "description": "x",
                    }
                ]
            }
        },
    )["openTroubleTicket"]
    assert opened["errors"] == [{"code": "VALIDATION", "field": "tickets[0].startedAt"}]
    assert count(platform, TroubleTicketRecord) == tickets_before


# ------------------------------------------------------------------ what a seller is asked

QUOTE_FIELDS = "id requestId buyer seller state slaTemplate respondBy expiresAt requestedDelivery site bandwidthMbps termMonths level productType offeringId request"
REQUEST_FOR_OFFERINGS = (
    "mutation($in: RequestQuoteInput!) { requestQuote(input: $in) { requestId quotes { "
    + QUOTE_FIELDS
    + " } errors { code message field } } }"
)
PUBLISH = "mutation($in: PublishOfferingInput!) { publishOffering(input: $in) { offering { id } errors { code message field } } }"
SILVER = {
    "name": "Silver Ethernet",
    "document": "Silver Ethernet SLA: 99.9 % monthly availability",
    "objectivePpm": 999_000,
    "tiers": [{"floorPpm": 999_000, "creditBps": 1000}],
    "description": "Adopt the Silver Ethernet SLA",
}


def publish(api: Api, template: str, **changes: Any) -> str:
    published = api(PUBLISH, {"in": {**OFFERING, "slaTemplates": [template], **changes}})
    assert published["publishOffering"]["errors"] == []
    return published["publishOffering"]["offering"]["id"]


def chain_days(platform: Platform, days: float) -> datetime:
    """`days` after the chain's clock (which earlier tests moved ahead), in whole seconds."""
    now = datetime.fromtimestamp(platform.gateway.next_block_time(), UTC)
    return (now + timedelta(days=days)).replace(microsecond=0)


@pytest.fixture(scope="module")
def silver_template(
    platform: Platform, as_member: list[Api], as_admin: Api, template_id: str
) -> str:
    """A second adopted SLA template, which the tests' offerings do not offer."""
    from tests.test_governance_api import ok, passes

    proposal = ok(
        as_member[0](
            "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } errors { code message field } } }",
            {"in": SILVER},
        )["proposeSlaTemplate"]
    )
    passes(platform, as_member[:2], as_admin, proposal["id"])
    templates = as_member[0]("{ slaTemplates { id name } }")["slaTemplates"]
    return next(t["id"] for t in templates if t["name"] == SILVER["name"])


def test_a_seller_sees_everything_it_needs_to_answer_and_only_its_own_offering_link(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora, borealis, cirrus = as_member
    offering_b = publish(borealis, template_id)
    offering_c = publish(cirrus, template_id, bandwidthsMbps=[1000, 10000])
    sent = {
        "sellers": [addresses[1], addresses[2]],
        "slaTemplate": template_id,
        "respondBy": chain_days(platform, 2),
        "expiresAt": chain_days(platform, 4),
        "requestedDelivery": chain_days(platform, 45),
        "site": {"address": "Aleksanterinkatu 5, Helsinki", "floor": "3"},
        "bandwidthMbps": 1000,
        "termMonths": 12,
        "level": "budgetary",
        "productType": "carrier-ethernet-access",
        "offerings": [
            {"seller": addresses[1], "offeringId": offering_b},
            {"seller": addresses[2], "offeringId": offering_c},
        ],
    }
    times = ("respondBy", "expiresAt", "requestedDelivery")
    variables = {k: v.isoformat() if k in times else v for k, v in sent.items()}
    requested = aurora(REQUEST_FOR_OFFERINGS, {"in": variables})["requestQuote"]
    assert requested["errors"] == []
    # the times are the contract's stored values (chain time), which are what was sent
    request_key = key_of(requested["requestId"], "QuoteRequest", "requestId")
    stored = platform.governance.handle("Ordering").functions.requests(request_key)
    _buyer, template, *on_chain, _state = stored.call()
    assert on_chain == [int(sent[t].timestamp()) for t in times]
    assert global_id("SlaTemplate", template) == template_id

    asked_of = {addresses[1]: offering_b, addresses[2]: offering_c}
    for seller, api in ((addresses[1], borealis), (addresses[2], cirrus)):
        quote_id = global_id("Quote", f"{request_key}-{seller}")
        listed = [
            e["node"]
            for e in api("{ quotes(first: 100) { edges { node { " + QUOTE_FIELDS + " } } } }")[
                "quotes"
            ]["edges"]
            if e["node"]["id"] == quote_id
        ]
        one = api("query($id: ID!) { quote(id: $id) { " + QUOTE_FIELDS + " } }", {"id": quote_id})[
            "quote"
        ]
        assert listed == [one]
        assert {t: datetime.fromisoformat(one[t]) for t in times} == {t: sent[t] for t in times}
        expected = {
            "buyer": addresses[0],
            "seller": seller,
            "state": "inProgress",
            "slaTemplate": template_id,
            "site": sent["site"],
            "bandwidthMbps": 1000,
            "termMonths": 12,
            "level": "budgetary",
            "productType": "carrier-ethernet-access",
            "offeringId": asked_of[seller],
        }
        assert {k: one[k] for k in expected} == expected
        # Isolation: the other seller's link, and so its identity, is nowhere in this view
        # (not in the deprecated `request` document either: the document as committed, with
        # the offering's number, not its global id).
        asked = key_of(asked_of[seller], "Offering", "id")
        assert one["request"]["offerings"] == [{"seller": seller, "offeringId": asked}]
        other = addresses[2] if seller == addresses[1] else addresses[1]
        assert other.lower() not in str(one).lower()
    # The buyer sees each quote with the offering it asked of that quote's seller.
    assert {q["seller"]: q["offeringId"] for q in requested["quotes"]} == asked_of

    # A seller asked about no offering gets none, and no trace of the others' links.
    only_b = {**variables, "offerings": [{"seller": addresses[1], "offeringId": offering_b}]}
    requested = aurora(REQUEST_FOR_OFFERINGS, {"in": only_b})["requestQuote"]
    assert requested["errors"] == []
    quote_c = cirrus(
        "query($id: ID!) { quote(id: $id) { " + QUOTE_FIELDS + " } }",
        {
            "id": global_id(
                "Quote", f"{key_of(requested['requestId'], 'QuoteRequest', 'id')}-{addresses[2]}"
            )
        },
    )["quote"]
    assert quote_c["offeringId"] is None and "offerings" not in quote_c["request"]
    assert addresses[1].lower() not in str(quote_c).lower()

    # `request` is kept for compatibility, marked deprecated.
    fields = aurora(
        '{ __type(name: "Quote") { fields(includeDeprecated: true) { name isDeprecated } } }'
    )["__type"]["fields"]
    assert {f["name"] for f in fields if f["isDeprecated"]} == {"request"}


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("another seller's", "offerings[0].offeringId"),
        ("withdrawn", "offerings[0].offeringId"),
        ("other template", "offerings[0].offeringId"),
        ("other bandwidth", "offerings[0].offeringId"),
        ("other term", "offerings[0].offeringId"),
        ("other product", "offerings[0].offeringId"),
        ("missing", "offerings[0].offeringId"),
        ("seller not asked", "offerings[0].seller"),
        ("seller twice", "offerings[1].seller"),
    ],
)
def test_an_offering_link_must_be_the_sellers_own_active_offering_of_what_is_asked(
    platform: Platform,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
    silver_template: str,
    case: str,
    field: str,
) -> None:
    aurora, borealis, cirrus = as_member
    ordering = platform.governance.handle("Ordering")
    offering_b = publish(borealis, template_id)
    changes: dict[str, Any] = {}
    links = [{"seller": addresses[1], "offeringId": offering_b}]
    if case == "another seller's":
        links[0]["offeringId"] = publish(cirrus, template_id)
    elif case == "withdrawn":
        platform.gateway.transact(
            platform.keystore.account(addresses[1]),
            ordering.functions.withdraw_offering(key_of(offering_b, "Offering", "id")),
        )
    elif case == "other template":
        changes["slaTemplate"] = silver_template
    elif case == "other bandwidth":
        changes["bandwidthMbps"] = 10000
    elif case == "other term":
        changes["termMonths"] = 24
    elif case == "other product":
        changes["productType"] = "e-line"
    elif case == "missing":
        links[0]["offeringId"] = global_id("Offering", 10**6)
    elif case == "seller not asked":
        links[0]["seller"] = addresses[2]
    elif case == "seller twice":
        links.append(dict(links[0]))
    before = (count(platform, QuoteRecord), ordering.functions.request_count().call())
    result = request_quote(aurora, [addresses[1]], template_id, offerings=links, **changes)
    assert result["requestId"] is None
    assert (result["errors"][0]["code"], result["errors"][0]["field"]) == ("VALIDATION", field)
    assert (count(platform, QuoteRecord), ordering.functions.request_count().call()) == before


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_the_operator_and_auditors_see_no_offering_and_no_reputation(
    platform: Platform, as_member: list[Api], as_admin: Api, addresses: list[str], role: str
) -> None:
    """Offerings and sellers' track records are the members' market: an
    admin or auditor key gets FORBIDDEN, not the catalogue; every member gets it."""
    if role == "admin":
        outsider = as_admin
    else:
        with Session(platform.engine) as session:
            issued = apikeys.issue(session, owner="auditor", role=Role.AUDITOR)
            session.commit()
        outsider = Api(as_admin.client, issued.secret)
    offerings = "{ offerings(first: 5) { edges { node { id productType seller } } } }"
    reputation = "query($m: String!) { reputation(memberId: $m) { score } }"
    for query, variables in [(offerings, None), (reputation, {"m": addresses[1]})]:
        body = outsider.post(query, variables).json()
        assert body["data"] is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        for member in as_member:
            assert member(query, variables)  # answered, no error
