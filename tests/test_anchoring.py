"""Checkpoints of the private cooperative chain on the anchor chain (a second real anvil
node): the anchored root is the RFC 9162 root of the commitment log up to the anchored
block, its block hash and state root are the cooperative chain's, the tree only grows,
a checkpoint's gas does not depend on how many documents it covers, and nothing the
anchor chain receives carries a document, an amount or a member."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from cooperative import apikeys, merkle
from cooperative.anchoring import ANCHOR_CHAIN_ID, REANCHOR_AFTER_BLOCKS, leaves_up_to
from cooperative.api.ids import key_of
from cooperative.platform import Platform
from cooperative.proofs import PROVABLE, UnreadableBundle, on_anchor_chain, verify_bundle
from cooperative.store.models import (
    CheckpointRecord,
    CommitmentLeaf,
    QuoteRecord,
    QuoteRequestRecord,
    Role,
    ServiceRecord,
)
from tests.conftest import Api
from tests.hardhat import evm_under_test
from tests.test_assurance_api import service_number, services  # noqa: F401  (a fixture)
from tests.test_marketplace_api import RESPOND, request_quote


def leaf_count(platform: Platform) -> int:
    with Session(platform.engine) as session:
        return session.exec(select(func.count()).select_from(CommitmentLeaf)).one()


def anchored(platform: Platform, record: CheckpointRecord) -> Any:
    return platform.anchoring().chain.checkpoint_log.functions.checkpoints(record.index).call()


def test_checkpoints_anchor_the_commitment_log_and_only_grow(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    aurora = as_member[0]
    assert request_quote(aurora, [addresses[1]], template_id)["errors"] == []
    platform.sync()
    anchoring = platform.anchoring()
    assert anchoring.chain.gateway.chain_id == ANCHOR_CHAIN_ID != platform.gateway.chain_id

    first = anchoring.checkpoint()
    assert first is not None and first.tree_size == leaf_count(platform) > 0
    with Session(platform.engine) as session:
        leaves = leaves_up_to(session, first.source_block)
    assert first.root == "0x" + merkle.root(leaves).hex()
    block = platform.gateway.w3.eth.get_block(first.source_block)
    assert first.source_block_hash == "0x" + bytes(block["hash"]).hex()
    assert first.state_root == "0x" + bytes(block["stateRoot"]).hex()
    on_chain = anchored(platform, first)
    assert (on_chain[0], "0x" + bytes(on_chain[1]).hex(), on_chain[2]) == (
        first.tree_size,
        first.root,
        first.source_block,
    )
    assert anchoring.checkpoint() is None  # the cooperative chain did not move

    sizes, gas = [first.tree_size], []
    for _ in range(2):
        for _ in range(3):
            assert request_quote(aurora, [addresses[1], addresses[2]], template_id)["errors"] == []
        platform.sync()
        later = anchoring.checkpoint()
        assert later is not None and later.tree_size > sizes[-1]
        sizes.append(later.tree_size)
        used = anchoring.chain.gateway.receipt(later.anchor_tx).gas_used
        data = bytes(anchoring.chain.gateway.w3.eth.get_transaction(later.anchor_tx)["input"])
        calldata = sum(16 if byte else 4 for byte in data)  # hashes differ in zero bytes
        gas.append(used - calldata)
    assert gas[0] == gas[1], gas  # the same execution cost for a bigger tree

    # The tree only grows: each checkpoint's tree is a prefix of the next one's.
    with Session(platform.engine) as session:
        checkpoints = session.exec(select(CheckpointRecord).order_by(CheckpointRecord.index)).all()
        tree = merkle.MerkleTree(leaves_up_to(session, checkpoints[-1].source_block))
    for old, new in itertools.pairwise(checkpoints):
        proof = tree.consistency_proof(old.tree_size, new.tree_size)
        assert merkle.verify_consistency(
            old.tree_size,
            new.tree_size,
            bytes.fromhex(old.root[2:]),
            bytes.fromhex(new.root[2:]),
            proof,
        )


def _texts(value: Any) -> list[str]:
    """Every string value in a document long enough to mean something (its keys are the
    schema's words, which the anchor node's own state dump uses too)."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return [value] if isinstance(value, str) and len(value) >= 6 else []


