"""Every ready-made operation in graphql/operations/ runs against a live server.

The ERP flow of each module lives there; this test runs each document in the order of
FLOW, passing values from earlier answers, and fails for any document it does not know —
so a new operation file comes with its step here. Another test fails for any root field
of the schema (a query or a mutation) that no document selects: an integrator finds a
ready operation for every one."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from cooperative import merkle
from cooperative.anchoring import ANCHOR_CHAIN_ID
from cooperative.api.ids import global_id
from cooperative.platform import Platform
from cooperative.proofs import verify_bundle
from deployments import records, upgrades
from deployments.paths import OPERATIONS_DIR
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    parse,
    validate,
)
from tests.conftest import Api

# name -> (who runs it, variables from the answers so far, check of the answer); in run order.
# A step run by a tuple of members runs once per member, in that order, each answer checked.
AURORA, BOREALIS, CIRRUS = 0, 1, 2  # the demo members, as the credentials file lists them
BOTH = (AURORA, BOREALIS)
Check = Callable[[dict[str, Any], dict[str, Any]], None]
Step = tuple[int | tuple[int, ...], Callable[[dict[str, Any]], dict[str, Any]], Check]


def _key(record_id: str) -> str:
    """The key in a global id (`Service:3` -> `3`), where the chain or a document names a
    record by its key."""
    return record_id.partition(":")[2]


def _check_me(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["me"]["role"] == "MEMBER" and data["me"]["member"]["name"] == "Aurora Telecom"
    assert data["me"]["member"]["id"] == global_id("Member", seen["buyer"])


def _check_members(data: dict[str, Any], seen: dict[str, Any]) -> None:
    members = [e["node"] for e in data["members"]["edges"]]
    assert sorted(m["address"] for m in members) == sorted(seen["members"])
    assert all(m["id"] == global_id("Member", m["address"]) for m in members)
    seen["names"] = {m["address"]: m["name"] for m in members}


def _check_created(data: dict[str, Any], seen: dict[str, Any]) -> None:
    created = data["createApiKey"]
    assert created["errors"] == [] and created["secret"]
    assert (created["apiKey"]["role"], created["apiKey"]["createdBy"]) == ("MEMBER", seen["buyer"])
    seen["key_id"] = created["apiKey"]["id"]


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


# ------------------------------------------------------------------ governance: every kind
# Aurora proposes a Silver template; Aurora and Borealis pass it, it is queued and executed
# (the test moves the node's clock past the vote's end and the timelock's delay). The other
# kinds are proposed and their actions read back in words; the removal is cancelled.

SILVER = {
    "name": "Silver Ethernet",
    "document": "Silver Ethernet SLA: 99.9 % monthly availability; credits per tier...",
    "objectivePpm": 999_000,
    "tiers": [{"floorPpm": 999_000, "creditBps": 1000}, {"floorPpm": 995_000, "creditBps": 3000}],
    "description": "Adopt the Silver Ethernet SLA",
    "resolutionWindowSeconds": 3 * 86400,
    "excludePlannedMaintenance": False,
}
RULES = {
    "kind": "ADMIT_MEMBER",
    "quorumNumerator": 1,
    "quorumDenominator": 2,
    "approvalNumerator": 1,
    "approvalDenominator": 2,
    "approvalInclusive": False,
    "votingDelaySeconds": 0,
    "votingPeriodSeconds": 120,
    "timelockDelaySeconds": 60,
    "lateQuorumExtensionSeconds": 30,
    "description": "Longer admission votes",
}


def _created(
    key: str, kind: str, summaries: Callable[[dict[str, Any]], list[str]], name: str
) -> Check:
    """The check of a new proposal: active, of `kind`, its actions in these words."""

    def check(data: dict[str, Any], seen: dict[str, Any]) -> None:
        payload = data[key]
        assert payload["errors"] == [], payload["errors"]
        proposal = payload["proposal"]
        assert (proposal["kind"], proposal["state"]) == (kind, "ACTIVE")
        assert proposal["tally"]["eligible"] == 3
        assert [a["summary"] for a in proposal["actions"]] == summaries(seen)
        seen[name] = proposal

    return check


def _check_queued(data: dict[str, Any], seen: dict[str, Any]) -> None:
    queued = data["queueProposal"]
    assert queued["errors"] == [] and queued["proposal"]["id"] == seen["silver"]["id"]
    assert queued["proposal"]["state"] == "QUEUED" and queued["proposal"]["eta"] is not None
    assert queued["proposal"]["tally"]["forVotes"] == 2
    seen["silver_eta"] = queued["proposal"]["eta"]


def _check_executed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    executed = data["executeProposal"]
    assert executed["errors"] == [] and executed["proposal"]["state"] == "EXECUTED"
    assert [h["event"] for h in executed["proposal"]["history"]] == [
        "ProposalCreated",
        "ProposalQueued",
        "ProposalExecuted",
    ]


def _check_cancelled(data: dict[str, Any], seen: dict[str, Any]) -> None:
    cancelled = data["cancelProposal"]
    assert cancelled["errors"] == [] and cancelled["proposal"]["id"] == seen["removal"]["id"]
    assert cancelled["proposal"]["state"] == "CANCELED"
    assert [h["event"] for h in cancelled["proposal"]["history"]] == [
        "ProposalCreated",
        "ProposalCanceled",
    ]


def _check_templates(data: dict[str, Any], seen: dict[str, Any]) -> None:
    templates = data["slaTemplates"]
    assert templates[0]["id"] == seen["template"]
    assert [(t["name"], t["objectivePpm"]) for t in templates[1:]] == [("Silver Ethernet", 999_000)]
    assert templates[1]["resolutionWindowSeconds"] == 3 * 86400
    assert templates[1]["excludePlannedMaintenance"] is False
    seen["silver_template"] = templates[1]["id"]


def _check_modules(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert [m["name"] for m in data["modules"]] == [
        "Anchor",
        "Ordering",
        "Assurance",
        "Billing",
        "Settlement",
    ]
    seen["modules"] = {m["name"]: m for m in data["modules"]}


# ------------------------------------------------------------------ the marketplace (ERP flow)
# Aurora buys from Borealis. Besides the order that completes, Aurora asks Borealis and
# Cirrus for a quote it rejects (Borealis declines first), and places two more orders:
# one Borealis rejects, one Aurora cancels.


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


def _request(
    seen: dict[str, Any], key: str = "4711", sellers: list[str] | None = None
) -> dict[str, Any]:
    return {
        "input": {
            "sellers": sellers or [seen["seller"]],
            "slaTemplate": seen["template"],
            "respondBy": _soon(1),
            "expiresAt": _soon(3),
            "requestedDelivery": _soon(30),
            "site": {"address": "Sveavägen 1, Stockholm"},
            "bandwidthMbps": 1000,
            "termMonths": 36,
            "productType": "e-line",
            "offerings": [{"seller": seen["seller"], "offeringId": seen["offering"]}],
            "idempotencyKey": f"erp-po-{key}-request",
        }
    }


def _check_requested(data: dict[str, Any], seen: dict[str, Any]) -> None:
    requested = data["requestQuote"]
    assert requested["errors"] == [] and requested["quotes"][0]["state"] == "inProgress"
    assert requested["quotes"][0]["offeringId"] == seen["offering"]
    seen["quote"] = requested["quotes"][0]["id"]
    seen["request"] = requested["requestId"]


def _check_quotes(data: dict[str, Any], seen: dict[str, Any]) -> None:
    quote = next(e["node"] for e in data["quotes"]["edges"] if e["node"]["id"] == seen["quote"])
    assert quote["bandwidthMbps"] == 1000 and quote["state"] == "inProgress"
    assert (quote["slaTemplate"], quote["termMonths"], quote["level"]) == (
        seen["template"],
        36,
        "firm",
    )
    assert (quote["productType"], quote["offeringId"]) == ("e-line", seen["offering"])


def _response(quote: str) -> dict[str, Any]:
    return {
        "input": {
            "quoteId": quote,
            "currency": "SEK",
            "mrc": "1250000",
            "nrc": "500000",
            "validUntil": _soon(7),
            "terms": {"level": "firm"},
        }
    }


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


def _check_quote(data: dict[str, Any], seen: dict[str, Any]) -> None:
    quote = data["quote"]
    assert (quote["id"], quote["state"], quote["buyer"], quote["seller"]) == (
        seen["quote"],
        "ordered",
        seen["buyer"],
        seen["seller"],
    )
    assert (quote["currency"], quote["mrc"], quote["nrc"], quote["level"]) == (
        "SEK",
        "1250000",
        "500000",
        "firm",
    )
    assert quote["site"] == {"address": "Sveavägen 1, Stockholm"}
    assert quote["commitment"].startswith("0x") and len(quote["commitment"]) == 66


def _order_now(state: str, key: str) -> Check:
    def check(data: dict[str, Any], seen: dict[str, Any]) -> None:
        payload = data[key]
        assert payload["errors"] == [] and payload["order"]["state"] == state

    return check


def _check_completed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    completed = data["completeOrder"]
    assert completed["errors"] == [] and completed["order"]["state"] == "completed"
    assert completed["service"]["state"] == "active" and completed["service"]["mrc"] == "1250000"
    seen["service"] = completed["service"]["id"]


def _check_order(data: dict[str, Any], seen: dict[str, Any]) -> None:
    order = data["order"]
    assert (order["id"], order["state"], order["serviceId"]) == (
        seen["order"],
        "completed",
        seen["service"],
    )
    assert (order["buyer"], order["seller"], order["mrc"]) == (
        seen["buyer"],
        seen["seller"],
        "1250000",
    )
    assert order["slaTemplate"] == seen["template"] and order["commitment"].startswith("0x")


def _check_node(data: dict[str, Any], seen: dict[str, Any]) -> None:
    """The completed order refetched by its id alone, as either party sees it."""
    node = data["node"]
    assert (node["__typename"], node["id"], node["orderState"]) == (
        "Order",
        seen["order"],
        "completed",
    )
    assert (node["buyer"], node["seller"], node["mrc"]) == (
        seen["buyer"],
        seen["seller"],
        "1250000",
    )


def _check_declined(data: dict[str, Any], seen: dict[str, Any]) -> None:
    declined = data["declineQuote"]
    assert declined["errors"] == []
    assert declined["quote"] == {
        "id": seen["declinable"][seen["seller"]],
        "state": "unableToProvide",
    }


def _check_rejected_quote(data: dict[str, Any], seen: dict[str, Any]) -> None:
    rejected = data["rejectQuote"]
    assert rejected["errors"] == [] and rejected["requestId"] == seen["declinable_request"]
    quotes = {q["seller"]: (q["id"], q["state"]) for q in rejected["quotes"]}
    assert {seller: quote for seller, (quote, _state) in quotes.items()} == seen["declinable"]
    # the quote Cirrus never answered is declined by the buyer; Borealis's own refusal
    # stays its own (Sonata's unableToProvide)
    assert quotes[seen["members"][CIRRUS]][1] == "declined"
    assert quotes[seen["seller"]][1] == "unableToProvide"


def _check_orders(data: dict[str, Any], seen: dict[str, Any]) -> None:
    orders = {e["node"]["id"]: e["node"] for e in data["orders"]["edges"]}
    order = orders[seen["order"]]
    assert order["state"] == "completed" and order["serviceId"] == seen["service"]
    assert orders[seen["rejected_order"]]["state"] == "rejected"
    assert orders[seen["cancelled_order"]]["state"] == "cancelled"
    assert orders[seen["cancelled_order"]]["serviceId"] is None


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


def _same_time(a: str, b: str) -> bool:
    return datetime.fromisoformat(a).timestamp() == int(datetime.fromisoformat(b).timestamp())


def _ending(seen: dict[str, Any]) -> dict[str, Any]:
    seen["service_end"] = _soon(10)
    return {"serviceId": seen["service"], "endedAt": seen["service_end"]}


def _check_ended(data: dict[str, Any], seen: dict[str, Any]) -> None:
    ended = data["endService"]
    assert ended["errors"] == [] and ended["service"]["id"] == seen["service"]
    assert ended["service"]["state"] == "active"  # billed until it ends
    assert _same_time(ended["service"]["endedAt"], seen["service_end"])


def _check_service(data: dict[str, Any], seen: dict[str, Any]) -> None:
    service = data["service"]
    assert (service["id"], service["orderId"], service["state"]) == (
        seen["service"],
        seen["order"],
        "active",
    )
    assert (service["buyer"], service["seller"]) == (seen["buyer"], seen["seller"])
    assert _same_time(service["endedAt"], seen["service_end"])
    assert service["document"] == {"circuit": {"circuitId": "STO-1000-7"}}


def _check_services(data: dict[str, Any], seen: dict[str, Any]) -> None:
    ids = {e["node"]["id"] for e in data["services"]["edges"]}
    assert {seen["service"], *seen["registered"]} <= ids


def _check_events(data: dict[str, Any], seen: dict[str, Any]) -> None:
    types = [e["node"]["type"] for e in data["events"]["edges"]]
    for expected in (
        "quoteRequested",
        "quoteAnswered",
        "quoteAccepted",
        "quoteDeclined",
        "quoteRejected",
        "orderSubmitted",
        "orderAcknowledged",
        "orderInProgress",
        "orderCompleted",
        "orderRejected",
        "orderCancelled",
        "serviceActive",
        "servicePendingConfirmation",
    ):
        assert expected in types, expected
    assert data["events"]["pageInfo"]["endCursor"] == data["events"]["edges"][-1]["cursor"]
    # each event names the records it concerns by their ids, most specific first
    subjects = {(e["node"]["type"], tuple(e["node"]["subjects"])) for e in data["events"]["edges"]}
    assert ("quoteAccepted", (seen["quote"], seen["request"])) in subjects
    assert ("orderCompleted", (seen["order"],)) in subjects
    assert ("serviceActive", (seen["order"], seen["service"])) in subjects


# ------------------------------------------------------------------ assurance, billing, settlement
# Aurora's three confirmed circuits from Borealis: a down ticket on the first (closed), a
# degraded one on the second (reopened), a down one on the third (closed, then disputed).
# Two more come from Aurora's ERP export (two of its rows are refused): Borealis asks
# Aurora about them (pending), and Aurora cancels them.


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


def _export(seen: dict[str, Any]) -> dict[str, Any]:
    """An ERP's CSV export: two good rows, a bad impact (line 4), an outage in the future."""
    start = (datetime.now(UTC) - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first, second, third = seen["registered"]  # the ids the ERP stored (`Service:12`)
    rows = [
        "service_id,impact,started_at,description,external_id",
        f"{first},degraded,{start},Packet loss towards Gothenburg,ERP-7001",
        f'{second},intermittent,{start},"Flapping, 3 times an hour",ERP-7002',
        f"{third},broken,{start},Unknown impact,ERP-7003",
        f"{third},down,{later},Scheduled in the wrong field,ERP-7004",
    ]
    return {"csv": "\r\n".join(rows) + "\r\n", "idempotencyKey": "erp-import-7001"}


def _check_imported(data: dict[str, Any], seen: dict[str, Any]) -> None:
    imported = data["importTroubleTickets"]
    assert imported["errors"] == []
    first, second, _third = seen["registered"]
    assert [
        (t["serviceId"], t["impact"], t["state"], t["document"]["externalId"])
        for t in imported["tickets"]
    ] == [
        (first, "degraded", "submitted", "ERP-7001"),
        (second, "intermittent", "submitted", "ERP-7002"),
    ]
    assert imported["tickets"][1]["document"]["description"] == "Flapping, 3 times an hour"
    assert [r["line"] for r in imported["rejected"]] == [4, 5]
    assert imported["rejected"][0]["reason"].startswith("impact must be one of")
    assert "future" in imported["rejected"][1]["reason"]
    seen["imported"] = [t["id"] for t in imported["tickets"]]


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


def _tickets_now(state: str, key: str) -> Check:
    def check(data: dict[str, Any], seen: dict[str, Any]) -> None:
        payload = data[key]
        assert payload["errors"] == [] and {t["state"] for t in payload["tickets"]} == {state}

    return check


def _check_ticket_list(data: dict[str, Any], seen: dict[str, Any]) -> None:
    states = {e["node"]["id"]: e["node"]["state"] for e in data["troubleTickets"]["edges"]}
    assert [states[t] for t in seen["tickets"]] == ["closed", "reopened", "closed"]
    assert [states[t] for t in seen["imported"]] == ["cancelled", "cancelled"]


def _check_ticket(data: dict[str, Any], seen: dict[str, Any]) -> None:
    ticket = data["troubleTicket"]
    assert ticket["id"] == seen["tickets"][0] and ticket["document"]["externalId"] == "INC-0"
    # The seller's model needs 20 resolved tickets first (tests/test_root_causes.py).
    assert ticket["suggestedRootCauses"] == []


def _check_period_closed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    closed = data["closeSlaPeriod"]
    assert closed["errors"] == []
    outage = {c["serviceId"]: c["outageSeconds"] for c in closed["credits"]}
    assert [outage[s] for s in seen["registered"]] == [600, 0, 600]
    # a credit with an outage awaits both parties; one without may be final at its close
    states = {c["serviceId"]: c["state"] for c in closed["credits"]}
    assert states[seen["registered"][0]] == states[seen["registered"][2]] == "calculated"
    seen["to_endorse"] = [s for s in seen["registered"][:2] if states[s] == "calculated"]


def _check_disputed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    disputed = data["disputeSlaCredit"]
    assert disputed["errors"] == [] and disputed["credit"]["state"] == "disputed"
    assert disputed["reopened"] == [{"id": seen["tickets"][2], "state": "reopened"}]


def _check_endorsed(data: dict[str, Any], seen: dict[str, Any]) -> None:
    endorsed = data["endorseSlaCredit"]
    assert endorsed["errors"] == [] and len(endorsed["credits"]) == len(seen["to_endorse"])


def _check_credits(data: dict[str, Any], seen: dict[str, Any]) -> None:
    states = {e["node"]["serviceId"]: e["node"]["state"] for e in data["slaCredits"]["edges"]}
    assert [states[s] for s in seen["registered"]] == ["endorsed", "endorsed", "disputed"]


def _check_invoiced(data: dict[str, Any], seen: dict[str, Any]) -> None:
    invoice = data["issueInvoice"]
    assert invoice["errors"] == [] and invoice["invoice"]["state"] == "paymentDue"
    # the committed document names each service by its number
    lines = invoice["invoice"]["document"]["lines"]
    assert [global_id("Service", line["serviceId"]) for line in lines] == seen["registered"][:2]
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
        and node["payments"][0]["state"] == "instructed"
    )
    assert node["payments"][0]["id"] == global_id("SettlementPayment", f"{_key(seen['cycle'])}-0")
    seen["payment"] = node["payments"][0]["id"]


