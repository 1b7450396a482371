"""The indexer: follows contract events into read-model tables, from a stored cursor.

The read models can always be rebuilt from the chain: drop them and the cursor, and the
next sync replays every event.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from web3.contract import Contract

from cooperative.store.models import ChainCursor, MemberProfile, utcnow
from deployments.chain import ChainGateway


def _ordered_logs(
    contract: Contract, event_names: list[str], from_block: int, to_block: int
) -> list[Any]:
    logs: list[Any] = []
    for name in event_names:
        logs.extend(
            getattr(contract.events, name).get_logs(from_block=from_block, to_block=to_block)
        )
    return sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"]))


def sync_members(gateway: ChainGateway, membership: Contract, session: Session) -> int:
    """Mirror Membership's admissions and removals into `member_profile`; returns how many
    events were applied. Off-chain profile fields (country, contact) are kept."""
    cursor = session.get(ChainCursor, "Membership") or ChainCursor(name="Membership", block=-1)
    latest = gateway.latest_block()
    if latest <= cursor.block:
        return 0
    logs = _ordered_logs(membership, ["MemberAdmitted", "MemberRemoved"], cursor.block + 1, latest)
    for log in logs:
        address = log["args"]["member"]
        profile = session.get(MemberProfile, address)
        if log["event"] == "MemberAdmitted":
            if profile is None:
                profile = MemberProfile(address=address, name=log["args"]["name"], joined_block=0)
            profile.name = log["args"]["name"]
            profile.joined_block = log["blockNumber"]
            profile.left_block = None
        elif profile is not None:
            profile.left_block = log["blockNumber"]
        if profile is not None:
            profile.updated_at = utcnow()
            session.add(profile)
    cursor.block = latest
    session.add(cursor)
    return len(logs)
