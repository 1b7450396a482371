"""The `coop` command: one clear line, exit status 1 and no traceback for every failure a
user can cause at start-up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from cooperative import cli
from cooperative.platform import Platform
from cooperative.settings import Settings
from cooperative.store.database import make_engine
from cooperative.store.models import ChainCursor, MemberProfile
from deployments import node as node_module
from deployments.node import free_loopback_port

COOP = [sys.executable, "-m", "cooperative.cli"]


def coop(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}
    return subprocess.run(
        [*COOP, *args], capture_output=True, text=True, env={**base, **(env or {})}, timeout=timeout
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("error: ")
    for phrase in phrases:
        assert phrase in message, message


@pytest.fixture(scope="module")
def deployed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a demo deployment, stopped."""
    data_dir = tmp_path_factory.mktemp("deployed")
    platform = Platform.start(Settings(data_dir=data_dir), demo=True)
    platform.demo_credentials("http://127.0.0.1:8000/graphql")
    platform.stop()
    return data_dir


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = coop("serve", "--demo", "--data-dir", str(tmp_path), "--port", str(port))
    assert_one_line_error(result, f"port {port}", "in use", "--port")


def test_anvil_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node_module, "NODE_MODULES", tmp_path / "node_modules")
    result = CliRunner().invoke(
        cli.app,
        [
            "serve",
            "--demo",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_loopback_port()),
        ],
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "anvil is not installed" in result.output and "make run" in result.output


def test_rpc_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}"
    result = coop(
        "serve",
        "--data-dir",
        str(tmp_path),
        "--port",
        str(free_loopback_port()),
        env={"COOP_RPC_URL": url},
    )
    assert_one_line_error(result, "cannot reach the chain node", url)


def test_records_of_another_chain(tmp_path: Path, deployed_dir: Path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run(["cp", "-r", str(deployed_dir), str(data_dir)], check=True)
    records = data_dir / "deployments" / "local.json"
    content = json.loads(records.read_text())
    records.write_text(json.dumps({**content, "chain_id": 59141}))
    result = coop("serve", "--data-dir", str(data_dir), "--port", str(free_loopback_port()))
    assert_one_line_error(result, "chain 31337", "chain 59141")


def test_unreadable_state_file(tmp_path: Path, deployed_dir: Path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run(["cp", "-r", str(deployed_dir), str(data_dir)], check=True)
    (data_dir / "chain" / "anvil-state.json").write_text("\x00garbage")
    result = coop("serve", "--data-dir", str(data_dir), "--port", str(free_loopback_port()))
    assert_one_line_error(result, "state file", "unreadable")


def test_wrong_secret(tmp_path: Path, deployed_dir: Path) -> None:
    data_dir = tmp_path / "data"
    subprocess.run(["cp", "-r", str(deployed_dir), str(data_dir)], check=True)
    result = coop(
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(free_loopback_port()),
        env={"COOP_SECRET": "not the secret"},
    )
    assert_one_line_error(result, "secret does not open the keystore", "COOP_SECRET")


def test_nothing_deployed_says_what_to_run(tmp_path: Path) -> None:
    result = coop("serve", "--data-dir", str(tmp_path), "--port", str(free_loopback_port()))
    assert_one_line_error(result, "nothing is deployed", "coop deploy", "--demo")


def test_keys_create_list_revoke(deployed_dir: Path) -> None:
    members = json.loads((deployed_dir / "demo-credentials.json").read_text())["members"]
    # The operator holds no credential of a member that has one (least privilege).
    assert_one_line_error(
        coop("keys", "create", "--member", members[0]["address"], "--data-dir", str(deployed_dir)),
        "has an API key already",
    )
    created = coop(
        "keys", "create", "--role", "auditor", "--label", "cli", "--data-dir", str(deployed_dir)
    )
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.split()[2]
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith(f"coop_{key_id}_")
    listed = coop("keys", "list", "--data-dir", str(deployed_dir))
    assert key_id in listed.stdout and secret not in listed.stdout
    assert coop("keys", "revoke", key_id, "--data-dir", str(deployed_dir)).returncode == 0
    assert_one_line_error(
        coop("keys", "revoke", key_id, "--data-dir", str(deployed_dir)), "already revoked"
    )
    assert_one_line_error(
        coop("keys", "revoke", "nope", "--data-dir", str(deployed_dir)), "no API key with id nope"
    )
    assert_one_line_error(
        coop(
            "keys",
            "create",
            "--member",
            "0x0000000000000000000000000000000000000001",
            "--data-dir",
            str(deployed_dir),
        ),
        "is not a member",
    )


def test_schema_file_matches_the_code() -> None:
    from cooperative.api.schema import schema

    exported = (Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql").read_text()
    assert exported == str(schema).rstrip("\n") + "\n", (
        "graphql/schema.graphql drifted: run `make schema`"
    )


def test_reindex_rebuilds_the_read_models_of_a_stopped_platform(deployed_dir: Path) -> None:
    with Session(make_engine(f"sqlite:///{deployed_dir / 'coop.db'}")) as session:
        members_before = session.exec(select(MemberProfile.address, MemberProfile.name)).all()
    assert len(members_before) == 3

    result = coop("reindex", "--data-dir", str(deployed_dir))

    assert result.returncode == 0, result.stderr
    assert "rebuilt the read models from" in result.stdout
    with Session(make_engine(f"sqlite:///{deployed_dir / 'coop.db'}")) as session:
        assert (
            session.exec(select(MemberProfile.address, MemberProfile.name)).all() == members_before
        )
        assert session.get(ChainCursor, "chain") is not None


def test_a_prepared_transaction_is_decoded_with_the_members_own_abis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI never signs on the platform's word: a call no cooperative contract has, or a
    chain other than the pinned one, ends the command unsigned."""
    from web3 import Web3

    from cooperative.cli.client import Client, decoded_call
    from deployments.compiler import Compiler

    ordering = Web3().eth.contract(abi=Compiler().vyper("Ordering").abi)
    data = ordering.encode_abi("publish_offering", [[3], b"\x11" * 32])
    assert decoded_call({"to": "0x" + "22" * 20, "data": data}).startswith(
        "Ordering.publish_offering(sla_templates=[3], commitment=0x1111"
    )
    for foreign in ("0xa9059cbb" + "00" * 64, "0x"):  # an ERC-20 transfer; no call at all
        with pytest.raises(typer.Exit) as refused:
            decoded_call({"to": "0x" + "22" * 20, "data": foreign})
        assert refused.value.exit_code == 1

    monkeypatch.setenv("COOP_KEYSTORE", str(tmp_path / "member.json"))
    client = Client("http://127.0.0.1:9/graphql", "a key")
    client._pin_chain(31337)
    client._pin_chain(31337)  # the same chain again: fine
    with pytest.raises(typer.Exit):
        client._pin_chain(1)
    assert (tmp_path / "member.json.chain").read_text() == "31337\n"
