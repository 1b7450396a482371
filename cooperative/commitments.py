"""Salted commitments of private documents (DESIGN principle 2).

The chain holds keccak256(salt || canonical JSON of the document); the store holds the
document and its salt, visible to the parties only. A party proves a document's content
to anyone by revealing it with its salt.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from eth_utils import keccak

from cooperative import outbox


def canonical(document: dict[str, Any]) -> bytes:
    """One byte string per document: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def commit(document: dict[str, Any]) -> tuple[str, str]:
    """(salt, commitment) for a document, both 0x-hex. The document and its salt go into
    the outbox with the request's next transaction (cooperative.outbox), so neither is lost
    whatever happens after it is sent."""
    text = canonical(document)
    salt = outbox.derived_salt(text) or secrets.token_bytes(32)
    salt_hex, commitment = "0x" + salt.hex(), "0x" + keccak(salt + text).hex()
    outbox.keep_document(commitment, salt_hex, document)
    return salt_hex, commitment


def verify(document: dict[str, Any], salt: str, commitment: str) -> bool:
    return (
        "0x" + keccak(bytes.fromhex(salt.removeprefix("0x")) + canonical(document)).hex()
        == commitment.lower()
    )