PAYMENT_STATES = {
    (True, False): "confirmedByPayer",
    (False, True): "confirmedByPayee",
    (True, True): "confirmed",
}


def _check_confirmed_payment(data: dict[str, Any], seen: dict[str, Any]) -> None:
    assert data["confirmPayment"]["errors"] == []
    payment = data["confirmPayment"]["payment"]
    assert (payment["id"], payment["cycleId"], payment["index"]) == (
        seen["payment"],
        seen["cycle"],
        0,
    )
    flags = (payment["confirmedByPayer"], payment["confirmedByPayee"])
    assert payment["state"] == PAYMENT_STATES[flags]


def _check_invoice(data: dict[str, Any], seen: dict[str, Any]) -> None:
    invoice = data["invoice"]
    issued = seen["invoice"]
    assert {k: invoice[k] for k in issued} == {**issued, "state": "settled"}
    assert invoice["cycleId"] == seen["cycle"] and invoice["commitment"].startswith("0x")
    seen["invoice_commitment"] = invoice["commitment"]


def _check_liabilities(data: dict[str, Any], seen: dict[str, Any]) -> None:
    # settled: nothing invoiced is outstanding; the disputed credit is not counted
    assert all(item["invoiced"] == "0" for item in data["liabilities"])


def _check_balances(data: dict[str, Any], seen: dict[str, Any]) -> None:
    """The same amounts as `liabilities`, summed per counterparty and currency."""
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for item in seen["liabilities"]:
        pair = sums.setdefault(
            (item["counterparty"], item["currency"]), {"payable": 0, "receivable": 0}
        )
        pair[item["direction"]] += sum(
            int(item[k]) for k in ("creditsCalculated", "creditsEndorsed", "invoiced")
        )
    balances = data["counterpartyBalances"]
    assert balances and [
        (b["counterparty"], b["currency"], int(b["payable"]), int(b["receivable"]), int(b["net"]))
        for b in balances
    ] == [
        (c, cur, s["payable"], s["receivable"], s["receivable"] - s["payable"])
        for (c, cur), s in sums.items()
    ]
    # while the invoice is due: Aurora owes Borealis its amount
    mine = next(
        b for b in balances if (b["counterparty"], b["currency"]) == (seen["seller"], "SEK")
    )
    due = seen["invoice"]["amountDue"]
    assert (mine["payable"], mine["receivable"], mine["net"]) == (due, "0", f"-{due}")


