"""The membership register and governance: members, proposals, votes, proposal history."""

from __future__ import annotations

from typing import Any

from cooperative.projectors.base import Event, Handler, Projector, Run, hex32
from cooperative.store.models import MemberProfile, ProposalEvent, ProposalRecord, VoteRecord
from governance.actions import decode_action


class MembershipProjector(Projector):
    """The on-chain half of each member's profile: name, joined and left blocks. The
    off-chain half (country, contact) is the member's own and never touched here."""

    contract_name = "Membership"

    def handlers(self) -> dict[str, Handler]:
        return {"MemberAdmitted": self._admitted, "MemberRemoved": self._removed}

    def _admitted(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        address = event.args["member"]
        profile = run.get(MemberProfile, address) or MemberProfile(
            address=address, name=event.args["name"], joined_block=0, updated_at=event.time
        )
        profile.name, profile.joined_block, profile.left_block = (
            event.args["name"],
            event.block,
            None,
        )
        run.add(profile)

    def _removed(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        profile = run.get(MemberProfile, event.args["member"])
        if profile is not None:
            profile.left_block = event.block
            run.add(profile)


class GovernanceProjector(Projector):
    """Proposals with their decoded actions, votes with reasons, and each proposal's
    history (created, extended, queued, executed, canceled). Public to members."""

    contract_name = "Governor"

    def handlers(self) -> dict[str, Handler]:
        return {
            name: self._proposal_event
            for name in (
                "ProposalCreated",
                "VotingExtended",
                "ProposalQueued",
                "ProposalExecuted",
                "ProposalCanceled",
            )
        } | {"VoteCast": self._vote}

    def _vote(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        args = event.args
        run.add(
            VoteRecord(
                proposal_id=hex32(args["proposal_id"]),
                voter=args["voter"],
                support=args["support"],
                reason=args["reason"],
                block=event.block,
                tx=event.tx,
            )
        )

    def _proposal_event(self, run: Run, event: Event) -> None:
        if not run.records:
            return
        args = event.args
        proposal_id = hex32(args["proposal_id"])
        detail: dict[str, Any] = {}
        if event.name == "ProposalCreated":
            self._created(run, event, proposal_id)
            detail = {"voteStart": args["vote_start"], "voteEnd": args["vote_end"]}
        elif event.name == "VotingExtended":
            detail = {"voteEnd": args["vote_end"]}
            record = run.get(ProposalRecord, proposal_id)
            if record is not None:
                record.vote_end = args["vote_end"]
                run.add(record)
        elif event.name == "ProposalQueued":
            detail = {"eta": args["eta"]}
        elif event.name == "ProposalCanceled":
            detail = {"by": args["by"]}
        run.add(
            ProposalEvent(
                proposal_id=proposal_id,
                name=event.name,
                block=event.block,
                timestamp=event.timestamp,
                tx=event.tx,
                log_index=event.log_index,
                detail=detail,
            )
        )

    def _created(self, run: Run, event: Event, proposal_id: str) -> None:
        args = event.args
        calldatas = [bytes(c) for c in args["calldatas"]]
        known = self.projection.known_contracts
        run.add(
            ProposalRecord(
                id=proposal_id,
                proposer=args["proposer"],
                kind=args["kind"],
                targets=list(args["targets"]),
                values=[str(v) for v in args["values"]],
                calldatas=[hex32(c) for c in calldatas],
                actions=[
                    decode_action(known, t, c)
                    for t, c in zip(args["targets"], calldatas, strict=True)
                ],
                description=args["description"],
                snapshot=args["snapshot"],
                eligible=args["eligible"],
                vote_start=args["vote_start"],
                vote_end=args["vote_end"],
                created_block=event.block,
                created_tx=event.tx,
            )
        )
