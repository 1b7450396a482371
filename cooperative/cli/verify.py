"""`coop proof` fetches a proof bundle through the API: a document's (by its commitment) or
one of the member's records' (by its id, `SlaCredit:3-24321`, `Invoice:7`,
`TroubleTicket:5-0`; or `--record KIND` and the bare key, the CLI building the id); `coop
verify` checks a bundle offline, printing each step it checked, and asks the anchor chain
with `--anchor-rpc`. Exit codes: 0 every check passed, 1 a check failed, 2 not a bundle."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session
from strawberry.utils.str_converters import to_camel_case

from cooperative.cli.client import ApiKeyOption, Client, UrlOption
from cooperative.cli.common import (
    DataDirOption,
    app,
    console,
    err,
    fail,
    load_settings,
    typed_id,
    user_errors,
)
from cooperative.proofs import PROVABLE, Step, UnreadableBundle, on_anchor_chain, verify_bundle

PROOF = "query($id: String!) { commitmentProof(documentId: $id) { bundle } }"
CONSISTENCY = (
    "query($from: Int!, $to: Int!) { consistencyProof(fromIndex: $from, toIndex: $to) { proof } }"
)
STATE_PROOF = "query($id: ID!) { recordStateProof(id: $id) { bundle } }"


class RecordKind(StrEnum):
    SLA_CREDIT = "sla-credit"
    INVOICE = "invoice"
    TROUBLE_TICKET = "trouble-ticket"


# The API's type of each provable record, by --record's kind (sla-credit is slaCredit)
RECORD_TYPES = {
    kind: PROVABLE[to_camel_case(kind.value.replace("-", "_"))].api_type for kind in RecordKind
}
RECORD_WORDS = {
    "SlaCredit": "an SLA credit",
    "Invoice": "an invoice",
    "TroubleTicket": "a trouble ticket",
}


def _record_id(record_id: str, record: RecordKind | None) -> str | None:
    """The API's id of the record to prove, or None for a document's commitment: an id as
    the API gives it (`SlaCredit:3-24321`), or with --record the bare key (`3-24321`)."""
    if record is not None:
        named = RECORD_TYPES[record]
    else:
        named, colon, _key = record_id.strip().partition(":")
        if not colon:
            return None  # a commitment, 0x-hex
        if named not in RECORD_TYPES.values():
            fail(
                f"{record_id!r}: state proofs are of {', '.join(RECORD_TYPES.values())} "
                "records; a document is proven by its commitment (0x…)"
            )
    return typed_id(record_id, named, RECORD_WORDS[named])


@app.command()
def proof(
    record_id: Annotated[
        str,
        typer.Argument(
            help="A document's commitment (0x-hex); or one of your records' id: SlaCredit:3-24321, "
            "Invoice:7 or TroubleTicket:5-0 (with --record, the part after the colon is enough).",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle.")],
    record: Annotated[
        RecordKind | None,
        typer.Option(
            "--record",
            help="The kind of record RECORD_ID names, so that its bare key will do "
            "(--record sla-credit 3-24321 is SlaCredit:3-24321).",
            case_sensitive=False,
        ),
    ] = None,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Write a proof bundle (one JSON file) to hand to an auditor: a document's inclusion
    proof (by its commitment), or a state proof of one of your records' on-chain values
    (by its id, e.g. SlaCredit:3-24321; or --record sla-credit 3-24321)."""
    gid = _record_id(record_id, record)
    client = Client(url, api_key)
    if gid is None:
        bundle = client.query(PROOF, {"id": record_id})["commitmentProof"]["bundle"]
    else:
        bundle = client.query(STATE_PROOF, {"id": gid})["recordStateProof"]["bundle"]
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(bundle, handle, indent=2)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror}")
    checkpoint = bundle["checkpoint"]
    what = (
        f"leaf {bundle['leaf']['index']} of {bundle['leaf']['treeSize']}"
        if gid is None
        else f"{gid} at cooperative block {checkpoint['sourceBlock']}"
    )
    console.print(
        f"wrote {out}: {what}, checkpoint {checkpoint['index']} "
        f"(anchor transaction {checkpoint['anchorTx']})",
        highlight=False,
    )


