"""The gateway on two EVM implementations, the embedded anvil and Hardhat's node (a node at
COOP_RPC_URL): each is told apart by its own dev methods, gas is estimated where the node
cannot simulate, revert reasons come out alike, a dev node funds accounts and moves its
clock, and the platform's API answers the same errors on both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import vyper
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.exceptions import ContractLogicError

from cooperative.platform import Platform
from cooperative.settings import Settings
from deployments.chain import NO_REASON, ChainError, ChainGateway, ChainRevert, revert_reason
from deployments.compiler import Artifact
from deployments.node import LOCAL_FUNDING_WEI, LocalNode, fund_for_gas
from tests.conftest import Api, nodes_for
from tests.test_governance_api import VOTE, ok

PROBE = Path(__file__).parent / "fixtures" / "RevertProbe.vy"
EVMS = ["anvil", "hardhat"]


@dataclass
class Probe:
    evm: str
    gateway: ChainGateway
    sender: LocalAccount
    functions: Any  # the RevertProbe contract's


@pytest.fixture(scope="module", params=EVMS)
def probe(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Probe]:
    """The RevertProbe contract deployed on a fresh anvil, or on the session's Hardhat node."""
    out = vyper.compile_code(
        PROBE.read_text(), output_formats=["abi", "bytecode", "bytecode_runtime"]
    )
    artifact = Artifact(
        "RevertProbe", out["abi"], out["bytecode"], out["bytecode_runtime"], "vyper-0.4.3", ""
    )
    node = None
    if request.param == "anvil":
        node = LocalNode(tmp_path_factory.mktemp("anvil"))
        gateway = node.start()
    else:
        gateway = ChainGateway(request.getfixturevalue("hardhat"))
    try:
        sender = Account.create()
        fund_for_gas(gateway, sender.address)
        address = gateway.deploy(sender, artifact).contract_address
        assert address is not None
        yield Probe(request.param, gateway, sender, gateway.contract(address, out["abi"]).functions)
    finally:
        if node is not None:
            node.stop()


def test_each_node_is_told_apart_by_its_own_dev_methods(probe: Probe) -> None:
    """anvil_getAutomine on anvil (the embedded one mines on demand), hardhat_getAutomine on
    Hardhat's (it mines each transaction on arrival); the gateway mines or waits to match."""
    assert probe.gateway.dev_node() == probe.evm
    assert probe.gateway._mines_on_demand() is (probe.evm == "anvil")
    before = probe.gateway.call(probe.functions.counter())
    receipt = probe.gateway.transact(probe.sender, probe.functions.bump(2))
    assert receipt.status == 1 and receipt.block_number == probe.gateway.latest_block()
    assert probe.gateway.call(probe.functions.counter()) == before + 2


def test_gas_is_estimated_where_the_node_cannot_simulate(probe: Probe) -> None:
    """Hardhat's node has no eth_simulateV1 (it answers "not supported", code -32004): the
    gateway falls back to eth_estimateGas for good, and the limit it sends with suffices."""
    receipt = probe.gateway.transact(probe.sender, probe.functions.bump(1))
    assert receipt.status == 1
    assert probe.gateway._can_simulate is (probe.evm == "anvil")
    sent = probe.gateway._raw("eth_getTransactionByHash", receipt.tx_hash)["result"]
    assert receipt.gas_used < int(sent["gas"], 16)


@pytest.mark.parametrize(
    ("call", "gas", "reason"),
    [
        pytest.param(lambda f: f.bump(0), None, "probe: by is zero", id="assert-before-sending"),
        pytest.param(lambda f: f.bump(0), 100_000, "probe: by is zero", id="assert-mined"),
        pytest.param(lambda f: f.refuse(), None, "probe: refused, 'quoted'", id="raise"),
        pytest.param(lambda f: f.refuse(), 100_000, "probe: refused, 'quoted'", id="raise-mined"),
        pytest.param(lambda f: f.refuse_silently(), None, NO_REASON, id="no-reason"),
        pytest.param(lambda f: f.refuse_silently(), 100_000, NO_REASON, id="no-reason-mined"),
    ],
)
def test_revert_reasons_are_the_contracts_on_every_node(
    probe: Probe, call: Any, gas: int | None, reason: str
) -> None:
    """Refused by the gas estimate (or simulation) before anything is sent, or mined with
    an explicit gas limit and replayed for its reason: the contract's text, nothing of the
    node's wording (Hardhat's "VM Exception while processing transaction: ...")."""
    head = probe.gateway.latest_block()
    with pytest.raises(ChainRevert) as refused:
        probe.gateway.transact(probe.sender, call(probe.functions), gas)
    assert refused.value.reason == reason
    # refused before sending: no block; mined: the one block of the reverted transaction
    assert probe.gateway.latest_block() == head + (gas is not None)


