"""The GraphQL schema: queries, mutations and the limits that protect the server."""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any

import anyio.to_thread
import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types

from cooperative import apikeys
from cooperative.access import DataAccess
from cooperative.api.anchoring import AnchoringQuery
from cooperative.api.answers import KeptAnswers
from cooperative.api.assurance import AssuranceMutation, AssuranceQuery
from cooperative.api.billing import BillingMutation, BillingQuery
from cooperative.api.context import AppInfo, mutate, query
from cooperative.api.cost import IntrospectionAnswers, ValidatedDocuments
from cooperative.api.custody import CustodyMutation, KeyCustody
from cooperative.api.events import EventsQuery
from cooperative.api.governance import GovernanceMutation, GovernanceQuery
from cooperative.api.ids import fetch_node, reference, refetchable
from cooperative.api.limits import MAX_ALIASES, MAX_QUERY_DEPTH, MAX_TOKENS
from cooperative.api.marketplace import MarketplaceMutation, MarketplaceQuery
from cooperative.api.types import ApiKey, Connection, Member, Node, Role, UserError
from cooperative.errors import CoopError, Forbidden, ValidationFailed
from cooperative.store import models
from graphql import GraphQLError

# Operations run at once in worker threads: enough for mutations waiting on the chain to
# overlap, few enough that CPU-bound queries on 2 cores do not starve each other.
EXECUTION_THREADS = 8


@strawberry.type(description="The caller: the principal behind the API key.")
class Me:
    role: Role  # type: ignore[valid-type]
    member: Member | None = strawberry.field(description="The member, for a member's key.")
    key_custody: KeyCustody | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="For a member: who holds its key (the platform or itself)."
    )

    @strawberry.field(description="The caller's own API keys.")
    def api_keys(
        self, info: AppInfo, first: int | None = None, after: str | None = None
    ) -> Connection[ApiKey]:
        return query(
            info,
            lambda access: Connection.from_page(access.api_keys(first, after), ApiKey.from_row),
        )


@refetchable("Member")
def _member(info: AppInfo, address: str) -> Member:
    return query(info, lambda access: Member.from_row(access.member(address)))


@refetchable("ApiKey")
def _api_key(info: AppInfo, key_id: str) -> ApiKey:
    return query(info, lambda access: ApiKey.from_row(access.api_key(key_id)))


@strawberry.type
class Query:
    @strawberry.field(
        description="Any record by its global id, under the same isolation as the record's own "
        "query: another member's private record is NOT_FOUND, as if it did not exist."
    )
    def node(self, info: AppInfo, id: strawberry.ID) -> Node:
        info.context.viewer  # noqa: B018 - an unauthenticated caller learns nothing, not even VALIDATION
        return fetch_node(info, id)

    @strawberry.field(description="Who the API key belongs to.")
    def me(self, info: AppInfo) -> Me:
        def work(access: DataAccess) -> Me:
            address = access.viewer.member_address
            if address is None:
                return Me(role=access.viewer.role, member=None)
            return Me(
                role=access.viewer.role,
                member=Member.from_row(access.member(address)),
                key_custody=info.context.platform.keystore.custody(address),
            )

        return query(info, work)

    @strawberry.field(
        description="The cooperative's members, in order of admission (the founders by address, "
        "then each newcomer); visible to every member."
    )
    def members(
        self,
        info: AppInfo,
        first: int | None = None,
        after: str | None = None,
        include_former: bool = False,
    ) -> Connection[Member]:
        return query(
            info,
            lambda access: Connection.from_page(
                access.members(first, after, include_former), Member.from_row
            ),
        )


