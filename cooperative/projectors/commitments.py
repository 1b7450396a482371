"""The commitment log: every document commitment the cooperative chain recorded, in chain
order — the leaves of the Merkle tree the platform anchors (cooperative.anchoring).

Written by the follower only, as it applies blocks in chain order (block, log index, and
the commitment's place within its event), so leaf i is the same on every rebuild; a
mutation's own projection (read-your-writes) does not write it, so two requests projecting
at once can never number leaves out of chain order. Any event argument named
`commitment`, at any depth (a batch of tickets carries one per ticket), is a leaf; an
empty commitment (a step that commits no document) is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, func, select

from cooperative.projectors.base import Event, hex32
from cooperative.store.models import CommitmentLeaf

EMPTY_COMMITMENT = "0x" + "00" * 32


def commitments_in(value: Any) -> Iterator[str]:
    """Every non-empty `commitment` in an event's arguments, in argument order."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "commitment" and isinstance(item, (bytes, str)):
                text = hex32(item)
                if text != EMPTY_COMMITMENT:
                    yield text
            else:
                yield from commitments_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from commitments_in(item)


def append_leaves(session: Session, events: list[Event]) -> int:
    """Append the commitments of `events` (the follower's, in chain order) to the log;
    returns how many leaves were added."""
    found = [
        (event, position, commitment)
        for event in events
        for position, commitment in enumerate(commitments_in(event.args))
    ]
    if not found:
        return 0
    next_index = session.exec(select(func.count()).select_from(CommitmentLeaf)).one()
    for offset, (event, position, commitment) in enumerate(found):
        session.add(
            CommitmentLeaf(
                index=next_index + offset,
                commitment=commitment,
                block=event.block,
                tx_hash=event.tx,
                log_index=event.log_index,
                position=position,
            )
        )
    return len(found)
