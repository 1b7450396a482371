"""Deploy a whole cooperative system to a network, and check a recorded one.

Governance contracts (Timelock, Membership, SlaTemplates, ModuleRegistry, Governor) are
deployed directly; the Timelock owns every privileged role and the deployer's only
remaining power, wiring the Governor into the Timelock, ends with the deployment. Cooperative
modules each get an implementation, an OpenZeppelin 5 `UpgradeableBeacon` owned by the
Timelock, and a `BeaconProxy` whose constructor calls the module's `initialize()`; only
the Timelock can later point a beacon at a new implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from deployments.chain import ChainGateway, Receipt
from deployments.compiler import Compiler
from deployments.records import ContractRecord, Deployment, RecordsError


@dataclass(frozen=True)
class ModuleSpec:
    """A cooperative module: its contract, version and `initialize()` arguments."""

    name: str
    version: int
    initialize_args: Callable[[Deployment], list[Any]]


# The cooperative modules deployed behind beacon proxies, in deployment order.
MODULES: list[ModuleSpec] = [
    ModuleSpec("Anchor", version=1, initialize_args=lambda d: [d.operator]),
    ModuleSpec(
        "Ordering",
        version=1,
        initialize_args=lambda d: [d.address("Membership"), d.address("SlaTemplates")],
    ),
    ModuleSpec(
        "Assurance",
        version=2,
        initialize_args=lambda d: [
            d.address("Membership"),
            d.address("SlaTemplates"),
            d.address("Ordering"),
        ],
    ),
    ModuleSpec(
        "Billing",
        version=1,
        initialize_args=lambda d: [
            d.address("Membership"),
            d.address("Ordering"),
            d.address("Assurance"),
        ],
    ),
    ModuleSpec(
        "Settlement",
        version=1,
        initialize_args=lambda d: [d.address("Membership"), d.address("Billing"), d.operator],
    ),
]


@dataclass(frozen=True)
class Founder:
    address: str
    name: str


def deploy_system(
    gateway: ChainGateway,
    deployer: LocalAccount,
    compiler: Compiler,
    *,
    network: str,
    founders: list[Founder],
    operator: str,
    governor_rules: list[tuple[int | bool, ...]],
    minimum_delay: int,
    guardian: str | None = None,
    progress: Callable[[str], None] = lambda _step: None,
) -> Deployment:
    """Deploy the governance contracts, every module (implementation, beacon, proxy) and
    the ModuleRegistry, and wire the Governor into the Timelock; return the records (the
    caller saves them). `governor_rules` are the six kinds' rules in kind order."""
    progress("Timelock")
    timelock_receipt = gateway.deploy(deployer, compiler.vyper("Timelock"), minimum_delay)
    timelock = timelock_receipt.contract_address or ""
    deployment = Deployment(
        network=network, chain_id=gateway.chain_id, timelock=timelock, operator=operator
    )

    def record(
        name: str,
        artifact: str,
        receipt: Receipt,
        version: int,
        layout: dict[str, Any] | None = None,
    ) -> str:
        deployment.contracts[name] = contract_record(
            gateway, name, artifact, receipt, version, layout
        )
        return deployment.contracts[name].address

    record("Timelock", "Timelock", timelock_receipt, 1)

    progress("Membership")
    receipt = gateway.deploy(
        deployer,
        compiler.vyper("Membership"),
        timelock,
        [f.address for f in founders],
        [f.name for f in founders],
    )
    record("Membership", "Membership", receipt, 1)
    progress("SlaTemplates")
    record(
        "SlaTemplates",
        "SlaTemplates",
        gateway.deploy(deployer, compiler.vyper("SlaTemplates"), timelock),
        1,
    )

    beacon_artifact = compiler.openzeppelin("UpgradeableBeacon")
    proxy_artifact = compiler.openzeppelin("BeaconProxy")
    registry_entries: list[tuple[str, str, str, int, bytes]] = []
    for module in MODULES:
        progress(module.name)
        artifact = compiler.vyper(module.name)
        implementation = record(
            f"{module.name}.implementation",
            module.name,
            gateway.deploy(deployer, artifact),
            module.version,
            artifact.storage_layout,
        )
        beacon = record(
            f"{module.name}.beacon",
            "UpgradeableBeacon",
            gateway.deploy(deployer, beacon_artifact, implementation, timelock),
            module.version,
        )
        init = gateway.contract(implementation, artifact.abi).functions.initialize(
            *module.initialize_args(deployment)
        )
        init_data = init._encode_transaction_data()
        receipt = gateway.deploy(deployer, proxy_artifact, beacon, init_data)
        # The proxy's record carries the module's ABI: clients call the module through it.
        record(module.name, module.name, receipt, module.version)
        registry_entries.append(
            (receipt.contract_address or "", beacon, implementation, module.version, b"\0" * 32)
        )

    # Billing and Settlement name each other: Settlement got Billing at initialize(); the
    # deployer's one-time `set_settlement` tells Billing, and ends the deployer's role there.
    billing = gateway.contract(deployment.address("Billing"), compiler.vyper("Billing").abi)
    gateway.transact(deployer, billing.functions.set_settlement(deployment.address("Settlement")))

    progress("ModuleRegistry")
    receipt = gateway.deploy(
        deployer,
        compiler.vyper("ModuleRegistry"),
        timelock,
        registry_entries,
        [m.name for m in MODULES],
    )
    record("ModuleRegistry", "ModuleRegistry", receipt, 1)

    progress("Governor")
    receipt = gateway.deploy(
        deployer,
        compiler.vyper("Governor"),
        deployment.address("Membership"),
        timelock,
        deployment.address("SlaTemplates"),
        deployment.address("ModuleRegistry"),
        guardian or "0x" + "00" * 20,
        governor_rules,
    )
    governor = record("Governor", "Governor", receipt, 1)
    timelock_contract = gateway.contract(timelock, compiler.vyper("Timelock").abi)
    gateway.transact(deployer, timelock_contract.functions.set_governor(governor))
    return deployment


