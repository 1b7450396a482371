"""API keys: issue, authenticate, revoke.

A key reads `coop_<id>_<secret>`. The id finds the row; only SHA-256 of the 32-byte
random secret is stored (a slow hash adds nothing for a secret of that entropy, and
authentication sits on every request's path).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from cooperative.access import DataAccess, Viewer
from cooperative.errors import InvalidState, RateLimited, Unauthenticated, ValidationFailed
from cooperative.store.models import ApiKey, Role, utcnow

PREFIX = "coop"
# `last_used_at` is written at most this often per key, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_LABEL_LENGTH = 100
# Failed authentications per key id: this many within the window lock the id (even with
# its right secret) until the oldest failure leaves the window.
MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 300.0
TRACKED_KEY_IDS = 10_000  # the oldest are forgotten beyond this: memory stays bounded


class FailedAuthentications:
    """Throttles guessing a key's secret: failures are counted per key id, in this
    process (several API workers each count their own)."""

    def __init__(self) -> None:
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        wait = self._locked_for(key_id)
        if wait is not None:
            raise RateLimited(
                f"too many failed attempts with API key {key_id}: retry in {wait} s",
                retry_after=wait,
            )

    def is_locked(self, key_id: str) -> bool:
        return self._locked_for(key_id) is not None

    def _locked_for(self, key_id: str) -> int | None:
        """Seconds until the key id is unlocked, None if it is not locked."""
        with self._lock:
            if key_id not in self._failures:
                return None
            failures = self._recent(key_id, time.monotonic())
            if len(failures) < MAX_FAILURES:
                return None
            return math.ceil(failures[0] + FAILURE_WINDOW_SECONDS - time.monotonic())

    def failed(self, key_id: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key_id, now).append(now)
            self._failures.move_to_end(key_id)
            while len(self._failures) > TRACKED_KEY_IDS:
                self._failures.popitem(last=False)

    def _recent(self, key_id: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key_id, deque())
        while failures and failures[0] <= now - FAILURE_WINDOW_SECONDS:
            failures.popleft()
        return failures


failed_authentications = FailedAuthentications()


@dataclass(frozen=True)
class IssuedKey:
    record: ApiKey
    secret: str  # the full key, shown once


_KEY_ID = re.compile(r"[0-9a-f]{16}")  # secrets.token_hex(8)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    session: Session, *, owner: str, role: Role, label: str = "", created_by: str | None = None
) -> IssuedKey:
    """Create a key for `owner` (a member's address, or "admin" / "auditor"), issued by
    `created_by` (the owner itself unless said otherwise)."""
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise ValidationFailed(f"a label has at most {MAX_LABEL_LENGTH} characters", field="label")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(
        id=key_id,
        owner=owner,
        role=role,
        label=label,
        secret_hash=_hash(secret),
        created_by=created_by or owner,
    )
    session.add(record)
    session.flush()
    return IssuedKey(record=record, secret=f"{PREFIX}_{key_id}_{secret}")


def has_keys(session: Session, owner: str) -> bool:
    """Whether any key (revoked ones too) was ever issued to `owner`."""
    return session.exec(select(ApiKey.id).where(ApiKey.owner == owner).limit(1)).first() is not None


def key_id_of(authorization: str) -> str | None:
    """The key id an `Authorization: Bearer coop_<id>_<secret>` header names, if it is
    one authenticate would look up."""
    scheme, _, token = authorization.partition(" ")
    parts = token.strip().split("_", 2)
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != PREFIX:
        return None
    return parts[1] if _KEY_ID.fullmatch(parts[1]) else None


def authenticate(session: Session, authorization: str | None) -> Viewer:
    """The viewer behind an `Authorization: Bearer <key>` header."""
    if not authorization:
        raise Unauthenticated("an API key is required: send `Authorization: Bearer <key>`")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must read `Bearer <key>`")
    key_id = key_id_of(authorization)
    if key_id is None:
        raise Unauthenticated("this is not a CarrierCoop API key")
    secret = token.strip().split("_", 2)[2]
    failed_authentications.check(key_id)
    record = session.get(ApiKey, key_id)
    if record is None or not hmac.compare_digest(record.secret_hash, _hash(secret)):
        failed_authentications.failed(key_id)
        raise Unauthenticated("this API key is not valid")
    if record.revoked_at is not None:
        raise Unauthenticated("this API key was revoked")
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        record.last_used_at = now
        session.add(record)
    return Viewer(principal=record.owner, role=record.role, key_id=record.id)


def revoke(access: DataAccess, key_id: str) -> ApiKey:
    """Revoke one of the viewer's own keys (another principal's key is NotFound)."""
    record = access.api_key(key_id)
    if record.revoked_at is not None:
        raise InvalidState(f"API key {key_id} is already revoked")
    record.revoked_at = utcnow()
    access.session.add(record)
    access.session.flush()
    return record
