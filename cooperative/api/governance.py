"""GraphQL for the DAO: proposals, votes, SLA templates, modules, and the mutations that
propose, vote, queue, execute and cancel. Names are DESIGN's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from eth_utils import keccak
from strawberry.scalars import JSON

from cooperative.access import DataAccess, encode_cursor
from cooperative.api.context import AppInfo, mutate, query
from cooperative.api.ids import global_id, key_of, reference, refetchable
from cooperative.api.scalars import BigInt
from cooperative.api.types import Connection, Edge, Node, PageInfo, UserError
from cooperative.errors import NotFound, ValidationFailed
from cooperative.proposals import Proposals, ProposalView
from cooperative.store import models
from cooperative.transactions import chain_errors
from governance import rules as gov_rules
from governance import service as gov

ProposalKind = strawberry.enum(
    gov_rules.Kind, name="ProposalKind", description="What a proposal decides."
)
ProposalStateEnum = strawberry.enum(gov_rules.ProposalState, name="ProposalState")
VoteSupport = strawberry.enum(gov_rules.Support, name="VoteSupport")


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _proposals(info: AppInfo, access: DataAccess) -> Proposals:
    return Proposals(info.context.platform, access)


# ------------------------------------------------------------------ types


@strawberry.type(description="One call a proposal makes the Timelock perform, decoded.")
class ProposalAction:
    target: str
    contract: str | None = strawberry.field(description="The deployed contract's name, when known.")
    function: str | None
    args: JSON
    value: BigInt  # type: ignore[valid-type]
    summary: str = strawberry.field(
        description='The call in words, with members\' names: "admit Delta Carrier (0x…)", "adopt SLA template Gold: …", "upgrade Assurance to v2: …".'
    )


@strawberry.type(description="Votes counted so far (for a finished proposal: the result).")
class Tally:
    for_votes: int
    against_votes: int
    abstain_votes: int
    eligible: int = strawberry.field(description="Members eligible at the proposal's snapshot.")
    quorum_votes: int = strawberry.field(
        description="Votes (any) needed for quorum, fixed at creation."
    )


@strawberry.type
class Vote:
    voter: str
    support: VoteSupport  # type: ignore[valid-type]
    reason: str
    block: BigInt  # type: ignore[valid-type]
    tx_hash: str

    @classmethod
    def from_row(cls, row: models.VoteRecord) -> Vote:
        return cls(
            voter=row.voter,
            support=gov_rules.Support(row.support),
            reason=row.reason,
            block=row.block,
            tx_hash=row.tx,
        )


@strawberry.type(description="A step in a proposal's life, from its event on chain.")
class ProposalStateChange:
    event: str
    block: BigInt  # type: ignore[valid-type]
    at: datetime
    tx_hash: str
    detail: JSON


@strawberry.type(description="A governance proposal.")
class Proposal(Node):
    kind: ProposalKind  # type: ignore[valid-type]
    proposer: str
    description: str
    state: ProposalStateEnum  # type: ignore[valid-type]
    actions: list[ProposalAction]
    snapshot: BigInt = strawberry.field(description="The member register's epoch at creation.")  # type: ignore[valid-type]
    vote_start: datetime
    vote_end: datetime
    voting_extended: bool
    eta: datetime | None = strawberry.field(description="When queued: the earliest execution.")
    tally: Tally
    created_block: BigInt  # type: ignore[valid-type]

    @property
    def _key(self) -> str:
        return key_of(self.id, "Proposal", "id")

    @strawberry.field(description="The votes cast, with their reasons.")
    def votes(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[Vote]:
        return query(
            info,
            lambda access: Connection.from_page(
                _proposals(info, access).votes(self._key, first, after), Vote.from_row
            ),
        )

    @strawberry.field(description="The caller's own vote, if it voted.")
    def viewer_vote(self, info: AppInfo) -> Vote | None:
        def work(access: DataAccess) -> Vote | None:
            row = _proposals(info, access).viewer_vote(self._key)
            return Vote.from_row(row) if row else None

        return query(info, work)

    @strawberry.field(description="Created, extended, queued, executed, canceled — in order.")
    def history(self, info: AppInfo) -> list[ProposalStateChange]:
        def work(access: DataAccess) -> list[ProposalStateChange]:
            return [
                ProposalStateChange(
                    event=e.name,
                    block=e.block,
                    at=_time(e.timestamp),
                    tx_hash=e.tx,
                    detail=e.detail,
                )
                for e in _proposals(info, access).history(self._key)
            ]

        return query(info, work)

    @classmethod
    def from_view(cls, view: ProposalView) -> Proposal:
        record, tally = view.record, view.tally
        return cls(
            id=global_id("Proposal", record.id),
            kind=gov_rules.Kind(record.kind),
            proposer=record.proposer,
            description=record.description,
            state=view.state,
            actions=[
                ProposalAction(
                    target=a["target"],
                    contract=a["contract"],
                    function=a["function"],
                    args=a["args"],
                    value=int(v),
                    summary=summary,
                )
                for a, v, summary in zip(record.actions, record.values, view.summaries, strict=True)
            ],
            snapshot=record.snapshot,
            vote_start=_time(tally.vote_start),
            vote_end=_time(tally.vote_end),
            voting_extended=tally.extended,
            eta=_time(tally.eta) if tally.eta else None,
            tally=Tally(
                for_votes=tally.for_votes,
                against_votes=tally.against_votes,
                abstain_votes=tally.abstain_votes,
                eligible=tally.eligible,
                quorum_votes=tally.quorum_votes,
            ),
            created_block=record.created_block,
        )


@strawberry.type
class CreditTier:
    floor_ppm: int = strawberry.field(
        description="Availability below this, in parts per million ..."
    )
    credit_bps: int = strawberry.field(
        description="... earns this share of the MRC, in basis points."
    )


@strawberry.type(description="An SLA template the members adopted.")
class SlaTemplate(Node):
    name: str
    version: int
    document_commitment: str
    metric: str
    objective_ppm: int
    measurement_period: str
    tiers: list[CreditTier]
    resolution_window_seconds: int
    exclude_planned_maintenance: bool
    adopted_at: datetime
    retired_at: datetime | None
    in_force: bool

    @classmethod
    def from_view(cls, t: gov.TemplateView) -> SlaTemplate:
        return cls(
            id=global_id("SlaTemplate", t.id),
            name=t.name,
            version=t.version,
            document_commitment="0x" + t.document.hex(),
            metric="availability",
            objective_ppm=t.objective_ppm,
            measurement_period="calendar month",
            tiers=[CreditTier(floor_ppm=x.floor_ppm, credit_bps=x.credit_bps) for x in t.tiers],
            resolution_window_seconds=t.resolution_window,
            exclude_planned_maintenance=t.exclude_planned_maintenance,
            adopted_at=_time(t.adopted_at),
            retired_at=_time(t.retired_at) if t.retired_at else None,
            in_force=t.retired_at == 0,
        )


@strawberry.type(description="A cooperative module behind its beacon proxy.")
class Module:
    name: str
    proxy: str
    beacon: str
    implementation: str
    version: int
    codehash: str


# ------------------------------------------------------------------ queries


@strawberry.type
class GovernanceQuery:
    @strawberry.field(description="Proposals, newest first; filter by kind and state.")
    def proposals(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        kind: ProposalKind | None = None,  # type: ignore[valid-type]
        state: ProposalStateEnum | None = None,  # type: ignore[valid-type]
    ) -> Connection[Proposal]:
        def work(access: DataAccess) -> Connection[Proposal]:
            page, views = _proposals(info, access).list(first, after, kind, state)
            edges = [
                Edge(cursor=encode_cursor(v.record.id), node=Proposal.from_view(v)) for v in views
            ]
            return Connection(
                edges=edges,
                page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
            )

        return query(info, work)

    @strawberry.field(description="One proposal, with votes, tallies and the caller's own vote.")
    def proposal(self, info: AppInfo, id: strawberry.ID) -> Proposal:
        return _proposal(info, key_of(id, "Proposal", "id"))

    @strawberry.field(
        description="The EIP-712 typed data a member signs (eth_signTypedData_v4) to vote with its own key; submit the signature with castVoteBySig."
    )
    def ballot(
        self,
        info: AppInfo,
        proposal_id: strawberry.ID,
        support: VoteSupport,
        voter: str | None = None,
    ) -> JSON:  # type: ignore[valid-type]
        key = key_of(proposal_id, "Proposal", "proposalId")

        def work(access: DataAccess) -> Any:
            full_id = _proposals(info, access).get(key).record.id
            address = voter or access.viewer.member_address
            if address is None:
                raise ValidationFailed("say which member signs: `voter`", field="voter")
            with chain_errors():
                return info.context.platform.governance.ballot(
                    full_id, gov_rules.Support(support), address
                )

        return query(info, work)

    @strawberry.field(description="SLA templates, in force and retired.")
    def sla_templates(self, info: AppInfo, in_force_only: bool = False) -> list[SlaTemplate]:
        def work(_access: DataAccess) -> list[SlaTemplate]:
            with chain_errors():
                views = gov.sla_templates(info.context.platform.governance)
            return [
                SlaTemplate.from_view(t) for t in views if not in_force_only or t.retired_at == 0
            ]

        return query(info, work)

    @strawberry.field(description="The cooperative's modules and their current implementations.")
    def modules(self, info: AppInfo) -> list[Module]:
        def work(_access: DataAccess) -> list[Module]:
            with chain_errors():
                views = gov.modules(info.context.platform.governance)
            return [
                Module(
                    name=m.name,
                    proxy=m.proxy,
                    beacon=m.beacon,
                    implementation=m.implementation,
                    version=m.version,
                    codehash="0x" + m.codehash.hex(),
                )
                for m in views
            ]

        return query(info, work)


# ------------------------------------------------------------------ mutations


@strawberry.type
class ProposalPayload:
    proposal: Proposal | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# the by-id reads, which node(id:) uses too
@refetchable("Proposal")
def _proposal(info: AppInfo, key: str) -> Proposal:
    return query(info, lambda access: Proposal.from_view(_proposals(info, access).get(key)))


@refetchable("SlaTemplate")
def _sla_template(info: AppInfo, key: int) -> SlaTemplate:
    def work(_access: DataAccess) -> SlaTemplate:
        with chain_errors():
            views = gov.sla_templates(info.context.platform.governance)
        for view in views:
            if view.id == key:
                return SlaTemplate.from_view(view)
        raise NotFound(f"SLA template {key} does not exist")

    return query(info, work)


@strawberry.input
class ProposeMemberAdmissionInput:
    name: str
    description: str
    address: str | None = strawberry.field(
        default=None,
        description="The carrier's own address; omitted: the platform makes it a custodial key.",
    )


@strawberry.input
class ProposeMemberRemovalInput:
    address: str
    description: str


@strawberry.input
class CreditTierInput:
    floor_ppm: int
    credit_bps: int


@strawberry.input
class ProposeSlaTemplateInput:
    name: str
    document: str = strawberry.field(
        description="The template's full text; its keccak256 is committed on chain."
    )
    objective_ppm: int
    tiers: list[CreditTierInput]
    description: str
    resolution_window_seconds: int = 5 * 86_400
    exclude_planned_maintenance: bool = True


@strawberry.input
class ProposeSlaTemplateRetirementInput:
    template_id: strawberry.ID = reference("SlaTemplate")
    description: str


@strawberry.input
class ProposeModuleUpgradeInput:
    module: str
    implementation: str
    version: int
    description: str


@strawberry.input
class ProposeRuleChangeInput:
    kind: ProposalKind  # type: ignore[valid-type]
    quorum_numerator: int
    quorum_denominator: int
    approval_numerator: int
    approval_denominator: int
    approval_inclusive: bool
    voting_delay_seconds: int
    voting_period_seconds: int
    timelock_delay_seconds: int
    late_quorum_extension_seconds: int
    description: str


@strawberry.input
class CastVoteInput:
    proposal_id: strawberry.ID = reference(
        "Proposal",
        description="The proposal's id. A person typing it may abbreviate it to its start "
        "(`Proposal:0x` and at least 6 hex digits) where no other proposal starts the same.",
    )
    support: VoteSupport  # type: ignore[valid-type]
    reason: str = ""


@strawberry.input
class CastVoteBySigInput:
    proposal_id: strawberry.ID = reference("Proposal")
    support: VoteSupport  # type: ignore[valid-type]
    voter: str
    signature: str = strawberry.field(
        description="65 bytes r || s || v, 0x-hex, over `ballot`'s typed data."
    )


@strawberry.input
class ProposalIdInput:
    proposal_id: strawberry.ID = reference("Proposal")


def _proposal_mutation(info: AppInfo, input: Any, work: Any) -> ProposalPayload:
    return mutate(
        info,
        ProposalPayload,
        lambda access: ProposalPayload(proposal=Proposal.from_view(work(_proposals(info, access)))),
        input,
    )


def _check_uint(value: int, field: str, maximum: int = 2**32 - 1) -> int:
    if not 0 <= value <= maximum:
        raise ValidationFailed(f"`{field}` must be between 0 and {maximum}", field=field)
    return value


@strawberry.type
class GovernanceMutation:
    @strawberry.mutation(description="Propose admitting a carrier as a member.")
    def propose_member_admission(
        self, info: AppInfo, input: ProposeMemberAdmissionInput
    ) -> ProposalPayload:
        return _proposal_mutation(
            info, input, lambda p: p.admit_member(input.name, input.address, input.description)
        )

    @strawberry.mutation(description="Propose removing a member.")
    def propose_member_removal(
        self, info: AppInfo, input: ProposeMemberRemovalInput
    ) -> ProposalPayload:
        def work(p: Proposals) -> ProposalView:
            with chain_errors():
                actions = p.gov.remove_member(input.address)
            return p.propose(gov_rules.Kind.REMOVE_MEMBER, actions, input.description)

        return _proposal_mutation(info, input, work)

    @strawberry.mutation(
        description="Propose adopting an SLA template (checked by the contract before proposing)."
    )
    def propose_sla_template(
        self, info: AppInfo, input: ProposeSlaTemplateInput
    ) -> ProposalPayload:
        def work(p: Proposals) -> ProposalView:
            for field, value in (
                ("objectivePpm", input.objective_ppm),
                ("resolutionWindowSeconds", input.resolution_window_seconds),
            ):
                _check_uint(value, field)
            if not input.document.strip():
                raise ValidationFailed("the template's document is empty", field="document")
            spec = gov.SlaTemplateSpec(
                name=input.name,
                document=keccak(text=input.document),
                objective_ppm=input.objective_ppm,
                tiers=[
                    gov.Tier(_check_uint(t.floor_ppm, "tiers"), _check_uint(t.credit_bps, "tiers"))
                    for t in input.tiers
                ],
                resolution_window=input.resolution_window_seconds,
                exclude_planned_maintenance=input.exclude_planned_maintenance,
            )
            with chain_errors():
                actions = p.gov.adopt_sla_template(spec)
            return p.propose(gov_rules.Kind.ADOPT_SLA_TEMPLATE, actions, input.description)

        return _proposal_mutation(info, input, work)

    @strawberry.mutation(description="Propose retiring an SLA template.")
    def propose_sla_template_retirement(
        self, info: AppInfo, input: ProposeSlaTemplateRetirementInput
    ) -> ProposalPayload:
        def work(p: Proposals) -> ProposalView:
            with chain_errors():
                actions = p.gov.retire_sla_template(_check_uint(input.template_id, "templateId"))
            return p.propose(gov_rules.Kind.RETIRE_SLA_TEMPLATE, actions, input.description)

        return _proposal_mutation(info, input, work)

    @strawberry.mutation(
        description="Propose switching a module to a new implementation (storage layout checked)."
    )
    def propose_module_upgrade(
        self, info: AppInfo, input: ProposeModuleUpgradeInput
    ) -> ProposalPayload:
        def work(p: Proposals) -> ProposalView:
            platform = info.context.platform
            platform.check_module_upgrade(input.module, input.implementation)
            with chain_errors():
                actions = p.gov.upgrade_module(
                    input.module, input.implementation, _check_uint(input.version, "version")
                )
            return p.propose(gov_rules.Kind.UPGRADE_MODULE, actions, input.description)

        return _proposal_mutation(info, input, work)

    @strawberry.mutation(description="Propose new rules for a kind of proposal.")
    def propose_rule_change(self, info: AppInfo, input: ProposeRuleChangeInput) -> ProposalPayload:
        def work(p: Proposals) -> ProposalView:
            new_rules = gov_rules.Rules(
                quorum_numerator=_check_uint(input.quorum_numerator, "quorumNumerator", 255),
                quorum_denominator=_check_uint(input.quorum_denominator, "quorumDenominator", 255),
                approval_numerator=_check_uint(input.approval_numerator, "approvalNumerator", 255),
                approval_denominator=_check_uint(
                    input.approval_denominator, "approvalDenominator", 255
                ),
                approval_inclusive=input.approval_inclusive,
                voting_delay=_check_uint(input.voting_delay_seconds, "votingDelaySeconds"),
                voting_period=_check_uint(input.voting_period_seconds, "votingPeriodSeconds"),
                timelock_delay=_check_uint(input.timelock_delay_seconds, "timelockDelaySeconds"),
                late_quorum_extension=_check_uint(
                    input.late_quorum_extension_seconds, "lateQuorumExtensionSeconds"
                ),
            )
            problem = gov_rules.rules_problem(new_rules)
            if problem:
                raise ValidationFailed(problem, field="rules")
            return p.propose(
                gov_rules.Kind.CHANGE_RULES,
                p.gov.change_rules(gov_rules.Kind(input.kind), new_rules),
                input.description,
            )

        return _proposal_mutation(info, input, work)

    @strawberry.mutation(description="Vote with the member's custodial key.")
    def cast_vote(self, info: AppInfo, input: CastVoteInput) -> ProposalPayload:
        return _proposal_mutation(
            info,
            input,
            lambda p: p.vote(
                input.proposal_id,
                gov_rules.Support(input.support),
                input.reason,
            ),
        )

    @strawberry.mutation(
        description="Relay a vote the member signed with its own key (see `ballot`)."
    )
    def cast_vote_by_sig(self, info: AppInfo, input: CastVoteBySigInput) -> ProposalPayload:
        return _proposal_mutation(
            info,
            input,
            lambda p: p.vote_by_signature(
                input.proposal_id,
                gov_rules.Support(input.support),
                input.voter,
                input.signature,
            ),
        )

    @strawberry.mutation(description="Queue a succeeded proposal in the Timelock.")
    def queue_proposal(self, info: AppInfo, input: ProposalIdInput) -> ProposalPayload:
        return _proposal_mutation(info, input, lambda p: p.queue(input.proposal_id))

    @strawberry.mutation(description="Execute a queued proposal whose delay is over.")
    def execute_proposal(self, info: AppInfo, input: ProposalIdInput) -> ProposalPayload:
        return _proposal_mutation(info, input, lambda p: p.execute(input.proposal_id))

    @strawberry.mutation(
        description="Cancel: the proposer before any vote, or an admin as guardian before execution."
    )
    def cancel_proposal(self, info: AppInfo, input: ProposalIdInput) -> ProposalPayload:
        return _proposal_mutation(info, input, lambda p: p.cancel(input.proposal_id))
