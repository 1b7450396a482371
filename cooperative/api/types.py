"""GraphQL object types. Names here are the published API (graphql/schema.graphql)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry

from cooperative import errors
from cooperative.access import Page
from cooperative.api.scalars import BigInt
from cooperative.errors import CoopError
from cooperative.store import models

ErrorCode = strawberry.enum(errors.ErrorCode, description="Machine-readable error codes.")
Role = strawberry.enum(models.Role, description="What an API key may do.")


@strawberry.type(description="A problem with a mutation's input or the records it touches.")
class UserError:
    code: ErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None = None

    @classmethod
    def from_error(cls, error: CoopError) -> UserError:
        return cls(code=ErrorCode(error.code.value), message=error.message, field=error.field)


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


NodeT = TypeVar("NodeT")


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
        edges = [
            Edge(cursor=cursor, node=convert(row))
            for cursor, row in zip(page.cursors, page.items, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )


@strawberry.type(description="A carrier that is (or was) a member of the cooperative.")
class Member:
    address: str
    name: str
    joined_block: BigInt  # type: ignore[valid-type]
    left_block: BigInt | None  # type: ignore[valid-type]
    is_member: bool
    country: str | None

    @classmethod
    def from_row(cls, row: models.MemberProfile) -> Member:
        return cls(
            address=row.address,
            name=row.name,
            joined_block=row.joined_block,
            left_block=row.left_block,
            is_member=row.is_member,
            country=row.country,
        )


@strawberry.type(description="An API key (its secret is shown once, when created).")
class ApiKey:
    id: str
    label: str
    role: Role  # type: ignore[valid-type]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.ApiKey) -> ApiKey:
        return cls(
            id=row.id,
            label=row.label,
            role=row.role,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
