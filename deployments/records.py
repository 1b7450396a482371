"""Deployment records: what was deployed where, so every later start finds it again.

One JSON file per network. Named networks (a shared testnet, a consortium chain) keep
theirs in `deployments/records/<network>.json`, committed with the code; throwaway local
chains keep theirs under the data directory, never in git.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deployments.paths import NAMED_RECORDS_DIR


class RecordsError(Exception):
    """Deployment records are missing, unreadable or disagree with the chain."""


@dataclass
class ContractRecord:
    """One deployed contract."""

    name: str  # "Membership", "Anchor" (a module's proxy), "Anchor.beacon", ...
    artifact: str  # the compiled contract whose ABI applies at `address`
    address: str
    codehash: str
    version: int
    tx_hash: str
    block: int
    storage_layout: dict[str, Any] = field(default_factory=dict)  # implementations only


@dataclass
class Deployment:
    """A whole system on one network."""

    network: str
    chain_id: int
    timelock: str
    operator: str
    contracts: dict[str, ContractRecord] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise RecordsError(
                f"no contract named {name} in the {self.network} deployment"
            ) from None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        contracts = {name: ContractRecord(**item) for name, item in data.pop("contracts").items()}
        return cls(**data, contracts=contracts)


def records_path(network: str, data_dir: Path | None) -> Path:
    """Where the records of `network` live: in the data directory for local chains
    (when `data_dir` is given), else in the package's named-network folder."""
    if data_dir is not None:
        return data_dir / "deployments" / f"{network}.json"
    return NAMED_RECORDS_DIR / f"{network}.json"


def load(path: Path) -> Deployment | None:
    """The deployment recorded at `path`, or None when nothing was deployed yet."""
    if not path.exists():
        return None
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise RecordsError(f"the deployment records {path} are unreadable: {exc}") from exc


def save(deployment: Deployment, path: Path) -> None:
    """Write the records atomically: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    tmp.replace(path)