@pytest.mark.skipif(
    evm_under_test() != "anvil", reason="reads the anchor chain's whole state (anvil_dumpState)"
)
def test_the_anchor_chain_receives_only_hashes_and_counts(
    platform: Platform,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
    services: list[str],  # noqa: F811  (circuits with their MRCs, on the chain)
) -> None:
    """Every transaction input, log and storage write the anchor chain holds is scanned
    for what the cooperative chain keeps private: documents' texts, members, member
    pairs, amounts (a quote's prices, the services' MRCs) in every encoding a contract
    would use (a 32-byte ABI word, a decimal string)."""
    aurora, borealis, cirrus = as_member
    asked = request_quote(aurora, [addresses[1], addresses[2]], template_id)
    quotes = {q["seller"]: q["id"] for q in asked["quotes"]}
    prices = {"mrc": 987_654_321_123, "nrc": 123_456_789_987}
    valid = (datetime.now(UTC) + timedelta(days=4)).isoformat()
    answer = {"quoteId": quotes[addresses[1]], "currency": "EUR", "validUntil": valid}
    answer |= {k: str(v) for k, v in prices.items()}
    assert borealis(RESPOND, {"in": answer})["respondToQuote"]["errors"] == []
    decline = {"quoteId": quotes[addresses[2]], "reason": "no duct on Kungsgatan"}
    assert cirrus(DECLINE, {"in": decline})["declineQuote"]["errors"] == []
    platform.sync()
    assert platform.anchoring().checkpoint() is not None

    anchor = platform.anchoring().chain.gateway
    with Session(platform.engine) as session:
        documents = [r.document for r in session.exec(select(QuoteRequestRecord)).all()]
        documents += [r.document for r in session.exec(select(QuoteRecord)).all()]
        mrcs = [int(r.mrc) for r in session.exec(select(ServiceRecord)).all()]
    texts = sorted({t for document in documents for t in _texts(document)})
    assert "no duct on Kungsgatan" in texts and len(texts) >= 3
    amounts = [*prices.values(), *mrcs]
    assert mrcs and all(a > 1000 for a in amounts)  # distinctive enough to search for
    secrets: list[bytes] = [bytes.fromhex(a[2:].lower()) for a in addresses]
    secrets += [t.encode() for t in texts]
    secrets += [a.to_bytes(32, "big") for a in amounts] + [str(a).encode() for a in amounts]
    published = b""
    for number in range(anchor.latest_block() + 1):
        block = anchor.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            published += bytes(tx["input"])
            for entry in anchor.w3.eth.get_transaction_receipt(tx["hash"])["logs"]:
                published += bytes(entry["data"]) + b"".join(bytes(t) for t in entry["topics"])
    assert published  # the checkpoints are there
    leaked = [s for s in secrets if s and s in published]
    assert leaked == []
    # and the whole state the anchor node holds (accounts, code, storage, as it dumps them)
    state = anchor.dump_state().decode().lower()
    assert platform.anchoring().chain.checkpoint_log.address[2:].lower() in state
    assert [a for a in addresses if a[2:].lower() in state] == []
    assert [t for t in texts if t.lower() in state or t.encode().hex() in state] == []
    assert [a for a in amounts if f"{a:064x}" in state] == []


