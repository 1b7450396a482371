"""Small helpers shared by the contract tests: deploying OpenZeppelin bytecode, reading
events, and matching Solidity custom errors (which `boa.reverts` cannot name)."""

import contextlib
import json
import warnings
from collections.abc import Iterator
from typing import Any

import boa
from boa.contracts.base_evm_contract import BoaError
from eth_abi import encode
from eth_utils import keccak

from deployments.compiler import Artifact

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = b"\x00" * 32


def solidity_initcode(artifact: Artifact, types: list[str], args: list[Any]) -> bytes:
    return bytes.fromhex(artifact.bytecode.removeprefix("0x")) + encode(types, args)


def deploy_solidity(artifact: Artifact, types: list[str], args: list[Any]) -> Any:
    """Deploy a compiled Solidity artifact with ABI-encoded constructor arguments."""
    address, _ = boa.env.deploy_code(bytecode=solidity_initcode(artifact, types, args))
    return at_abi(artifact, address)


def at_abi(artifact: Artifact, address: str) -> Any:
    return boa.loads_abi(json.dumps(artifact.abi), name=artifact.name).at(address)


def vyper_at(deployer: Any, address: str) -> Any:
    """Wrap `address` (e.g. a BeaconProxy) with a Vyper module's ABI and source.

    boa warns that the proxy's bytecode is not the module's; that is the point of a proxy.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="casted bytecode does not match")
        return deployer.at(address)


def codehash(address: str) -> bytes:
    return keccak(boa.env.get_code(address))


def events(contract: Any, name: str, computation: Any = None) -> list[dict[str, Any]]:
    """The fields of the `name` events that `contract` logged in its last call (or in
    `computation`), without the emitter's address."""
    found = []
    for log in contract.get_logs(computation, strict=False):
        if type(log).__name__ == name and log.address == contract.address:
            fields = log._asdict()
            fields.pop("address")
            found.append(fields)
    return found


def revert_reason_data(reason: str) -> bytes:
    """The revert data of a Vyper `assert ..., reason`: the ABI encoding of Error(string)."""
    return keccak(text="Error(string)")[:4] + encode(["string"], [reason])


@contextlib.contextmanager
def reverts_with_custom_error(signature: str, *args: Any) -> Iterator[None]:
    """Expect a revert whose data is the Solidity custom error `signature` with `args`,
    e.g. `reverts_with_custom_error("OwnableUnauthorizedAccount(address)", stranger)`."""
    types = signature[signature.index("(") + 1 : -1]
    expected = keccak(text=signature)[:4] + encode(types.split(",") if types else [], args)
    try:
        yield
    except BoaError as error:
        output = bytes(error.call_trace.output)
        assert output == expected, f"reverted with 0x{output.hex()}, expected {signature}{args}"
    else:
        raise AssertionError(f"did not revert (expected {signature})")


def past_periods(membership: Any, account: str) -> list[tuple[int, int]]:
    """Membership's `past_periods(account)`, every element."""
    return [
        tuple(membership.past_periods(account, i))
        for i in range(membership.past_period_count(account))
    ]
