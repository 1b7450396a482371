"""The FastAPI application: /graphql (Strawberry), /health.

Every error leaves the server in one shape, `{"errors": [{"message", "extensions":
{"code"}}]}`: transport errors (no or bad key, malformed JSON, wrong content type) as well
as GraphQL validation errors (syntax, depth, aliases, tokens) and resolver errors.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from cross_web import HTTPException
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from cooperative import apikeys
from cooperative.api.answers import AnswerCache, Answers
from cooperative.api.context import Context
from cooperative.api.graphiql import graphiql_page, mount_graphiql_assets
from cooperative.api.headers import SecurityHeaders
from cooperative.api.health import HealthProbe
from cooperative.api.limits import RequestLimits, error_body
from cooperative.api.schema import is_client_error, schema
from cooperative.api.web import mount_web_app
from cooperative.errors import CoopError, ErrorCode, RateLimited
from cooperative.platform import Platform
from cooperative.store.database import session_scope
from graphql import GraphQLError

log = logging.getLogger("cooperative.api")
MAX_MESSAGE_CHARS = 300


def format_error(error: GraphQLError) -> dict[str, Any]:
    """A GraphQL error with its machine-readable code; unexpected exceptions are masked."""
    original = error.original_error
    formatted = error.formatted
    if isinstance(original, CoopError):
        formatted["message"] = original.message
        code = original.code
        if original.field is not None:
            formatted["extensions"] = {
                **(formatted.get("extensions") or {}),
                "field": original.field,
            }
    elif is_client_error(error):
        # syntax, unknown field, limits, a variable that does not coerce; a message that
        # quotes the value is cut short (a 5 MB string is not echoed back)
        code = ErrorCode.VALIDATION
        if len(formatted["message"]) > MAX_MESSAGE_CHARS:
            formatted["message"] = formatted["message"][:MAX_MESSAGE_CHARS] + "…"
    else:
        log.error("unexpected error in %s", error.path, exc_info=original)
        formatted["message"] = "internal error; the operator's log has the details"
        code = ErrorCode.INTERNAL
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code.value}
    return formatted


class CoopGraphQLRouter(GraphQLRouter[Context, None]):
    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # Strawberry's page loads GraphiQL from a CDN; this one is served from here.
        return HTMLResponse(graphiql_page())

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            code = (
                ErrorCode.VALIDATION if exc.status_code in (400, 405, 415) else ErrorCode.NOT_FOUND
            )
            message = exc.reason
            if "JSON" in message:
                message = "the request body is not valid JSON"
            elif "content type" in message.lower():
                message = "send the request as `Content-Type: application/json`"
            return JSONResponse(error_body(code, message), status_code=exc.status_code)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            data["errors"] = [format_error(error) for error in result.errors]
        return data


def create_app(platform: Platform, *, graphiql: bool = False) -> FastAPI:
    health_probe = HealthProbe(platform)

    answers = Answers(platform.engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        health_probe.start()
        try:
            yield
        finally:
            health_probe.stop()
            answers.close()

    app = FastAPI(
        title="CarrierCoop", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.answers = answers
    app.add_middleware(  # innermost: what it sees passed the limits
        AnswerCache,
        answers=answers,
        chain_ready=lambda: platform.chain_status == "ok",
    )
    app.add_middleware(RequestLimits)
    # Cross-origin calls only from the origins the operator names (none by default).
    app.add_middleware(
        CORSMiddleware,
        allow_origins=platform.settings.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
    )
    app.add_middleware(SecurityHeaders)  # outermost: every answer has them, refusals too

    def get_context(request: Request) -> Context:
        authorization = request.headers.get("authorization")
        if authorization is None and graphiql and request.method == "GET":
            return Context(platform, None)  # the GraphiQL page itself; its queries carry a key
        with session_scope(platform.engine) as session:
            viewer = apikeys.authenticate(session, authorization)
        return Context(platform, viewer)

    router = CoopGraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if graphiql else None,
        allow_queries_via_get=graphiql,
    )
    app.include_router(router, prefix="/graphql")
    mount_web_app(app)
    if graphiql:
        mount_graphiql_assets(app)

    @app.exception_handler(CoopError)
    async def coop_error(_request: Request, exc: CoopError) -> JSONResponse:
        status = {
            ErrorCode.UNAUTHENTICATED: 401,
            ErrorCode.FORBIDDEN: 403,
            ErrorCode.RATE_LIMITED: 429,
            ErrorCode.UNAVAILABLE: 503,
        }
        headers = None
        if exc.code is ErrorCode.UNAUTHENTICATED:
            headers = {"WWW-Authenticate": "Bearer"}
        elif isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            error_body(exc.code, exc.message),
            status_code=status.get(exc.code, 400),
            headers=headers,
        )

    @app.get("/health")
    async def health() -> Response:
        """Liveness and readiness: chain, database and the deployed contracts."""
        answer = health_probe.last()
        if answer is None:  # no probe thread (a test client without lifespan) or stuck
            answer = await anyio.to_thread.run_sync(health_probe.probe)
        body, status = answer
        return JSONResponse(body, status_code=status)

    return app