@pytest.mark.e2e
def test_coop_anchor_posts_beside_the_running_server(tmp_path: Path) -> None:
    """`coop anchor` joins a running `coop serve` (and its embedded anchor node): the
    checkpoint lands on the anchor chain, and a second one with nothing new says so."""
    from deployments.node import free_loopback_port
    from tests.test_cli_governance import coop
    from tests.test_e2e import coop_serve

    data_dir = tmp_path / "data"
    with coop_serve(data_dir, free_loopback_port()):
        posted = coop("anchor", "--data-dir", str(data_dir))
        assert posted.returncode == 0, posted.stderr
        assert "checkpoint 0: cooperative block" in posted.stdout
        assert f"on chain {ANCHOR_CHAIN_ID}" in posted.stdout
        again = coop("anchor", "--data-dir", str(data_dir))
        assert again.returncode == 0, again.stderr
        assert "nothing to anchor" in again.stdout
        history = coop("verify", "--chain", "--data-dir", str(data_dir))
        assert history.returncode == 0, history.stdout + history.stderr
        assert "ok   checkpoint 0: block" in history.stdout
        assert "the history was not rewritten" in history.stdout


PROOF = "query($id: String!) { commitmentProof(documentId: $id) { commitment document salt leafIndex treeSize auditPath checkpoint { index root anchorTx } bundle } }"


def rejected(bundle: dict[str, Any]) -> bool:
    """A bundle `coop verify` does not pass: a failed step, or not readable as a bundle."""
    try:
        return not all(step.passed for step in verify_bundle(bundle))
    except UnreadableBundle:
        return True


def tampered(bundle: dict[str, Any], change: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(bundle))
    change(copy)
    return copy


def flip(hex_text: str) -> str:
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


def test_a_party_proves_its_document_and_anyone_verifies_it_offline(
    platform: Platform,
    client: TestClient,
    as_member: list[Api],
    addresses: list[str],
    template_id: str,
    tmp_path: Path,
) -> None:
    aurora, _, cirrus = as_member
    asked = request_quote(aurora, [addresses[1]], template_id)
    with Session(platform.engine) as session:
        request = session.get(
            QuoteRequestRecord, key_of(asked["requestId"], "QuoteRequest", "requestId")
        )
        assert request is not None
        commitment, document, salt = request.commitment, request.document, request.salt
        issued = apikeys.issue(session, owner="auditor", role=Role.AUDITOR)
        session.commit()

    # Not anchored yet: the proof says so; then a checkpoint covers it.
    platform.sync()
    waiting = aurora.post(PROOF, {"id": commitment}).json()["errors"][0]
    assert waiting["extensions"]["code"] == "INVALID_STATE"
    assert platform.anchoring().checkpoint() is not None

    answer = aurora(PROOF, {"id": commitment})["commitmentProof"]
    assert answer["document"] == document and answer["salt"] == salt
    bundle = answer["bundle"]
    steps = verify_bundle(bundle)
    assert [s.passed for s in steps] == [True, True, True], steps
    anchor_rpc = platform.anchoring().chain.gateway.rpc_url
    abi = platform.compiler.vyper("CheckpointLog").abi
    assert on_anchor_chain(anchor_rpc, abi)(bundle["checkpoint"]).passed

    # Whoever is not a party gets nothing (as for a document that does not exist); an
    # auditor gets the commitment's proof, without the document.
    other = cirrus.post(PROOF, {"id": commitment}).json()["errors"][0]
    assert other["extensions"]["code"] == "NOT_FOUND"
    as_auditor = Api(client, issued.secret)
    listed = as_auditor("{ checkpoints { edges { node { index root anchorTx anchorContract } } } }")
    assert listed["checkpoints"]["edges"][-1]["node"]["root"] == bundle["checkpoint"]["root"]
    auditor = as_auditor(PROOF, {"id": commitment})["commitmentProof"]
    assert auditor["document"] is None and auditor["salt"] is None
    assert auditor["auditPath"] == answer["auditPath"]
    assert [s.passed for s in verify_bundle(auditor["bundle"])] == [True, True, True]
    bad = aurora.post(PROOF, {"id": "0x1234"}).json()["errors"][0]
    assert bad["extensions"]["code"] == "VALIDATION"

    # Every tampering is caught.
    other_root = tampered(
        bundle, lambda b: b["checkpoint"].update(root=flip(b["checkpoint"]["root"]))
    )
    cases = {
        "document": tampered(bundle, lambda b: b["document"].update(bandwidthMbps=10)),
        "salt": tampered(bundle, lambda b: b.update(salt=flip(b["salt"]))),
        "path": tampered(bundle, lambda b: b["auditPath"].__setitem__(0, flip(b["auditPath"][0])))
        if bundle["auditPath"]
        else tampered(bundle, lambda b: b["auditPath"].append("0x" + "00" * 32)),
        "root": other_root,
        "index": tampered(bundle, lambda b: b["leaf"].update(index=b["leaf"]["treeSize"])),
        "tree size": tampered(
            bundle, lambda b: b["checkpoint"].update(treeSize=b["leaf"]["treeSize"] + 1)
        ),
    }
    for what, forged in cases.items():
        assert not all(s.passed for s in verify_bundle(forged)), what
    assert not on_anchor_chain(anchor_rpc, abi)(other_root["checkpoint"]).passed
    with pytest.raises(UnreadableBundle):
        verify_bundle({"format": "something else"})

    # `coop verify`, offline: exit 0 verified, 1 a check failed, 2 not a bundle.
    good, forged_file, junk = (
        tmp_path / "good.json",
        tmp_path / "forged.json",
        tmp_path / "junk.json",
    )
    good.write_text(json.dumps(bundle))
    forged_file.write_text(json.dumps(cases["document"]))
    junk.write_text("[1, 2")
    from tests.test_cli_governance import coop

    verified = coop("verify", str(good), "--anchor-rpc", anchor_rpc)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ok   document opens the commitment" in verified.stdout
    assert "the checkpoint is on the anchor chain" in verified.stdout
    failed = coop("verify", str(forged_file))
    assert failed.returncode == 1 and "FAIL document opens the commitment" in failed.stdout
    unreadable = coop("verify", str(junk))
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr


STATE_PROOF = (
    "query($id: ID!) { recordStateProof(id: $id) { values checkpoint { index stateRoot } bundle } }"
)


def test_a_party_proves_its_records_against_the_anchored_state_root(
    platform: Platform,
    as_member: list[Api],
    addresses: list[str],
    services: list[str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A ticket, an SLA credit and an invoice, each proven from the contract's storage
    (eth_getProof) against the anchored state root; the decoding agrees with the
    contracts' own views; any tampering is caught; nobody else gets a proof."""
    from cooperative.periods import period_label, period_of
    from tests.test_assurance_api import CLOSE_PERIOD, ISSUE, OPEN, chain_time

    aurora, borealis, cirrus = as_member
    now = chain_time(platform)
    period, label = period_of(now), period_label(period_of(now))
    opening = {
        "serviceId": services[0],
        "impact": "degraded",  # a down ticket would have to be closed before the period
        "startedAt": now.isoformat(),
        "description": "CRC errors",
    }
    ticket_id = aurora(OPEN, {"in": {"tickets": [opening]}})["openTroubleTicket"]["tickets"][0][
        "id"
    ]
    platform.gateway.increase_time(35 * 86400)
    assert (
        aurora(CLOSE_PERIOD, {"in": {"period": label, "serviceIds": services}})["closeSlaPeriod"][
            "errors"
        ]
        == []
    )
    # no down ticket in the period: every credit is final at the close, nothing to endorse
    issued = borealis(ISSUE, {"in": {"buyer": addresses[0], "period": label, "currency": "EUR"}})[
        "issueInvoice"
    ]
    assert issued["errors"] == []
    first_service, second_service = service_number(services[0]), service_number(services[1])
    credit_id, invoice_id = f"SlaCredit:{first_service}-{period}", issued["invoice"]["id"]
    waiting = aurora.post(STATE_PROOF, {"id": credit_id}).json()["errors"][0]
    assert waiting["extensions"]["code"] == "INVALID_STATE"  # not anchored yet
    platform.sync()
    checkpoint = platform.anchoring().checkpoint()
    assert checkpoint is not None

    assurance = platform.governance.handle("Assurance").functions
    billing = platform.governance.handle("Billing").functions
    service, number = (int(part) for part in key_of(ticket_id, "TroubleTicket", "id").split("-"))
    expected = {
        "SLA_CREDIT": (credit_id, assurance.credit(first_service, period).call()),
        "INVOICE": (invoice_id, billing.invoices(key_of(invoice_id, "Invoice", "id")).call()),
        "TROUBLE_TICKET": (ticket_id, assurance.ticket(service << 32 | number).call()),
    }
    anchor_rpc = platform.anchoring().chain.gateway.rpc_url
    abi = platform.compiler.vyper("CheckpointLog").abi
    bundles = {}
    for kind, (record_id, view) in expected.items():
        answer = aurora(STATE_PROOF, {"id": record_id})["recordStateProof"]
        assert answer["checkpoint"]["stateRoot"] == checkpoint.state_root
        values = answer["values"]
        if kind == "SLA_CREDIT":
            assert [
                values[k]
                for k in (
                    "state",
                    "amount",
                    "creditBps",
                    "availabilityPpm",
                    "outageSeconds",
                    "endorsedByBuyer",
                    "endorsedBySeller",
                )
            ] == list(view)
            assert values["endorsedByBuyer"] and values["endorsedBySeller"]
        elif kind == "INVOICE":
            assert values["seller"] == view[0].lower() and values["buyer"] == view[1].lower()
            assert [
                values[k]
                for k in ("period", "currency", "state", "lines", "charges", "credits", "amountDue")
            ] == list(view[2:])
        else:
            assert [
                values[k] for k in ("state", "impact", "cause", "start", "end", "resolvedAt")
            ] == list(view[2:])
        bundle = bundles[kind] = answer["bundle"]
        assert [s.passed for s in verify_bundle(bundle)] == [True] * 4, kind
        assert all(s.passed for s in verify_bundle(bundle, on_anchor_chain(anchor_rpc, abi)))
        # pinned to the cooperative's published module address: read there, or refused
        module = platform.deployment.address(PROVABLE[bundle["record"]["kind"]].module)
        assert all(s.passed for s in verify_bundle(bundle, module_address=module))
        first = verify_bundle(bundle, module_address="0x" + "12" * 20)[0]
        assert not first.passed and "not the cooperative's" in first.detail
        other = cirrus.post(STATE_PROOF, {"id": record_id}).json()["errors"][0]
        assert other["extensions"]["code"] == "NOT_FOUND"  # someone else's, as a missing one

    def flip_node(b: dict[str, Any]) -> None:
        node = b["proof"]["storageProof"][0]["proof"][-1]
        b["proof"]["storageProof"][0]["proof"][-1] = node[:-2] + (
            "00" if node[-2:] != "00" else "01"
        )

    invoice = bundles["INVOICE"]
    forged = {
        "values": tampered(
            invoice, lambda b: b["values"].update(amountDue=b["values"]["amountDue"] + 1)
        ),
        "word": tampered(invoice, lambda b: b["words"].__setitem__(2, flip(b["words"][2]))),
        "proof": tampered(invoice, flip_node),
        "state root": tampered(
            invoice, lambda b: b["checkpoint"].update(stateRoot=flip(b["checkpoint"]["stateRoot"]))
        ),
        "kind": tampered(
            bundles["SLA_CREDIT"], lambda b: b["record"].update(kind="troubleTicket", number=0)
        ),
    }
    credit = bundles["SLA_CREDIT"]
    forged |= {
        # the same proof relabelled as another record: the slots follow the record's id
        "another credit": tampered(
            credit,
            lambda b: b["record"].update(id=f"{second_service}-{period}", serviceId=second_service),
        ),
        "id against fields": tampered(
            credit, lambda b: b["record"].update(serviceId=second_service)
        ),
        "no slots": tampered(credit, lambda b: b.update(slots=[], words=[], values=None)),
        "no proof": tampered(credit, lambda b: b.update(proof=[])),
        "bad contract": tampered(credit, lambda b: b.update(contract="0xzz")),
        "huge slot": tampered(credit, lambda b: b.update(slots=["0x" + "f" * 70])),
    }
    for what, bad in forged.items():
        assert rejected(bad), what
    # the anchor check asks the cooperative's own log, not one the bundle names
    stranger_log = "0x" + "12" * 20
    assert not on_anchor_chain(anchor_rpc, abi, stranger_log)(credit["checkpoint"]).passed
    own_log = platform.anchoring().chain.checkpoint_log.address
    assert on_anchor_chain(anchor_rpc, abi, own_log)(credit["checkpoint"]).passed
    # the base slots are the compiled layout's
    for spec in PROVABLE.values():
        layout = platform.compiler.vyper(spec.module).storage_layout
        assert layout[spec.variable]["slot"] == spec.base_slot, spec.variable
    from tests.test_cli_governance import coop

    good, bad_file = tmp_path / "invoice.json", tmp_path / "forged.json"
    good.write_text(json.dumps(invoice))
    bad_file.write_text(json.dumps(forged["values"]))
    verified = coop("verify", str(good), "--anchor-rpc", anchor_rpc)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"verified: invoice {invoice_id}" in verified.stdout
    failed = coop("verify", str(bad_file))
    assert failed.returncode == 1 and "FAIL the values are the invoice's" in failed.stdout

    # `coop proof` asks by the record's id, or by --record and the id's bare key
    from typer.testing import CliRunner

    from cooperative import cli
    from cooperative.api.app import create_app
    from tests.conftest import served

    runner, out = CliRunner(), tmp_path / "proven.json"
    with served(create_app(platform)) as base:
        as_aurora = ["-o", str(out), "--api-key", str(aurora.key), "--url", f"{base}/graphql"]
        for kind, args in (
            ("INVOICE", [invoice_id]),
            ("SLA_CREDIT", ["--record", "sla-credit", credit_id.removeprefix("SlaCredit:")]),
            ("TROUBLE_TICKET", ["--record", "trouble-ticket", ticket_id]),
        ):
            proven = runner.invoke(cli.app, ["proof", *args, *as_aurora])
            assert proven.exit_code == 0, proven.output
            record_id = expected[kind][0]
            assert f"wrote {out}: {record_id} at cooperative block" in proven.output
            written = json.loads(out.read_text())
            assert written["record"] == bundles[kind]["record"], kind
            assert [s.passed for s in verify_bundle(written)] == [True] * 4, kind
        for args, says in (
            (["Order:1"], "state proofs are of SlaCredit, Invoice, TroubleTicket records"),
            (["--record", "invoice", credit_id], "is the id of a SlaCredit, not of an invoice"),
        ):
            refused = runner.invoke(cli.app, ["proof", *args, *as_aurora])
            assert refused.exit_code == 1 and says in refused.output, refused.output


def test_empty_blocks_get_a_checkpoint_only_before_the_last_leaves_the_provable_window(
    platform: Platform,
) -> None:
    """The embedded node's clock seals empty blocks while the chain idles: they add nothing
    to anchor, until the last checkpoint is REANCHOR_AFTER_BLOCKS behind (the node keeps
    the states of its last 500 blocks, and state proofs are made at the latest one)."""
    anchoring = platform.anchoring()
    platform.sync()
    anchoring.checkpoint()
    last = latest_checkpoint_of(platform)
    for _ in range(3):
        platform.gateway._raw("evm_mine")
    platform.sync()
    assert anchoring.checkpoint() is None
    for _ in range(REANCHOR_AFTER_BLOCKS):
        platform.gateway._raw("evm_mine")
    platform.sync()
    posted = anchoring.checkpoint()
    assert posted is not None and posted.tree_size == last.tree_size
    assert posted.source_block - last.source_block >= REANCHOR_AFTER_BLOCKS


def latest_checkpoint_of(platform: Platform) -> CheckpointRecord:
    with Session(platform.engine) as session:
        found = session.exec(
            select(CheckpointRecord).order_by(col(CheckpointRecord.index).desc())
        ).first()
    assert found is not None
    return found


DECLINE = "mutation($in: DeclineQuoteInput!) { declineQuote(input: $in) { quote { id state } errors { code message } } }"


def test_a_sellers_answer_and_decline_open_their_commitments(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """The document a proof hands out is exactly the one committed: a quote's answer (its
    price terms) and a decline (its reason), not the record's merged view of them."""
    aurora, borealis, cirrus = as_member
    gateway = platform.gateway  # earlier tests moved the chain's clock ahead of the wall's
    now = datetime.fromtimestamp(gateway.block_timestamp(gateway.latest_block()), UTC)
    dates = {
        name: (now + timedelta(days=days)).isoformat()
        for name, days in (("respondBy", 2), ("expiresAt", 5), ("requestedDelivery", 30))
    }
    asked = request_quote(aurora, [addresses[1], addresses[2]], template_id, **dates)
    assert asked["errors"] == []
    quotes = {q["seller"]: q["id"] for q in asked["quotes"]}
    answer = {
        "quoteId": quotes[addresses[1]],
        "currency": "EUR",
        "mrc": "120000",
        "nrc": "0",
        "validUntil": (now + timedelta(days=4)).isoformat(),
    }
    assert borealis(RESPOND, {"in": answer})["respondToQuote"]["errors"] == []
    decline = {"quoteId": quotes[addresses[2]], "reason": "no fibre on that street"}
    assert cirrus(DECLINE, {"in": decline})["declineQuote"]["errors"] == []
    platform.sync()
    assert platform.anchoring().checkpoint() is not None
    with Session(platform.engine) as session:
        commitments = {
            seller: session.get(QuoteRecord, key_of(quote_id, "Quote", "id")).commitment  # type: ignore[union-attr]
            for seller, quote_id in quotes.items()
        }
    for seller, party in ((addresses[1], borealis), (addresses[2], cirrus)):
        proof = party(PROOF, {"id": commitments[seller]})["commitmentProof"]
        assert [s.passed for s in verify_bundle(proof["bundle"])] == [True, True, True], seller
    priced = borealis(PROOF, {"id": commitments[addresses[1]]})["commitmentProof"]["document"]
    assert priced["mrc"] == 120000 and priced["currency"] == "EUR"


CONSISTENCY = (
    "query($from: Int!, $to: Int!) { consistencyProof(fromIndex: $from, toIndex: $to) { proof } }"
)


def test_an_auditor_checks_from_the_anchor_chain_that_the_tree_only_grew(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """An auditor's key and the public anchor chain are enough: the checkpoints are read
    from CheckpointLog, only the consistency proofs come from the operator, and a proof
    that does not join the anchored roots fails (`coop verify --growth`, exit 1)."""
    from typer.testing import CliRunner

    from cooperative import cli
    from cooperative.api.app import create_app
    from cooperative.proofs import verify_growth
    from tests.conftest import served

    aurora = as_member[0]
    gateway = platform.gateway  # earlier tests moved the chain's clock ahead of the wall's
    now = datetime.fromtimestamp(gateway.block_timestamp(gateway.latest_block()), UTC)
    dates = {
        name: (now + timedelta(days=days)).isoformat()
        for name, days in (("respondBy", 2), ("expiresAt", 5), ("requestedDelivery", 30))
    }
    for _ in range(2):  # two more checkpoints, each over something new
        assert request_quote(aurora, [addresses[1]], template_id, **dates)["errors"] == []
        platform.sync()
        assert platform.anchoring().checkpoint() is not None
    with Session(platform.engine) as session:
        issued = apikeys.issue(session, owner="auditor", role=Role.AUDITOR)
        session.commit()
    auditor = Api(aurora.client, issued.secret)
    anchored = platform.anchoring().chain.anchored()
    assert len(anchored) >= 2

    def proof_between(old: int, new: int) -> list[bytes]:
        answer = auditor(CONSISTENCY, {"from": old, "to": new})["consistencyProof"]
        return [bytes.fromhex(node[2:]) for node in answer["proof"]]

    steps = verify_growth(anchored, proof_between)
    assert len(steps) == len(anchored) - 1 and all(s.passed for s in steps), steps

    def flipped(old: int, new: int) -> list[bytes]:  # one bit of each hash
        return [bytes([node[0] ^ 1]) + node[1:] for node in proof_between(old, new)]

    tampered = [s for s in verify_growth(anchored, flipped) if ", 0-hash proof" not in s.detail]
    assert tampered and not any(step.passed for step in tampered)  # (an unchanged tree: no hash)
    rewritten = [*anchored[:-1], {**anchored[-1], "root": "0x" + "00" * 32}]
    assert verify_growth(rewritten, proof_between)[-1].passed is False

    chain = platform.anchoring().chain
    log, rpc = chain.checkpoint_log.address, chain.gateway.rpc_url
    runner = CliRunner()
    with served(create_app(platform)) as base:
        args = ["verify", "--growth", "--anchor-rpc", rpc, "--anchor-contract", log]
        ok = runner.invoke(cli.app, [*args, "--api-key", issued.secret, "--url", f"{base}/graphql"])
        assert ok.exit_code == 0, ok.output
        assert f"verified: the {len(anchored)} anchored checkpoints only grew" in ok.output
        assert ok.output.count("the tree only grew") == len(anchored) - 1
        elsewhere = runner.invoke(cli.app, [*args[:-1], "0x" + "11" * 20, "--api-key", issued.secret, "--url", f"{base}/graphql"])  # fmt: skip
        assert elsewhere.exit_code == 1 and "cannot read the checkpoints" in elsewhere.output


def test_a_rewritten_cooperative_chain_is_detected(
    platform: Platform, as_member: list[Api], addresses: list[str], template_id: str
) -> None:
    """Roll the cooperative node back past an anchored block and replay other
    transactions: the history check names the checkpoint whose block is gone. (Last in
    this module: it leaves the platform on a forked chain.)"""
    from eth_account import Account

    from cooperative.proofs import verify_history

    anchoring = platform.anchoring()
    gateway = platform.gateway

    def history() -> list[Any]:
        anchored = anchoring.chain.anchored()
        with Session(platform.engine) as session:
            tree = merkle.MerkleTree(leaves_up_to(session, anchored[-1]["sourceBlock"]))
        return verify_history(anchored, gateway.block_hash, tree)

    platform.sync()
    anchoring.checkpoint()
    assert all(step.passed for step in history())  # as posted: every check passes
    assert any("only grew" in step.name for step in history())

    snapshot = gateway._raw("evm_snapshot")["result"]
    now = datetime.fromtimestamp(gateway.block_timestamp(gateway.latest_block()), UTC)
    dates = {
        name: (now + timedelta(days=days)).isoformat()
        for name, days in (("respondBy", 2), ("expiresAt", 5), ("requestedDelivery", 30))
    }
    assert request_quote(as_member[0], [addresses[1]], template_id, **dates)["errors"] == []
    platform.sync()
    rewritten = anchoring.checkpoint()
    assert rewritten is not None
    # The operator rolls its node back and replays something else at those heights.
    gateway._raw("evm_revert", snapshot)
    stranger = Account.create()
    gateway.set_balance(stranger.address, 10**20)
    while gateway.latest_block() < rewritten.source_block + 1:
        signed = stranger.sign_transaction(
            {
                "type": 2,
                "chainId": gateway.chain_id,
                "nonce": gateway.w3.eth.get_transaction_count(stranger.address),
                "to": stranger.address,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 10**11,
                "maxPriorityFeePerGas": 10**9,
            }
        )
        gateway.send_raw(bytes(signed.raw_transaction))
        gateway._raw("evm_mine")
    gateway.forget_blocks()

    failed = [step for step in history() if not step.passed]
    assert [step.name for step in failed] == [
        f"checkpoint {rewritten.index}: block {rewritten.source_block} is still the chain's"
    ]
    assert rewritten.source_block_hash in failed[0].detail
