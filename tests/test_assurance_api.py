"""SLA assurance, billing and settlement through GraphQL on a real anvil node: tickets
both sides sign, the credit the contract computes, the invoice, a settlement cycle both
sides confirm, the CFO's liabilities; a month with no outage is invoiced with no
endorsement; another member sees none of it; bad input is a clear error and writes
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cooperative.api.ids import global_id
from cooperative.periods import period_label, period_of
from cooperative.platform import Platform
from cooperative.store.models import SlaCreditRecord, TroubleTicketRecord
from tests.conftest import Api
from tests.test_marketplace_api import count

MRCS = [100_000, 200_000, 300_000]
TICKET_FIELDS = "id state impact rootCause startedAt endedAt serviceId"
OPEN = f"mutation($in: OpenTroubleTicketInput!) {{ openTroubleTicket(input: $in) {{ tickets {{ {TICKET_FIELDS} }} errors {{ code message field }} }} }}"
STEP = "mutation($ids: [ID!]!) {{ {name}(input: {{ticketIds: $ids}}) {{ tickets {{ id state }} errors {{ code message field }} }} }}"
RESOLVE = "mutation($in: ResolveTroubleTicketInput!) { resolveTroubleTicket(input: $in) { tickets { id state rootCause endedAt } errors { code message field } } }"
CREDIT_FIELDS = "id serviceId period state amount creditBps availabilityPpm outageSeconds endorsedByBuyer endorsedBySeller"
CLOSE_PERIOD = f"mutation($in: SlaPeriodInput!) {{ closeSlaPeriod(input: $in) {{ credits {{ {CREDIT_FIELDS} }} errors {{ code message field }} }} }}"
ENDORSE = f"mutation($in: SlaPeriodInput!) {{ endorseSlaCredit(input: $in) {{ credits {{ {CREDIT_FIELDS} }} errors {{ code message field }} }} }}"
ISSUE = "mutation($in: IssueInvoiceInput!) { issueInvoice(input: $in) { invoice { id state charges credits amountDue period currency cycleId } errors { code message field } } }"
RUN = "mutation($in: RunSettlementCycleInput!) { runSettlementCycle(input: $in) { cycle { id state net payments { index payer payee amount } } errors { code message field } } }"
CONFIRM = "mutation($p: ID!) { confirmPayment(input: {paymentId: $p}) { payment { index confirmedByPayer confirmedByPayee } errors { code message field } } }"
LIABILITIES = (
    "{ liabilities { counterparty currency direction creditsCalculated creditsEndorsed invoiced } }"
)


def chain_time(platform: Platform) -> datetime:
    return datetime.fromtimestamp(platform.gateway.w3.eth.get_block("latest")["timestamp"], UTC)


def step(api: Api, name: str, ids: list[str]) -> dict[str, Any]:
    return api(STEP.format(name=name), {"ids": ids})[name]


def service_number(service_id: str) -> int:
    """The store's key of the service the API named `service_id` (what the contracts and
    the domain's messages call it)."""
    kind, _, key = service_id.partition(":")
    assert kind == "Service", service_id
    return int(key)