def test_a_views_revert_reason_is_the_contracts(probe: Probe) -> None:
    assert probe.gateway.call(probe.functions.checked(3)) == 3
    with pytest.raises(ChainRevert) as refused:
        probe.gateway.call(probe.functions.checked(11))
    assert refused.value.reason == "probe: amount too large"


def test_revert_data_decides_the_reason_not_the_nodes_message() -> None:
    """The errors as web3 raises them from each node's answer to the same revert."""
    data = "0x08c379a0" + f"{32:064x}{17:064x}" + b"probe: by is zero".hex().ljust(64, "0")
    anvil = ContractLogicError("execution reverted: probe: by is zero", data)
    hardhat_message = (
        "Error: VM Exception while processing transaction: reverted with reason string "
        "'probe: by is zero'"
    )
    hardhat = ContractLogicError(
        f"execution reverted: {hardhat_message}", {"message": hardhat_message, "data": data}
    )
    assert revert_reason(anvil) == revert_reason(hardhat) == "probe: by is zero"
    silent = "Error: Transaction reverted without a reason string"
    assert (
        revert_reason(ContractLogicError("execution reverted", "0x"))
        == revert_reason(ContractLogicError(silent, {"message": silent, "data": "0x"}))
        == NO_REASON
    )


def as_network(gateway: ChainGateway, refusal: str) -> ChainGateway:
    """A gateway to the same node that sees it as a network: its dev methods refused, as an
    error answer or (some providers) an HTTP error."""
    network = ChainGateway(gateway.rpc_url)
    answer = network._raw

    def raw(method: str, *params: Any) -> dict[str, Any]:
        if not method.startswith(("anvil_", "hardhat_")):
            return answer(method, *params)
        if refusal == "http":
            raise requests.HTTPError("405 Client Error: Method Not Allowed")
        return {"error": {"code": -32601, "message": f"the method {method} does not exist"}}

    network._raw = raw  # type: ignore[method-assign]
    return network


@pytest.mark.parametrize("refusal", ["answer", "http"])
def test_a_network_is_neither_and_mines_by_itself(probe: Probe, refusal: str) -> None:
    network = as_network(probe.gateway, refusal)
    assert network.dev_node() is None and network._mines_on_demand() is False


def test_a_dev_node_funds_accounts_a_network_does_not(probe: Probe) -> None:
    newcomer = Account.create().address
    fund_for_gas(probe.gateway, newcomer)
    assert probe.gateway.balance(newcomer) == LOCAL_FUNDING_WEI
    # A network (no dev methods): nothing is funded, and setting a balance is refused.
    network = as_network(probe.gateway, "answer")
    other = Account.create().address
    fund_for_gas(network, other)
    assert network.balance(other) == 0
    with pytest.raises(ChainError, match="not a dev node"):
        network.set_balance(other, 1)


def test_a_dev_nodes_clock_moves_forward(probe: Probe) -> None:
    """increase_time (evm_increaseTime, evm_mine: both nodes have them) moves block time."""
    before = probe.gateway.block_timestamp(probe.gateway.latest_block())
    probe.gateway.increase_time(3_600)
    after = probe.gateway.block_timestamp(probe.gateway.latest_block())
    assert after >= before + 3_600
    assert probe.gateway.next_block_time() > after


# ------------------------------------------------------------------ the platform on both


@pytest.fixture(scope="module", params=EVMS)
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """`coop serve --demo`'s platform on the embedded anvil, and on Hardhat's nodes."""
    with nodes_for(request.param, tmp_path_factory.mktemp("nodes")) as nodes:
        settings = Settings(data_dir=tmp_path_factory.mktemp("platform"), **nodes)
        started = Platform.start(settings, demo=True)
        yield started
        started.stop()


def test_the_api_answers_a_contracts_refusal_alike(
    platform: Platform, as_member: list[Api]
) -> None:
    """A second vote is refused by the Governor (its reason mapped to INVALID_STATE), on
    anvil as on Hardhat; the first was counted."""
    created = ok(
        as_member[0](
            'mutation { proposeMemberAdmission(input: {name: "Dawn Networks", description: "Admit Dawn"}) { proposal { id } errors { code message } } }'
        )["proposeMemberAdmission"]
    )
    first = ok(as_member[0](VOTE, {"id": created["id"], "support": "FOR"})["castVote"])
    assert first["tally"]["forVotes"] == 1
    twice = as_member[0](VOTE, {"id": created["id"], "support": "FOR"})["castVote"]
    assert twice["errors"] == [
        {
            "code": "INVALID_STATE",
            "message": "refused by the contract: Governor: already voted",
            "field": None,
        }
    ]
