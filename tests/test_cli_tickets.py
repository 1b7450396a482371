"""`coop tickets import FILE.csv` against a real `coop serve --demo`: the good rows are
opened, every bad row is reported with its line number and reason and not written, and
running the same import again opens nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.chain import ChainGateway
from deployments.node import free_loopback_port, running_node_url
from tests.test_cli_governance import coop
from tests.test_e2e import coop_serve
from tests.test_governance_api import GOLD

pytestmark = pytest.mark.e2e


def graphql(
    url: str, key: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    body = httpx.post(
        url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    ).json()
    assert "errors" not in body, body
    return body["data"]


def test_import_reports_bad_rows_by_line_and_opens_the_good_ones_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with coop_serve(data_dir, free_loopback_port()) as credentials:
        url = credentials["graphql_url"]
        aurora, borealis = (m["apiKey"] for m in credentials["members"][:2])
        admin = credentials["admin"]["apiKey"]
        chain = ChainGateway(running_node_url(data_dir / "chain") or "")
        proposal = graphql(
            url,
            aurora,
            "mutation($in: ProposeSlaTemplateInput!) { proposeSlaTemplate(input: $in) { proposal { id } } }",
            {"in": GOLD},
        )["proposeSlaTemplate"]["proposal"]["id"]
        for key in (aurora, borealis):
            graphql(
                url,
                key,
                "mutation($id: ID!) { castVote(input: {proposalId: $id, support: FOR}) { errors { code } } }",
                {"id": proposal},
            )
        chain.increase_time(61)
        graphql(
            url,
            admin,
            "mutation($id: ID!) { queueProposal(input: {proposalId: $id}) { errors { code } } }",
            {"id": proposal},
        )
        chain.increase_time(31)
        graphql(
            url,
            admin,
            "mutation($id: ID!) { executeProposal(input: {proposalId: $id}) { errors { code } } }",
            {"id": proposal},
        )
        template = graphql(url, aurora, "{ slaTemplates { id } }")["slaTemplates"][0]["id"]
        aurora_address = graphql(url, aurora, "{ me { member { address } } }")["me"]["member"][
            "address"
        ]
        now = datetime.fromtimestamp(chain.w3.eth.get_block("latest")["timestamp"], UTC)
        registered = graphql(
            url,
            borealis,
            "mutation($in: RegisterServicesInput!) { registerServices(input: $in) { services { id } errors { code message } } }",
            {
                "in": {
                    "buyer": aurora_address,
                    "circuits": [
                        {
                            "slaTemplate": template,
                            "currency": "EUR",
                            "mrc": "1000",
                            "startedAt": (now - timedelta(days=90)).isoformat(),
                        }
                    ]
                    * 2,
                }
            },
        )["registerServices"]["services"]
        ids = [s["id"] for s in registered]
        numbers = [service_id.removeprefix("Service:") for service_id in ids]
        assert all(number.isdigit() for number in numbers), ids
        graphql(
            url,
            aurora,
            "mutation($ids: [ID!]!) { confirmServices(input: {serviceIds: $ids}) { errors { code } } }",
            {"ids": ids},
        )

        start = max(
            now - timedelta(minutes=20), datetime(now.year, now.month, 1, tzinfo=UTC)
        ).isoformat()
        csv_file = tmp_path / "tickets.csv"
        # a service by its id (Service:12) or by its number (12), as a NOC export has it
        csv_file.write_text(
            "service_id,impact,started_at,description,external_id\n"
            f"{ids[0]},down,{start},LOS on port 3,INC-1\n"  # line 2
            f"{ids[0]},flaky,{start},?,INC-2\n"  # line 3: unknown impact
            f'{numbers[1]},degraded,{start},"CRC errors, both directions",INC-3\n'  # line 4
            f"{numbers[1]},down,2026-11-02T08:00:00,no zone,INC-4\n"  # line 5: no time zone
            f"999999,down,{start},not our service,INC-5\n"  # line 6: refused by the platform
            f"{ids[1]},intermittent,{start},flapping,INC-6\n"  # line 7
        )
        imported = coop("tickets", "import", str(csv_file), "--batch", "2", key=aurora, url=url)
        assert imported.returncode == 1 and "Traceback" not in imported.stderr
        assert "opened 3 tickets; 3 rows not imported" in imported.stdout
        reported = [line for line in imported.stderr.splitlines() if line.startswith("line ")]
        assert [r.split(":")[0] for r in reported] == ["line 3", "line 5", "line 6"]
        assert "impact must be one of" in reported[0] and "time zone" in reported[1]
        assert "service 999999 does not exist" in reported[2]

        tickets = graphql(
            url, aurora, "{ troubleTickets { edges { node { id impact document } } } }"
        )["troubleTickets"]["edges"]
        assert sorted(t["node"]["document"]["externalId"] for t in tickets) == [
            "INC-1",
            "INC-3",
            "INC-6",
        ]
        # the same file again: every batch replays, nothing is opened twice
        again = coop("tickets", "import", str(csv_file), "--batch", "2", key=aurora, url=url)
        assert "opened 3 tickets" in again.stdout
        assert (
            len(
                graphql(url, aurora, "{ troubleTickets { edges { node { id } } } }")[
                    "troubleTickets"
                ]["edges"]
            )
            == 3
        )

        missing = coop("tickets", "import", str(tmp_path / "nope.csv"), key=aurora, url=url)
        assert (
            missing.returncode == 1
            and "cannot read" in missing.stderr
            and "Traceback" not in missing.stderr
        )