# ------------------------------------------------------------------ verifying without trust
# Checkpoints are posted on the server's schedule; in-process the test posts them: one after
# the marketplace, one at the end.


def _check_checkpoints(data: dict[str, Any], seen: dict[str, Any]) -> None:
    nodes = [e["node"] for e in data["checkpoints"]["edges"]]
    posted = seen["checkpoints"]
    assert [(n["index"], int(n["treeSize"]), n["root"]) for n in nodes] == [
        (c.index, c.tree_size, c.root) for c in posted
    ]
    assert int(nodes[0]["treeSize"]) < int(nodes[1]["treeSize"])
    assert {int(n["anchorChainId"]) for n in nodes} == {ANCHOR_CHAIN_ID}
    assert nodes[1]["stateRoot"] == posted[1].state_root and nodes[1]["anchorTx"].startswith("0x")


def _check_commitment_proof(data: dict[str, Any], seen: dict[str, Any]) -> None:
    proof = data["commitmentProof"]
    assert proof["commitment"] == seen["invoice_commitment"]
    assert proof["document"] == seen["invoice"]["document"] and proof["salt"]
    assert proof["checkpoint"]["index"] == seen["checkpoints"][1].index
    assert int(proof["leafIndex"]) < int(proof["treeSize"]) == seen["checkpoints"][1].tree_size
    steps = verify_bundle(proof["bundle"])
    assert [s.passed for s in steps] == [True, True, True], steps


