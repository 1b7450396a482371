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


def test_a_prepared_transaction_is_signed_only_as_the_pins_and_the_members_own_abis_allow(
    tmp_path: Path,
) -> None:
    """The CLI never signs on the platform's word: the chain and the contracts' addresses
    are pinned at the first signature; another chain, another address, ether sent, a fee
    over the cap or a call the addressed contract does not have ends the command unsigned."""
    from web3 import Web3

    from cooperative.cli.client import MAX_FEE_WEI, Pins
    from deployments.compiler import Compiler

    ordering, governor = "0x" + "0a" * 20, "0x" + "0b" * 20
    deployed = {"Ordering": ordering, "Ordering.beacon": "0x" + "0c" * 20, "Governor": governor}
    asked: list[int] = []

    def from_platform() -> dict[str, str]:
        asked.append(1)
        return deployed

    contract = Web3().eth.contract(abi=Compiler().vyper("Ordering").abi)
    data = contract.encode_abi("publish_offering", [[3], b"\x11" * 32])
    good = {"chainId": "31337", "to": ordering, "value": "0", "gas": "200000", "maxFeePerGas": "2000000000", "data": data}  # fmt: skip
    path = tmp_path / "member.json.pins.json"
    pins = Pins(path, from_platform)
    assert pins.check(good).startswith(
        "Ordering.publish_offering(sla_templates=[3], commitment=0x1111"
    )
    pins.keep()
    pinned = json.loads(path.read_text())
    assert pinned == {"chainId": 31337, "contracts": {ordering: "Ordering", governor: "Governor"}}
    assert path.stat().st_mode & 0o777 == 0o600

    again = Pins(path, from_platform)  # a later command reads the pins, asks nothing
    assert again.check(good).startswith("Ordering.publish_offering(")
    assert asked == [1]
    refused = {
        "another chain": {**good, "chainId": "1"},
        "another address": {**good, "to": "0x" + "0d" * 20},
        "a beacon": {**good, "to": "0x" + "0c" * 20},
        "ether": {**good, "value": "1"},
        "a fee over the cap": {**good, "gas": str(MAX_FEE_WEI // 2_000_000_000 + 1)},
        "Governor has no such call": {**good, "to": governor},
        "an ERC-20 transfer": {**good, "data": "0xa9059cbb" + "00" * 64},
    }
    for what, transaction in refused.items():
        with pytest.raises(typer.Exit) as stopped:
            again.check(transaction)
        assert stopped.value.exit_code == 1, what
    assert json.loads(path.read_text()) == pinned  # a refusal pins nothing new


def test_the_ids_a_person_types_are_sent_as_the_apis_ids() -> None:
    """A proposal by its id, its hex or an abbreviation (at least 6 hex digits, with or
    without 0x and Proposal:); a template by its id or number; anything else ends the
    command in one line before any request."""
    from cooperative.cli.common import proposal_id, typed_id

    full = "0x" + "ab" * 32
    for typed, sent in (
        (f"Proposal:{full}", f"Proposal:{full}"),
        (full, f"Proposal:{full}"),
        ("0x" + "AB" * 32, f"Proposal:{full}"),
        ("Proposal:0x1a2B3c", "Proposal:0x1a2b3c"),
        ("1a2b3c", "Proposal:0x1a2b3c"),
        ("0X1a2b3c4d", "Proposal:0x1a2b3c4d"),
        (" Proposal:1a2b3c ", "Proposal:0x1a2b3c"),
    ):
        assert proposal_id(typed) == sent, typed
    for bad in ("1a2b3", "0x12345", "Order:12", "Proposal:0x1a2b3z", "0x" + "a" * 65, ""):
        with pytest.raises(typer.Exit) as stopped:
            proposal_id(bad)
        assert stopped.value.exit_code == 1, bad
    for typed in ("7", "SlaTemplate:7", " 7 "):
        assert typed_id(typed, "SlaTemplate", "an SLA template", numeric=True) == "SlaTemplate:7"
    for bad in ("Offering:7", "seven", "SlaTemplate:", "SlaTemplate:-1", "\uff17"):
        with pytest.raises(typer.Exit):
            typed_id(bad, "SlaTemplate", "an SLA template", numeric=True)


def test_commands_send_global_ids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`coop vote`/`queue`, `coop propose retire-template` and `coop proof` build the id
    the API expects from what the user typed."""
    from cooperative.cli.client import Client

    sent: list[dict[str, object]] = []
    proposal = {
        "id": "Proposal:0x" + "12" * 32,
        "kind": "RETIRE_SLA_TEMPLATE",
        "state": "ACTIVE",
        "tally": dict.fromkeys(
            ("forVotes", "againstVotes", "abstainVotes", "eligible", "quorumVotes"), 0
        ),
    }
    checkpoint = {"index": 0, "sourceBlock": 9, "anchorTx": "0x99"}

    def mutate(self: Client, document: str, field: str, variables: dict[str, object]) -> object:
        sent.append(variables["in"])  # type: ignore[arg-type]
        return {"proposal": proposal}

    def query(self: Client, document: str, variables: dict[str, object] | None = None) -> object:
        sent.append(variables or {})
        if "recordStateProof" in document:
            assert "kind" not in document and "$id: ID!" in document
            return {"recordStateProof": {"bundle": {"checkpoint": checkpoint}}}
        return {"commitmentProof": {"bundle": {"checkpoint": checkpoint, "leaf": {"index": 1, "treeSize": 2}}}}  # fmt: skip

    monkeypatch.setattr(Client, "mutate", mutate)
    monkeypatch.setattr(Client, "query", query)
    runner, key = CliRunner(), ["--api-key", "coop_x_y"]
    out = ["-o", str(tmp_path / "bundle.json")]
    for args, variables in (
        (["vote", "1a2b3c", "for"], {"proposalId": "Proposal:0x1a2b3c", "support": "FOR", "reason": ""}),
        (["queue", "Proposal:0x1A2B3C4D"], {"proposalId": "Proposal:0x1a2b3c4d"}),
        (["cancel", "0x" + "12" * 32], {"proposalId": "Proposal:0x" + "12" * 32}),
        (["propose", "retire-template", "7", "-d", "old"], {"templateId": "SlaTemplate:7", "description": "old"}),
        (["propose", "retire-template", "SlaTemplate:7", "-d", "old"], {"templateId": "SlaTemplate:7", "description": "old"}),
        (["proof", "SlaCredit:3-24321", *out], {"id": "SlaCredit:3-24321"}),
        (["proof", "--record", "sla-credit", "3-24321", *out], {"id": "SlaCredit:3-24321"}),
        (["proof", "--record", "INVOICE", "Invoice:7", *out], {"id": "Invoice:7"}),
        (["proof", "TroubleTicket:5-0", *out], {"id": "TroubleTicket:5-0"}),
        (["proof", "0x" + "cd" * 32, *out], {"id": "0x" + "cd" * 32}),
    ):  # fmt: skip
        sent.clear()
        result = runner.invoke(cli.app, [*args, *key])
        assert result.exit_code == 0, (args, result.output)
        assert sent == [variables], args
    proven = runner.invoke(cli.app, ["proof", "--record", "invoice", "7", *out, *key])
    assert "wrote " in proven.output and "Invoice:7 at cooperative block 9" in proven.output
    for args, says in (
        (["vote", "12345", "for"], "not a proposal's id"),
        (["execute", "Order:12"], "the id of an Order, not of a proposal"),
        (["propose", "retire-template", "Offering:7", "-d", "x"], "not of an SLA template"),
        (["proof", "Order:12", *out], "state proofs are of"),
        (["proof", "--record", "invoice", "SlaCredit:3-1", *out], "not of an invoice"),
    ):
        sent.clear()
        refused = runner.invoke(cli.app, [*args, *key])
        assert refused.exit_code == 1 and says in refused.output, (args, refused.output)
        assert sent == [], args  # refused before any request
    for command in (["vote"], ["queue"], ["propose", "retire-template"], ["proof"]):
        shown = runner.invoke(cli.app, [*command, "--help"], terminal_width=200).output
        assert "Proposal:" in shown or "SlaTemplate:7" in shown or "SlaCredit:3-24321" in shown


def test_a_csv_row_names_its_service_by_number_or_by_id() -> None:
    from cooperative.ticket_import import parse_ticket_csv

    good, problems = parse_ticket_csv(
        "service_id,impact,started_at,description\n"
        "12,down,2026-11-02T08:15:00Z,by number\n"  # line 2: as a NOC export has it
        "Service:13,down,2026-11-02T08:15:00Z,by id\n"  # line 3
        "Order:12,down,2026-11-02T08:15:00Z,another record's id\n"  # line 4
        "Service:x,down,2026-11-02T08:15:00Z,no number\n"  # line 5
        "service:12,down,2026-11-02T08:15:00Z,not the id's spelling\n"  # line 6
        "Service:0,down,2026-11-02T08:15:00Z,no service 0\n"  # line 7
    )
    assert [(line, opening.service_id) for line, opening in good] == [(2, 12), (3, 13)]
    assert [p.line for p in problems] == [4, 5, 6, 7]
    for problem in problems:
        assert problem.reason.startswith("service_id must be a service number (12) or id")
    assert "'Order:12'" in problems[0].reason