def contract_record(
    gateway: ChainGateway,
    name: str,
    artifact: str,
    receipt: Receipt,
    version: int,
    layout: dict[str, Any] | None = None,
) -> ContractRecord:
    """The record of a contract a deployment transaction created."""
    address = receipt.contract_address
    if address is None:
        raise RecordsError(f"the transaction deploying {name} created no contract")
    return ContractRecord(
        name=name,
        artifact=artifact,
        address=address,
        codehash=gateway.codehash(address),
        version=version,
        tx_hash=receipt.tx_hash,
        block=receipt.block_number,
        storage_layout=layout or {},
    )


def verify_deployment(gateway: ChainGateway, deployment: Deployment) -> None:
    """Check that the chain still holds what the records say: same chain, same code."""
    if gateway.chain_id != deployment.chain_id:
        raise RecordsError(
            f"the node at {gateway.rpc_url} is chain {gateway.chain_id}, "
            f"but the {deployment.network} records are for chain {deployment.chain_id}"
        )
    missing = [m.name for m in MODULES if m.name not in deployment.contracts]
    if missing:
        raise RecordsError(
            f"the {deployment.network} deployment predates the modules {', '.join(missing)}; "
            "start from a fresh data directory (or move the records away) to deploy them"
        )
    for item in deployment.contracts.values():
        actual = gateway.codehash(item.address)
        if actual != item.codehash:
            raise RecordsError(
                f"{item.name} at {item.address} does not hold the recorded code "
                "(was the chain reset?); move the records away to deploy afresh"
            )


def contract(
    gateway: ChainGateway, compiler: Compiler, deployment: Deployment, name: str
) -> Contract:
    """A web3 handle on the deployed contract `name`, with its ABI."""
    if name not in deployment.contracts:
        raise RecordsError(f"no contract named {name} in the {deployment.network} deployment")
    item = deployment.contracts[name]
    if item.artifact in ("UpgradeableBeacon", "BeaconProxy"):
        abi = compiler.openzeppelin(item.artifact).abi
    else:
        abi = compiler.vyper(item.artifact).abi
    return gateway.contract(item.address, abi)
