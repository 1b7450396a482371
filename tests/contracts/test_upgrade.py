"""A real module upgrade: Anchor v1 -> AnchorV2 (fixtures/AnchorV2.vy) through the beacon,
recorded in the ModuleRegistry; the data posted under v1 survives and v2 works on it."""

import boa
import pytest
from eth_utils import keccak

from deployments.compiler import Compiler

from .conftest import FIXTURES_DIR
from .helpers import codehash, events, reverts_with_custom_error, vyper_at

SOURCE_BLOCK_HASH = b"\xab" * 32
V1_ROOTS = [bytes([i]) * 32 for i in range(1, 4)]


@pytest.fixture
def anchor_v2_implementation(anchor_v2_contract):
    return anchor_v2_contract.deploy()


@pytest.fixture
def v1_checkpoints(anchor, operator):
    """Three checkpoints posted through the proxy under v1, as read back under v1."""
    for i, root in enumerate(V1_ROOTS):
        anchor.post_checkpoint(root, 10 + i, SOURCE_BLOCK_HASH, sender=operator)
        boa.env.time_travel(blocks=5)
    return [anchor.checkpoints(i) for i in range(len(V1_ROOTS))]


@pytest.fixture
def upgraded(anchor, beacon, registry, anchor_v2_contract, anchor_v2_implementation, timelock):
    """What one executed upgrade proposal does: point the beacon at v2, record it.
    Returns the module, through the same proxy, seen with v2's ABI."""
    beacon.upgradeTo(anchor_v2_implementation.address, sender=timelock)
    registry.record_upgrade("Anchor", 2, sender=timelock)
    return vyper_at(anchor_v2_contract, anchor.address)


def test_v2_storage_layout_appends_to_v1(tmp_path, compiler):
    v1 = compiler.vyper("Anchor").storage_layout
    v2 = Compiler(cache_dir=tmp_path, contracts_dir=FIXTURES_DIR).vyper("AnchorV2").storage_layout
    assert {name: v2[name] for name in v1} == v1
    assert set(v2) - set(v1) == {"revoked"}
    assert v2["revoked"]["slot"] > max(slot["slot"] for slot in v1.values())


def test_v2_implementation_is_locked(anchor_v2_implementation, operator):
    with boa.reverts("Anchor: already initialized"):
        anchor_v2_implementation.initialize(operator, sender=operator)


def test_registry_records_v2_with_its_codehash(
    registry, beacon, anchor, anchor_v2_implementation, timelock
):
    beacon.upgradeTo(anchor_v2_implementation.address, sender=timelock)
    registry.record_upgrade("Anchor", 2, sender=timelock)

    v2_codehash = codehash(anchor_v2_implementation.address)
    assert events(registry, "ModuleUpgraded") == [
        {
            "name": "Anchor",
            "implementation": anchor_v2_implementation.address,
            "version": 2,
            "codehash": v2_codehash,
        }
    ]
    assert registry.modules("Anchor") == (
        anchor.address,
        beacon.address,
        anchor_v2_implementation.address,
        2,
        v2_codehash,
    )
    assert registry.module_count() == 1


def test_record_upgrade_refuses_to_record_the_same_upgrade_twice(upgraded, registry, timelock):
    with boa.reverts("ModuleRegistry: beacon not upgraded"):
        registry.record_upgrade("Anchor", 3, sender=timelock)
    assert registry.modules("Anchor").version == 2


def test_proxy_address_is_unchanged_and_reports_version_2(anchor, upgraded):
    assert upgraded.address == anchor.address
    assert upgraded.version() == 2


def test_v1_checkpoints_stay_readable_after_the_upgrade(v1_checkpoints, upgraded, operator):
    assert upgraded.checkpoint_count() == len(V1_ROOTS)
    assert [upgraded.checkpoints(i) for i in range(len(V1_ROOTS))] == v1_checkpoints
    assert [checkpoint.root for checkpoint in v1_checkpoints] == V1_ROOTS
    assert upgraded.initialized()
    assert upgraded.operator() == operator


def test_the_upgraded_module_stays_initialized_once(v1_checkpoints, upgraded, stranger, operator):
    with boa.reverts("Anchor: already initialized"):
        upgraded.initialize(stranger, sender=stranger)
    assert upgraded.operator() == operator


def test_v2_appends_new_checkpoints_after_the_v1_ones(v1_checkpoints, upgraded, operator):
    new_root = b"\x99" * 32
    index = upgraded.post_checkpoint(new_root, 99, SOURCE_BLOCK_HASH, sender=operator)

    assert index == len(V1_ROOTS)
    assert events(upgraded, "CheckpointPosted") == [
        {
            "index": index,
            "root": new_root,
            "source_block": 99,
            "source_block_hash": SOURCE_BLOCK_HASH,
        }
    ]
    assert upgraded.checkpoint_count() == len(V1_ROOTS) + 1
    assert upgraded.latest_checkpoint() == upgraded.checkpoints(index)
    assert upgraded.latest_checkpoint().root == new_root
    assert [upgraded.checkpoints(i) for i in range(len(V1_ROOTS))] == v1_checkpoints


def test_v2_new_functions_work_on_v1_data(v1_checkpoints, upgraded, operator):
    assert upgraded.latest_checkpoint() == v1_checkpoints[-1]
    assert not upgraded.revoked(1)  # the appended variable starts empty

    upgraded.revoke(1, sender=operator)

    assert events(upgraded, "CheckpointRevoked") == [{"index": 1}]
    assert [upgraded.revoked(i) for i in range(len(V1_ROOTS))] == [False, True, False]
    assert upgraded.checkpoints(1) == v1_checkpoints[1]  # revoking keeps the record


def test_v2_new_function_checks_its_callers_and_arguments(
    v1_checkpoints, upgraded, operator, stranger
):
    with boa.reverts("Anchor: only the operator"):
        upgraded.revoke(0, sender=stranger)
    with boa.reverts("Anchor: no such checkpoint"):
        upgraded.revoke(len(V1_ROOTS), sender=operator)
    upgraded.revoke(0, sender=operator)
    with boa.reverts("Anchor: already revoked"):
        upgraded.revoke(0, sender=operator)
    assert [upgraded.revoked(i) for i in range(len(V1_ROOTS))] == [True, False, False]


def test_without_the_timelock_the_module_stays_on_v1(
    v1_checkpoints, anchor, beacon, anchor_implementation, anchor_v2_implementation, stranger
):
    with reverts_with_custom_error("OwnableUnauthorizedAccount(address)", stranger):
        beacon.upgradeTo(anchor_v2_implementation.address, sender=stranger)

    assert beacon.implementation() == anchor_implementation.address
    assert anchor.version() == 1
    # v2's new function is not reachable: v1 has no such selector and no fallback
    selector = keccak(text="latest_checkpoint()")[:4]
    computation = boa.env.execute_code(to_address=anchor.address, data=selector)
    assert computation.is_error
    assert computation.output == b""


def test_record_upgrade_refuses_a_version_the_implementation_does_not_report(
    registry, beacon, anchor_v2_implementation, timelock
):
    beacon.upgradeTo(anchor_v2_implementation.address, sender=timelock)
    with boa.reverts("ModuleRegistry: not the implementation's version"):
        registry.record_upgrade("Anchor", 7, sender=timelock)
    assert registry.modules("Anchor").version == 1