def _check_state_proof(data: dict[str, Any], seen: dict[str, Any]) -> None:
    proof = data["recordStateProof"]
    values, invoice = proof["values"], seen["invoice"]
    assert (values["buyer"], values["seller"]) == (seen["buyer"].lower(), seen["seller"].lower())
    assert (values["charges"], values["credits"], values["amountDue"]) == (
        int(invoice["charges"]),
        int(invoice["credits"]),
        int(invoice["amountDue"]),
    )
    assert proof["checkpoint"]["index"] == seen["checkpoints"][1].index
    assert all(s.passed for s in verify_bundle(proof["bundle"]))


def _check_consistency(data: dict[str, Any], seen: dict[str, Any]) -> None:
    proof = data["consistencyProof"]
    old, new = proof["fromCheckpoint"], proof["toCheckpoint"]
    assert (old["index"], new["index"]) == tuple(c.index for c in seen["checkpoints"])
    assert merkle.verify_consistency(
        int(old["treeSize"]),
        int(new["treeSize"]),
        bytes.fromhex(old["root"][2:]),
        bytes.fromhex(new["root"][2:]),
        [bytes.fromhex(node[2:]) for node in proof["proof"]],
    )


# ------------------------------------------------------------------ holding its own key
# Cirrus, last (it signs nothing more for the platform to relay): takes its key and has
# the platform's copy erased.

