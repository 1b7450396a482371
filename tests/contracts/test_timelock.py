"""Timelock: only the Governor schedules, executes and cancels; the deployer wires the
Governor once; the minimum delay changes only through an executed proposal."""

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from . import dao
from .helpers import events


@pytest.fixture(scope="session")
def timelock_contract(governance_contracts):
    return governance_contracts.timelock


def operation(system, salt=b"\x07" * 32, delay=None):
    """A scheduled operation (admitting a carrier), as the Governor schedules it."""
    carrier = boa.env.generate_address("carrier")
    target, value, data = dao.call(system.membership, "admit", carrier, "Carrier")
    actions = ([target], [value], [data])
    op = system.timelock.operation_id(*actions, salt)
    ready_at = boa.env.timestamp + (dao.MINIMUM_DELAY if delay is None else delay)
    system.timelock.schedule(op, salt, ready_at, sender=system.governor.address)
    return actions, salt, op, ready_at, carrier


def test_operation_id_hashes_the_actions_and_the_salt(system):
    targets, values, calldatas, salt = [system.membership.address], [0], [b"\x12\x34"], b"\x01" * 32
    actions_hash = keccak(
        encode(["address[]", "uint256[]", "bytes[]"], [targets, values, calldatas])
    )
    assert system.timelock.operation_id(targets, values, calldatas, salt) == keccak(
        encode(["bytes32", "bytes32"], [actions_hash, salt])
    )


def test_the_governor_schedules_and_executes(system):
    actions, salt, op, ready_at, carrier = operation(system)
    assert events(system.timelock, "OperationScheduled") == [
        {"operation_id": op, "salt": salt, "ready_at": ready_at}
    ]
    assert system.timelock.timestamps(op) == ready_at
    boa.env.timestamp = ready_at
    system.timelock.execute(*actions, salt, sender=system.governor.address)
    assert events(system.timelock, "OperationExecuted") == [{"operation_id": op, "salt": salt}]
    assert system.membership.is_member(carrier)
    assert system.timelock.timestamps(op) == 0
    with boa.reverts("Timelock: operation not scheduled"):
        system.timelock.execute(*actions, salt, sender=system.governor.address)


@pytest.mark.parametrize("who", ["founder", "deployer", "guardian", "timelock-itself"])
def test_only_the_governor_schedules_executes_and_cancels(system, who):
    sender = {
        "founder": system.founders[0],
        "deployer": system.deployer,
        "guardian": system.guardian,
        "timelock-itself": system.timelock.address,
    }[who]
    actions, salt, op, ready_at, carrier = operation(system)
    with boa.reverts("Timelock: only the governor"):
        system.timelock.schedule(b"\x09" * 32, salt, ready_at, sender=sender)
    boa.env.timestamp = ready_at
    with boa.reverts("Timelock: only the governor"):
        system.timelock.execute(*actions, salt, sender=sender)
    with boa.reverts("Timelock: only the governor"):
        system.timelock.cancel(op, sender=sender)
    assert system.timelock.timestamps(op) == ready_at
    assert system.timelock.timestamps(b"\x09" * 32) == 0
    assert not system.membership.is_member(carrier)


def test_schedule_refuses_a_delay_below_the_minimum(system):
    with boa.reverts("Timelock: delay too short"):
        operation(system, delay=dao.MINIMUM_DELAY - 1)


def test_schedule_refuses_an_operation_twice(system):
    _, salt, op, ready_at, _ = operation(system)
    with boa.reverts("Timelock: operation already scheduled"):
        system.timelock.schedule(op, salt, ready_at + 100, sender=system.governor.address)
    assert system.timelock.timestamps(op) == ready_at


def test_execute_refuses_before_ready_and_after_the_grace_period(system):
    actions, salt, _, ready_at, carrier = operation(system)
    boa.env.timestamp = ready_at - 1
    with boa.reverts("Timelock: operation not ready"):
        system.timelock.execute(*actions, salt, sender=system.governor.address)
    boa.env.timestamp = ready_at + dao.GRACE_PERIOD
    with boa.reverts("Timelock: operation expired"):
        system.timelock.execute(*actions, salt, sender=system.governor.address)
    assert not system.membership.is_member(carrier)


