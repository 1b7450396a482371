"""Reading a proposal's actions: each call decoded against the ABI of its target."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract


def _plain(value: Any) -> Any:
    """ABI values as JSON: bytes as 0x-hex, big integers as decimal strings."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def decode_action(
    contracts_by_address: dict[str, tuple[str, Contract]], target: str, calldata: bytes
) -> dict[str, Any]:
    """{"target", "contract", "function", "args"} for one call; unknown targets or data are
    shown raw, never hidden."""
    known = contracts_by_address.get(Web3.to_checksum_address(target))
    action: dict[str, Any] = {
        "target": Web3.to_checksum_address(target),
        "contract": None,
        "function": None,
        "args": {},
    }
    if known is None:
        return action
    name, handle = known
    action["contract"] = name
    try:
        function, args = handle.decode_function_input(calldata)
    except ValueError:
        return action
    action["function"] = function.fn_name
    action["args"] = {key: _plain(value) for key, value in args.items()}
    return action