@strawberry.input
class CreateApiKeyInput:
    label: str = ""
    member_address: str | None = strawberry.field(
        default=None,
        description=(
            "Admins only: issue a newly admitted member's first key (once; later keys come "
            "from the member itself)."
        ),
    )


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = strawberry.field(
        default=None, description="The key itself; shown only here, once."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RevokeApiKeyInput:
    id: strawberry.ID = reference("ApiKey")


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Create an API key for the caller (admins may issue one to a member)."
    )
    def create_api_key(self, info: AppInfo, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        def work(access: DataAccess) -> CreateApiKeyPayload:
            viewer = access.viewer
            owner, role = viewer.principal, viewer.role
            if input.member_address is not None:
                if viewer.role is not models.Role.ADMIN:
                    raise Forbidden(
                        "only an admin may issue a key to another member", field="memberAddress"
                    )
                profile = access.member(input.member_address)
                if not profile.is_member:
                    raise ValidationFailed(
                        f"{profile.address} is no longer a member", field="memberAddress"
                    )
                # Least privilege: the operator hands a new member its first key and can
                # never hold a credential of a member that has one.
                if apikeys.has_keys(access.session, profile.address):
                    raise Forbidden(
                        f"{profile.address} has an API key already: only the member "
                        "itself creates further keys",
                        field="memberAddress",
                    )
                owner, role = profile.address, models.Role.MEMBER
            issued = apikeys.issue(
                access.session,
                owner=owner,
                role=role,
                label=input.label,
                created_by=viewer.principal,
            )
            return CreateApiKeyPayload(api_key=ApiKey.from_row(issued.record), secret=issued.secret)

        return mutate(info, CreateApiKeyPayload, work, input)

    @strawberry.mutation(description="Revoke one of the caller's own API keys.")
    def revoke_api_key(self, info: AppInfo, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        return mutate(
            info,
            RevokeApiKeyPayload,
            lambda access: RevokeApiKeyPayload(
                api_key=ApiKey.from_row(apikeys.revoke(access, input.id))
            ),
            input,
        )


def is_client_error(error: GraphQLError) -> bool:
    """A mistake of the request itself: a CoopError, a query that does not validate, or a
    variable that does not coerce (raised before execution, so without a path; a
    scalar's parse_value raises ValueError there), or an argument that does not (a
    GraphQLError raised while a field's arguments are coerced, e.g. null for a non-null
    argument with a default)."""
    original = error.original_error
    return original is None or isinstance(original, (CoopError, GraphQLError)) or error.path is None


class CoopSchema(strawberry.Schema):
    # one limiter per event loop (a test client runs one loop per client)
    _threads: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Every operation runs in a worker thread, not on the event loop: the resolvers
        are synchronous (store, chain), and one heavy query on the loop kept every other
        request, `/health` too, waiting until it ended."""
        context = kwargs.get("context_value")
        extensions = kwargs.get("operation_extensions")
        if context is not None and isinstance(extensions, dict):
            context.signed_transactions = extensions.get("signedTransactions")
        loop = asyncio.get_running_loop()
        threads = self._threads.get(loop)
        if threads is None:
            threads = self._threads[loop] = anyio.CapacityLimiter(EXECUTION_THREADS)
        return await anyio.to_thread.run_sync(
            functools.partial(self.execute_sync, *args, **kwargs), limiter=threads
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only unexpected failures: a user's error is answered with its code and is
        no news for the operator's log."""
        unexpected = [e for e in errors if not is_client_error(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


schema = CoopSchema(
    query=merge_types(
        "Query",
        (
            Query,
            GovernanceQuery,
            MarketplaceQuery,
            AssuranceQuery,
            BillingQuery,
            EventsQuery,
            AnchoringQuery,
        ),
    ),
    mutation=merge_types(
        "Mutation",
        (
            Mutation,
            CustodyMutation,
            GovernanceMutation,
            MarketplaceMutation,
            AssuranceMutation,
            BillingMutation,
        ),
    ),
    # Factories, not instances: each request gets its own (an extension holds its
    # request's execution context, and Strawberry deprecates shared instances); the parse
    # and validation caches are Strawberry's module-level ones, shared by every request.
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # Last: the cache of validated documents, the size check, then validation itself.
        ValidatedDocuments,
        IntrospectionAnswers,
        KeptAnswers,
    ],
)
