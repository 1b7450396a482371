"""The server's anchoring schedule: a checkpoint once the cooperative chain grew
`anchor_every_blocks` past the last one (or `anchor_every_seconds` passed), none while it
stands still."""

from __future__ import annotations

import time

from sqlmodel import Session, func, select

from cooperative.platform import Platform
from cooperative.store.models import CheckpointRecord
from tests.conftest import Api
from tests.test_marketplace_api import request_quote


def checkpoints(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(CheckpointRecord)).one()


def wait_for(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_a_checkpoint_follows_every_few_blocks_and_none_while_idle(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: int
) -> None:
    platform.settings = platform.settings.model_copy(
        update={"anchor_every_blocks": 3, "anchor_every_seconds": 3600}
    )
    platform.anchor_periodically(poll=0.1)
    time.sleep(0.5)
    assert checkpoints(platform) == 0  # neither due: the chain stood still
    for _ in range(3):  # a block each
        assert request_quote(as_member[0], [addresses[1]], template_id)["errors"] == []
    assert wait_for(lambda: checkpoints(platform) == 1)
    time.sleep(1.0)
    assert checkpoints(platform) == 1  # idle again: no further checkpoint
