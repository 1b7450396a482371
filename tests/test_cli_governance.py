"""The members' and administrators' governance commands against a real `coop serve --demo`:
propose, vote, list, queue, execute, and the module upgrade workflow (deploy, check,
propose-upgrade) while the server runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from deployments.chain import ChainGateway
from deployments.node import free_loopback_port, running_node_url
from tests.test_e2e import coop_serve

pytestmark = pytest.mark.e2e
COOP = [sys.executable, "-m", "cooperative.cli"]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def coop(
    *args: str,
    key: str | None = None,
    url: str | None = None,
    cwd: Path | None = None,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_")}
    env.update(environment or {})
    if key:
        env["COOP_API_KEY"] = key
    if url:
        env["COOP_API_URL"] = url
    return subprocess.run(
        [*COOP, *args], capture_output=True, text=True, env=env, timeout=120, cwd=cwd
    )


def test_propose_vote_and_execute_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with coop_serve(data_dir, free_loopback_port()) as credentials:
        url = credentials["graphql_url"]
        aurora, borealis = (m["apiKey"] for m in credentials["members"][:2])
        proposed = coop(
            "propose", "admit", "--name", "Dawn Networks", "-d", "Admit Dawn", key=aurora, url=url
        )
        assert proposed.returncode == 0, proposed.stderr
        proposal_id = proposed.stdout.split()[1]
        assert proposal_id.startswith("Proposal:0x") and len(proposal_id) == len("Proposal:") + 66
        assert "ADMIT_MEMBER" in proposed.stdout and "ACTIVE" in proposed.stdout
        hex_id = proposal_id.removeprefix("Proposal:")

        # the id, or an abbreviation (at least 6 hex digits, with or without 0x, Proposal:)
        for key, support, named in ((aurora, "for", proposal_id), (borealis, "FOR", hex_id[:8])):
            voted = coop("vote", named, support, "--reason", "good carrier", key=key, url=url)
            assert voted.returncode == 0, voted.stderr
            assert proposal_id in voted.stdout
        for bad in ("0x12345", "Order:12", "Proposal:0xnothex"):
            refused = coop("vote", bad, "for", key=aurora, url=url)
            assert refused.returncode == 1 and "Traceback" not in refused.stderr
            assert "not of a proposal" in refused.stderr or "not a proposal's id" in refused.stderr
        again = coop("vote", f"Proposal:{hex_id[:10]}", "for", key=aurora, url=url)
        assert (
            again.returncode == 1
            and "INVALID_STATE" in again.stderr
            and "Traceback" not in again.stderr
        )

        chain = ChainGateway(running_node_url(data_dir / "chain") or "")
        chain.increase_time(61)
        listed = coop("proposals", "--state", "succeeded", key=aurora, url=url)
        assert proposal_id in listed.stdout
        assert (
            coop("queue", hex_id[2:9], key=credentials["admin"]["apiKey"], url=url).returncode == 0
        )
        chain.increase_time(31)
        executed = coop("execute", hex_id, key=credentials["admin"]["apiKey"], url=url)
        assert executed.returncode == 0 and "EXECUTED" in executed.stdout

        no_key = coop("proposals", url=url)
        assert no_key.returncode == 1 and "API key" in no_key.stderr


def test_a_member_holding_its_own_key_signs_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    keystore = tmp_path / "cirrus.json"
    passphrase = {"COOP_KEYSTORE_PASSPHRASE": "a long enough passphrase"}
    with_key = {"COOP_KEYSTORE": str(keystore), **passphrase}
    admit = ("propose", "admit", "--name", "Eos Fiber", "-d", "Admit Eos")
    admit_eos = (*admit, "--address", Account.create().address)
    with coop_serve(data_dir, free_loopback_port()) as credentials:
        url = credentials["graphql_url"]
        cirrus = credentials["members"][2]
        as_cirrus = {"key": cirrus["apiKey"], "url": url}
        exported = coop("custody", "export", str(keystore), **as_cirrus, environment=passphrase)
        assert exported.returncode == 0, exported.stderr
        assert keystore.stat().st_mode & 0o777 == 0o600
        assert json.loads(keystore.read_text())["address"].lower() == cirrus["address"][2:].lower()

        # The platform no longer signs for Cirrus: without its keystore the CLI says so.
        unsigned = coop(*admit_eos, **as_cirrus)
        assert unsigned.returncode == 1 and "COOP_KEYSTORE" in unsigned.stderr
        assert "Traceback" not in unsigned.stderr
        wrong = {"COOP_KEYSTORE": str(keystore), "COOP_KEYSTORE_PASSPHRASE": "not the passphrase"}
        refused = coop(*admit_eos, **as_cirrus, environment=wrong)
        assert refused.returncode == 1 and "passphrase does not open" in refused.stderr
        # A newcomer's key made by the platform would change at every attempt: refused.
        keyless = coop(*admit, **as_cirrus, environment=with_key)
        assert keyless.returncode == 1 and "with the new member's address" in keyless.stderr

        proposed = coop(*admit_eos, **as_cirrus, environment=with_key)
        assert proposed.returncode == 0, proposed.stderr
        assert (
            "signing Governor.propose(" in proposed.stderr and cirrus["address"] in proposed.stderr
        )
        proposal_id = proposed.stdout.split()[1]
        voted = coop("vote", proposal_id, "for", **as_cirrus, environment=with_key)
        assert voted.returncode == 0, voted.stderr
        assert "signing Governor.castVote" in voted.stderr and "for 1 " in voted.stdout

        # Any other step through `coop call`, the call decoded with the CLI's own ABIs
        me = coop("call", "Me", **as_cirrus)
        assert me.returncode == 0 and json.loads(me.stdout)["me"]["role"] == "MEMBER", me.stderr
        silver = {
            "name": "Silver",
            "document": "Silver SLA: 99.9 % monthly availability",
            "objectivePpm": 999_000,
            "tiers": [{"floorPpm": 999_000, "creditBps": 1000}],
            "description": "Adopt Silver",
            "resolutionWindowSeconds": 3 * 86400,
            "excludePlannedMaintenance": False,
        }
        propose = ("call", "ProposeSlaTemplate", "--var", f"input={json.dumps(silver)}")
        proposed_silver = coop(*propose, **as_cirrus, environment=with_key)
        assert proposed_silver.returncode == 0, proposed_silver.stderr
        assert "signing Governor.propose(kind=" in proposed_silver.stderr
        answer = json.loads(proposed_silver.stdout)
        assert answer["errors"] == [] and answer["proposal"]["kind"] == "ADOPT_SLA_TEMPLATE"
        pins = json.loads(Path(f"{keystore}.pins.json").read_text())  # from the first use
        assert pins["chainId"] == 31337  # the embedded node's
        assert {"Governor", "Ordering", "Assurance"} <= set(pins["contracts"].values())
        assert not any("." in name for name in pins["contracts"].values())  # no beacon, no impl
        bad = coop("call", "ProposeSlaTemplate", "--var", "input", **as_cirrus)
        assert bad.returncode == 1 and "name=value" in bad.stderr and "Traceback" not in bad.stderr

        confirmed = coop("custody", "confirm", **as_cirrus, environment=with_key)
        assert confirmed.returncode == 0 and "MEMBER" in confirmed.stdout, confirmed.stderr
        again = coop(
            "custody", "export", str(tmp_path / "b.json"), **as_cirrus, environment=passphrase
        )
        assert again.returncode == 1 and "holds no key" in again.stderr


def test_module_upgrade_workflow_while_the_server_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    project = Path(__file__).resolve().parent.parent
    with coop_serve(data_dir, free_loopback_port()) as credentials:
        url = credentials["graphql_url"]
        listed = coop("modules", "list", "--data-dir", str(data_dir))
        assert listed.returncode == 0 and "Anchor" in listed.stdout

        # A v2 with a broken layout, then a good v2, deployed from a copy of the project's sources.
        for fixture, expected in (("AnchorBadLayout.vy", "`operator`"), (None, None)):
            workdir = tmp_path / (fixture or "good")
            shutil.copytree(
                project,
                workdir,
                ignore=shutil.ignore_patterns(".venv", ".git", ".coop-data", "tests"),
                symlinks=True,
            )
            source = (
                FIXTURES / fixture
                if fixture
                else project / "tests" / "contracts" / "fixtures" / "AnchorV2.vy"
            )
            (workdir / "contracts" / "cooperative" / "Anchor.vy").write_text(source.read_text())
            env_python = [
                sys.executable,
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); from cooperative.cli import main; sys.argv = ['coop', *sys.argv[2:]]; main()",
                str(workdir),
            ]
            deployed = subprocess.run(
                [*env_python, "modules", "deploy", "Anchor", "--data-dir", str(data_dir)],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert deployed.returncode == 0, deployed.stderr
            address = deployed.stdout.split(" at ")[1].split()[0]
            checked = coop("modules", "check", "Anchor", address, "--data-dir", str(data_dir))
            if expected:
                assert checked.returncode == 1 and expected in checked.stderr
                refused = coop(
                    "modules",
                    "propose-upgrade",
                    "Anchor",
                    address,
                    "-d",
                    "bad",
                    "--data-dir",
                    str(data_dir),
                    key=credentials["members"][0]["apiKey"],
                    url=url,
                )
                assert refused.returncode == 1 and "incompatible" in refused.stderr
            else:
                assert checked.returncode == 0 and "compatible" in checked.stdout, checked.stderr
                proposed = coop(
                    "modules",
                    "propose-upgrade",
                    "Anchor",
                    address,
                    "-d",
                    "Anchor v2",
                    "--data-dir",
                    str(data_dir),
                    key=credentials["members"][0]["apiKey"],
                    url=url,
                )
                assert proposed.returncode == 0, proposed.stderr
                assert "-> v2" in proposed.stdout
        records = json.loads((data_dir / "deployments" / "local.json").read_text())
        assert any(name.startswith("Anchor.implementation.v2") for name in records["contracts"])
