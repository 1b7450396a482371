"""The custodial keystore: members' and the operator's private keys, encrypted at rest.

Keys are Ethereum V3 keystores encrypted with the platform secret: `COOP_SECRET`, or a
random secret generated once into `<data-dir>/secret` with 0600 permissions.

A member may take its key into its own custody (`export`): from then on `account` gives a
`RelayedSigner` for it (the platform relays what the member signs, cooperative.signing),
and once the member proves it holds the key (`erase`), the custodial copy is deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cooperative.errors import CoopError
from cooperative.signing import RelayedSigner
from cooperative.store.models import CustodialKey, KeyCustody, SelfCustody, utcnow

# scrypt cost: 2**14 takes ~50 ms per key, paid once per key per start (keys are cached).
SCRYPT_N = 2**14
# An exported key leaves the platform's protection: geth's standard cost (~1 s to open).
EXPORT_SCRYPT_N = 2**18


class KeystoreError(CoopError):
    """The keystore cannot be opened (wrong or unreadable secret)."""


def load_or_create_secret(data_dir: Path, configured: str | None) -> str:
    if configured:
        return configured
    path = data_dir / "secret"
    if path.exists():
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise KeystoreError(f"the secret file {path} is unreadable: {exc.strerror}") from exc
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


class Keystore:
    def __init__(self, engine: Engine, secret: str) -> None:
        self.engine = engine
        self._secret = secret
        self._unlocked: dict[str, LocalAccount] = {}

    def create(self, purpose: str) -> LocalAccount:
        account: LocalAccount = Account.create()
        encrypted = Account.encrypt(account.key, self._secret, kdf="scrypt", iterations=SCRYPT_N)
        with Session(self.engine) as session:
            session.add(
                CustodialKey(
                    address=account.address, purpose=purpose, keystore_json=json.dumps(encrypted)
                )
            )
            session.commit()
        self._unlocked[account.address] = account
        return account

    def account(self, address: str) -> LocalAccount | RelayedSigner:
        """The signer for `address`: its unlocked custodial key, or a RelayedSigner for a
        member that holds its own key (it exported it, or never gave it to the platform);
        raises KeystoreError on a wrong secret."""
        with Session(self.engine) as session:
            # asked every time: another worker may have exported it a moment ago
            taken = session.get(SelfCustody, address) is not None
            row = None if taken else session.get(CustodialKey, address)
        if row is None:
            self._unlocked.pop(address, None)
            return RelayedSigner(address)
        if address not in self._unlocked:
            self._unlocked[address] = Account.from_key(self._decrypt(row))
        return self._unlocked[address]

    def _decrypt(self, row: CustodialKey) -> bytes:
        try:
            return bytes(Account.decrypt(json.loads(row.keystore_json), self._secret))
        except ValueError as exc:
            raise KeystoreError(
                "the secret does not open the keystore: set COOP_SECRET to the secret this data "
                "directory was created with"
            ) from exc

    def custody(self, address: str) -> KeyCustody:
        with Session(self.engine) as session:
            taken = session.get(SelfCustody, address) is not None
            held = session.get(CustodialKey, address) is not None
        if not held:
            return KeyCustody.MEMBER
        return KeyCustody.EXPORTED if taken else KeyCustody.PLATFORM

    def export(self, address: str, passphrase: str) -> dict[str, object]:
        """The member's key as a V3 keystore encrypted with `passphrase`; from now on the
        platform never signs for it. Again while the custodial copy remains (a lost file)."""
        with Session(self.engine) as session:
            row = session.get(CustodialKey, address)
            if row is None:
                raise KeystoreError(
                    f"the platform holds no key for {address}: it was erased, or never held"
                )
            key = self._decrypt(row)
            if session.get(SelfCustody, address) is None:
                session.add(SelfCustody(address=address))
                session.commit()
        self._unlocked.pop(address, None)
        exported: dict[str, object] = Account.encrypt(
            key, passphrase, kdf="scrypt", iterations=EXPORT_SCRYPT_N
        )
        return exported

    def erase(self, address: str) -> None:
        """Delete the custodial copy of an exported key (its member showed it holds it)."""
        with Session(self.engine) as session:
            taken = session.get(SelfCustody, address)
            if taken is None:
                raise KeystoreError(f"{address} has not taken its key into its own custody")
            row = session.get(CustodialKey, address)
            if row is not None:
                session.delete(row)
            if taken.erased_at is None:
                taken.erased_at = utcnow()
                session.add(taken)
            session.commit()
        self._unlocked.pop(address, None)

    def self_custodial(self) -> list[str]:
        """The members that hold their own keys."""
        with Session(self.engine) as session:
            return list(session.exec(select(SelfCustody.address)).all())

    def derive(self, label: str) -> bytes:
        """A secret of the platform's own for `label` (e.g. the salts of a request's
        commitments), derived from the platform secret."""
        return hmac.new(self._secret.encode(), label.encode(), hashlib.sha256).digest()

    def delete(self, address: str) -> None:
        """Forget a key that was never used (e.g. its member's admission was not proposed)."""
        with Session(self.engine) as session:
            row = session.get(CustodialKey, address)
            if row is not None:
                session.delete(row)
                session.commit()
        self._unlocked.pop(address, None)

    def addresses(self, purpose: str) -> list[str]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(CustodialKey)
                .where(CustodialKey.purpose == purpose)
                .order_by(CustodialKey.created_at)
            ).all()
        return [row.address for row in rows]

    def check_secret(self) -> None:
        """Open one key, so a wrong secret fails at start, not at the first transaction."""
        with Session(self.engine) as session:
            row = session.exec(select(CustodialKey).limit(1)).first()
        if row is not None:
            self._decrypt(row)