PASSPHRASE = "correct horse battery staple"


def _check_exported(data: dict[str, Any], seen: dict[str, Any]) -> None:
    exported = data["exportMemberKey"]
    assert exported["errors"] == [] and exported["keyCustody"] == "EXPORTED"
    key = Account.from_key(Account.decrypt(json.loads(exported["keystore"]), PASSPHRASE))
    assert key.address == seen["members"][CIRRUS]
    assert seen["members"][CIRRUS] in exported["confirmationMessage"]
    seen["cirrus_key"], seen["confirmation"] = key, exported["confirmationMessage"]


def _custody_proof(seen: dict[str, Any], key: LocalAccount | None = None) -> dict[str, Any]:
    """The confirmation message signed (personal_sign) by the exported key, or by `key`."""
    signed = (key or seen["cirrus_key"]).sign_message(encode_defunct(text=seen["confirmation"]))
    return {"signature": "0x" + signed.signature.hex().removeprefix("0x")}


def _refused_as(error: dict[str, Any], code: str, field: str) -> None:
    assert (error["code"], error["field"]) == (code, field), error


def _check_custody(data: dict[str, Any], _seen: dict[str, Any]) -> None:
    assert data["confirmKeyCustody"] == {"keyCustody": "MEMBER", "errors": []}


