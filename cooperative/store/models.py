"""Tables of the store.

Private record types declare `__parties__`: the columns naming who may see a row. The
data-access layer (`cooperative.access`) filters every read of them by the viewer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import ClassVar

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    AUDITOR = "auditor"


class MemberProfile(SQLModel, table=True):
    """A member as the cooperative knows it: the on-chain register (name, joined/left
    blocks, mirrored from Membership events) plus the off-chain profile."""

    __tablename__ = "member_profile"

    address: str = Field(primary_key=True, max_length=42)
    name: str = Field(max_length=64)
    joined_block: int
    left_block: int | None = None
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2
    contact_email: str | None = Field(default=None, max_length=254)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def is_member(self) -> bool:
        return self.left_block is None


class ApiKey(SQLModel, table=True):
    """An API key. Only the SHA-256 of its secret is stored; the secret is shown once.

    `owner` is the principal holding the key: a member's address, or "admin" / "auditor"
    for the operator's and auditors' keys."""

    __tablename__ = "api_key"
    __parties__: ClassVar[tuple[str, ...]] = ("owner",)

    id: str = Field(primary_key=True, max_length=32)
    owner: str = Field(index=True, max_length=42)
    role: Role
    label: str = Field(default="", max_length=100)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class CustodialKey(SQLModel, table=True):
    """A private key the platform holds for an account (custodial mode), encrypted as an
    Ethereum V3 keystore (scrypt + AES-128-CTR) with the platform secret."""

    __tablename__ = "custodial_key"

    address: str = Field(primary_key=True, max_length=42)
    purpose: str = Field(max_length=20)  # "operator" or "member"
    keystore_json: str
    created_at: datetime = Field(default_factory=utcnow)


class ChainCursor(SQLModel, table=True):
    """How far the indexer has read a contract's events."""

    __tablename__ = "chain_cursor"

    name: str = Field(primary_key=True, max_length=64)
    block: int