def test_execute_refuses_other_actions_than_scheduled(system, stranger):
    (targets, values, calldatas), salt, _, ready_at, _ = operation(system)
    boa.env.timestamp = ready_at
    other = [system.membership.admit.prepare_calldata(stranger, "Stranger")]
    with boa.reverts("Timelock: operation not scheduled"):
        system.timelock.execute(targets, values, other, salt, sender=system.governor.address)
    with boa.reverts("Timelock: operation not scheduled"):
        system.timelock.execute(
            targets, values, calldatas, b"\x08" * 32, sender=system.governor.address
        )
    with boa.reverts("Timelock: actions differ in length"):
        system.timelock.execute(targets, [0, 0], calldatas, salt, sender=system.governor.address)
    assert not system.membership.is_member(stranger)


def test_cancel_clears_the_operation(system):
    actions, salt, op, ready_at, _ = operation(system)
    system.timelock.cancel(op, sender=system.governor.address)
    assert events(system.timelock, "OperationCanceled") == [{"operation_id": op}]
    assert system.timelock.timestamps(op) == 0
    boa.env.timestamp = ready_at
    with boa.reverts("Timelock: operation not scheduled"):
        system.timelock.execute(*actions, salt, sender=system.governor.address)
    with boa.reverts("Timelock: operation not pending"):
        system.timelock.cancel(op, sender=system.governor.address)


# ------------------------------------------------------------------ wiring


def test_the_deployer_wires_the_governor_once(timelock_contract, stranger):
    deployer = boa.env.generate_address("a deployer")
    governor = boa.env.generate_address("a governor")
    with boa.env.prank(deployer):
        timelock = timelock_contract.deploy(dao.MINIMUM_DELAY)
    assert timelock.deployer() == deployer
    assert timelock.governor() == dao.ZERO_ADDRESS
    with boa.reverts("Timelock: only the deployer, once"):
        timelock.set_governor(stranger, sender=stranger)
    with boa.reverts("Timelock: zero governor"):
        timelock.set_governor(dao.ZERO_ADDRESS, sender=deployer)

    timelock.set_governor(governor, sender=deployer)
    assert events(timelock, "GovernorSet") == [{"governor": governor}]
    assert timelock.governor() == governor
    assert timelock.deployer() == dao.ZERO_ADDRESS
    with boa.reverts("Timelock: only the deployer, once"):
        timelock.set_governor(stranger, sender=deployer)
    assert timelock.governor() == governor


def test_in_the_deployed_system_nobody_rewires_the_governor(system):
    for sender in (system.deployer, system.governor.address, system.timelock.address):
        with boa.reverts("Timelock: only the deployer, once"):
            system.timelock.set_governor(sender, sender=sender)
    assert system.timelock.governor() == system.governor.address


def test_constructor_refuses_a_zero_minimum_delay(timelock_contract):
    with boa.reverts("Timelock: delay below the floor"):
        timelock_contract.deploy(0)


def test_minimum_delay_changes_only_through_the_timelock_itself(system):
    for sender in (system.governor.address, system.deployer, system.founders[0]):
        with boa.reverts("Timelock: only through a proposal"):
            system.timelock.set_minimum_delay(3600, sender=sender)
    with boa.reverts("Timelock: delay below the floor"):
        system.timelock.set_minimum_delay(0, sender=system.timelock.address)
    system.timelock.set_minimum_delay(1, sender=system.timelock.address)
    assert events(system.timelock, "MinimumDelayChanged") == [
        {"old_delay": dao.MINIMUM_DELAY, "new_delay": 1}
    ]
    assert system.timelock.minimum_delay() == 1


def test_the_timelock_accepts_value(system, stranger):
    boa.env.set_balance(stranger, 10**18)
    boa.env.raw_call(system.timelock.address, sender=stranger, value=10**18)
    assert boa.env.get_balance(system.timelock.address) == 10**18
