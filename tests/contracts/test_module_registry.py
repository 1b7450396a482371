"""ModuleRegistry wired to a real OpenZeppelin UpgradeableBeacon and BeaconProxy."""

import boa
import pytest

from .helpers import ZERO_ADDRESS, ZERO_BYTES32, codehash, events, reverts_with_custom_error


def test_registry_is_owned_by_the_timelock(registry, timelock):
    assert registry.owner() == timelock


def test_constructor_registers_the_initial_module_from_the_beacon(
    registry, anchor, beacon, anchor_implementation
):
    assert registry.module_count() == 1
    assert registry.module_names(0) == "Anchor"
    assert registry.modules("Anchor") == (
        anchor.address,
        beacon.address,
        anchor_implementation.address,  # read from the beacon, not from the argument
        1,
        codehash(anchor_implementation.address),  # read from chain, not from the argument
    )


def test_constructor_logs_module_registered(
    registry_contract, timelock, anchor, beacon, anchor_implementation
):
    registry = registry_contract.deploy(
        timelock, [(anchor.address, beacon.address, ZERO_ADDRESS, 1, ZERO_BYTES32)], ["Anchor"]
    )
    assert events(registry, "ModuleRegistered") == [
        {
            "name": "Anchor",
            "proxy": anchor.address,
            "beacon": beacon.address,
            "implementation": anchor_implementation.address,
            "version": 1,
            "codehash": codehash(anchor_implementation.address),
        }
    ]


def test_constructor_accepts_no_initial_modules(registry_contract, timelock):
    registry = registry_contract.deploy(timelock, [], [])
    assert registry.module_count() == 0


def test_constructor_rejects_a_zero_owner(registry_contract):
    with boa.reverts("ModuleRegistry: zero owner"):
        registry_contract.deploy(ZERO_ADDRESS, [], [])


def test_constructor_rejects_modules_and_names_of_different_length(
    registry_contract, timelock, anchor, beacon
):
    module = (anchor.address, beacon.address, ZERO_ADDRESS, 1, ZERO_BYTES32)
    with boa.reverts("ModuleRegistry: modules and names differ in length"):
        registry_contract.deploy(timelock, [module], ["Anchor", "Other"])


def test_proxy_wiring_beacon_owned_by_timelock_and_proxy_initialized(
    beacon, anchor, anchor_implementation, timelock, operator
):
    assert beacon.owner() == timelock
    assert beacon.implementation() == anchor_implementation.address
    assert anchor.initialized()
    assert anchor.operator() == operator
    assert anchor.version() == 1


# ------------------------------------------------------------------ register


def test_timelock_registers_a_second_module(registry, deploy_anchor_module, operator, timelock):
    implementation, beacon, proxy = deploy_anchor_module(operator)
    registry.register("Anchor2", proxy.address, beacon.address, 1, sender=timelock)

    expected_codehash = codehash(implementation.address)
    assert events(registry, "ModuleRegistered") == [
        {
            "name": "Anchor2",
            "proxy": proxy.address,
            "beacon": beacon.address,
            "implementation": implementation.address,
            "version": 1,
            "codehash": expected_codehash,
        }
    ]
    assert registry.module_count() == 2
    assert [registry.module_names(i) for i in range(2)] == ["Anchor", "Anchor2"]
    assert registry.modules("Anchor2") == (
        proxy.address,
        beacon.address,
        implementation.address,
        1,
        expected_codehash,
    )


@pytest.mark.parametrize("caller", ["operator", "stranger"])
def test_only_the_owner_can_register(registry, anchor, beacon, operator, stranger, caller):
    sender = operator if caller == "operator" else stranger
    with boa.reverts("ModuleRegistry: only the owner"):
        registry.register("Other", anchor.address, beacon.address, 1, sender=sender)
    assert registry.module_count() == 1


