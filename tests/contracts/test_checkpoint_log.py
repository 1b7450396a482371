"""CheckpointLog, the anchor chain's record of the cooperative chain: only the operator
posts, checkpoints only move forward and the tree only grows, and a checkpoint costs the
same gas whatever it covers."""

import boa
import pytest

from deployments.paths import CONTRACTS_DIR

from .helpers import ZERO_ADDRESS, events

ROOT = b"\x11" * 32
BLOCK_HASH = b"\x22" * 32
STATE_ROOT = b"\x33" * 32


@pytest.fixture
def checkpoint_log(operator):
    return boa.load(str(CONTRACTS_DIR / "anchor" / "CheckpointLog.vy"), operator)


def test_a_zero_operator_is_refused():
    with boa.reverts("CheckpointLog: zero operator"):
        boa.load(str(CONTRACTS_DIR / "anchor" / "CheckpointLog.vy"), ZERO_ADDRESS)


def test_the_operator_posts_and_the_checkpoint_is_kept_and_logged(checkpoint_log, operator):
    index = checkpoint_log.post(5, ROOT, 100, BLOCK_HASH, STATE_ROOT, sender=operator)
    (logged,) = events(checkpoint_log, "CheckpointPosted")
    assert logged["index"] == 0 and logged["tree_size"] == 5 and logged["root"] == ROOT
    assert logged["source_block"] == 100 and logged["state_root"] == STATE_ROOT
    assert index == 0 and checkpoint_log.checkpoint_count() == 1
    kept = checkpoint_log.checkpoints(0)
    assert (kept.tree_size, kept.root, kept.source_block) == (5, ROOT, 100)
    assert (kept.source_block_hash, kept.state_root) == (BLOCK_HASH, STATE_ROOT)
    assert kept.posted_at == boa.env.evm.patch.timestamp


def test_nobody_else_posts(checkpoint_log, stranger):
    with boa.reverts("CheckpointLog: only the operator"):
        checkpoint_log.post(1, ROOT, 1, BLOCK_HASH, STATE_ROOT, sender=stranger)
    assert checkpoint_log.checkpoint_count() == 0


@pytest.mark.parametrize(
    ("tree_size", "source_block", "reason"),
    [
        (10, 100, "not after the last checkpoint"),  # the same block again
        (10, 99, "not after the last checkpoint"),  # an earlier block: a rollback
        (9, 101, "the tree cannot shrink"),  # fewer commitments: history rewritten
    ],
)
def test_checkpoints_only_move_forward(checkpoint_log, operator, tree_size, source_block, reason):
    checkpoint_log.post(10, ROOT, 100, BLOCK_HASH, STATE_ROOT, sender=operator)
    with boa.reverts(f"CheckpointLog: {reason}"):
        checkpoint_log.post(tree_size, ROOT, source_block, BLOCK_HASH, STATE_ROOT, sender=operator)
    assert checkpoint_log.checkpoint_count() == 1
    # the same tree at a later block is fine: nothing was committed meanwhile
    assert checkpoint_log.post(10, ROOT, 101, BLOCK_HASH, STATE_ROOT, sender=operator) == 1


@pytest.mark.parametrize(
    ("block_hash", "state_root", "reason"),
    [
        (b"\x00" * 32, STATE_ROOT, "empty block hash"),
        (BLOCK_HASH, b"\x00" * 32, "empty state root"),
    ],
)
def test_an_empty_block_reference_is_refused(
    checkpoint_log, operator, block_hash, state_root, reason
):
    with boa.reverts(f"CheckpointLog: {reason}"):
        checkpoint_log.post(1, ROOT, 1, block_hash, state_root, sender=operator)


def test_a_checkpoint_costs_the_same_whatever_it_covers(checkpoint_log, operator):
    """The gas of a later checkpoint (every slot already written once) does not depend on
    how many commitments the tree covers."""
    checkpoint_log.post(1, ROOT, 1, BLOCK_HASH, STATE_ROOT, sender=operator)
    costs = []
    for number, size in enumerate((10, 10_000, 10**9), start=2):
        checkpoint_log.post(size, ROOT, number, BLOCK_HASH, STATE_ROOT, sender=operator)
        costs.append(checkpoint_log._computation.get_gas_used())
    assert len(set(costs)) == 1, costs
