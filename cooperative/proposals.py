"""Governance for the platform's users: who acts with which key, and the read model.

Members act with their own custodial key; an admin acts as the operator (who may queue
and execute any succeeded proposal, as anyone may, and cancels as the guardian);
auditors only read. Every transaction's receipt is projected before the answer, so it
already shows the new state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from cooperative.access import DataAccess, Page, Viewer
from cooperative.errors import CoopError, Forbidden, NotFound, ValidationFailed
from cooperative.platform import Platform
from cooperative.signing import RelayedSigner
from cooperative.store.models import (
    MemberProfile,
    ProposalEvent,
    ProposalRecord,
    Role,
    VoteRecord,
)
from cooperative.transactions import chain_errors
from deployments.chain import Receipt, Signer
from governance.actions import summarize_actions
from governance.rules import Kind, ProposalState, Support
from governance.service import Actions, ProposalPayload, Tally

MAX_DESCRIPTION = 2048  # the Governor's bound
MAX_REASON = 1024
MIN_ID_PREFIX = 6  # hex digits of an abbreviated proposal id


def _is_hex(digits: str) -> bool:
    return all(c in "0123456789abcdef" for c in digits)


@dataclass(frozen=True)
class ProposalView:
    """A proposal as the API shows it: the read model plus state and tally from the chain,
    and each action in words."""

    record: ProposalRecord
    state: ProposalState
    tally: Tally
    summaries: list[str]


class Proposals:
    def __init__(self, platform: Platform, access: DataAccess) -> None:
        self.platform = platform
        self.access = access
        self.gov = platform.governance

    # ------------------------------------------------------------------ who acts

    def _member_account(self) -> Signer:
        viewer: Viewer = self.access.viewer
        if viewer.role is not Role.MEMBER or viewer.member_address is None:
            raise Forbidden("only a member may do this (with its own key)")
        return self.platform.keystore.account(viewer.member_address)

    def _relayer(self) -> Signer:
        """Who sends a transaction anyone may send: the member itself, or the operator."""
        if self.access.viewer.role is Role.MEMBER:
            return self._member_account()
        if self.access.viewer.role is Role.ADMIN:
            return self.platform.operator()
        raise Forbidden("auditors read; they do not act")

    def _ballot_relayer(self) -> Signer:
        """Who sends a signed ballot: as `_relayer`, but the operator for a member holding
        its own key. Such a member signs a ballot precisely so as not to sign a transaction
        as well (a browser wallet signs typed data; it does not sign a transaction for
        someone else to send). The ballot's signature is the authority; the relayer only
        pays the gas, so the operator can relay the vote but not forge it."""
        relayer = self._relayer()
        if isinstance(relayer, RelayedSigner):
            return self.platform.operator()
        return relayer

    # ------------------------------------------------------------------ proposing

    def propose(self, kind: Kind, actions: Actions, description: str) -> ProposalView:
        description = description.strip()
        if not 1 <= len(description) <= MAX_DESCRIPTION:
            raise ValidationFailed(
                f"a description has 1 to {MAX_DESCRIPTION} characters", field="description"
            )
        proposer = self._member_account()
        with chain_errors():
            proposal_id, receipt = self.gov.propose(proposer, kind, actions, description)
        return self._after_transaction(proposal_id, receipt)

    def admit_member(self, name: str, address: str | None, description: str) -> ProposalView:
        """Propose a new member. Without an address, the platform makes the carrier a
        custodial key (kept only if the proposal is created)."""
        proposer = self._member_account()  # refuse non-members before making a key
        created = None
        if address is None and isinstance(proposer, RelayedSigner):
            # a key made now would be another at the retry carrying the signature
            raise ValidationFailed(
                "a member holding its own key proposes an admission with the new member's "
                "address: the platform would make the newcomer a new key at every attempt, "
                "so the transaction to sign would change each time",
                field="address",
            )
        if address is None:
            created = self.platform.keystore.create("member")
            address = created.address
        try:
            with chain_errors():
                actions = self.gov.admit_member(address, name)  # checks the address
            self.platform.fund_locally(address)
            return self.propose(Kind.ADMIT_MEMBER, actions, description)
        except CoopError:
            if created is not None:
                self.platform.keystore.delete(created.address)
            raise

    # ------------------------------------------------------------------ voting

    def vote(self, proposal_id: str, support: Support, reason: str) -> ProposalView:
        if len(reason) > MAX_REASON:
            raise ValidationFailed(f"a reason has at most {MAX_REASON} characters", field="reason")
        proposal_id = self._record(proposal_id).id
        voter = self._member_account()
        with chain_errors():
            receipt = self.gov.cast_vote(voter, proposal_id, support, reason)
        return self._after_transaction(proposal_id, receipt)

    def vote_by_signature(
        self, proposal_id: str, support: Support, voter: str, signature: str
    ) -> ProposalView:
        proposal_id = self._record(proposal_id).id
        try:
            raw = bytes.fromhex(signature.removeprefix("0x"))
        except ValueError as exc:
            raise ValidationFailed("the signature is not hex", field="signature") from exc
        with chain_errors():
            receipt = self.gov.cast_vote_by_sig(
                self._ballot_relayer(), proposal_id, support, voter, raw
            )
        return self._after_transaction(proposal_id, receipt)

    # ------------------------------------------------------------------ queue, execute, cancel

    def queue(self, proposal_id: str) -> ProposalView:
        record = self._record(proposal_id)
        with chain_errors():
            receipt = self.gov.queue(self._relayer(), self._payload(record))
        return self._after_transaction(record.id, receipt)

    def execute(self, proposal_id: str) -> ProposalView:
        record = self._record(proposal_id)
        with chain_errors():
            receipt = self.gov.execute(self._relayer(), self._payload(record))
        return self._after_transaction(record.id, receipt)

    def cancel(self, proposal_id: str) -> ProposalView:
        """A member cancels its own proposal (before any vote); an admin as guardian."""
        record = self._record(proposal_id)
        with chain_errors():
            receipt = self.gov.cancel(self._relayer(), self._payload(record))
        return self._after_transaction(record.id, receipt)

    # ------------------------------------------------------------------ reading

    def get(self, proposal_id: str) -> ProposalView:
        record = self._record(proposal_id)
        return self._views([record])[0]

    def list(
        self, first: int | None, after: str | None, kind: Kind | None, state: ProposalState | None
    ) -> tuple[Page[ProposalRecord], list[ProposalView]]:
        """Proposals newest first (by creation block, then id). A state filter is applied
        to the page, since state depends on the clock."""
        query = select(ProposalRecord)
        if kind is not None:
            query = query.where(ProposalRecord.kind == int(kind))
        page = self.access.page(query, ProposalRecord.id, first, after)
        views = self._views(page.items)
        if state is not None:
            views = [v for v in views if v.state is state]
        return page, views

    def votes(self, proposal_id: str, first: int | None, after: str | None) -> Page[VoteRecord]:
        query = select(VoteRecord).where(VoteRecord.proposal_id == proposal_id)
        return self.access.page(query, VoteRecord.voter, first, after)

    def viewer_vote(self, proposal_id: str) -> VoteRecord | None:
        member = self.access.viewer.member_address
        if member is None:
            return None
        return self.access.session.exec(
            select(VoteRecord).where(
                VoteRecord.proposal_id == proposal_id, VoteRecord.voter == member
            )
        ).first()

    def history(self, proposal_id: str) -> list[ProposalEvent]:
        return list(
            self.access.session.exec(
                select(ProposalEvent)
                .where(ProposalEvent.proposal_id == proposal_id)
                .order_by(col(ProposalEvent.block), col(ProposalEvent.log_index))
            ).all()
        )

    def _views(self, records: list[ProposalRecord]) -> list[ProposalView]:
        names = {
            profile.address: profile.name
            for profile in self.access.session.exec(select(MemberProfile)).all()
        }
        with chain_errors():
            return [
                ProposalView(
                    record,
                    self.gov.state(record.id),
                    self.gov.tally(record.id),
                    summarize_actions(
                        record.actions,
                        [int(v) for v in record.values],
                        names,
                        self.platform.gateway.codehash,
                    ),
                )
                for record in records
            ]

    def _record(self, proposal_id: str) -> ProposalRecord:
        """The proposal with this id, or with the one id that starts with it: a person may
        abbreviate a 66-character id (0x and at least MIN_ID_PREFIX hex digits) where no
        other proposal's id starts the same."""
        wanted = proposal_id.strip().lower()
        record = self.access.session.get(ProposalRecord, wanted)
        if record is not None:
            return record
        digits = wanted.removeprefix("0x")
        if len(digits) < 64 and len(digits) >= MIN_ID_PREFIX and _is_hex(digits):
            found = self.access.session.exec(
                select(ProposalRecord)
                .where(col(ProposalRecord.id).startswith("0x" + digits))
                .limit(2)
            ).all()
            if len(found) == 1:
                return found[0]
            if found:
                raise ValidationFailed(
                    f"more than one proposal's id starts with {proposal_id}: give more of it",
                    field="proposalId",
                )
        raise NotFound(f"proposal {proposal_id} does not exist")

    def _payload(self, record: ProposalRecord) -> ProposalPayload:
        actions = Actions(
            targets=list(record.targets),
            values=[int(v) for v in record.values],
            calldatas=[bytes.fromhex(c.removeprefix("0x")) for c in record.calldatas],
        )
        return ProposalPayload(record.proposer, actions, record.description)

    def _after_transaction(self, proposal_id: str, receipt: Receipt) -> ProposalView:
        """The proposal as the transaction left it: its receipt projected first (the
        governance projector writes proposals, votes and their history)."""
        self.platform.projection.project_receipts(self.access.session, [receipt])
        return self.get(proposal_id)
