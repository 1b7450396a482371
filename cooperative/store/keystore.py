"""The custodial keystore: members' and the operator's private keys, encrypted at rest.

Keys are Ethereum V3 keystores encrypted with the platform secret: `COOP_SECRET`, or a
random secret generated once into `<data-dir>/secret` with 0600 permissions.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cooperative.errors import CoopError
from cooperative.store.models import CustodialKey

# scrypt cost: 2**14 takes ~50 ms per key, paid once per key per start (keys are cached).
SCRYPT_N = 2**14


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

    def account(self, address: str) -> LocalAccount:
        """The unlocked account for `address`; raises KeystoreError on a wrong secret."""
        if address in self._unlocked:
            return self._unlocked[address]
        with Session(self.engine) as session:
            row = session.get(CustodialKey, address)
        if row is None:
            raise KeystoreError(f"no custodial key for {address}")
        try:
            key = Account.decrypt(json.loads(row.keystore_json), self._secret)
        except ValueError as exc:
            raise KeystoreError(
                "the secret does not open the keystore: set COOP_SECRET to the secret this data "
                "directory was created with"
            ) from exc
        account: LocalAccount = Account.from_key(key)
        self._unlocked[address] = account
        return account

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
            self.account(row.address)
