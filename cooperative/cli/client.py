"""A small GraphQL client for the members' commands: they act through the API with the
member's own API key, exactly as an ERP would.

A member that holds its own key (`coop key export`) points COOP_KEYSTORE at its keystore
file: each transaction the platform prepares for it (SIGNATURE_REQUIRED) is decoded here,
with the member's own copy of the contracts' ABIs, shown, signed with that key and sent back
with the same request (cooperative.signing). The platform's own description of the call is
not trusted: the chain and the cooperative's contract addresses are pinned at the first
signature (`Pins`), and a transaction for another chain, to another address, sending ether,
costing more than COOP_MAX_FEE_WEI or calling what its contract does not have is refused
unsigned."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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
            call = self.pins.check(transaction)
            err.print(f"signing {call} as {transaction['from']}", highlight=False)
            signed.append(sign_prepared(self.signer, transaction))
            self.pins.keep()

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

    @cached_property
    def pins(self) -> Pins:
        path = Path(str(os.environ.get("COOP_KEYSTORE"))).resolve()
        return Pins(path.with_name(path.name + ".pins.json"), self._deployed_contracts)

    def _deployed_contracts(self) -> dict[str, str]:
        """name -> address of the cooperative's contracts, as the platform's /health says
        (asked once: the first signature pins them)."""
        health = httpx.URL(self.url).copy_with(path="/health", query=None)
        try:
            return dict(httpx.get(health, timeout=30).json()["contracts"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            fail(f"cannot read the cooperative's contracts from {health}: {exc}")
            raise  # unreachable


# The contracts a member's transactions call: the cooperative's modules and governance
MEMBER_CONTRACT_DIRS = ("cooperative", "governance")
# The most a prepared transaction may cost the member (gas x max fee), unless it says more
MAX_FEE_WEI = int(os.environ.get("COOP_MAX_FEE_WEI", str(10**17)))


class Pins:
    """What a member's CLI trusts when it signs, pinned at its first signature beside the
    keystore (`<keystore>.pins.json`, like SSH's known hosts): the chain id and the
    cooperative's contract addresses. A prepared transaction is signed only if it is for
    that chain, to one of those contracts, sends no ether, costs at most MAX_FEE_WEI, and
    decodes as a function of that very contract, by the CLI's own copy of its ABI."""

    def __init__(self, path: Path, deployed: Callable[[], dict[str, str]]) -> None:
        self.path, self._deployed = path, deployed
        self._pending: dict[str, Any] | None = None

    def check(self, transaction: dict[str, Any]) -> str:
        """The call in words, as this CLI decodes it; the command ends if it may not sign."""
        chain_id = int(transaction["chainId"])
        pinned = self._pinned()
        if pinned is None:
            contracts = {
                address.lower(): name
                for name, address in self._deployed().items()
                if _is_member_contract(name)
            }
            self._pending = {"chainId": chain_id, "contracts": contracts}
            pinned = self._pending
        if pinned["chainId"] != chain_id:
            fail(
                f"the platform asks for a signature on chain {chain_id}, but this keystore "
                f"signs for chain {pinned['chainId']} ({self.path}): not signed"
            )
        name = pinned["contracts"].get(str(transaction.get("to") or "").lower())
        if name is None:
            fail(
                f"the platform asks to sign a call to {transaction.get('to')}, which is none of "
                f"the cooperative's contracts ({self.path}): not signed"
            )
        if int(transaction["value"]) != 0:
            fail("the platform asks to send ether with the call: not signed")
        fee = int(transaction["gas"]) * int(transaction["maxFeePerGas"])
        if fee > MAX_FEE_WEI:
            fail(
                f"the transaction may cost {fee:,} wei, more than COOP_MAX_FEE_WEI "
                f"({MAX_FEE_WEI:,}): not signed"
            )
        return decoded_call(name, transaction["data"])

    def keep(self) -> None:
        """Pin what the first signature trusted (never over an existing pin)."""
        if self._pending is None:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError as exc:
            fail(f"cannot write {self.path}: {exc.strerror}")
        with os.fdopen(fd, "w") as handle:
            json.dump(self._pending, handle, indent=2)
        self._pending = None

    def _pinned(self) -> dict[str, Any] | None:
        if self._pending is not None:
            return self._pending
        try:
            return dict(json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            fail(f"cannot read {self.path}: {exc}")
            raise  # unreachable


def _is_member_contract(name: str) -> bool:
    """A contract members call (a module's proxy, governance), not an implementation or a
    beacon record."""
    source = vyper_sources().get(name)
    return source is not None and source.parent.name in MEMBER_CONTRACT_DIRS


@cache
def _contract(name: str) -> Any:
    """A web3 contract (no address) of `name`, compiled from this installation's sources."""
    return Web3().eth.contract(abi=Compiler().vyper(name).abi)


def decoded_call(name: str, data: str) -> str:
    """A call to the contract `name` as its ABI reads it, e.g.
    `Ordering.request_quote(sellers=[…], …)`; one it does not have ends the command."""
    try:
        function, arguments = _contract(name).decode_function_input(data)
    except (ValueError, DecodingError):
        fail(f"the platform asks to sign a call that {name} does not have: not signed")
        raise  # unreachable
    shown = ", ".join(f"{key}={_short(value)}" for key, value in arguments.items())
    return f"{name}.{function.fn_name}({shown})"


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
