"""The members' commands: list proposals, propose, vote, queue, execute, cancel.

They go through the GraphQL API with the member's API key, so the platform's rules and
isolation apply exactly as for any other client. A proposal is named by its id
(`Proposal:0x…`), its hex alone, or an abbreviation of at least 6 hex digits, and a template
by its id (`SlaTemplate:7`) or number (`7`): the CLI sends the API's id, and the API
resolves an abbreviation to the one proposal whose id starts with it.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cooperative.cli.client import PAYLOAD_ERRORS, ApiKeyOption, Client, UrlOption
from cooperative.cli.common import (
    PROPOSAL_ID_HELP,
    app,
    console,
    fail,
    proposal_id,
    typed_id,
    typed_key,
)

propose_app = typer.Typer(help="Propose something for the members' vote.", no_args_is_help=True)
app.add_typer(propose_app, name="propose")

PROPOSAL_FIELDS = """id kind state proposer description voteEnd votingExtended eta
  tally { forVotes againstVotes abstainVotes eligible quorumVotes }
  actions { contract function args }"""

DescriptionOption = Annotated[
    str, typer.Option("--description", "-d", help="What the members vote on, in words.")
]
ProposalArgument = Annotated[str, typer.Argument(help=PROPOSAL_ID_HELP, show_default=False)]


class Support(StrEnum):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


def _print_proposal(proposal: dict[str, Any], verb: str) -> None:
    tally = proposal["tally"]
    console.print(
        f"{verb} {proposal['id']}  {proposal['kind']}  [bold]{proposal['state']}[/]  "
        f"for {tally['forVotes']} / against {tally['againstVotes']} / abstain {tally['abstainVotes']} "
        f"of {tally['eligible']} (quorum {tally['quorumVotes']})",
        highlight=False,
    )


def _propose(client: Client, field: str, variables: dict[str, Any]) -> None:
    """Run the `field` mutation (its input type is `<Field>Input`) and print the proposal."""
    mutation = field[0].upper() + field[1:]
    payload = client.mutate(
        f"mutation($in: {mutation}Input!) {{ {field}(input: $in) {{ proposal {{ {PROPOSAL_FIELDS} }} {PAYLOAD_ERRORS} }} }}",
        field,
        {"in": variables},
    )
    _print_proposal(payload["proposal"], "proposed")


@app.command()
def proposals(
    state: Annotated[
        str | None, typer.Option(help="PENDING, ACTIVE, SUCCEEDED, QUEUED, EXECUTED, ...")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="ADMIT_MEMBER, UPGRADE_MODULE, ...")] = None,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """List proposals, newest first."""
    client = Client(url, api_key)
    data = client.query(
        f"query($state: ProposalState, $kind: ProposalKind) {{ proposals(first: 100, state: $state, kind: $kind) {{ edges {{ node {{ {PROPOSAL_FIELDS} }} }} }} }}",
        {"state": state.upper() if state else None, "kind": kind.upper() if kind else None},
    )
    table = Table()
    for column in (
        "id",
        "kind",
        "state",
        "for",
        "against",
        "abstain",
        "eligible",
        "voting ends",
        "description",
    ):
        table.add_column(column, no_wrap=column == "id")  # an id is copied whole
    for edge in data["proposals"]["edges"]:
        p = edge["node"]
        t = p["tally"]
        ends = datetime.fromisoformat(p["voteEnd"]).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            p["id"], p["kind"], p["state"], str(t["forVotes"]), str(t["againstVotes"]), str(t["abstainVotes"]),
            str(t["eligible"]), ends, p["description"][:60],
        )  # fmt: skip
    console.print(table)


@app.command()
def vote(
    proposal: ProposalArgument,
    support: Annotated[
        Support, typer.Argument(help="for, against or abstain.", case_sensitive=False)
    ],
    reason: Annotated[str, typer.Option(help="Why, for the other members.")] = "",
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Vote on an active proposal (PROPOSAL: its id, Proposal:0x…, or an abbreviation such
    as 1a2b3c) with the member's custodial key, or COOP_KEYSTORE's."""
    proposal_gid = proposal_id(proposal)
    payload = Client(url, api_key).mutate(
        f"mutation($in: CastVoteInput!) {{ castVote(input: $in) {{ proposal {{ {PROPOSAL_FIELDS} }} {PAYLOAD_ERRORS} }} }}",
        "castVote",
        {"in": {"proposalId": proposal_gid, "support": support.name, "reason": reason}},
    )
    _print_proposal(payload["proposal"], "voted on")


def _lifecycle(field: str, verb: str, proposal: str, api_key: str | None, url: str | None) -> None:
    proposal_gid = proposal_id(proposal)
    payload = Client(url, api_key).mutate(
        f"mutation($in: ProposalIdInput!) {{ {field}(input: $in) {{ proposal {{ {PROPOSAL_FIELDS} }} {PAYLOAD_ERRORS} }} }}",
        field,
        {"in": {"proposalId": proposal_gid}},
    )
    _print_proposal(payload["proposal"], verb)


