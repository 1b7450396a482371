"""A small GraphQL client for the members' commands: they act through the API with the
member's own API key, exactly as an ERP would.

A member that holds its own key (`coop key export`) points COOP_KEYSTORE at its keystore
file: each transaction the platform prepares for it (SIGNATURE_REQUIRED) is decoded here,
with the member's own copy of the contracts' ABIs, shown, signed with that key and sent back
with the same request (cooperative.signing). The platform's own description of the call is
not trusted: a call no cooperative contract has is refused unsigned, and so is a chain id
other than the one the member's first signature was for (pinned beside the keystore)."""

from __future__ import annotations

import json
import os
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from eth_abi.exceptions import DecodingError
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from cooperative.cli.common import err, fail
from cooperative.errors import ErrorCode
from cooperative.settings import Settings
from cooperative.signing import MAX_SIGNED_TRANSACTIONS, UNSIGNED_TRANSACTION_FIELDS, sign_prepared
from deployments.compiler import Compiler, vyper_sources

# What every mutation selects of its payload's errors: enough to sign what it asks for.
PAYLOAD_ERRORS = f"errors {{ code message field {UNSIGNED_TRANSACTION_FIELDS} }}"

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="COOP_API_KEY", help="The member's API key (or COOP_API_KEY)."
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="COOP_API_URL", help="GraphQL URL (default: from COOP_HOST/COOP_PORT)."
    ),
]


class Client:
    def __init__(self, url: str | None, api_key: str | None) -> None:
        if not api_key:
            fail("an API key is needed: pass --api-key or set COOP_API_KEY")
        settings = Settings()
        self.url = url or f"http://{settings.host}:{settings.port}/graphql"
        self.api_key = api_key

    def query(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The `data` of a query; any error ends the command with its code and sentence."""
        body: dict[str, Any] = {"query": document, "variables": variables or {}}
        if extensions:
            body["extensions"] = extensions
        try:
            response = httpx.post(
                self.url,
                json=body,
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            fail(f"cannot reach the API at {self.url}: {exc}; is `coop serve` running?")
            raise  # unreachable
        try:
            body = response.json()
        except ValueError:
            fail(f"the API at {self.url} answered {response.status_code} without JSON")
            raise
        if body.get("errors"):
            first = body["errors"][0]
            fail(f"{first.get('extensions', {}).get('code', 'ERROR')}: {first['message']}")
        return body["data"]

    def mutate(self, document: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A mutation's payload; its first user error ends the command. Each transaction
        the platform asks the member to sign is signed with COOP_KEYSTORE's key and the
        request sent again with the signatures, once per transaction of the step."""
        signed: list[str] = []
        nonces: set[str] = set()
        while True:
            extensions = {"signedTransactions": signed} if signed else None
            payload = self.query(document, variables, extensions)[field]
            if not payload["errors"]:
                return payload
            first = payload["errors"][0]
            if (
                first["code"] != ErrorCode.SIGNATURE_REQUIRED
                or len(signed) >= MAX_SIGNED_TRANSACTIONS
            ):
                where = f" ({first['field']})" if first.get("field") else ""
                fail(f"{first['code']}: {first['message']}{where}")
            transaction = first["transaction"]
            if transaction["nonce"] in nonces:
                fail(
                    "the platform prepared another transaction for a nonce already signed: "
                    "this step builds different calldata at each attempt"
                )
            nonces.add(transaction["nonce"])
            if transaction["from"].lower() != self.signer.address.lower():
                fail(
                    f"the platform asks {transaction['from']} to sign, but COOP_KEYSTORE holds "
                    f"the key of {self.signer.address}"
                )
            self._pin_chain(int(transaction["chainId"]))
            err.print(
                f"signing {decoded_call(transaction)} as {transaction['from']}", highlight=False
            )
            signed.append(sign_prepared(self.signer, transaction))

    @cached_property
    def signer(self) -> LocalAccount:
        """The member's own key, from the keystore file COOP_KEYSTORE names (its passphrase
        from COOP_KEYSTORE_PASSPHRASE, or asked for)."""
        path = os.environ.get("COOP_KEYSTORE")
        if not path:
            fail(
                "this member holds its own key: set COOP_KEYSTORE to its keystore file "
                "(from `coop key export`) so the CLI can sign the transaction"
            )
        return unlock(Path(str(path)))

    def _pin_chain(self, chain_id: int) -> None:
        """The chain the member signs for: pinned at its first signature (`<keystore>.chain`),
        so a platform that later asks for a signature valid on another chain is refused."""
        pin = Path(str(os.environ["COOP_KEYSTORE"]) + ".chain")
        if not pin.exists():
            pin.write_text(f"{chain_id}\n")
            return
        pinned = pin.read_text().strip()
        if pinned != str(chain_id):
            fail(
                f"the platform asks for a signature on chain {chain_id}, but this keystore signs "
                f"for chain {pinned} ({pin}): not signed"
            )


# The contracts a member's transactions call: the cooperative's modules and governance
MEMBER_CONTRACT_DIRS = ("cooperative", "governance")


@cache
def _member_contracts() -> dict[str, Any]:
    """name -> a web3 contract (no address) of each contract a member may be asked to call,
    compiled from this installation's own sources."""
    compiler, w3 = Compiler(), Web3()
    return {
        name: w3.eth.contract(abi=compiler.vyper(name).abi)
        for name, path in vyper_sources().items()
        if path.parent.name in MEMBER_CONTRACT_DIRS
    }


def decoded_call(transaction: dict[str, Any]) -> str:
    """The prepared transaction's call as the member's own ABIs read it, e.g.
    `Ordering.request_quote(sellers=[…], …)`; a call none of them has ends the command."""
    for name, contract in _member_contracts().items():
        try:
            function, arguments = contract.decode_function_input(transaction["data"])
        except (ValueError, DecodingError):  # not this contract's function
            continue
        shown = ", ".join(f"{key}={_short(value)}" for key, value in arguments.items())
        return f"{name}.{function.fn_name}({shown})"
    fail(
        f"the platform asks to sign a call to {transaction['to']} that no cooperative contract "
        "has: not signed"
    )
    raise AssertionError  # unreachable


def _short(value: Any) -> str:
    text = "0x" + value.hex() if isinstance(value, bytes) else str(value)
    return text if len(text) <= 66 else text[:63] + "…"


def unlock(path: Path) -> LocalAccount:
    """The key in a V3 keystore file; a wrong passphrase or file ends the command."""
    try:
        keystore = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the keystore {path}: {exc}")
    passphrase = os.environ.get("COOP_KEYSTORE_PASSPHRASE") or typer.prompt(
        f"passphrase of {path}", hide_input=True
    )
    try:
        return Account.from_key(Account.decrypt(keystore, passphrase))
    except Exception as exc:  # any unreadable keystore: one line, no traceback
        fail(f"the passphrase does not open {path}, or it is not a keystore ({exc})")
        raise  # unreachable