FLOW: dict[str, Step] = {
    "Me": (AURORA, lambda _seen: {}, _check_me),
    "Members": (AURORA, lambda _seen: {"first": 10}, _check_members),
    "CreateApiKey": (
        AURORA,
        lambda _seen: {"label": "operations test", "memberAddress": None},
        _check_created,
    ),
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
    "ProposeSlaTemplate": (
        AURORA,
        lambda _seen: {"input": SILVER},
        _created(
            "proposeSlaTemplate",
            "ADOPT_SLA_TEMPLATE",
            lambda _seen: [
                "adopt SLA template Silver Ethernet: availability objective 99.9 % per "
                "calendar month; credit tiers: below 99.9 % → 10 % of MRC, below 99.5 % → "
                "30 % of MRC; resolved tickets deemed closed after 3 days; planned "
                "maintenance counted"
            ],
            "silver",
        ),
    ),
    "QueueProposal": (BOREALIS, lambda seen: {"proposalId": seen["silver"]["id"]}, _check_queued),
    "ExecuteProposal": (
        AURORA,
        lambda seen: {"proposalId": seen["silver"]["id"]},
        _check_executed,
    ),
    "SlaTemplates": (AURORA, lambda _seen: {}, _check_templates),
    "ProposeSlaTemplateRetirement": (
        BOREALIS,
        lambda seen: {"templateId": seen["silver_template"], "description": "Retire Silver"},
        _created(
            "proposeSlaTemplateRetirement",
            "RETIRE_SLA_TEMPLATE",
            lambda seen: [f"retire SLA template {_key(seen['silver_template'])}"],
            "retirement",
        ),
    ),
    "Modules": (AURORA, lambda _seen: {}, _check_modules),
    "ProposeModuleUpgrade": (
        AURORA,
        lambda seen: {
            "module": "Anchor",
            "implementation": seen["implementation"].address,
            "version": seen["modules"]["Anchor"]["version"] + 1,
            "description": "Anchor, rebuilt",
        },
        _created(
            "proposeModuleUpgrade",
            "UPGRADE_MODULE",
            lambda seen: [
                f"upgrade Anchor to v{seen['modules']['Anchor']['version'] + 1}: implementation "
                f"{seen['implementation'].address}, codehash {seen['implementation'].codehash}",
                f"record Anchor v{seen['modules']['Anchor']['version'] + 1} in the module registry",
            ],
            "upgrade",
        ),
    ),
    "ProposeRuleChange": (
        BOREALIS,
        lambda _seen: {"input": RULES},
        _created(
            "proposeRuleChange",
            "CHANGE_RULES",
            lambda _seen: [
                "change the rules for admitting a member: quorum 1/2 of the eligible members, "
                "approval more than 1/2 of For and Against, voting delay 0 s, voting period "
                "2 minutes, timelock delay 1 minute, late-quorum extension 30 s"
            ],
            "rule_change",
        ),
    ),
    "ProposeMemberRemoval": (
        AURORA,
        lambda seen: {"address": seen["members"][CIRRUS], "description": "Cirrus leaves"},
        _created(
            "proposeMemberRemoval",
            "REMOVE_MEMBER",
            lambda seen: [
                f"remove member {seen['names'][seen['members'][CIRRUS]]} ({seen['members'][CIRRUS]})"
            ],
            "removal",
        ),
    ),
    "CancelProposal": (
        AURORA,
        lambda seen: {"proposalId": seen["removal"]["id"]},
        _check_cancelled,
    ),
    "PublishOffering": (BOREALIS, _offering, _check_published),
    "SearchOfferings": (
        AURORA,
        lambda seen: {"country": "SE", "productType": "e-line", "minBandwidthMbps": 1000},
        _check_found,
    ),
    "Reputation": (
        AURORA,
        lambda seen: {"memberId": seen["seller"]},
        _check_reputation,
    ),
    "RequestQuote": (AURORA, _request, _check_requested),
    "Quotes": (BOREALIS, lambda _seen: {}, _check_quotes),
    "RespondToQuote": (BOREALIS, lambda seen: _response(seen["quote"]), _check_responded),
    "AcceptQuote": (AURORA, lambda seen: {"quoteId": seen["quote"]}, _check_accepted),
    "PlaceOrder": (
        AURORA,
        lambda seen: {"input": {"quoteId": seen["quote"], "requestedDelivery": _soon(20)}},
        _check_ordered,
    ),
    "Quote": (BOTH, lambda seen: {"id": seen["quote"]}, _check_quote),
    "AcknowledgeOrder": (
        BOREALIS,
        lambda seen: {"orderId": seen["order"]},
        _order_now("acknowledged", "acknowledgeOrder"),
    ),
    "StartOrder": (
        BOREALIS,
        lambda seen: {"orderId": seen["order"]},
        _order_now("inProgress", "startOrder"),
    ),
    "CompleteOrder": (
        BOREALIS,
        lambda seen: {"orderId": seen["order"], "circuit": {"circuitId": "STO-1000-7"}},
        _check_completed,
    ),
    "Order": (BOTH, lambda seen: {"id": seen["order"]}, _check_order),
    "Node": (BOTH, lambda seen: {"id": seen["order"]}, _check_node),
    "DeclineQuote": (
        BOREALIS,
        lambda seen: {
            "quoteId": seen["declinable"][seen["seller"]],
            "reason": "no fibre on that street",
        },
        _check_declined,
    ),
    "RejectQuote": (
        AURORA,
        lambda seen: {"requestId": seen["declinable_request"]},
        _check_rejected_quote,
    ),
    "RejectOrder": (
        BOREALIS,
        lambda seen: {"orderId": seen["rejected_order"], "reason": "the duct is full"},
        _order_now("rejected", "rejectOrder"),
    ),
    "CancelOrder": (
        AURORA,
        lambda seen: {"orderId": seen["cancelled_order"]},
        _order_now("cancelled", "cancelOrder"),
    ),
    "Orders": (AURORA, lambda _seen: {}, _check_orders),
    "RegisterServices": (BOREALIS, _circuits, _check_registered),
    "ConfirmServices": (
        AURORA,
        lambda seen: {"serviceIds": seen["registered"]},
        _check_confirmed,
    ),
    "EndService": (AURORA, _ending, _check_ended),
    "Service": (BOTH, lambda seen: {"id": seen["service"]}, _check_service),
    "Services": (AURORA, lambda _seen: {}, _check_services),
    "Events": (AURORA, lambda _seen: {"first": 100}, _check_events),
    "OpenTroubleTicket": (AURORA, _openings, _check_opened),
    "ImportTroubleTickets": (AURORA, _export, _check_imported),
    "AcknowledgeTroubleTicket": (
        BOREALIS,
        lambda seen: {"ticketIds": seen["tickets"] + seen["imported"]},
        _tickets_now("acknowledged", "acknowledgeTroubleTicket"),
    ),
    "ProgressTroubleTicket": (
        BOREALIS,
        lambda seen: {"ticketIds": seen["imported"], "state": "pending"},
        _tickets_now("pending", "progressTroubleTicket"),
    ),
    "CancelTroubleTicket": (
        AURORA,
        lambda seen: {"ticketIds": seen["imported"]},
        _tickets_now("cancelled", "cancelTroubleTicket"),
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
        lambda seen: {"period": seen["period"], "serviceIds": seen["to_endorse"]},
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
    "CounterpartyBalances": (AURORA, lambda _seen: {}, _check_balances),
    "RunSettlementCycle": (AURORA, lambda _seen: {"currency": "SEK"}, _check_cycle),
    "SettlementCycles": (AURORA, lambda _seen: {}, _check_cycles),
    "ConfirmPayment": (
        BOTH,
        lambda seen: {"paymentId": seen["payment"]},
        _check_confirmed_payment,
    ),
    "Invoice": (BOTH, lambda seen: {"id": seen["invoice"]["id"]}, _check_invoice),
    "Liabilities": (AURORA, lambda _seen: {}, _check_liabilities),
    "Checkpoints": (AURORA, lambda _seen: {}, _check_checkpoints),
    "CommitmentProof": (
        AURORA,
        lambda seen: {"documentId": seen["invoice_commitment"]},
        _check_commitment_proof,
    ),
    "RecordStateProof": (
        AURORA,
        lambda seen: {"id": seen["invoice"]["id"]},
        _check_state_proof,
    ),
    "ConsistencyProof": (
        AURORA,
        lambda seen: {
            "fromIndex": seen["checkpoints"][0].index,
            "toIndex": seen["checkpoints"][1].index,
        },
        _check_consistency,
    ),
    "ExportMemberKey": (CIRRUS, lambda _seen: {"passphrase": PASSPHRASE}, _check_exported),
    "ConfirmKeyCustody": (CIRRUS, _custody_proof, _check_custody),
}


# ------------------------------------------------------------------ what happens before a step
# Steps that need what no document does: a signature, the node's clock moved on, a
# checkpoint posted, an implementation deployed, or records in the right state first.


@dataclass
class Run:
    members: list[Api]
    platform: Platform
    documents: dict[str, str]
    seen: dict[str, Any]

    def __call__(self, member: int, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One operation document as a member; its payload (the one root field's answer),
        asserted free of errors."""
        (payload,) = self.members[member](self.documents[name], variables).values()
        assert payload["errors"] == [], (name, payload["errors"])
        return payload

    def refused(self, member: int, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One operation document as a member, refused: its first error."""
        (payload,) = self.members[member](self.documents[name], variables).values()
        assert payload["errors"], (name, payload)
        return dict(payload["errors"][0])

    def pass_time(self, moment: str) -> None:
        """Move the node's clock just past `moment` (an answer's DateTime)."""
        gap = (
            int(datetime.fromisoformat(moment).timestamp())
            - self.platform.gateway.next_block_time()
        )
        self.platform.gateway.increase_time(max(gap, 0) + 2)

    def checkpoint(self) -> None:
        self.platform.sync()
        posted = self.platform.anchoring().checkpoint()
        assert posted is not None
        self.seen.setdefault("checkpoints", []).append(posted)


def _relay_ballot(run: Run) -> None:
    # Borealis signs the ballot Aurora fetched for it, with its own key; Aurora relays.
    seen = run.seen
    voter = seen["members"][BOREALIS]
    typed = run.members[BOREALIS](
        run.documents["Ballot"], {"proposalId": seen["proposal_id"], "support": "AGAINST"}
    )["ballot"]
    signature = Account.sign_typed_data(
        run.platform.keystore.account(voter).key, full_message=typed
    ).signature
    seen["relay"] = {
        "proposalId": seen["proposal_id"],
        "support": "AGAINST",
        "voter": voter,
        "signature": "0x" + bytes(signature).hex(),
    }


def _silver_passes(run: Run) -> None:
    for member in BOTH:
        voted = run(member, "CastVote", {"proposalId": run.seen["silver"]["id"], "support": "FOR"})
        assert voted["proposal"]["state"] == "ACTIVE"
    run.pass_time(run.seen["silver"]["voteEnd"])


def _executable(run: Run) -> None:
    early = run.refused(AURORA, "ExecuteProposal", {"proposalId": run.seen["silver"]["id"]})
    assert early["code"] == "INVALID_STATE"  # the timelock's delay is not over
    run.pass_time(run.seen["silver_eta"])


def _new_implementation(run: Run) -> None:
    # as `coop modules deploy Anchor` does: today's source, deployed and recorded
    platform = run.platform
    run.seen["implementation"] = upgrades.deploy_implementation(
        platform.gateway, platform.operator(), platform.compiler, platform.deployment, "Anchor"
    )
    records.save(platform.deployment, platform.records_path)


def _hidden_from_others(run: Run) -> None:
    # Cirrus, no party to the order, learns nothing of it by its id: as if it did not exist
    body = run.members[CIRRUS].post(run.documents["Node"], {"id": run.seen["order"]}).json()
    assert body["data"] is None and [e["extensions"]["code"] for e in body["errors"]] == [
        "NOT_FOUND"
    ]


def _request_to_decline(run: Run) -> None:
    seen = run.seen
    sellers = [seen["seller"], seen["members"][CIRRUS]]
    requested = run(AURORA, "RequestQuote", _request(seen, "4712", sellers))
    seen["declinable_request"] = requested["requestId"]
    seen["declinable"] = {q["seller"]: q["id"] for q in requested["quotes"]}


def _order_placed(key: str) -> Callable[[Run], None]:
    """An order of Aurora's from Borealis, submitted (request, answer, acceptance, order)."""

    def placed(run: Run) -> None:
        seen = run.seen
        quote = run(AURORA, "RequestQuote", _request(seen, key))["quotes"][0]["id"]
        run(BOREALIS, "RespondToQuote", _response(quote))
        run(AURORA, "AcceptQuote", {"quoteId": quote})
        order = run(
            AURORA, "PlaceOrder", {"input": {"quoteId": quote, "requestedDelivery": _soon(20)}}
        )
        seen[f"{key}_order"] = order["order"]["id"]

    return placed


BEFORE: dict[str, Callable[[Run], None]] = {
    "CastVoteBySig": _relay_ballot,
    "QueueProposal": _silver_passes,
    "ExecuteProposal": _executable,
    "ProposeModuleUpgrade": _new_implementation,
    "Node": _hidden_from_others,
    "DeclineQuote": _request_to_decline,
    "RejectOrder": _order_placed("rejected"),
    "CancelOrder": _order_placed("cancelled"),
    "OpenTroubleTicket": lambda run: run.checkpoint(),
    # the month of the tickets must be over
    "CloseSlaPeriod": lambda run: run.platform.gateway.increase_time(35 * 86400),
    "Checkpoints": lambda run: run.checkpoint(),
    # a passphrase too short, a confirmation signed by another key: refused, nothing changes
    "ExportMemberKey": lambda run: _refused_as(
        run.refused(CIRRUS, "ExportMemberKey", {"passphrase": "short"}), "VALIDATION", "passphrase"
    ),
    "ConfirmKeyCustody": lambda run: _refused_as(
        run.refused(CIRRUS, "ConfirmKeyCustody", _custody_proof(run.seen, Account.create())),
        "VALIDATION",
        "signature",
    ),
    # what Aurora owes and is owed while the invoice is due, item by item
    "CounterpartyBalances": lambda run: run.seen.update(
        liabilities=run.members[AURORA](run.documents["Liabilities"])["liabilities"]
    ),
}


def documents() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(OPERATIONS_DIR.glob("*.graphql"))}


def test_every_operation_document_runs(
    as_member: list[Api], platform: Platform, addresses: list[str], template_id: str
) -> None:
    texts = documents()
    assert set(texts) == set(FLOW), "each operation document needs its step in FLOW"
    assert set(BEFORE) <= set(FLOW)
    seen: dict[str, Any] = {
        "template": template_id,
        "members": addresses,
        "buyer": addresses[AURORA],
        "seller": addresses[BOREALIS],
    }
    run = Run(as_member, platform, texts, seen)
    for name, (actor, variables, check) in FLOW.items():
        if name in BEFORE:
            BEFORE[name](run)
        for member in actor if isinstance(actor, tuple) else (actor,):
            check(as_member[member](texts[name], variables(seen)), seen)


# ------------------------------------------------------------------ a document for every field


def _selected_root_fields(document: DocumentNode) -> set[tuple[OperationType, str]]:
    """(query or mutation, root field) for every root field an operation of `document`
    selects, through fragments too."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def fields(selection_set: SelectionSetNode) -> set[str]:
        names: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                names |= fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                names |= fields(fragments[selection.name.value].selection_set)
        return names

    return {
        (d.operation, name)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        for name in fields(d.selection_set)
        if not name.startswith("__")
    }


def test_every_query_and_mutation_has_an_operation_document() -> None:
    from cooperative.api.schema import schema as coop_schema

    schema = build_schema(str(coop_schema))
    assert schema.query_type is not None and schema.mutation_type is not None
    roots = {(OperationType.QUERY, name) for name in schema.query_type.fields} | {
        (OperationType.MUTATION, name) for name in schema.mutation_type.fields
    }
    covered: set[tuple[OperationType, str]] = set()
    for name, text in documents().items():
        document = parse(text)
        assert validate(schema, document) == [], name
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert [o.name.value for o in operations if o.name] == [name], (
            f"{name}.graphql holds one operation, named {name}"
        )
        covered |= _selected_root_fields(document)
    missing = sorted(f"{kind.value} {field}" for kind, field in roots - covered)
    assert missing == [], f"no document in graphql/operations/ selects {', '.join(missing)}"