@app.command()
def queue(proposal: ProposalArgument, api_key: ApiKeyOption = None, url: UrlOption = None) -> None:
    """Queue a succeeded proposal in the Timelock (PROPOSAL: its id or an abbreviation)."""
    _lifecycle("queueProposal", "queued", proposal, api_key, url)


@app.command()
def execute(
    proposal: ProposalArgument, api_key: ApiKeyOption = None, url: UrlOption = None
) -> None:
    """Execute a queued proposal whose delay is over (PROPOSAL: its id or an abbreviation)."""
    _lifecycle("executeProposal", "executed", proposal, api_key, url)


@app.command()
def cancel(proposal: ProposalArgument, api_key: ApiKeyOption = None, url: UrlOption = None) -> None:
    """Cancel a proposal (its proposer before any vote; an admin as guardian). PROPOSAL: its
    id or an abbreviation."""
    _lifecycle("cancelProposal", "canceled", proposal, api_key, url)


@propose_app.command("admit")
def propose_admit(
    name: Annotated[str, typer.Option(help="The carrier's name.")],
    description: DescriptionOption,
    address: Annotated[
        str | None, typer.Option(help="Its own address; omitted: a custodial key is made.")
    ] = None,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Propose admitting a carrier."""
    _propose(
        Client(url, api_key),
        "proposeMemberAdmission",
        {"name": name, "address": address, "description": description},
    )


@propose_app.command("remove")
def propose_remove(
    address: Annotated[
        str, typer.Option(help="The member's address (0x…), or its id (Member:0x…).")
    ],
    description: DescriptionOption,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Propose removing a member."""
    member = typed_key(address, "Member", "a member")
    _propose(
        Client(url, api_key),
        "proposeMemberRemoval",
        {"address": member, "description": description},
    )


@propose_app.command("sla-template")
def propose_sla_template(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSON: name, document, objectivePpm, tiers [{floorPpm, creditBps}], ..."
        ),
    ],
    description: DescriptionOption,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Propose adopting an SLA template described in a JSON file."""
    try:
        template = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the template {file}: {exc}")
        return
    _propose(
        Client(url, api_key),
        "proposeSlaTemplate",
        {**template, "description": description},
    )


@propose_app.command("retire-template")
def propose_retire_template(
    template: Annotated[
        str,
        typer.Argument(
            help="The template's id (SlaTemplate:7) or just its number (7).", show_default=False
        ),
    ],
    description: DescriptionOption,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Propose retiring an SLA template (TEMPLATE: SlaTemplate:7, or 7)."""
    _propose(
        Client(url, api_key),
        "proposeSlaTemplateRetirement",
        {
            "templateId": typed_id(template, "SlaTemplate", "an SLA template", numeric=True),
            "description": description,
        },
    )


def _fraction(text: str, option: str) -> tuple[int, int]:
    try:
        numerator, denominator = (int(part) for part in text.split("/"))
    except ValueError:
        fail(f"{option} takes a fraction such as 1/2 or 2/3, not {text!r}")
        raise
    return numerator, denominator


@propose_app.command("rules")
def propose_rules(
    kind: Annotated[str, typer.Option(help="The kind whose rules change, e.g. ADMIT_MEMBER.")],
    quorum: Annotated[str, typer.Option(help="Share of eligible members who must vote, e.g. 1/2.")],
    approval: Annotated[str, typer.Option(help="Share of For among For+Against, e.g. 1/2 or 2/3.")],
    inclusive: Annotated[
        bool,
        typer.Option("--at-least/--more-than", help="Approval at least, or more than, the share."),
    ],
    voting_period: Annotated[int, typer.Option(help="Seconds of voting.")],
    timelock_delay: Annotated[int, typer.Option(help="Seconds between queueing and execution.")],
    description: DescriptionOption,
    voting_delay: Annotated[int, typer.Option(help="Seconds before voting opens.")] = 0,
    extension: Annotated[int, typer.Option(help="Late-quorum extension, seconds.")] = 0,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Propose new rules for a kind of proposal."""
    qn, qd = _fraction(quorum, "--quorum")
    an, ad = _fraction(approval, "--approval")
    _propose(
        Client(url, api_key),
        "proposeRuleChange",
        {
            "kind": kind.upper(),
            "quorumNumerator": qn,
            "quorumDenominator": qd,
            "approvalNumerator": an,
            "approvalDenominator": ad,
            "approvalInclusive": inclusive,
            "votingDelaySeconds": voting_delay,
            "votingPeriodSeconds": voting_period,
            "timelockDelaySeconds": timelock_delay,
            "lateQuorumExtensionSeconds": extension,
            "description": description,
        },
    )
