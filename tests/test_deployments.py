"""Compiling with a cache, deploying a whole system on anvil, records and the checks on them."""

from __future__ import annotations

import socket
import stat
import threading
from pathlib import Path

import pytest
from eth_account import Account

from deployments import compiler as compiler_module
from deployments import records
from deployments.chain import ChainError, ChainGateway, ChainRevert
from deployments.compiler import Compiler
from deployments.deploy import MODULES, Founder, contract, deploy_system, verify_deployment
from deployments.node import LocalNode, free_loopback_port, private_network
from deployments.records import RecordsError
from governance.rules import DEFAULT_RULES, Kind, Rules, rules_in_kind_order, short_rules


@pytest.fixture(scope="module")
def system(anvil: ChainGateway, compiler: Compiler):
    deployer, aurora = Account.create(), Account.create()
    for account in (deployer, aurora):
        anvil.set_balance(account.address, 10**21)
    deployment = deploy_system(
        anvil,
        deployer,
        compiler,
        network="local",
        founders=[Founder(aurora.address, "Aurora Telecom")],
        governor_rules=rules_in_kind_order(short_rules(voting_period=600, timelock_delay=60)),
        minimum_delay=60,
        guardian=deployer.address,
        operator=deployer.address,
    )
    return deployment, deployer, deployment.timelock, aurora


