# pragma version 0.4.3
"""
@title ModuleRegistry
@custom:contract-name ModuleRegistry
@license Apache-2.0
@notice The single place clients discover the cooperative's modules: name -> proxy,
        beacon, implementation, version and the implementation's codehash.
@dev Owned by the Timelock. An upgrade is two actions of one executed proposal: the
     Timelock points the module's beacon at the new implementation, then records it
     here; `record_upgrade` reads the beacon, so the record can never disagree with it.
"""

# @dev The beacon is OpenZeppelin's UpgradeableBeacon; only its `implementation()` is read.
from interfaces import IUpgradeableBeacon
# @dev Every module implementation reports its own version; a record must agree with it.
from interfaces import IModule

# @dev Module names are short identifiers such as "Anchor" or "Ordering".
MAX_NAME_LENGTH: constant(uint256) = 32
# @dev The cooperative has a handful of modules; the bound keeps `module_names` iterable.
MAX_MODULES: constant(uint256) = 32


struct Module:
    proxy: address
    beacon: address
    implementation: address
    version: uint256
    codehash: bytes32


event ModuleRegistered:
    name: String[MAX_NAME_LENGTH]
    proxy: indexed(address)
    beacon: indexed(address)
    implementation: address
    version: uint256
    codehash: bytes32


event ModuleUpgraded:
    name: String[MAX_NAME_LENGTH]
    implementation: indexed(address)
    version: uint256
    codehash: bytes32


# @notice The Timelock: the only address that registers modules and records upgrades.
owner: public(immutable(address))

modules: public(HashMap[String[MAX_NAME_LENGTH], Module])
module_names: public(DynArray[String[MAX_NAME_LENGTH], MAX_MODULES])


@deploy
def __init__(_owner: address, initial: DynArray[Module, MAX_MODULES], names: DynArray[String[MAX_NAME_LENGTH], MAX_MODULES]):
    """
    @notice Create the registry with the modules deployed alongside it.
    @dev The deployer registers the initial modules here because it never owns the
         registry: ownership is the Timelock's from the first block.
    @param _owner The Timelock.
    @param initial The initial modules (their implementation and codehash fields are
                   ignored: both are read from chain, through the beacon).
    @param names Their names, in the same order.
    """
    assert _owner != empty(address), "ModuleRegistry: zero owner"
    assert len(initial) == len(names), "ModuleRegistry: modules and names differ in length"
    owner = _owner
    for i: uint256 in range(len(initial), bound=MAX_MODULES):
        self._register(names[i], initial[i].proxy, initial[i].beacon, initial[i].version)


@external
def register(name: String[MAX_NAME_LENGTH], proxy: address, beacon: address, version: uint256):
    """
    @notice Register a new module. Only the Timelock.
    @param name The module's name.
    @param proxy The address clients call.
    @param beacon The beacon the proxy reads its implementation from.
    @param version The implementation's version number.
    """
    assert msg.sender == owner, "ModuleRegistry: only the owner"
    self._register(name, proxy, beacon, version)


@external
def record_upgrade(name: String[MAX_NAME_LENGTH], version: uint256):
    """
    @notice Record the implementation a module's beacon now points at. Only the Timelock,
            in the same proposal that upgraded the beacon.
    @param name The module's name.
    @param version The new implementation's version; must be greater than the current one.
    """
    assert msg.sender == owner, "ModuleRegistry: only the owner"
    module: Module = self.modules[name]
    assert module.proxy != empty(address), "ModuleRegistry: unknown module"
    assert version > module.version, "ModuleRegistry: version must increase"
    implementation: address = staticcall IUpgradeableBeacon(module.beacon).implementation()
    assert implementation != module.implementation, "ModuleRegistry: beacon not upgraded"
    assert staticcall IModule(implementation).version() == version, "ModuleRegistry: not the implementation's version"
    module.implementation = implementation
    module.version = version
    module.codehash = implementation.codehash
    self.modules[name] = module
    log ModuleUpgraded(name=name, implementation=implementation, version=version, codehash=implementation.codehash)


@external
@view
def module_count() -> uint256:
    """
    @notice How many modules are registered.
    @return The number of modules.
    """
    return len(self.module_names)


@internal
def _register(name: String[MAX_NAME_LENGTH], proxy: address, beacon: address, version: uint256):
    assert len(name) > 0, "ModuleRegistry: empty name"
    assert self.modules[name].proxy == empty(address), "ModuleRegistry: name taken"
    assert proxy != empty(address) and beacon != empty(address), "ModuleRegistry: zero address"
    assert version > 0, "ModuleRegistry: zero version"
    implementation: address = staticcall IUpgradeableBeacon(beacon).implementation()
    assert staticcall IModule(implementation).version() == version, "ModuleRegistry: not the implementation's version"
    self.modules[name] = Module(
        proxy=proxy, beacon=beacon, implementation=implementation, version=version,
        codehash=implementation.codehash,
    )
    self.module_names.append(name)
    log ModuleRegistered(
        name=name, proxy=proxy, beacon=beacon, implementation=implementation, version=version,
        codehash=implementation.codehash,
    )