@app.command()
def verify(
    bundle_file: Annotated[Path | None, typer.Argument(help="A bundle from `coop proof`.")] = None,
    anchor_rpc: Annotated[
        str | None,
        typer.Option("--anchor-rpc", help="Also ask the anchor chain (its JSON-RPC URL)."),
    ] = None,
    anchor_contract: Annotated[
        str | None,
        typer.Option(
            "--anchor-contract", help="The cooperative's published CheckpointLog address."
        ),
    ] = None,
    chain: Annotated[
        bool,
        typer.Option(
            "--chain",
            help="Operator: check every anchored checkpoint against the cooperative chain "
            "and the commitment log (joins a running server).",
        ),
    ] = False,
    module_address: Annotated[
        str | None,
        typer.Option(
            "--module-address",
            help="A state bundle: the cooperative's published address of its module.",
        ),
    ] = None,
    growth: Annotated[
        bool,
        typer.Option(
            "--growth",
            help="Auditor: check with the API's consistency proofs that each checkpoint the "
            "anchor chain holds (--anchor-rpc, --anchor-contract) extends the one before.",
        ),
    ] = False,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Verify a proof bundle offline, step by step (exit 0 verified, 1 failed, 2 unreadable).

    The document opens the commitment, the audit path leads to the checkpoint's root, and
    (with --anchor-rpc) the anchor chain holds that checkpoint."""
    if chain:
        _verify_history(data_dir)
        return
    if growth:
        if anchor_rpc is None or anchor_contract is None:
            fail(
                "--growth reads the checkpoints from the anchor chain: give --anchor-rpc and --anchor-contract"
            )
        _verify_growth(str(anchor_rpc), str(anchor_contract), Client(url, api_key))
        return
    if bundle_file is None:
        fail("give a bundle file to verify, or --chain")
        return
    try:
        bundle = json.loads(bundle_file.read_text())
    except (OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] cannot read {bundle_file}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    anchored = None
    if anchor_rpc is not None:
        from deployments.compiler import Compiler

        abi = Compiler().vyper("CheckpointLog").abi
        anchored = on_anchor_chain(anchor_rpc, abi, anchor_contract)
    try:
        steps = verify_bundle(bundle, anchored, module_address)
    except UnreadableBundle as exc:
        err.print(f"[bold red]error:[/] {bundle_file}: {exc}", highlight=False)
        raise typer.Exit(2) from None
    subject = bundle.get("commitment") or _record_named(bundle.get("record"))
    offline = (
        ""
        if anchored
        else " (offline: the checkpoint itself was not asked of the anchor chain; add --anchor-rpc)"
    )
    _report(steps, f"verified: {subject}{offline}", "the bundle does not verify")


def _record_named(record: object) -> str:
    """A state bundle's record in words and by the API's id, e.g. `invoice Invoice:7`."""
    record = record if isinstance(record, dict) else {}
    kind = record.get("kind")
    if kind not in PROVABLE:  # (verify_bundle refuses such a bundle first)
        return f"{kind} {record.get('id')}"
    return f"{PROVABLE[kind].what} {PROVABLE[kind].api_type}:{record.get('id')}"


def _verify_history(data_dir: Path | None) -> None:
    from cooperative.anchoring import leaves_up_to
    from cooperative.merkle import MerkleTree
    from cooperative.platform import Platform
    from cooperative.proofs import verify_history

    settings = load_settings(data_dir)
    with user_errors():
        platform = Platform.start(settings, attach=True)
    try:
        with user_errors():
            anchored = platform.anchoring(attach=True).chain.anchored()
            with Session(platform.engine) as session:
                tree = MerkleTree(
                    leaves_up_to(session, anchored[-1]["sourceBlock"] if anchored else -1)
                )
            steps = verify_history(anchored, platform.gateway.block_hash, tree)
    finally:
        platform.stop()
    if not anchored:
        console.print("no checkpoint is anchored yet: nothing to check")
        return
    _report(
        steps,
        f"verified: {len(anchored)} checkpoints, the history was not rewritten",
        "the cooperative chain or its commitment log does not match what was anchored",
    )


def _verify_growth(anchor_rpc: str, anchor_contract: str, client: Client) -> None:
    from cooperative.anchoring import logged_checkpoints
    from cooperative.proofs import verify_growth
    from deployments.chain import ChainGateway
    from deployments.compiler import Compiler

    try:
        gateway = ChainGateway(anchor_rpc, request_timeout=10)
        log = gateway.contract(anchor_contract, Compiler().vyper("CheckpointLog").abi)
        anchored = logged_checkpoints(log)
    except Exception as exc:  # unreachable, or no CheckpointLog there: one line
        fail(f"cannot read the checkpoints of {anchor_contract} at {anchor_rpc}: {exc}")
        return

    def proof_between(old: int, new: int) -> list[bytes]:
        answer = client.query(CONSISTENCY, {"from": old, "to": new})["consistencyProof"]
        try:
            return [bytes.fromhex(node[2:]) for node in answer["proof"]]
        except (ValueError, TypeError):  # not hashes: no proof, so the step fails
            return []

    if len(anchored) < 2:
        console.print(f"{len(anchored)} checkpoint(s) on the anchor chain: nothing to compare yet")
        return
    _report(
        verify_growth(anchored, proof_between),
        f"verified: the {len(anchored)} anchored checkpoints only grew",
        "the operator's log does not extend what was anchored",
    )


def _report(steps: list[Step], verified: str, failed: str) -> None:
    for step in steps:
        mark = "[green]ok[/]  " if step.passed else "[bold red]FAIL[/]"
        console.print(f"{mark} {step.name}: {step.detail}", highlight=False)
    if not all(step.passed for step in steps):
        console.print(f"[bold red]{failed}[/]", highlight=False)
        raise typer.Exit(1)
    console.print(f"[bold green]{verified}[/]", highlight=False)
