"""A member takes its key into its own custody: the platform never signs for it again,
prepares each transaction for the member to sign, and relays exactly what it signed; a
signature by anyone else, or of anything else, is refused and writes nothing."""

from __future__ import annotations

import json
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from sqlmodel import Session, select

from cooperative.api.ids import global_id
from cooperative.platform import Platform
from cooperative.signing import UNSIGNED_TRANSACTION_FIELDS, RelayedSigner, sign_prepared
from cooperative.store.models import CustodialKey, OutboxEntry, QuoteRecord, SelfCustody
from tests.conftest import Api
from tests.test_governance_api import GOLD, PROPOSAL_FIELDS
from tests.test_marketplace_api import soon

PASSPHRASE = "correct horse battery staple"
EXPORT = "mutation($p: String!) { exportMemberKey(input: {passphrase: $p}) { keystore confirmationMessage keyCustody errors { code message field } } }"
CONFIRM = "mutation($s: String!) { confirmKeyCustody(input: {signature: $s}) { keyCustody errors { code message field } } }"
CUSTODY = "{ me { keyCustody } }"
ERRORS = f"errors {{ code message field {UNSIGNED_TRANSACTION_FIELDS} }}"
REQUEST = f"mutation($in: RequestQuoteInput!) {{ requestQuote(input: $in) {{ requestId quotes {{ id seller }} {ERRORS} }} }}"
PROPOSE = f"mutation($in: ProposeSlaTemplateInput!) {{ proposeSlaTemplate(input: $in) {{ proposal {{ {PROPOSAL_FIELDS} }} {ERRORS} }} }}"


