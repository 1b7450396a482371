"""The data-access layer: the only way resolvers and services read records.

The isolation rule lives here and nowhere else. A private record type declares
`__parties__`, the columns naming the principals who may see a row; every read of such
a type is filtered to rows where the viewer is one of them (default deny: a type that
declares no parties cannot be read at all). A row the viewer may not see answers exactly
as a missing one, `NotFound`, so existence does not leak.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, or_, tuple_
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from cooperative.errors import Forbidden, NotFound, ValidationFailed
from cooperative.store.models import MAX_COLUMN_INT, ApiKey, MemberProfile, Role, whole_number

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T", bound=SQLModel)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the principal behind an API key."""

    principal: str  # a member's address, or "admin" / "auditor"
    role: Role
    key_id: str

    @property
    def member_address(self) -> str | None:
        return self.principal if self.role is Role.MEMBER else None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]  # one per item, in order
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _position(decoded: str) -> int:
    """A cursor's whole number: an id or a position, within what a column holds."""
    position = whole_number(decoded)
    if position is None:
        raise ValidationFailed("`after` is not a cursor this API returned", field="after")
    return position


def decode_cursor(cursor: str) -> str:
    try:
        return base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValidationFailed("`after` is not a cursor this API returned", field="after") from exc


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"`first` must be between 1 and {MAX_PAGE_SIZE}", field="first")
    return first


class DataAccess:
    """Records as one viewer may see them, within one database session."""

    def __init__(self, session: Session, viewer: Viewer) -> None:
        self.session = session
        self.viewer = viewer
        # Whether what was read depends on the chain's clock too (a resolved ticket whose
        # closing window passed reads closed), not on the store alone (cooperative.api.answers)
        self.read_the_clock = False

    # ------------------------------------------------------------------ the isolation rule

    def _visible_to_viewer(self, model: type[T]) -> ColumnElement[bool]:
        parties: tuple[str, ...] = getattr(model, "__parties__", ())
        if not parties:
            raise TypeError(f"{model.__name__} declares no __parties__: private reads are denied")
        return or_(*(getattr(model, column) == self.viewer.principal for column in parties))

    def private(self, model: type[T]) -> SelectOfScalar[T]:
        """A query over the rows of `model` the viewer is a party to. Start every read of a
        private record type here."""
        return select(model).where(self._visible_to_viewer(model))

    def get_private(self, model: type[T], record_id: Any, *, what: str) -> T:
        """The row `record_id` of `model` if the viewer is a party to it, else NotFound."""
        primary_key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
        key = record_id
        if isinstance(primary_key.type, Integer):
            try:  # an id of the wrong shape names no record (and must not reach SQL as one)
                key = int(record_id)
            except (TypeError, ValueError):
                raise NotFound(f"{what} {record_id} does not exist") from None
            if not 0 <= key <= MAX_COLUMN_INT:
                raise NotFound(f"{what} {record_id} does not exist")
        row = self.session.exec(self.private(model).where(primary_key == key)).first()
        if row is None:
            raise NotFound(f"{what} {record_id} does not exist")
        return row

    def get_private_many(self, model: type[T], record_ids: list[Any], *, what: str) -> list[T]:
        """The rows `record_ids` of `model` in that order, in one query; NotFound names the
        first one the viewer is not a party to (or that does not exist), as get_private."""
        primary_key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
        rows = self.session.exec(self.private(model).where(primary_key.in_(record_ids))).all()
        found = {getattr(row, primary_key.key): row for row in rows}
        for record_id in record_ids:
            if record_id not in found:
                raise NotFound(f"{what} {record_id} does not exist")
        return [found[record_id] for record_id in record_ids]

    def page(
        self,
        query: SelectOfScalar[T],
        order_column: Any,
        first: int | None,
        after: str | None,
        then: Any = None,
    ) -> Page[T]:
        """A Relay-style page of `query` ordered by a unique column, or by `order_column`
        and then the unique column `then` (members by admission: block, then address). The
        cursor is the last row's value(s), so a page never skips or repeats a row that
        stays put."""
        size = page_size(first)
        columns = [order_column] if then is None else [order_column, then]
        if after is not None:
            decoded = decode_cursor(after)
            if then is None:
                parts = [decoded]
            else:
                parts = decoded.split("\n")
                if len(parts) != 2:
                    raise ValidationFailed(
                        "`after` is not a cursor this API returned", field="after"
                    )
            values = [
                _position(part) if isinstance(column.type, Integer) else part
                for column, part in zip(columns, parts, strict=True)
            ]
            query = query.where(tuple_(*(col(c) for c in columns)) > tuple_(*values))
        ordered = query.order_by(*(col(c) for c in columns)).limit(size + 1)
        rows = list(self.session.exec(ordered).all())
        has_next = len(rows) > size
        rows = rows[:size]
        cursors = [
            encode_cursor("\n".join(str(getattr(row, c.key)) for c in columns)) for row in rows
        ]
        return Page(items=rows, cursors=cursors, has_next_page=has_next)

    def page_list(self, items: list[T], first: int | None, after: str | None) -> Page[T]:
        """A Relay-style page of a list already filtered and sorted in Python; the cursor
        is a position in that order."""
        size = page_size(first)
        start = 0
        if after is not None:
            start = _position(decode_cursor(after)) + 1
        rows = items[start : start + size]
        cursors = [encode_cursor(str(start + offset)) for offset in range(len(rows))]
        return Page(items=rows, cursors=cursors, has_next_page=start + size < len(items))

    def system_rows(self, query: SelectOfScalar[T]) -> list[T]:
        """Rows of every member, unfiltered, for a computation the platform runs across
        members (settlement netting). What a viewer gets back from it must again be only
        its own: never return these rows to a viewer."""
        return list(self.session.exec(query).all())

    # ------------------------------------------------------------------ public to members

    def shared_with_members(self, what: str) -> None:
        """What the members share among themselves (the offerings, the sellers'
        reputations) is commercial: FORBIDDEN for the operator's and auditors'
        keys, which see operations and proofs, never the market."""
        if self.viewer.role is not Role.MEMBER:
            raise Forbidden(
                f"{what} are the members' own: an {self.viewer.role.value} key sees none"
            )

    def members(
        self, first: int | None, after: str | None, include_former: bool = False
    ) -> Page[MemberProfile]:
        query = select(MemberProfile)
        if not include_former:
            query = query.where(col(MemberProfile.left_block).is_(None))
        # by admission: the founders (one block) by address, then each newcomer
        return self.page(
            query, MemberProfile.joined_block, first, after, then=MemberProfile.address
        )

    def member(self, address: str) -> MemberProfile:
        row = self.session.get(MemberProfile, address)
        if row is None:
            raise NotFound(f"member {address} does not exist")
        return row

    # ------------------------------------------------------------------ private: API keys

    def api_keys(self, first: int | None, after: str | None) -> Page[ApiKey]:
        return self.page(self.private(ApiKey), ApiKey.id, first, after)

    def api_key(self, key_id: str) -> ApiKey:
        return self.get_private(ApiKey, key_id, what="API key")