@pytest.fixture(scope="module")
def services(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> list[str]:
    """Three live EUR circuits Borealis provides to Aurora, confirmed by Aurora."""
    aurora, borealis, _ = as_member
    started = (chain_time(platform) - timedelta(days=400)).isoformat()
    circuits = [
        {"slaTemplate": template_id, "currency": "EUR", "mrc": str(mrc), "startedAt": started}
        for mrc in MRCS
    ]
    registered = borealis(
        "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
        {"in": {"buyer": addresses[0], "circuits": circuits}},
    )["registerServices"]
    ids = [s["id"] for s in registered["services"]]
    confirmed = aurora(
        "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code message } } }",
        {"ids": ids},
    )["confirmServices"]
    assert confirmed["errors"] == []
    return ids


def test_a_month_from_ticket_to_settlement(
    platform: Platform,
    as_member: list[Api],
    as_admin: Api,
    addresses: list[str],
    services: list[str],
) -> None:
    aurora, borealis, cirrus = as_member
    now = chain_time(platform)
    period = period_of(now)
    # one hour of outage on the first service, a degraded ticket (no outage) on the second
    start = max(now - timedelta(hours=2), datetime(now.year, now.month, 1, tzinfo=UTC))
    opened = aurora(
        OPEN,
        {
            "in": {
                "tickets": [
                    {
                        "serviceId": services[0],
                        "impact": "down",
                        "startedAt": start.isoformat(),
                        "description": "LOS on port 3",
                    },
                    {
                        "serviceId": services[1],
                        "impact": "degraded",
                        "startedAt": start.isoformat(),
                        "description": "CRC errors",
                    },
                ]
            }
        },
    )["openTroubleTicket"]
    assert opened["errors"] == [] and [t["state"] for t in opened["tickets"]] == ["submitted"] * 2
    down, degraded = (t["id"] for t in opened["tickets"])
    assert step(borealis, "acknowledgeTroubleTicket", [down, degraded])["errors"] == []
    end = start + timedelta(hours=1)
    resolved = borealis(
        RESOLVE,
        {
            "in": {
                "tickets": [
                    {"ticketId": down, "endedAt": end.isoformat(), "rootCause": "fiberCut"},
                    {"ticketId": degraded, "endedAt": end.isoformat(), "rootCause": "equipment"},
                ]
            }
        },
    )["resolveTroubleTicket"]
    assert resolved["errors"] == [] and {t["state"] for t in resolved["tickets"]} == {"resolved"}
    assert step(aurora, "closeTroubleTicket", [down, degraded])["errors"] == []
    assert (
        aurora("query($id: ID!) { troubleTicket(id: $id) { state } }", {"id": down})[
            "troubleTicket"
        ]["state"]
        == "closed"
    )

    # the month ends; either party closes the period; the contract computes the credits
    platform.gateway.increase_time(35 * 86400)
    label = period_label(period)
    closed = aurora(CLOSE_PERIOD, {"in": {"period": label, "serviceIds": services}})[
        "closeSlaPeriod"
    ]
    assert closed["errors"] == []
    credits = {c["serviceId"]: c for c in closed["credits"]}
    seconds = (
        datetime(*(divmod(period + 1, 12)[0] + 1970, divmod(period + 1, 12)[1] + 1, 1), tzinfo=UTC)
        - datetime(1970 + period // 12, period % 12 + 1, 1, tzinfo=UTC)
    ).total_seconds()
    availability = int((seconds - 3600) * 1_000_000 // seconds)
    assert credits[services[0]]["outageSeconds"] == 3600
    assert credits[services[0]]["availabilityPpm"] == availability
    # GOLD: below 99.95 % -> 10 %, below 99.9 % -> 25 %: one hour in a month is 99.86-99.87 %
    assert credits[services[0]]["creditBps"] == 2500
    assert credits[services[0]]["amount"] == str(MRCS[0] * 2500 // 10_000)
    assert [credits[s]["amount"] for s in services[1:]] == ["0", "0"]
    # the outage awaits both parties; no down ticket (a degraded one does not count, the
    # third had none): final at the close, nothing to endorse
    assert credits[services[0]]["state"] == "calculated"
    assert [
        (credits[s]["state"], credits[s]["endorsedByBuyer"], credits[s]["endorsedBySeller"])
        for s in services[1:]
    ] == [("endorsed", True, True)] * 2

    # the CFO views before endorsement: Aurora is owed the credit by Borealis
    owed = aurora(LIABILITIES)["liabilities"]
    assert owed == [
        {
            "counterparty": addresses[1],
            "currency": "EUR",
            "direction": "receivable",
            "creditsCalculated": str(MRCS[0] // 4),
            "creditsEndorsed": "0",
            "invoiced": "0",
        }
    ]

    # endorsing a credit final at its close is refused, and the batch with it
    needless = aurora(ENDORSE, {"in": {"period": label, "serviceIds": services}})[
        "endorseSlaCredit"
    ]
    assert [(e["code"], e["message"]) for e in needless["errors"]] == [
        (
            "INVALID_STATE",
            f"the credit {service_number(services[1])}-{period} needs no endorsement: its period had no "
            "outage, so it was final when the period closed",
        )
    ]
    for api in (aurora, borealis):
        endorsed = api(ENDORSE, {"in": {"period": label, "serviceIds": services[:1]}})[
            "endorseSlaCredit"
        ]
        assert endorsed["errors"] == []
    assert [c["state"] for c in endorsed["credits"]] == ["endorsed"]
    again = aurora(ENDORSE, {"in": {"period": label, "serviceIds": services[:1]}})[
        "endorseSlaCredit"
    ]
    assert [(e["code"], e["message"]) for e in again["errors"]] == [
        (
            "INVALID_STATE",
            f"the credit {service_number(services[0])}-{period} is final: both parties endorsed it",
        )
    ]

    invoice = borealis(ISSUE, {"in": {"buyer": addresses[0], "period": label, "currency": "EUR"}})[
        "issueInvoice"
    ]
    assert invoice["errors"] == []
    invoice = invoice["invoice"]
    assert (invoice["state"], invoice["charges"], invoice["credits"]) == (
        "paymentDue",
        str(sum(MRCS)),
        str(MRCS[0] // 4),
    )
    assert invoice["amountDue"] == str(sum(MRCS) - MRCS[0] // 4)
    twice = borealis(
        ISSUE,
        {
            "in": {
                "buyer": addresses[0],
                "period": label,
                "currency": "EUR",
                "serviceIds": services[:1],
            }
        },
    )["issueInvoice"]
    assert [e["code"] for e in twice["errors"]] == ["INVALID_STATE"]
    assert borealis(LIABILITIES)["liabilities"] == [
        {
            "counterparty": addresses[0],
            "currency": "EUR",
            "direction": "receivable",
            "creditsCalculated": "0",
            "creditsEndorsed": "0",
            "invoiced": invoice["amountDue"],
        }
    ]

    # A member party to no invoice due cannot run the cycle, and its refusal is the one a
    # currency with nothing due gets: it learns nothing of other pairs' invoices.
    refusals = [
        cirrus(RUN, {"in": {"currency": currency}})["runSettlementCycle"]["errors"]
        for currency in ("EUR", "USD")
    ]
    assert [[(e["code"], e["message"]) for e in r] for r in refusals] == [
        [("INVALID_STATE", "you have no invoice in EUR waiting for settlement")],
        [("INVALID_STATE", "you have no invoice in USD waiting for settlement")],
    ]

    # the operator runs the EUR cycle: Aurora pays Borealis the net amount
    cycle = as_admin(RUN, {"in": {"currency": "EUR"}})["runSettlementCycle"]
    assert cycle["errors"] == [] and cycle["cycle"]["state"] == "open"
    cycle_id = cycle["cycle"]["id"]
    mine = aurora(
        "{ settlementCycles { edges { node { id net payments { id index payer payee amount } } } } }"
    )["settlementCycles"]["edges"]
    assert [(n["node"]["id"], n["node"]["net"]) for n in mine] == [
        (cycle_id, "-" + invoice["amountDue"])
    ]
    payment_id = mine[0]["node"]["payments"][0]["id"]  # its payment, as Aurora sees it
    assert mine[0]["node"]["payments"] == [
        {
            "id": payment_id,
            "index": 0,
            "payer": addresses[0],
            "payee": addresses[1],
            "amount": invoice["amountDue"],
        }
    ]
    # Cirrus took no part: no position, no payment, no invoice
    assert (
        cirrus("{ settlementCycles { edges { node { id } } } }")["settlementCycles"]["edges"] == []
    )
    outsider = cirrus(CONFIRM, {"p": payment_id})["confirmPayment"]
    assert [e["code"] for e in outsider["errors"]] == ["NOT_FOUND"]

    assert aurora(CONFIRM, {"p": payment_id})["confirmPayment"]["errors"] == []
    assert [e["code"] for e in aurora(CONFIRM, {"p": payment_id})["confirmPayment"]["errors"]] == [
        "INVALID_STATE"
    ]
    confirmed = borealis(CONFIRM, {"p": payment_id})["confirmPayment"]
    assert confirmed["payment"] == {"index": 0, "confirmedByPayer": True, "confirmedByPayee": True}
    settled = aurora(
        "query($id: ID!) { invoice(id: $id) { state cycleId } }", {"id": invoice["id"]}
    )["invoice"]
    assert settled == {"state": "settled", "cycleId": cycle_id}
    assert aurora(LIABILITIES)["liabilities"] == []


def test_a_month_with_no_outage_is_invoiced_with_no_endorsement(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """Two USD circuits with no trouble ticket at all: each month's close records their
    credits final (endorsed by both, by nobody), and the seller invoices at once."""
    aurora, borealis, _ = as_member
    started = (chain_time(platform) - timedelta(days=400)).isoformat()
    circuits = [
        {"slaTemplate": template_id, "currency": "USD", "mrc": mrc, "startedAt": started}
        for mrc in ("70000", "30000")
    ]
    registered = borealis(
        "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
        {"in": {"buyer": addresses[0], "circuits": circuits}},
    )["registerServices"]
    quiet = [s["id"] for s in registered["services"]]
    aurora(
        "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code message } } }",
        {"ids": quiet},
    )
    # periods close in order, from the month Assurance started in to the last one over
    platform.gateway.increase_time(35 * 86400)
    first = platform.governance.handle("Assurance").functions.first_period().call()
    last = period_of(chain_time(platform)) - 1
    for period in range(first, last + 1):
        closed = borealis(
            CLOSE_PERIOD, {"in": {"period": period_label(period), "serviceIds": quiet}}
        )["closeSlaPeriod"]
        assert closed["errors"] == []
        assert [
            (c["state"], c["amount"], c["endorsedByBuyer"], c["endorsedBySeller"])
            for c in closed["credits"]
        ] == [("endorsed", "0", True, True)] * 2

    # no endorse call: the default selection takes both, and the invoice is due
    invoice = borealis(
        ISSUE, {"in": {"buyer": addresses[0], "period": period_label(last), "currency": "USD"}}
    )["issueInvoice"]
    assert invoice["errors"] == []
    assert (
        invoice["invoice"]["state"],
        invoice["invoice"]["charges"],
        invoice["invoice"]["credits"],
        invoice["invoice"]["amountDue"],
    ) == ("paymentDue", "100000", "0", "100000")
    for api in (aurora, borealis):
        refused = api(ENDORSE, {"in": {"period": period_label(last), "serviceIds": quiet}})[
            "endorseSlaCredit"
        ]
        assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]
        assert "needs no endorsement" in refused["errors"][0]["message"]


def test_another_member_sees_no_ticket_credit_or_invoice(
    platform: Platform, as_member: list[Api], services: list[str]
) -> None:
    cirrus = as_member[2]
    ticket = next(iter(_all(platform, TroubleTicketRecord)), None)
    assert ticket is not None
    for query, variables in (
        (
            "query($id: ID!) { troubleTicket(id: $id) { id } }",
            {"id": global_id("TroubleTicket", ticket.id)},
        ),
        ("query($id: ID!) { invoice(id: $id) { id } }", {"id": global_id("Invoice", 1)}),
    ):
        body = cirrus.post(query, variables).json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert cirrus("{ troubleTickets { edges { node { id } } } }")["troubleTickets"]["edges"] == []
    assert cirrus("{ slaCredits { edges { node { id } } } }")["slaCredits"]["edges"] == []
    assert cirrus("{ invoices { edges { node { id } } } }")["invoices"]["edges"] == []
    # nor can it act on them
    for name in ("acknowledgeTroubleTicket", "closeTroubleTicket", "reopenTroubleTicket"):
        assert [
            e["code"] for e in step(cirrus, name, [global_id("TroubleTicket", ticket.id)])["errors"]
        ] == ["NOT_FOUND"]
    opened = cirrus(
        OPEN,
        {
            "in": {
                "tickets": [
                    {
                        "serviceId": services[0],
                        "impact": "down",
                        "startedAt": chain_time(platform).isoformat(),
                        "description": "x",
                    }
                ]
            }
        },
    )["openTroubleTicket"]
    assert [e["code"] for e in opened["errors"]] == ["NOT_FOUND"]


def _all(platform: Platform, model: type) -> list[Any]:
    from sqlmodel import Session, select

    with Session(platform.engine) as session:
        return list(session.exec(select(model)).all())


def test_bad_ticket_input_is_refused_and_writes_nothing(
    platform: Platform, as_member: list[Api], services: list[str]
) -> None:
    aurora, borealis, _ = as_member
    now = chain_time(platform)
    tickets_before, credits_before = (
        count(platform, TroubleTicketRecord),
        count(platform, SlaCreditRecord),
    )

    def opening(**changes: Any) -> dict[str, Any]:
        return {
            "serviceId": services[2],
            "impact": "down",
            "startedAt": (now - timedelta(minutes=5)).isoformat(),
            "description": "x",
            **changes,
        }

    # an impact outside OutageImpact is refused by the schema, before anything runs
    refused = aurora.post(OPEN, {"in": {"tickets": [opening(impact="flaky")]}}).json()
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert "OutageImpact" in refused["errors"][0]["message"]
    cases = [
        (
            aurora,
            {"tickets": [opening(startedAt=(now + timedelta(days=1)).isoformat())]},
            "VALIDATION",
        ),
        (aurora, {"tickets": [opening(startedAt="2026-01-01T00:00:00")]}, "VALIDATION"),  # no zone
        (aurora, {"tickets": []}, "VALIDATION"),
        (borealis, {"tickets": [opening()]}, "FORBIDDEN"),  # the seller opens on the buyer's behalf
        (
            aurora,
            {"tickets": [opening(), opening(serviceId=global_id("Service", 999_999))]},
            "NOT_FOUND",
        ),  # one bad row: none written
    ]
    for api, variables, code in cases:
        answer = api(OPEN, {"in": variables})["openTroubleTicket"]
        assert [e["code"] for e in answer["errors"]] == [code], (variables, answer)
    assert count(platform, TroubleTicketRecord) == tickets_before

    ticket = aurora(OPEN, {"in": {"tickets": [opening()]}})["openTroubleTicket"]["tickets"][0]["id"]
    assert [e["code"] for e in step(aurora, "acknowledgeTroubleTicket", [ticket])["errors"]] == [
        "FORBIDDEN"
    ]
    step(borealis, "acknowledgeTroubleTicket", [ticket])
    early = borealis(
        RESOLVE,
        {
            "in": {
                "tickets": [
                    {
                        "ticketId": ticket,
                        "endedAt": (now - timedelta(hours=1)).isoformat(),
                        "rootCause": "power",
                    }
                ]
            }
        },
    )["resolveTroubleTicket"]
    assert [e["code"] for e in early["errors"]] == ["VALIDATION"]  # ends before it started
    assert [e["code"] for e in step(borealis, "closeTroubleTicket", [ticket])["errors"]] == [
        "FORBIDDEN"
    ]
    # the current period is not over
    label = period_label(period_of(chain_time(platform)))
    not_over = aurora(CLOSE_PERIOD, {"in": {"period": label, "serviceIds": services[2:]}})[
        "closeSlaPeriod"
    ]
    assert [e["code"] for e in not_over["errors"]] == ["INVALID_STATE"]
    assert count(platform, SlaCreditRecord) == credits_before
    assert (
        aurora("query($id: ID!) { troubleTicket(id: $id) { state } }", {"id": ticket})[
            "troubleTicket"
        ]["state"]
        == "acknowledged"
    )


def test_the_month_feeds_both_parties_events_and_nobody_elses(
    platform: Platform, as_member: list[Api], services: list[str]
) -> None:
    from tests.conftest import feed

    aurora, borealis, cirrus = as_member
    expected = [
        "troubleTicketsOpened",
        "troubleTicketsAcknowledged",
        "troubleTicketsResolved",
        "troubleTicketsClosed",
        "slaCreditCalculated",
        "slaCreditEndorsed",
        "invoicePaymentDue",
        "settlementPosition",
        "paymentInstructed",
        "paymentConfirmed",
        "settlementCycleSettled",
        "invoiceSettled",
    ]
    for api in (aurora, borealis):
        types = [e["type"] for e in feed(api)]
        assert set(expected) <= set(types), set(expected) - set(types)
        opened = next(e for e in feed(api) if e["type"] == "troubleTicketsOpened")
        assert opened["subjects"][0] == global_id(
            "TroubleTicket", f"{service_number(services[0])}-0"
        )
    assert not {e["type"] for e in feed(cirrus)} & set(expected)


def test_concurrent_openings_on_one_service_take_distinct_numbers(
    platform: Platform, as_member: list[Api], services: list[str]
) -> None:
    """Requests run in worker threads: six clients opening a ticket on one service at once
    each get one, numbered one after another (a service's numbers are handed out under its
    lock; without it two picked the same number and the second was refused)."""
    from concurrent.futures import ThreadPoolExecutor

    aurora = as_member[0]
    started = (chain_time(platform) - timedelta(hours=1)).isoformat()

    def open_one(index: int) -> dict[str, Any]:
        opening = {
            "serviceId": services[1],
            "impact": "degraded",
            "startedAt": started,
            "description": f"concurrent {index}",
        }
        return aurora(OPEN, {"in": {"tickets": [opening]}})["openTroubleTicket"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(open_one, range(6)))
    assert [a["errors"] for a in answers] == [[]] * 6
    ids = [a["tickets"][0]["id"] for a in answers]
    numbers = sorted(int(i.split("-")[1]) for i in ids)
    assert len(set(ids)) == 6 and numbers == list(range(numbers[0], numbers[0] + 6))
    stored = {global_id("TroubleTicket", t.id) for t in _all(platform, TroubleTicketRecord)}
    assert set(ids) <= stored
