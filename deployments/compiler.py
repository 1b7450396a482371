"""Compile the cooperative's contracts, with a cache keyed by sources and compiler version.

Vyper contracts under `contracts/` are compiled with the vyper Python API; the
OpenZeppelin 5 proxy contracts are compiled from the npm package with solc-js (through
`solc_compile.mjs`). A second start finds every artifact in the cache and compiles nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler import compile_code
from vyper.compiler.input_bundle import FilesystemInputBundle

from deployments.paths import CONTRACTS_DIR, NODE_MODULES

# The OpenZeppelin contracts the platform deploys, by artifact name -> source in the npm package.
OPENZEPPELIN_SOURCES = {
    "UpgradeableBeacon": "@openzeppelin/contracts/proxy/beacon/UpgradeableBeacon.sol",
    "BeaconProxy": "@openzeppelin/contracts/proxy/beacon/BeaconProxy.sol",
}
SOLC_SCRIPT = Path(__file__).resolve().parent / "solc_compile.mjs"
VYPER_OUTPUTS = ["abi", "bytecode", "bytecode_runtime", "layout"]


class CompilationError(Exception):
    """A contract does not compile; the message is the compiler's."""


@dataclass(frozen=True)
class Artifact:
    """What deployment needs of a compiled contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # creation code, 0x-prefixed
    runtime_bytecode: str
    compiler: str  # e.g. "vyper-0.4.3"
    source_path: str  # relative to the contracts folder or node_modules
    storage_layout: dict[str, Any] = field(default_factory=dict)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carriercoop" / "artifacts"


def vyper_sources(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Path]:
    """Every deployable Vyper contract by name (file stem); interfaces are not deployable."""
    found: dict[str, Path] = {}
    for path in sorted(contracts_dir.rglob("*.vy")):
        if path.stem in found:
            raise CompilationError(
                f"two contracts are named {path.stem}: {found[path.stem]} and {path}"
            )
        found[path.stem] = path
    return found


class Compiler:
    """Compiles contracts on demand and keeps the results in a cache folder."""

    def __init__(self, cache_dir: Path | None = None, contracts_dir: Path = CONTRACTS_DIR) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.contracts_dir = contracts_dir
        self._memory: dict[str, dict[str, Artifact]] = {}

    # ------------------------------------------------------------------ Vyper

    def vyper(self, name: str) -> Artifact:
        """The compiled artifact of the Vyper contract `name` (e.g. "Membership")."""
        sources = vyper_sources(self.contracts_dir)
        if name not in sources:
            raise CompilationError(f"no contract named {name} under {self.contracts_dir}")
        path = sources[name]
        key = self._key("vyper", vyper.__version__, name, self._vyper_inputs_digest(path))
        return self._cached(key, lambda: {name: self._compile_vyper(name, path)})[name]

    def _vyper_inputs_digest(self, path: Path) -> str:
        # A contract may import any interface or module under contracts/, so every .vy and
        # .vyi source takes part in its key: an edited interface recompiles its users.
        digest = hashlib.sha256(path.read_bytes())
        for other in sorted(self.contracts_dir.rglob("*.vy*")):
            digest.update(str(other.relative_to(self.contracts_dir)).encode())
            digest.update(other.read_bytes())
        return digest.hexdigest()

    def _compile_vyper(self, name: str, path: Path) -> Artifact:
        relative = path.relative_to(self.contracts_dir)
        try:
            out = compile_code(
                path.read_text(),
                contract_path=str(relative),
                resolved_path=path,
                input_bundle=FilesystemInputBundle([self.contracts_dir]),
                output_formats=VYPER_OUTPUTS,
            )
        except vyper.exceptions.VyperException as exc:
            raise CompilationError(f"{relative}: {exc}") from exc
        layout = json.loads(json.dumps(out["layout"]))  # plain dicts, JSON-serialisable
        return Artifact(
            name=name,
            abi=out["abi"],
            bytecode=out["bytecode"],
            runtime_bytecode=out["bytecode_runtime"],
            compiler=f"vyper-{vyper.__version__}",
            source_path=str(relative),
            storage_layout=layout.get("storage_layout", {}),
        )

    # ------------------------------------------------------------------ Solidity

    def openzeppelin(self, name: str) -> Artifact:
        """The compiled OpenZeppelin contract `name` (UpgradeableBeacon or BeaconProxy)."""
        if name not in OPENZEPPELIN_SOURCES:
            raise CompilationError(f"no OpenZeppelin contract named {name}")
        sources = {unit: NODE_MODULES / unit for unit in OPENZEPPELIN_SOURCES.values()}
        return self.solidity(list(OPENZEPPELIN_SOURCES), sources)[name]

    def solidity(self, contracts: list[str], sources: dict[str, Path]) -> dict[str, Artifact]:
        """Compile Solidity `sources` (source unit name -> file) with solc-js and return the
        named `contracts`, which may live in imported files (imports resolve in
        node_modules). Optimizer on, 200 runs, prague. Cached by the solc and OpenZeppelin
        versions, the build script and every source's text."""
        parts = [
            f"solc-{npm_version('solc')}",
            f"oz-{npm_version('@openzeppelin/contracts')}",
            SOLC_SCRIPT.read_text(),
            *contracts,
        ]
        for unit, path in sorted(sources.items()):
            parts += [unit, hashlib.sha256(path.read_bytes()).hexdigest()]
        key = self._key("solc-build", *parts)
        return self._cached(key, lambda: self._compile_solidity(contracts, sources))

    def _compile_solidity(
        self, contracts: list[str], sources: dict[str, Path]
    ) -> dict[str, Artifact]:
        request = {
            "sources": {unit: str(path) for unit, path in sources.items()},
            "contracts": contracts,
            "nodeModules": str(NODE_MODULES),
        }
        try:
            done = subprocess.run(
                ["node", str(SOLC_SCRIPT)],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                check=True,
                cwd=NODE_MODULES.parent,
            )
        except FileNotFoundError as exc:
            raise CompilationError("node is not installed; run `make run` to set up") from exc
        except subprocess.CalledProcessError as exc:
            raise CompilationError(f"solc-js failed: {exc.stderr.strip()}") from exc
        output = json.loads(done.stdout)
        return {
            name: Artifact(
                name=name,
                abi=item["abi"],
                bytecode="0x" + item["bytecode"],
                runtime_bytecode="0x" + item["runtimeBytecode"],
                compiler=f"solc-{output['version']}",
                source_path=item["source"],
            )
            for name, item in output["contracts"].items()
        }

    # ------------------------------------------------------------------ cache

    @staticmethod
    def _key(*parts: str) -> str:
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def _cached(self, key: str, build: Callable[[], dict[str, Artifact]]) -> dict[str, Artifact]:
        """The artifacts stored under `key`, built (and stored) when missing."""
        if key in self._memory:
            return self._memory[key]
        file = self.cache_dir / f"{key}.json"
        artifacts: dict[str, Artifact] | None = None
        if file.exists():
            try:
                artifacts = {n: Artifact(**a) for n, a in json.loads(file.read_text()).items()}
            except (ValueError, TypeError, AttributeError):
                artifacts = None  # a torn or outdated cache entry: compile again
        if artifacts is None:
            artifacts = build()
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({n: asdict(a) for n, a in artifacts.items()}))
            tmp.replace(file)  # atomic: concurrent starts never read half a file
        self._memory[key] = artifacts
        return artifacts


@cache
def npm_version(package: str) -> str:
    manifest = NODE_MODULES / package / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except FileNotFoundError as exc:
        raise CompilationError(
            f"{package} is not installed in node_modules; run `make run`"
        ) from exc
