"""Reading a proposal's actions: each call decoded against the ABI of its target, and said
in words (what the members vote on, as the web app, the CLI and ERPs show it)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from web3 import Web3
from web3.contract import Contract

from governance.rules import Kind

PPM = 1_000_000  # parts per million: availability
BPS = 10_000  # basis points: a credit's share of the MRC


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


# ------------------------------------------------------------------ in words

KIND_IN_WORDS = {
    Kind.ADMIT_MEMBER: "admitting a member",
    Kind.REMOVE_MEMBER: "removing a member",
    Kind.ADOPT_SLA_TEMPLATE: "adopting an SLA template",
    Kind.RETIRE_SLA_TEMPLATE: "retiring an SLA template",
    Kind.UPGRADE_MODULE: "upgrading a module",
    Kind.CHANGE_RULES: "changing the rules",
}


def percent(value: int, one: int) -> str:
    """`value` parts of `one` as a percentage without trailing zeros: 999500 ppm -> 99.95 %."""
    share = (Decimal(value) * 100 / Decimal(one)).normalize()
    return f"{share:f} %"


def duration(seconds: int) -> str:
    """In the largest whole unit: 432000 -> "5 days", 90 -> "90 s"."""
    for unit, name in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= unit and seconds % unit == 0:
            count = seconds // unit
            return f"{count} {name}{'s' if count != 1 else ''}"
    return f"{seconds} s"


def summarize_actions(
    actions: list[dict[str, Any]],
    values: list[int],
    member_names: dict[str, str],
    codehash: Callable[[str], str],
) -> list[str]:
    """Each decoded action (decode_action's shape) in words, for people: "admit Delta
    Carrier (0x…)", "adopt SLA template Gold: …", "upgrade Assurance to v2: …". A member's
    name comes from `member_names` (checksum address -> name); an implementation's codehash
    from `codehash`. What is not recognised is still said, as the call it makes."""
    # a module upgrade is two calls (beacon, then registry): the beacon's needs the version
    versions = {
        a["args"].get("name"): a["args"].get("version")
        for a in actions
        if a.get("contract") == "ModuleRegistry" and a.get("function") == "record_upgrade"
    }
    summaries = []
    for action, value in zip(actions, values, strict=True):
        try:
            text = _summary(action, member_names, codehash, versions)
        except (KeyError, TypeError, ValueError, InvalidOperation):  # args of another shape
            text = _call_in_words(action)
        if value:
            text += f", sending {value} wei"
        summaries.append(text)
    return summaries


def _summary(
    action: dict[str, Any],
    member_names: dict[str, str],
    codehash: Callable[[str], str],
    versions: dict[Any, Any],
) -> str:
    contract, function, args = action.get("contract"), action.get("function"), action["args"]
    if contract == "Membership" and function == "admit":
        return f"admit {args['name']} ({args['account']})"
    if contract == "Membership" and function == "remove":
        name = member_names.get(Web3.to_checksum_address(args["account"]))
        return (
            f"remove member {name} ({args['account']})"
            if name
            else f"remove member {args['account']}"
        )
    if contract == "SlaTemplates" and function == "adopt":
        return _template_in_words(args)
    if contract == "SlaTemplates" and function == "retire":
        return f"retire SLA template {args['template_id']}"
    if contract and contract.endswith(".beacon") and function == "upgradeTo":
        module = contract.removesuffix(".beacon")
        implementation = args["newImplementation"]
        version = versions.get(module)
        target = f"v{version}" if version is not None else "a new implementation"
        return (
            f"upgrade {module} to {target}: implementation {implementation}, "
            f"codehash {codehash(implementation)}"
        )
    if contract == "ModuleRegistry" and function == "record_upgrade":
        return f"record {args['name']} v{args['version']} in the module registry"
    if contract == "Governor" and function == "set_rules":
        return _rules_in_words(int(args["kind"]), args["new_rules"])
    return _call_in_words(action)


def _template_in_words(args: dict[str, Any]) -> str:
    tiers = ", ".join(
        f"below {percent(int(t['floor_ppm']), PPM)} → {percent(int(t['credit_bps']), BPS)} of MRC"
        for t in args["tiers"]
    )
    maintenance = "excluded" if args["exclude_planned_maintenance"] else "counted"
    return (
        f"adopt SLA template {args['name']}: availability objective "
        f"{percent(int(args['objective_ppm']), PPM)} per calendar month; credit tiers: {tiers}; "
        f"resolved tickets deemed closed after {duration(int(args['resolution_window']))}; "
        f"planned maintenance {maintenance}"
    )


def _rules_in_words(kind: int, rules: dict[str, Any]) -> str:
    approval = "at least" if rules["approval_inclusive"] else "more than"
    return (
        f"change the rules for {KIND_IN_WORDS[Kind(kind)]}: quorum "
        f"{rules['quorum_numerator']}/{rules['quorum_denominator']} of the eligible members, "
        f"approval {approval} {rules['approval_numerator']}/{rules['approval_denominator']} "
        f"of For and Against, voting delay {duration(int(rules['voting_delay']))}, "
        f"voting period {duration(int(rules['voting_period']))}, "
        f"timelock delay {duration(int(rules['timelock_delay']))}, "
        f"late-quorum extension {duration(int(rules['late_quorum_extension']))}"
    )


def _call_in_words(action: dict[str, Any]) -> str:
    if action.get("function") is None:
        where = (
            f"{action['contract']} at {action['target']}"
            if action.get("contract")
            else action["target"]
        )
        return f"call {where} (data not decoded)"
    arguments = ", ".join(f"{key}={value}" for key, value in action["args"].items())
    return f"call {action['contract']}.{action['function']}({arguments})"