@pytest.mark.parametrize(
    ("name", "zero_proxy", "zero_beacon", "version", "reason"),
    [
        ("Anchor", False, False, 1, "ModuleRegistry: name taken"),
        ("", False, False, 1, "ModuleRegistry: empty name"),
        ("Other", True, False, 1, "ModuleRegistry: zero address"),
        ("Other", False, True, 1, "ModuleRegistry: zero address"),
        ("Other", False, False, 0, "ModuleRegistry: zero version"),
    ],
    ids=["name-taken", "empty-name", "zero-proxy", "zero-beacon", "zero-version"],
)
def test_register_rejects(
    registry, anchor, beacon, timelock, name, zero_proxy, zero_beacon, version, reason
):
    proxy_address = ZERO_ADDRESS if zero_proxy else anchor.address
    beacon_address = ZERO_ADDRESS if zero_beacon else beacon.address
    with boa.reverts(reason):
        registry.register(name, proxy_address, beacon_address, version, sender=timelock)
    assert registry.module_count() == 1
    assert registry.modules("Anchor").version == 1


# ------------------------------------------------------------------ record_upgrade


def test_a_version_other_than_the_implementations_is_refused(
    registry, deploy_anchor_module, operator, timelock
):
    _, beacon, proxy = deploy_anchor_module(operator)
    with boa.reverts("ModuleRegistry: not the implementation's version"):
        registry.register("Anchor2", proxy.address, beacon.address, 3, sender=timelock)
    assert registry.module_count() == 1


def test_record_upgrade_refuses_while_the_beacon_has_not_moved(registry, timelock):
    with boa.reverts("ModuleRegistry: beacon not upgraded"):
        registry.record_upgrade("Anchor", 2, sender=timelock)
    assert registry.modules("Anchor").version == 1


@pytest.mark.parametrize("version", [0, 1])
def test_record_upgrade_requires_a_greater_version(
    registry, beacon, anchor_v2_contract, timelock, version
):
    beacon.upgradeTo(anchor_v2_contract.deploy().address, sender=timelock)
    with boa.reverts("ModuleRegistry: version must increase"):
        registry.record_upgrade("Anchor", version, sender=timelock)
    assert registry.modules("Anchor").version == 1


def test_record_upgrade_rejects_an_unknown_module(registry, timelock):
    with boa.reverts("ModuleRegistry: unknown module"):
        registry.record_upgrade("Billing", 2, sender=timelock)


@pytest.mark.parametrize("caller", ["operator", "stranger"])
def test_only_the_owner_can_record_an_upgrade(
    registry, beacon, anchor_v2_contract, timelock, operator, stranger, caller
):
    beacon.upgradeTo(anchor_v2_contract.deploy().address, sender=timelock)
    with boa.reverts("ModuleRegistry: only the owner"):
        registry.record_upgrade("Anchor", 2, sender=operator if caller == "operator" else stranger)
    assert registry.modules("Anchor").version == 1


# ------------------------------------------------------------------ the beacon (OpenZeppelin)


@pytest.mark.parametrize("caller", ["operator", "stranger", "deployer"])
def test_only_the_timelock_can_upgrade_the_beacon(
    beacon, anchor_implementation, anchor_v2_contract, operator, stranger, caller
):
    sender = {"operator": operator, "stranger": stranger, "deployer": boa.env.eoa}[caller]
    v2 = anchor_v2_contract.deploy()
    with reverts_with_custom_error("OwnableUnauthorizedAccount(address)", sender):
        beacon.upgradeTo(v2.address, sender=sender)
    assert beacon.implementation() == anchor_implementation.address


def test_beacon_refuses_an_implementation_without_code(beacon, timelock, stranger):
    with reverts_with_custom_error("BeaconInvalidImplementation(address)", stranger):
        beacon.upgradeTo(stranger, sender=timelock)


def test_timelock_upgrades_the_beacon_and_it_logs_upgraded(beacon, anchor_v2_contract, timelock):
    v2 = anchor_v2_contract.deploy()
    beacon.upgradeTo(v2.address, sender=timelock)
    assert events(beacon, "Upgraded") == [{"implementation": v2.address}]
    assert beacon.implementation() == v2.address
