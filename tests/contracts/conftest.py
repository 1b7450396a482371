"""Fixtures for the titanoboa contract tests.

Isolation comes from titanoboa's pytest plugin (registered by the titanoboa package): every
fixture and every test runs inside its own `boa.env.anchor()`, so the chain state a test
creates is rolled back afterwards. (A hand-written autouse anchor fixture, or
`request.getfixturevalue` in a test body, would interleave with the plugin's anchors and
break their order.)

Vyper contracts are loaded from their sources under contracts/ (boa compiles them with the
same vyper 0.4.3 as `deployments.compiler`; test_artifacts.py checks the bytecode is the
same); the OpenZeppelin proxies come from the project's compiler.
"""

from pathlib import Path

import boa
import pytest

from deployments.compiler import Compiler
from deployments.paths import CONTRACTS_DIR

from . import dao
from .helpers import ZERO_ADDRESS, ZERO_BYTES32, deploy_solidity, vyper_at

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
FOUNDER_NAMES = ["Alpha Telecom", "Beta Networks", "Gamma Carrier"]

boa.interpret.set_search_paths([str(CONTRACTS_DIR)])


# ------------------------------------------------------------------ compiled contracts


@pytest.fixture(scope="session")
def compiler():
    return Compiler()


@pytest.fixture(scope="session")
def membership_contract():
    return boa.load_partial(str(CONTRACTS_DIR / "governance" / "Membership.vy"))


@pytest.fixture(scope="session")
def registry_contract():
    return boa.load_partial(str(CONTRACTS_DIR / "governance" / "ModuleRegistry.vy"))


@pytest.fixture(scope="session")
def anchor_contract():
    return boa.load_partial(str(CONTRACTS_DIR / "cooperative" / "Anchor.vy"))


@pytest.fixture(scope="session")
def anchor_v2_contract():
    return boa.load_partial(str(FIXTURES_DIR / "AnchorV2.vy"))


@pytest.fixture(scope="session")
def governance_contracts(
    compiler, membership_contract, registry_contract, anchor_contract, anchor_v2_contract
):
    governance = CONTRACTS_DIR / "governance"
    return dao.Contracts(
        timelock=boa.load_partial(str(governance / "Timelock.vy")),
        membership=membership_contract,
        sla_templates=boa.load_partial(str(governance / "SlaTemplates.vy")),
        registry=registry_contract,
        governor=boa.load_partial(str(governance / "Governor.vy")),
        anchor=anchor_contract,
        anchor_v2=anchor_v2_contract,
        beacon_artifact=compiler.openzeppelin("UpgradeableBeacon"),
        proxy_artifact=compiler.openzeppelin("BeaconProxy"),
    )


# ------------------------------------------------------------------ accounts


@pytest.fixture(scope="session")
def timelock():
    return boa.env.generate_address("timelock")


@pytest.fixture(scope="session")
def operator():
    return boa.env.generate_address("operator")


@pytest.fixture(scope="session")
def founders():
    return [boa.env.generate_address(name) for name in FOUNDER_NAMES]


@pytest.fixture(scope="session")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="session")
def newcomer():
    return boa.env.generate_address("newcomer")


# ------------------------------------------------------------------ deployed contracts


@pytest.fixture
def membership(membership_contract, timelock, founders):
    return membership_contract.deploy(timelock, founders, FOUNDER_NAMES)


@pytest.fixture
def deploy_anchor_module(compiler, anchor_contract, timelock):
    """Deploy an Anchor implementation, an UpgradeableBeacon owned by the timelock and a
    BeaconProxy initialized for `operator`; return (implementation, beacon, module at proxy)."""

    def deploy(operator):
        implementation = anchor_contract.deploy()
        beacon = deploy_solidity(
            compiler.openzeppelin("UpgradeableBeacon"),
            ["address", "address"],
            [implementation.address, timelock],
        )
        init = implementation.initialize.prepare_calldata(operator)
        proxy = deploy_solidity(
            compiler.openzeppelin("BeaconProxy"), ["address", "bytes"], [beacon.address, init]
        )
        return implementation, beacon, vyper_at(anchor_contract, proxy.address)

    return deploy


@pytest.fixture
def anchor_module(deploy_anchor_module, operator):
    return deploy_anchor_module(operator)


@pytest.fixture
def anchor_implementation(anchor_module):
    return anchor_module[0]


@pytest.fixture
def beacon(anchor_module):
    return anchor_module[1]


@pytest.fixture
def anchor(anchor_module):
    """The Anchor module as clients use it: through its BeaconProxy."""
    return anchor_module[2]


@pytest.fixture
def registry(registry_contract, timelock, anchor, beacon):
    # implementation and codehash are placeholders: the registry reads them from chain
    initial = [(anchor.address, beacon.address, ZERO_ADDRESS, 1, ZERO_BYTES32)]
    return registry_contract.deploy(timelock, initial, ["Anchor"])


# ------------------------------------------------------------------ the governance system


@pytest.fixture(scope="session")
def founder_keys():
    """The five founders of the governance system, with private keys (for ballots)."""
    return dao.founder_accounts(dao.FOUNDERS)


@pytest.fixture(scope="session")
def guardian():
    return boa.env.generate_address("guardian")


@pytest.fixture
def system(governance_contracts, founder_keys, guardian):
    """Timelock, Membership (5 founders), SlaTemplates, the Anchor module behind a beacon
    proxy, ModuleRegistry and Governor with short rules (voting 1 h, delay 10 min),
    wired as deployments/deploy.py wires them."""
    founders = [key.address for key in founder_keys]
    deployed = dao.deploy_system(governance_contracts, founders, guardian=guardian)
    deployed.keys = {key.address: key for key in founder_keys}
    return deployed


# The Ordering module's fixtures live beside their helpers; importing them here makes them
# available to every test module without importing fixture names there.
from tests.contracts.ordering_fixtures import market_fixture, ordering_contract_fixture  # noqa: E402, F401
