"""Every ready-made operation in graphql/operations/ runs against a live server.

The ERP flow of each module lives there; this test runs each document in the order of
FLOW, passing values from earlier answers, and fails for any document it does not know —
so a new operation file comes with its step here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account

from cooperative.platform import Platform
from tests.conftest import Api

OPERATIONS_DIR = Path(__file__).resolve().parent.parent / "graphql" / "operations"

# name -> (who runs it, variables from the answers so far, check of the answer); in run order.
# A step run by a tuple of members runs once per member, in that order, each answer checked.
AURORA, BOREALIS = 0, 1  # the demo members, as the credentials file lists them
BOTH = (AURORA, BOREALIS)
Step = tuple[
    int | tuple[int, ...],
    Callable[[dict[str, Any]], dict[str, Any]],
    Callable[[dict[str, Any], dict[str, Any]], None],
]


def _check_me(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["me"]["role"] == "MEMBER" and data["me"]["member"]["name"] == "Aurora Telecom"


def _check_members(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert len(data["members"]["edges"]) == 3


def _check_created(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["createApiKey"]["errors"] == []
    seen["key_id"] = data["createApiKey"]["apiKey"]["id"]


def _check_revoked(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["revokeApiKey"] == {
        "apiKey": {"id": seen["key_id"], "revokedAt": data["revokeApiKey"]["apiKey"]["revokedAt"]},
        "errors": [],
    }
    assert data["revokeApiKey"]["apiKey"]["revokedAt"] is not None


def _check_proposed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    created = data["proposeMemberAdmission"]
    assert created["errors"] == [] and created["proposal"]["state"] == "ACTIVE"
    assert created["proposal"]["actions"][0]["function"] == "admit"
    seen["proposal_id"] = created["proposal"]["id"]


def _check_proposals(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert seen["proposal_id"] in {e["node"]["id"] for e in data["proposals"]["edges"]}


def _check_voted(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert (
        data["castVote"]["errors"] == [] and data["castVote"]["proposal"]["tally"]["forVotes"] == 1
    )


def _check_ballot(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["ballot"]["primaryType"] == "Ballot"
    seen["ballot"] = data["ballot"]


def _check_relayed(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["castVoteBySig"]["errors"] == []
    assert data["castVoteBySig"]["proposal"]["tally"]["againstVotes"] == 1


def _check_proposal(data: dict[str, Any], seen: dict[str, Any]) -> None:
    proposal = data["proposal"]
    assert proposal["id"] == seen["proposal_id"] and len(proposal["votes"]["edges"]) == 2
    assert proposal["viewerVote"]["support"] == "FOR"
    assert [h["event"] for h in proposal["history"]] == ["ProposalCreated"]


def _check_templates(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert [t["id"] for t in data["slaTemplates"]] == [seen["template"]]


def _check_modules(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert [m["name"] for m in data["modules"]] == [
        "Anchor",
        "Ordering",
        "Assurance",
        "Billing",
        "Settlement",
    ]


# ------------------------------------------------------------------ the marketplace (ERP flow)
# Aurora buys from Borealis.


def _soon(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _offering(seen: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": {
            "productType": "e-line",
            "bandwidthsMbps": [1000, 10000],
            "servingArea": [{"country": "SE", "city": "Stockholm"}],
            "slaTemplates": [seen["template"]],
            "termMonths": [12, 36],
        }
    }


def _check_published(data: dict[str, Any], seen: dict[str, Any]) -> None:
    published = data["publishOffering"]
    assert published["errors"] == [] and published["offering"]["seller"] == seen["seller"]
    seen["offering"] = published["offering"]["id"]


def _check_found(data: dict[str, Any], seen: dict[str, Any]) -> None:
    found = [e["node"] for e in data["offerings"]["edges"]]
    assert seen["offering"] in [o["id"] for o in found]
    assert all(o["productType"] == "e-line" for o in found)


def _check_reputation(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["reputation"]["member"] == seen["seller"]
    assert data["reputation"]["quotesLate"] >= 0


def _request(seen: dict[str, Any]) -> dict[str, Any]:
    return {
        "input": {
            "sellers": [seen["seller"]],
            "slaTemplate": seen["template"],
            "respondBy": _soon(1),
            "expiresAt": _soon(3),
            "requestedDelivery": _soon(30),
            "site": {"address": "Sveavägen 1, Stockholm"},
            "bandwidthMbps": 1000,
            "termMonths": 36,
            "idempotencyKey": "erp-po-4711-request",
        }
    }


def _check_requested(data: dict[str, Any], seen: dict[str, Any]) -> None:
    requested = data["requestQuote"]
    assert requested["errors"] == [] and requested["quotes"][0]["state"] == "inProgress"
    seen["quote"] = requested["quotes"][0]["id"]


def _check_quotes(data: dict[str, Any], seen: dict[str, Any]) -> None:
    quote = next(e["node"] for e in data["quotes"]["edges"] if e["node"]["id"] == seen["quote"])
    assert quote["request"]["bandwidthMbps"] == 1000 and quote["state"] == "inProgress"


def _check_responded(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    quote = data["respondToQuote"]
    assert quote["errors"] == [] and quote["quote"]["state"] == "approved"
    assert (quote["quote"]["currency"], quote["quote"]["mrc"]) == ("SEK", "1250000")


def _check_accepted(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert (
        data["acceptQuote"]["errors"] == [] and data["acceptQuote"]["quote"]["state"] == "accepted"
    )


def _check_ordered(data: dict[str, Any], seen: dict[str, Any]) -> None:
    order = data["placeOrder"]
    assert order["errors"] == [] and order["order"]["state"] == "submitted"
    seen["order"] = order["order"]["id"]


def _check_acknowledged(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    order = data["acknowledgeOrder"]
    assert order["errors"] == [] and order["order"]["state"] == "acknowledged"


def _check_completed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    completed = data["completeOrder"]
    assert completed["errors"] == [] and completed["order"]["state"] == "completed"
    assert completed["service"]["state"] == "active" and completed["service"]["mrc"] == "1250000"
    seen["service"] = completed["service"]["id"]


def _check_orders(data: dict[str, Any], seen: dict[str, Any]) -> None:
    order = next(e["node"] for e in data["orders"]["edges"] if e["node"]["id"] == seen["order"])
    assert order["state"] == "completed" and order["serviceId"] == seen["service"]


def _circuits(seen: dict[str, Any]) -> dict[str, Any]:
    circuits = [
        {
            "slaTemplate": seen["template"],
            "currency": "SEK",
            "mrc": str(400_000 + i),
            "startedAt": _soon(-400),
            "details": {"circuitId": f"STO-GOT-{i}"},
        }
        for i in range(3)
    ]
    return {"input": {"buyer": seen["buyer"], "circuits": circuits}}


def _check_registered(data: dict[str, Any], seen: dict[str, Any]) -> None:
    registered = data["registerServices"]
    assert registered["errors"] == []
    assert {s["state"] for s in registered["services"]} == {"pendingConfirmation"}
    seen["registered"] = [s["id"] for s in registered["services"]]


def _check_confirmed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    confirmed = data["confirmServices"]
    assert confirmed["errors"] == []
    assert [(s["id"], s["state"]) for s in confirmed["services"]] == [
        (i, "active") for i in seen["registered"]
    ]


def _check_services(data: dict[str, Any], seen: dict[str, Any]) -> None:
    ids = {e["node"]["id"] for e in data["services"]["edges"]}
    assert {seen["service"], *seen["registered"]} <= ids


def _check_events(data: dict[str, Any], seen: dict[str, Any]) -> None:
    types = [e["node"]["type"] for e in data["events"]["edges"]]
    for expected in (
        "quoteRequested",
        "quoteAnswered",
        "quoteAccepted",
        "orderSubmitted",
        "orderAcknowledged",
        "orderCompleted",
        "serviceActive",
        "servicePendingConfirmation",
    ):
        assert expected in types
    assert data["events"]["pageInfo"]["endCursor"] == data["events"]["edges"][-1]["cursor"]


# ------------------------------------------------------------------ assurance, billing, settlement
# Aurora's three confirmed circuits from Borealis: a down ticket on the first (closed), a
# degraded one on the second (reopened), a down one on the third (closed, then disputed).


def _openings(seen: dict[str, Any]) -> dict[str, Any]:
    start = datetime.now(UTC) - timedelta(minutes=30)
    seen["period"] = f"{start.year:04d}-{start.month:02d}"
    impacts = ["down", "degraded", "down"]
    tickets = [
        {
            "serviceId": service,
            "impact": impact,
            "startedAt": start.isoformat(),
            "description": f"ERP ticket {i}",
            "externalId": f"INC-{i}",
        }
        for i, (service, impact) in enumerate(zip(seen["registered"], impacts, strict=True))
    ]
    seen["ticket_end"] = (start + timedelta(minutes=10)).isoformat()
    return {"input": {"tickets": tickets}}


def _check_opened(data: dict[str, Any], seen: dict[str, Any]) -> None:
    opened = data["openTroubleTicket"]
    assert opened["errors"] == [] and {t["state"] for t in opened["tickets"]} == {"submitted"}
    seen["tickets"] = [t["id"] for t in opened["tickets"]]


def _tickets_now(state: str, key: str) -> Callable[[dict[str, Any], dict[str, Any]], None]:
    def check(data: dict[str, Any], seen: dict[str, Any]) -> None:
        payload = data[key]
        assert payload["errors"] == [] and {t["state"] for t in payload["tickets"]} == {state}

    return check


def _resolutions(seen: dict[str, Any]) -> dict[str, Any]:
    causes = ["fiberCut", "equipment", "power"]
    return {
        "input": {
            "tickets": [
                {"ticketId": t, "endedAt": seen["ticket_end"], "rootCause": c}
                for t, c in zip(seen["tickets"], causes, strict=True)
            ]
        }
    }


def _check_ticket_list(data: dict[str, Any], seen: dict[str, Any]) -> None:
    states = {e["node"]["id"]: e["node"]["state"] for e in data["troubleTickets"]["edges"]}
    assert [states[t] for t in seen["tickets"]] == ["closed", "reopened", "closed"]


def _check_ticket(data: dict[str, Any], seen: dict[str, Any]) -> None:
    ticket = data["troubleTicket"]
    assert ticket["id"] == seen["tickets"][0] and ticket["document"]["externalId"] == "INC-0"


def _check_period_closed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    closed = data["closeSlaPeriod"]
    assert closed["errors"] == []
    outage = {c["serviceId"]: c["outageSeconds"] for c in closed["credits"]}
    assert [outage[s] for s in seen["registered"]] == [600, 0, 600]


def _check_disputed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    disputed = data["disputeSlaCredit"]
    assert disputed["errors"] == [] and disputed["credit"]["state"] == "disputed"
    assert disputed["reopened"] == [{"id": seen["tickets"][2], "state": "reopened"}]


def _check_endorsed(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["endorseSlaCredit"]["errors"] == []


def _check_credits(data: dict[str, Any], seen: dict[str, Any]) -> None:
    states = {e["node"]["serviceId"]: e["node"]["state"] for e in data["slaCredits"]["edges"]}
    assert [states[s] for s in seen["registered"]] == ["endorsed", "endorsed", "disputed"]


def _check_invoiced(data: dict[str, Any], seen: dict[str, Any]) -> None:
    invoice = data["issueInvoice"]
    assert invoice["errors"] == [] and invoice["invoice"]["state"] == "paymentDue"
    assert [line["serviceId"] for line in invoice["invoice"]["document"]["lines"]] == seen[
        "registered"
    ][:2]
    seen["invoice"] = invoice["invoice"]


def _check_invoices(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert seen["invoice"]["id"] in [e["node"]["id"] for e in data["invoices"]["edges"]]


def _check_cycle(data: dict[str, Any], seen: dict[str, Any]) -> None:
    cycle = data["runSettlementCycle"]
    assert cycle["errors"] == [] and cycle["cycle"]["net"] == "-" + seen["invoice"]["amountDue"]
    seen["cycle"] = cycle["cycle"]["id"]


def _check_cycles(data: dict[str, Any], seen: dict[str, Any]) -> None:
    node = data["settlementCycles"]["edges"][0]["node"]
    assert (
        node["id"] == seen["cycle"]
        and node["payments"][0]["amount"] == seen["invoice"]["amountDue"]
    )


def _check_confirmed_payment(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["confirmPayment"]["errors"] == []


def _check_liabilities(data: dict[str, Any], seen: dict[str, Any]) -> None:
    # settled: nothing invoiced is outstanding; the disputed credit is not counted
    assert all(item["invoiced"] == "0" for item in data["liabilities"])


FLOW: dict[str, Step] = {
    "Me": (AURORA, lambda _seen: {}, _check_me),
    "Members": (AURORA, lambda _seen: {"first": 10}, _check_members),
    "CreateApiKey": (AURORA, lambda _seen: {"label": "operations test"}, _check_created),
    "RevokeApiKey": (AURORA, lambda seen: {"id": seen["key_id"]}, _check_revoked),
    "ProposeMemberAdmission": (
        AURORA,
        lambda _seen: {"name": "Dawn Networks", "description": "Admit Dawn"},
        _check_proposed,
    ),
    "Proposals": (AURORA, lambda _seen: {"state": "ACTIVE"}, _check_proposals),
    "CastVote": (
        AURORA,
        lambda seen: {"proposalId": seen["proposal_id"], "support": "FOR"},
        _check_voted,
    ),
    "Ballot": (
        AURORA,
        lambda seen: {"proposalId": seen["proposal_id"], "support": "AGAINST"},
        _check_ballot,
    ),
    "CastVoteBySig": (AURORA, lambda seen: seen["relay"], _check_relayed),
    "Proposal": (AURORA, lambda seen: {"id": seen["proposal_id"]}, _check_proposal),
    "SlaTemplates": (AURORA, lambda _seen: {}, _check_templates),
    "Modules": (AURORA, lambda _seen: {}, _check_modules),
    "PublishOffering": (BOREALIS, _offering, _check_published),
    "SearchOfferings": (
        AURORA,
        lambda seen: {"country": "SE", "productType": "e-line", "minBandwidthMbps": 1000},
        _check_found,
    ),
    "Reputation": (AURORA, lambda seen: {"memberId": seen["seller"]}, _check_reputation),
    "RequestQuote": (AURORA, _request, _check_requested),
    "Quotes": (BOREALIS, lambda _seen: {}, _check_quotes),
    "RespondToQuote": (
        BOREALIS,
        lambda seen: {
            "input": {
                "quoteId": seen["quote"],
                "currency": "SEK",
                "mrc": "1250000",
                "nrc": "500000",
                "validUntil": _soon(7),
                "terms": {"level": "firm"},
            }
        },
        _check_responded,
    ),
    "AcceptQuote": (AURORA, lambda seen: {"quoteId": seen["quote"]}, _check_accepted),
    "PlaceOrder": (
        AURORA,
        lambda seen: {"input": {"quoteId": seen["quote"], "requestedDelivery": _soon(20)}},
        _check_ordered,
    ),
    "AcknowledgeOrder": (BOREALIS, lambda seen: {"orderId": seen["order"]}, _check_acknowledged),
    "CompleteOrder": (
        BOREALIS,
        lambda seen: {"orderId": seen["order"], "circuit": {"circuitId": "STO-1000-7"}},
        _check_completed,
    ),
    "Orders": (AURORA, lambda _seen: {}, _check_orders),
    "RegisterServices": (BOREALIS, _circuits, _check_registered),
    "ConfirmServices": (
        AURORA,
        lambda seen: {"serviceIds": seen["registered"]},
        _check_confirmed,
    ),
    "Services": (AURORA, lambda _seen: {}, _check_services),
    "Events": (AURORA, lambda _seen: {"first": 100}, _check_events),
    "OpenTroubleTicket": (AURORA, _openings, _check_opened),
    "AcknowledgeTroubleTicket": (
        BOREALIS,
        lambda seen: {"ticketIds": seen["tickets"]},
        _tickets_now("acknowledged", "acknowledgeTroubleTicket"),
    ),
    "ResolveTroubleTicket": (
        BOREALIS,
        _resolutions,
        _tickets_now("resolved", "resolveTroubleTicket"),
    ),
    "ReopenTroubleTicket": (
        AURORA,
        lambda seen: {"ticketIds": seen["tickets"][1:2]},
        _tickets_now("reopened", "reopenTroubleTicket"),
    ),
    "CloseTroubleTicket": (
        AURORA,
        lambda seen: {"ticketIds": [seen["tickets"][0], seen["tickets"][2]]},
        _tickets_now("closed", "closeTroubleTicket"),
    ),
    "TroubleTickets": (AURORA, lambda _seen: {}, _check_ticket_list),
    "TroubleTicket": (BOREALIS, lambda seen: {"id": seen["tickets"][0]}, _check_ticket),
    "CloseSlaPeriod": (
        AURORA,
        lambda seen: {"period": seen["period"], "serviceIds": seen["registered"]},
        _check_period_closed,
    ),
    "DisputeSlaCredit": (
        AURORA,
        lambda seen: {
            "input": {
                "serviceId": seen["registered"][2],
                "period": seen["period"],
                "ticketIds": [seen["tickets"][2]],
                "statement": "our probes saw the circuit down until 10:40",
            }
        },
        _check_disputed,
    ),
    "EndorseSlaCredit": (
        BOTH,
        lambda seen: {"period": seen["period"], "serviceIds": seen["registered"][:2]},
        _check_endorsed,
    ),
    "SlaCredits": (AURORA, lambda seen: {"period": seen["period"]}, _check_credits),
    "IssueInvoice": (
        BOREALIS,
        lambda seen: {
            "input": {"buyer": seen["buyer"], "period": seen["period"], "currency": "SEK"}
        },
        _check_invoiced,
    ),
    "Invoices": (AURORA, lambda _seen: {}, _check_invoices),
    "RunSettlementCycle": (AURORA, lambda _seen: {"currency": "SEK"}, _check_cycle),
    "SettlementCycles": (AURORA, lambda _seen: {}, _check_cycles),
    "ConfirmPayment": (
        BOTH,
        lambda seen: {"cycleId": seen["cycle"], "paymentIndex": 0},
        _check_confirmed_payment,
    ),
    "Liabilities": (AURORA, lambda _seen: {}, _check_liabilities),
}


def test_every_operation_document_runs(
    as_member: list[Api], platform: Platform, addresses: list[str], template_id: int
) -> None:
    documents = {path.stem: path.read_text() for path in sorted(OPERATIONS_DIR.glob("*.graphql"))}
    assert set(documents) == set(FLOW), "each operation document needs its step in FLOW"
    seen: dict[str, Any] = {
        "template": template_id,
        "buyer": addresses[AURORA],
        "seller": addresses[BOREALIS],
    }
    for name, (actor, variables, check) in FLOW.items():
        if name == "CastVoteBySig":
            # Borealis signs the ballot Aurora fetched for it, with its own key; Aurora relays.
            voter = as_member[1]("{ me { member { address } } }")["me"]["member"]["address"]
            typed = as_member[1](
                documents["Ballot"], {"proposalId": seen["proposal_id"], "support": "AGAINST"}
            )["ballot"]
            signature = Account.sign_typed_data(
                platform.keystore.account(voter).key, full_message=typed
            ).signature
            seen["relay"] = {
                "proposalId": seen["proposal_id"],
                "support": "AGAINST",
                "voter": voter,
                "signature": "0x" + bytes(signature).hex(),
            }
        if name == "CloseSlaPeriod":  # the month of the tickets must be over
            platform.gateway.increase_time(35 * 86400)
        for member in actor if isinstance(actor, tuple) else (actor,):
            check(as_member[member](documents[name], variables(seen)), seen)
