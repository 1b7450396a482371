"""Who signs a member's transactions: the platform's custodial key, or the member itself.

A member that took its key into its own custody (Keystore.export) is never signed for
again. Its signer here is a `RelayedSigner`: when a request of that member needs a
transaction, the platform prepares it (nonce, gas, fees, calldata with the request's
commitments) and refuses the request with SIGNATURE_REQUIRED, the unsigned transaction
attached. The member's client signs it with its own key and sends the same request again,
with the same idempotency key (so the commitments' salts, and thus the calldata, come out
the same: cooperative.outbox.derived_salt) and the signed bytes in the GraphQL request's
`extensions.signedTransactions`. The retry prepares the same transaction, finds it signed
by the member, and relays those bytes: recorded in the outbox, then sent, like any other.
A step of several transactions takes one round per transaction.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from cooperative import outbox
from cooperative.errors import SignatureRequired, ValidationFailed

MAX_SIGNED_TRANSACTIONS = 16  # per request: one per transaction of its step
SIGNED_TRANSACTIONS_FIELD = "extensions.signedTransactions"

_supplied: contextvars.ContextVar[tuple[bytes, ...]] = contextvars.ContextVar(
    "signed_transactions", default=()
)


def parse_signed_transactions(value: object) -> tuple[bytes, ...]:
    """The request's `extensions.signedTransactions`: a list of 0x-hex signed transactions."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_SIGNED_TRANSACTIONS:
        raise ValidationFailed(
            f"signedTransactions is a list of at most {MAX_SIGNED_TRANSACTIONS} hex strings",
            field=SIGNED_TRANSACTIONS_FIELD,
        )
    raws = []
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str) or not item.startswith("0x"):
                raise ValueError
            raw = bytes.fromhex(item[2:])
            TypedTransaction.from_bytes(HexBytes(raw))
            Account.recover_transaction(raw)  # a signature that recovers no signer
        except Exception as exc:  # any malformed item is the client's mistake
            raise ValidationFailed(
                f"signedTransactions[{index}] is not a signed EIP-1559 transaction in 0x-hex",
                field=SIGNED_TRANSACTIONS_FIELD,
            ) from exc
        raws.append(raw)
    return tuple(raws)


@contextmanager
def supplying(raws: tuple[bytes, ...]) -> Iterator[None]:
    """Run a request with the transactions its client signed."""
    token = _supplied.set(raws)
    try:
        yield
    finally:
        _supplied.reset(token)


@dataclass(frozen=True)
class SignedBytes:
    """What the chain gateway reads of a signed transaction (as eth_account's)."""

    raw_transaction: bytes
    hash: bytes


@dataclass(frozen=True)
class RelayedSigner:
    """The signer of a member that holds its own key: it signs nothing itself."""

    address: str

    def sign_transaction(self, tx: dict[str, Any]) -> SignedBytes:
        """The member's signature of `tx`, from the request's signed transactions: the one
        with the same chain, nonce, recipient, value and calldata, signed by this member.
        Its own gas limit and fees are the member's choice and are written back into `tx`
        (the gateway judges the receipt by them). None: SIGNATURE_REQUIRED."""
        for raw in _supplied.get():
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            if (
                _same_call(fields, tx)
                and Account.recover_transaction(raw).lower() == self.address.lower()
            ):
                tx.update(
                    gas=fields["gas"],
                    maxFeePerGas=fields["maxFeePerGas"],
                    maxPriorityFeePerGas=fields["maxPriorityFeePerGas"],
                )
                return SignedBytes(raw_transaction=raw, hash=keccak(raw))
        if outbox.unkeyed_commitments():
            raise ValidationFailed(
                "a member holding its own key sends this step with an idempotencyKey: its "
                "documents' salts derive from it, so the retry carrying the signature builds "
                "the same transaction",
                field="idempotencyKey",
            )
        raise SignatureRequired(
            "this member holds its own key: sign the transaction in this error with it and "
            "send the same request again, with the same idempotencyKey, and the signed "
            "transaction (0x-hex) in the request's extensions.signedTransactions",
            transaction=unsigned(tx),
        )


def unsigned(tx: dict[str, Any]) -> dict[str, object]:
    """The transaction to sign, as the client sees it (EIP-1559, type 2)."""
    data = tx.get("data", b"")
    return {
        "type": 2,
        "chainId": tx["chainId"],
        "from": tx["from"],
        "to": tx.get("to"),
        "nonce": tx["nonce"],
        "value": tx.get("value", 0),
        "data": data if isinstance(data, str) else "0x" + bytes(data).hex(),
        "gas": tx["gas"],
        "maxFeePerGas": tx["maxFeePerGas"],
        "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"],
    }


def _same_call(signed: dict[str, Any], tx: dict[str, Any]) -> bool:
    data = tx.get("data", b"")
    wanted = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    to = signed.get("to")
    return (
        signed.get("type") == 2
        and signed["chainId"] == tx["chainId"]
        and signed["nonce"] == tx["nonce"]
        and signed.get("value", 0) == tx.get("value", 0)
        and bytes(signed.get("data", b"")) == wanted
        and (to is not None and tx.get("to") is not None)
        and bytes(to).hex() == str(tx["to"]).lower().removeprefix("0x")
    )


def custody_confirmation(address: str) -> str:
    """The message a member signs (EIP-191 personal_sign) with the key it exported, to
    have the platform erase its custodial copy."""
    return (
        f"CarrierCoop: {to_checksum_address(address)} holds its own key. Erase the platform's copy."
    )


def confirms_custody(address: str, signature: str) -> bool:
    try:
        signer = Account.recover_message(
            encode_defunct(text=custody_confirmation(address)), signature=signature
        )
    except Exception:  # not a signature at all: not a confirmation either
        return False
    return bool(signer.lower() == address.lower())


# ---------------------------------------------------------------- the member's side

# What a client selects of a payload's errors to be able to sign (GraphQL field names).
UNSIGNED_TRANSACTION_FIELDS = (
    "transaction { type chainId from to nonce value data gas maxFeePerGas "
    "maxPriorityFeePerGas function }"
)


def sign_prepared(account: Any, transaction: dict[str, Any]) -> str:
    """A member's client signs a transaction the platform prepared (a SIGNATURE_REQUIRED
    error's `transaction`, as GraphQL gives it) with its own key: the 0x-hex to send back."""
    tx = {
        "type": 2,
        "chainId": int(transaction["chainId"]),
        "nonce": int(transaction["nonce"]),
        "to": transaction["to"],
        "value": int(transaction["value"]),
        "data": transaction["data"],
        "gas": int(transaction["gas"]),
        "maxFeePerGas": int(transaction["maxFeePerGas"]),
        "maxPriorityFeePerGas": int(transaction["maxPriorityFeePerGas"]),
    }
    return "0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()