def signed_call(
    api: Api, query: str, variables: dict[str, Any], signed: list[str]
) -> dict[str, Any]:
    """A request carrying signed transactions in its `extensions`."""
    response = api.client.post(
        "/graphql",
        json={"query": query, "variables": variables, "extensions": {"signedTransactions": signed}},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def quote_request(addresses: list[str], template: str, key: str) -> dict[str, Any]:
    return {
        "sellers": [addresses[0]],
        "slaTemplate": template,
        "respondBy": soon(2),
        "expiresAt": soon(5),
        "requestedDelivery": soon(30),
        "site": {"address": "Aleksanterinkatu 9, Helsinki"},
        "bandwidthMbps": 1000,
        "termMonths": 36,
        "idempotencyKey": key,
    }


def outbox_of(platform: Platform, sender: str) -> list[OutboxEntry]:
    with Session(platform.engine) as session:
        return list(session.exec(select(OutboxEntry).where(OutboxEntry.sender == sender)))


def quotes_of(platform: Platform, buyer: str) -> list[QuoteRecord]:
    with Session(platform.engine) as session:
        return list(session.exec(select(QuoteRecord).where(QuoteRecord.buyer == buyer)))


def test_a_member_in_its_own_custody_signs_every_transaction_itself(
    platform: Platform,
    as_member: list[Api],
    as_admin: Api,
    addresses: list[str],
    template_id: str,
) -> None:
    cirrus, address = as_member[2], addresses[2]
    assert cirrus(CUSTODY)["me"]["keyCustody"] == "PLATFORM"

    # Nobody but the member takes its key: not the operator, not with a short passphrase.
    refused = as_admin(EXPORT, {"p": PASSPHRASE})["exportMemberKey"]
    assert refused["errors"][0]["code"] == "FORBIDDEN" and refused["keystore"] is None
    short = cirrus(EXPORT, {"p": "short"})["exportMemberKey"]
    assert short["errors"][0]["field"] == "passphrase"
    assert cirrus(CUSTODY)["me"]["keyCustody"] == "PLATFORM"

    exported = cirrus(EXPORT, {"p": PASSPHRASE})["exportMemberKey"]
    assert exported["errors"] == [] and exported["keyCustody"] == "EXPORTED"
    key = Account.from_key(Account.decrypt(json.loads(exported["keystore"]), PASSPHRASE))
    assert key.address == address
    assert isinstance(platform.keystore.account(address), RelayedSigner)  # never signs again

    # A step that needs a transaction: prepared, refused, nothing written.
    variables = {"in": quote_request(addresses, template_id, "self-custody-quote-1")}
    sent_before = len(outbox_of(platform, address))
    asked = cirrus(REQUEST, variables)["requestQuote"]
    assert asked["requestId"] is None
    error = asked["errors"][0]
    assert error["code"] == "SIGNATURE_REQUIRED"
    transaction = error["transaction"]
    assert transaction["from"] == address and transaction["type"] == 2
    assert transaction["to"].lower() == platform.contracts_deployed()["Ordering"].lower()
    assert transaction["function"].startswith("Ordering.request_quote(sellers=")
    assert len(outbox_of(platform, address)) == sent_before and quotes_of(platform, address) == []

    # Signed by another key, or a different transaction signed by the member: refused.
    stranger = sign_prepared(Account.create(), transaction)
    other_nonce = sign_prepared(key, {**transaction, "nonce": int(transaction["nonce"]) + 1})
    for wrong in ([stranger], [other_nonce], []):
        again = signed_call(cirrus, REQUEST, variables, wrong)["requestQuote"]
        assert again["errors"][0]["code"] == "SIGNATURE_REQUIRED", wrong
        assert again["errors"][0]["transaction"]["data"] == transaction["data"]  # same salts
    assert len(outbox_of(platform, address)) == sent_before and quotes_of(platform, address) == []

    # The member's own signature of it: relayed, exactly those bytes.
    signature = sign_prepared(key, transaction)
    done = signed_call(cirrus, REQUEST, variables, [signature])["requestQuote"]
    assert done["errors"] == [] and done["quotes"][0]["seller"] == addresses[0]
    relayed = outbox_of(platform, address)
    assert len(relayed) == sent_before + 1
    assert "0x" + bytes(relayed[-1].raw).hex() == signature
    chain_tx = platform.gateway.w3.eth.get_transaction(relayed[-1].tx_hash)
    assert chain_tx["from"] == address
    assert [global_id("QuoteRequest", q.request_id) for q in quotes_of(platform, address)] == [
        done["requestId"]
    ]
    # the same key again answers the first result and sends nothing
    assert cirrus(REQUEST, variables)["requestQuote"]["requestId"] == done["requestId"]
    assert len(outbox_of(platform, address)) == sent_before + 1

    # Governance too: a proposal is the member's transaction, signed by the member.
    proposal_input = {"in": {**GOLD, "name": "Cirrus Silver", "description": "Adopt Silver"}}
    asked = cirrus(PROPOSE, proposal_input)["proposeSlaTemplate"]
    assert asked["errors"][0]["code"] == "SIGNATURE_REQUIRED" and asked["proposal"] is None
    signed = sign_prepared(key, asked["errors"][0]["transaction"])
    proposed = signed_call(cirrus, PROPOSE, proposal_input, [signed])["proposeSlaTemplate"]
    assert proposed["errors"] == [] and proposed["proposal"]["proposer"] == address

    # Without an idempotency key the salts would differ at every attempt: refused up front.
    unkeyed = {"in": {k: v for k, v in variables["in"].items() if k != "idempotencyKey"}}
    refused = cirrus(REQUEST, unkeyed)["requestQuote"]["errors"][0]
    assert refused["code"] == "VALIDATION" and refused["field"] == "idempotencyKey"
    # A signature that recovers no signer is the client's mistake, not INTERNAL.
    unsigned_bytes = bytes.fromhex(signature[2:])
    broken = "0x" + (unsigned_bytes[:-33] + b"\x00" * 33).hex()
    answer = signed_call(
        cirrus, REQUEST, variables | {"in": {**variables["in"], "idempotencyKey": "x3"}}, [broken]
    )
    assert answer["requestQuote"]["errors"][0]["code"] == "VALIDATION"

    # A malformed signedTransactions is the client's mistake.
    bad = signed_call(
        cirrus, REQUEST, variables | {"in": {**variables["in"], "idempotencyKey": "x2"}}, ["0xzz"]
    )
    assert bad["requestQuote"]["errors"][0]["code"] == "VALIDATION"
    assert bad["requestQuote"]["errors"][0]["field"] == "extensions.signedTransactions"

    # Erasing the platform's copy takes the key's own signature of the confirmation.
    message = encode_defunct(text=exported["confirmationMessage"])
    forged = Account.create().sign_message(message).signature.hex()
    wrong = cirrus(CONFIRM, {"s": "0x" + forged.removeprefix("0x")})["confirmKeyCustody"]
    assert wrong["errors"][0]["field"] == "signature"
    with Session(platform.engine) as session:
        assert session.get(CustodialKey, address) is not None
    proof = "0x" + key.sign_message(message).signature.hex().removeprefix("0x")
    confirmed = cirrus(CONFIRM, {"s": proof})["confirmKeyCustody"]
    assert confirmed == {"keyCustody": "MEMBER", "errors": []}
    with Session(platform.engine) as session:
        assert session.get(CustodialKey, address) is None
        assert session.get(SelfCustody, address).erased_at is not None
    assert cirrus(CUSTODY)["me"]["keyCustody"] == "MEMBER"
    gone = cirrus(EXPORT, {"p": PASSPHRASE})["exportMemberKey"]
    assert gone["errors"][0]["code"] == "VALIDATION" and gone["keystore"] is None


def test_the_operator_sends_the_settlement_cycles_of_a_member_holding_its_own_key(
    platform: Platform, as_member: list[Api], addresses: list[str]
) -> None:
    """A cycle's calldata lists every due invoice and payment of its currency: a member
    signing it would read other pairs' business. Its cycles go out with the operator's key
    (which commits no one: each payment waits on its own parties), a custodial member's
    with its own."""
    from cooperative.access import DataAccess, Viewer
    from cooperative.billing import Settlement
    from cooperative.store.models import Role

    cirrus, aurora = addresses[2], addresses[0]
    assert isinstance(platform.keystore.account(cirrus), RelayedSigner)  # exported above
    with Session(platform.engine) as session:
        for member, sender in ((cirrus, platform.operator().address), (aurora, aurora)):
            viewer = Viewer(principal=member, role=Role.MEMBER, key_id=f"k-{member}")
            runner, account = Settlement(platform, DataAccess(session, viewer))._runner()
            assert (runner, account.address) == (member, sender)
    # and what it learns when nothing of its own is due is the same as before: nothing
    refused = as_member[2](
        'mutation { runSettlementCycle(input: {currency: "SEK"}) { cycle { id } errors { code message } } }'
    )["runSettlementCycle"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]


ADMIT = f"mutation($in: ProposeMemberAdmissionInput!) {{ proposeMemberAdmission(input: $in) {{ proposal {{ id }} {ERRORS} }} }}"
FIRST_KEY = "mutation($a: String!) { createApiKey(input: {memberAddress: $a}) { secret errors { code message } } }"


def test_a_member_admitted_with_its_own_address_signs_for_itself(
    platform: Platform,
    as_member: list[Api],
    as_admin: Api,
    addresses: list[str],
    template_id: str,
) -> None:
    from tests.test_governance_api import passes

    newcomer = Account.create()
    admission = as_member[0](
        ADMIT,
        {"in": {"name": "Dawn Fiber", "address": newcomer.address, "description": "Admit Dawn"}},
    )["proposeMemberAdmission"]
    assert admission["errors"] == []
    passes(platform, as_member[:2], as_admin, admission["proposal"]["id"])
    secret = as_admin(FIRST_KEY, {"a": newcomer.address})["createApiKey"]["secret"]
    dawn = Api(as_member[0].client, secret)
    assert dawn(CUSTODY)["me"]["keyCustody"] == "MEMBER"  # the platform never had its key

    variables = {"in": quote_request(addresses, template_id, "dawn-quote-1")}
    asked = dawn(REQUEST, variables)["requestQuote"]["errors"][0]
    assert (
        asked["code"] == "SIGNATURE_REQUIRED" and asked["transaction"]["from"] == newcomer.address
    )
    signed = sign_prepared(newcomer, asked["transaction"])
    done = signed_call(dawn, REQUEST, variables, [signed])["requestQuote"]
    assert done["errors"] == [] and [
        global_id("QuoteRequest", q.request_id) for q in quotes_of(platform, newcomer.address)
    ] == [done["requestId"]]
    # the operator issued this key: with it, nobody may take (or erase) the member's key
    refused = dawn(EXPORT, {"p": PASSPHRASE})["exportMemberKey"]["errors"][0]
    assert refused["code"] == "FORBIDDEN" and "created itself" in refused["message"]