def test_second_compile_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Compiler(cache_dir=tmp_path).vyper("Membership")
    beacon = Compiler(cache_dir=tmp_path).openzeppelin("UpgradeableBeacon")

    def no_compiling(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the artifact")

    monkeypatch.setattr(compiler_module, "compile_code", no_compiling)
    monkeypatch.setattr(compiler_module.subprocess, "run", no_compiling)
    again = Compiler(cache_dir=tmp_path)
    assert again.vyper("Membership") == first
    assert again.openzeppelin("UpgradeableBeacon") == beacon


def test_an_edited_source_is_compiled_again(tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    source = contracts / "Box.vy"
    source.write_text("# pragma version 0.4.3\nx: public(uint256)\n")
    cached = Compiler(cache_dir=tmp_path / "cache", contracts_dir=contracts)
    before = cached.vyper("Box")
    source.write_text("# pragma version 0.4.3\nx: public(uint256)\ny: public(uint256)\n")
    after = Compiler(cache_dir=tmp_path / "cache", contracts_dir=contracts).vyper("Box")
    assert before.bytecode != after.bytecode
    assert list(after.storage_layout) == ["x", "y"]


def test_a_contract_that_does_not_compile_says_where(tmp_path: Path) -> None:
    (tmp_path / "Broken.vy").write_text("# pragma version 0.4.3\nx: public(uint257)\n")
    with pytest.raises(compiler_module.CompilationError, match=r"Broken\.vy"):
        Compiler(cache_dir=tmp_path / "cache", contracts_dir=tmp_path).vyper("Broken")


def test_the_system_is_wired_to_the_timelock(
    anvil: ChainGateway, compiler: Compiler, system
) -> None:
    deployment, deployer, timelock, aurora = system
    membership = contract(anvil, compiler, deployment, "Membership")
    assert membership.functions.timelock().call() == timelock
    assert membership.functions.is_member(aurora.address).call()
    assert membership.functions.member_count().call() == 1

    registry = contract(anvil, compiler, deployment, "ModuleRegistry")
    assert registry.functions.owner().call() == timelock
    assert registry.functions.module_count().call() == len(MODULES)
    for module in MODULES:
        proxy, beacon, implementation, version, codehash = registry.functions.modules(
            module.name
        ).call()
        assert proxy == deployment.address(module.name)
        assert beacon == deployment.address(f"{module.name}.beacon")
        assert implementation == deployment.address(f"{module.name}.implementation")
        assert version == module.version
        assert (
            "0x" + codehash.hex() == deployment.contracts[f"{module.name}.implementation"].codehash
        )
        beacon_handle = contract(anvil, compiler, deployment, f"{module.name}.beacon")
        assert beacon_handle.functions.owner().call() == timelock
        assert beacon_handle.functions.implementation().call() == implementation

    anchor = contract(anvil, compiler, deployment, "Anchor")
    assert anchor.functions.initialized().call() is True
    assert anchor.functions.operator().call() == deployer.address


def test_nobody_but_the_timelock_upgrades_a_beacon(
    anvil: ChainGateway, compiler: Compiler, system
) -> None:
    deployment, deployer, _, aurora = system
    beacon = contract(anvil, compiler, deployment, "Anchor.beacon")
    new_implementation = anvil.deploy(deployer, compiler.vyper("Anchor")).contract_address
    for outsider in (deployer, aurora):
        with pytest.raises(ChainRevert):
            anvil.transact(outsider, beacon.functions.upgradeTo(new_implementation))
    assert beacon.functions.implementation().call() == deployment.address("Anchor.implementation")


def test_the_governor_is_wired_and_the_deployer_keeps_no_power(
    anvil: ChainGateway, compiler: Compiler, system
) -> None:
    deployment, deployer, timelock, _ = system
    timelock_contract = contract(anvil, compiler, deployment, "Timelock")
    governor = contract(anvil, compiler, deployment, "Governor")
    assert timelock_contract.functions.governor().call() == deployment.address("Governor")
    assert timelock_contract.functions.deployer().call() == "0x" + "00" * 20
    with pytest.raises(ChainRevert, match="only the deployer, once"):
        anvil.transact(deployer, timelock_contract.functions.set_governor(deployer.address))
    assert governor.functions.timelock().call() == timelock
    assert governor.functions.membership().call() == deployment.address("Membership")
    assert governor.functions.guardian().call() == deployer.address
    for kind in Kind:
        assert (
            Rules.from_tuple(governor.functions.rules(kind).call()).quorum_denominator
            == DEFAULT_RULES[kind].quorum_denominator
        )
    with pytest.raises(ChainRevert, match="only the timelock"):
        anvil.transact(deployer, governor.functions.set_guardian(deployer.address))


def test_records_round_trip_and_verify(tmp_path: Path, anvil: ChainGateway, system) -> None:
    deployment = system[0]
    path = records.records_path("local", tmp_path)
    assert path == tmp_path / "deployments" / "local.json"
    records.save(deployment, path)
    loaded = records.load(path)
    assert loaded == deployment
    verify_deployment(anvil, loaded)
    assert records.records_path("linea-sepolia", None).parent.name == "records"


def test_records_for_another_chain_are_refused(anvil: ChainGateway, system) -> None:
    deployment = records.Deployment.from_json({**system[0].to_json(), "chain_id": 59141})
    with pytest.raises(
        RecordsError, match="is chain 31337, but the local records are for chain 59141"
    ):
        verify_deployment(anvil, deployment)


def test_records_without_the_code_on_chain_are_refused(anvil: ChainGateway, system) -> None:
    data = system[0].to_json()
    data["contracts"]["Membership"]["address"] = Account.create().address
    with pytest.raises(RecordsError, match="does not hold the recorded code"):
        verify_deployment(anvil, records.Deployment.from_json(data))


def test_records_of_an_older_version_without_a_module_are_refused(
    anvil: ChainGateway, system
) -> None:
    data = system[0].to_json()
    for name in ("Assurance", "Assurance.beacon", "Assurance.implementation"):
        data["contracts"].pop(name)
    with pytest.raises(RecordsError, match="predates the modules Assurance"):
        verify_deployment(anvil, records.Deployment.from_json(data))


def test_unreadable_records_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    path.write_text("{not json")
    with pytest.raises(RecordsError, match="unreadable"):
        records.load(path)
    assert records.load(tmp_path / "missing.json") is None


# ---------------------------------------------------------------- the chain gateway


def test_a_revert_comes_back_with_the_contracts_reason(
    anvil: ChainGateway, compiler: Compiler, system
) -> None:
    deployment, deployer, _, aurora = system
    membership = contract(anvil, compiler, deployment, "Membership")
    with pytest.raises(ChainRevert) as estimated:
        anvil.transact(deployer, membership.functions.remove(aurora.address))
    assert estimated.value.reason == "Membership: only the timelock"
    # with a fixed gas limit the transaction is mined and fails; the reason is replayed
    with pytest.raises(ChainRevert) as mined:
        anvil.transact(deployer, membership.functions.remove(aurora.address), gas=200_000)
    assert mined.value.reason == "Membership: only the timelock"
    assert membership.functions.is_member(aurora.address).call()


def test_concurrent_transactions_from_one_sender_get_distinct_nonces(
    anvil: ChainGateway, compiler: Compiler, system
) -> None:
    deployer = system[1]
    addresses: list[str] = []
    failures: list[Exception] = []

    def deploy_one() -> None:
        try:
            addresses.append(anvil.deploy(deployer, compiler.vyper("Anchor")).contract_address)
        except Exception as exc:  # collected: the assertion below names them
            failures.append(exc)

    threads = [threading.Thread(target=deploy_one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(addresses)) == 12
    assert all(anvil.has_code(address) for address in addresses)


def test_an_unreachable_node_is_a_chain_error() -> None:
    gateway = ChainGateway(f"http://127.0.0.1:{free_loopback_port()}", request_timeout=2)
    assert gateway.is_reachable() is False
    with pytest.raises(ChainError, match="cannot reach the chain node"):
        gateway.latest_block()


def test_only_the_platform_reaches_the_embedded_node(tmp_path: Path) -> None:
    """Its JSON-RPC is a 0600 socket in a 0700 directory, and no TCP port answers it: no
    local process can call anvil_impersonateAccount and send as a member."""

    if not private_network():
        pytest.skip("no network namespaces on this machine (the node warns at start)")
    node = LocalNode(tmp_path / "chain")
    with node as gateway:
        assert gateway.rpc_url == str(node.ipc_path)
        assert stat.S_IMODE(node.ipc_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(node.state_dir.stat().st_mode) == 0o700
        assert gateway.latest_block() >= 0
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", node.port))
        unreachable = ChainGateway(f"http://127.0.0.1:{node.port}", request_timeout=2)
        assert unreachable.is_reachable() is False
