"""Module upgrades: deploy a new implementation, and check that its storage layout is
compatible with the one it would replace.

A module's state lives in its proxy's storage, laid out by the implementation. A new
implementation may append variables; it must not move, remove or retype any existing
one, or it would read the old records wrong. Layouts come from the vyper compiler and
are kept in the deployment records of every implementation deployed, so the check
compares what is really on chain, not today's source.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from deployments.chain import ChainGateway
from deployments.compiler import Compiler
from deployments.deploy import contract_record
from deployments.records import ContractRecord, Deployment, RecordsError

Layout = dict[str, dict[str, Any]]


class LayoutIncompatible(Exception):
    """The candidate's storage layout would corrupt the module's records."""


def layout_problems(current: Layout, candidate: Layout) -> list[str]:
    """Each incompatibility, naming the variable; empty when `candidate` only appends."""
    problems = []
    for name, slot in current.items():
        new = candidate.get(name)
        if new is None:
            problems.append(f"`{name}` (slot {slot['slot']}) was removed")
        elif new["type"] != slot["type"]:
            problems.append(f"`{name}` changed type from {slot['type']} to {new['type']}")
        elif new["slot"] != slot["slot"]:
            problems.append(f"`{name}` moved from slot {slot['slot']} to slot {new['slot']}")
        elif new.get("n_slots") != slot.get("n_slots"):
            problems.append(
                f"`{name}` changed size from {slot.get('n_slots')} to {new.get('n_slots')} slots"
            )
    end = max((s["slot"] + s.get("n_slots", 1) for s in current.values()), default=0)
    for name, slot in candidate.items():
        if name not in current and slot["slot"] < end:
            problems.append(
                f"`{name}` is new but sits at slot {slot['slot']}, inside the existing layout (ends at {end})"
            )
    return problems


def find_implementation(deployment: Deployment, address: str) -> ContractRecord:
    wanted = Web3.to_checksum_address(address)
    for record in deployment.contracts.values():
        is_implementation = ".implementation" in record.name
        if is_implementation and Web3.to_checksum_address(record.address) == wanted:
            return record
    raise RecordsError(
        f"{address} is not an implementation deployed by this platform: deploy it with `coop modules deploy`"
    )


def check_upgrade(
    deployment: Deployment, module: str, current_address: str, candidate_address: str
) -> ContractRecord:
    """The candidate's record when its layout is compatible with the current one."""
    current = find_implementation(deployment, current_address)
    candidate = find_implementation(deployment, candidate_address)
    if candidate.artifact != current.artifact and not candidate.name.startswith(f"{module}."):
        raise LayoutIncompatible(
            f"{candidate_address} is an implementation of {candidate.artifact}, not of {module}"
        )
    problems = layout_problems(current.storage_layout, candidate.storage_layout)
    if problems:
        raise LayoutIncompatible(f"{module}: storage layout incompatible: " + "; ".join(problems))
    return candidate


def deploy_implementation(
    gateway: ChainGateway,
    deployer: LocalAccount,
    compiler: Compiler,
    deployment: Deployment,
    module: str,
) -> ContractRecord:
    """Deploy the module's implementation from today's source and record it (with its
    layout) as `<module>.implementation.v<version>`; the caller saves the records."""
    artifact = compiler.vyper(module)
    receipt = gateway.deploy(deployer, artifact)
    address = receipt.contract_address or ""
    version = gateway.contract(address, artifact.abi).functions.version().call()
    name = f"{module}.implementation.v{version}"
    if name in deployment.contracts:
        name = f"{name}.{address[2:10].lower()}"  # a second build of one version
    record = contract_record(gateway, name, module, receipt, version, artifact.storage_layout)
    deployment.contracts[record.name] = record
    return record
