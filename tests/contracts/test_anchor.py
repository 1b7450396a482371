"""Anchor: a module behind an OpenZeppelin BeaconProxy, initialized once, posted to by the
operator only."""

import boa
import pytest

from .helpers import (
    ZERO_ADDRESS,
    events,
    revert_reason_data,
    solidity_initcode,
    vyper_at,
)

ROOT = b"\x11" * 32
SOURCE_BLOCK_HASH = b"\x22" * 32


# ------------------------------------------------------------------ initialization


def test_implementation_is_locked_at_deployment(anchor_implementation, operator, stranger):
    assert anchor_implementation.initialized()
    assert anchor_implementation.operator() == ZERO_ADDRESS
    for caller in (operator, stranger):
        with boa.reverts("Anchor: already initialized"):
            anchor_implementation.initialize(caller, sender=caller)
    assert anchor_implementation.operator() == ZERO_ADDRESS


def test_nobody_can_post_to_the_implementation(anchor_implementation, operator):
    with boa.reverts("Anchor: only the operator"):
        anchor_implementation.post_checkpoint(ROOT, 1, SOURCE_BLOCK_HASH, sender=operator)
    assert anchor_implementation.checkpoint_count() == 0


def test_proxy_constructor_initializes_and_logs(
    compiler, anchor_contract, anchor_implementation, beacon, operator
):
    init = anchor_implementation.initialize.prepare_calldata(operator)
    address, computation = boa.env.deploy(bytecode=proxy_initcode(compiler, beacon, init))
    assert not computation.is_error
    anchor = vyper_at(anchor_contract, address)

    assert events(anchor, "Initialized", computation) == [{"operator": operator}]
    assert anchor.initialized()
    assert anchor.operator() == operator
    assert anchor.checkpoint_count() == 0


def proxy_initcode(compiler, beacon, init):
    artifact = compiler.openzeppelin("BeaconProxy")
    return solidity_initcode(artifact, ["address", "bytes"], [beacon.address, init])


@pytest.mark.parametrize("caller", ["operator", "stranger"])
def test_proxy_refuses_a_second_initialize(anchor, operator, stranger, caller):
    sender = operator if caller == "operator" else stranger
    with boa.reverts("Anchor: already initialized"):
        anchor.initialize(sender, sender=sender)
    assert anchor.operator() == operator


def test_proxy_with_zero_operator_cannot_be_deployed(compiler, anchor_implementation, beacon):
    init = anchor_implementation.initialize.prepare_calldata(ZERO_ADDRESS)
    _, computation = boa.env.deploy(bytecode=proxy_initcode(compiler, beacon, init))
    # the proxy's constructor bubbles up the module's revert
    assert computation.is_error
    assert computation.output == revert_reason_data("Anchor: zero operator")


# ------------------------------------------------------------------ checkpoints


def test_operator_posts_a_checkpoint_with_its_fields_and_event(anchor, operator):
    boa.env.time_travel(seconds=3600)
    index = anchor.post_checkpoint(ROOT, 1234, SOURCE_BLOCK_HASH, sender=operator)

    assert index == 0
    assert events(anchor, "CheckpointPosted") == [
        {"index": 0, "root": ROOT, "source_block": 1234, "source_block_hash": SOURCE_BLOCK_HASH}
    ]
    assert anchor.checkpoint_count() == 1
    assert anchor.checkpoints(0) == (ROOT, 1234, SOURCE_BLOCK_HASH, boa.env.evm.patch.timestamp)


def test_checkpoint_count_increments_and_indexes_are_sequential(anchor, operator):
    roots = [bytes([i]) * 32 for i in range(1, 4)]
    indexes = [
        anchor.post_checkpoint(root, 100 + i, SOURCE_BLOCK_HASH, sender=operator)
        for i, root in enumerate(roots)
    ]
    assert indexes == [0, 1, 2]
    assert anchor.checkpoint_count() == 3
    assert [anchor.checkpoints(i).root for i in range(3)] == roots
    assert [anchor.checkpoints(i).source_block for i in range(3)] == [100, 101, 102]
    assert anchor.checkpoints(3) == (b"\x00" * 32, 0, b"\x00" * 32, 0)


def test_checkpoints_live_in_the_proxy_storage_not_the_implementation(
    anchor, anchor_implementation, operator
):
    anchor.post_checkpoint(ROOT, 1, SOURCE_BLOCK_HASH, sender=operator)
    assert anchor.checkpoint_count() == 1
    assert anchor_implementation.checkpoint_count() == 0


@pytest.mark.parametrize("caller", ["timelock", "stranger", "deployer"])
def test_only_the_operator_posts_checkpoints(anchor, timelock, stranger, caller):
    sender = {"timelock": timelock, "stranger": stranger, "deployer": boa.env.eoa}[caller]
    with boa.reverts("Anchor: only the operator"):
        anchor.post_checkpoint(ROOT, 1, SOURCE_BLOCK_HASH, sender=sender)
    assert anchor.checkpoint_count() == 0


def test_empty_root_is_refused(anchor, operator):
    with boa.reverts("Anchor: empty root"):
        anchor.post_checkpoint(b"\x00" * 32, 1, SOURCE_BLOCK_HASH, sender=operator)
    assert anchor.checkpoint_count() == 0
