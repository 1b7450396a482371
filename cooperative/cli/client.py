"""A small GraphQL client for the members' commands: they act through the API with the
member's own API key, exactly as an ERP would."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer

from cooperative.cli.common import fail
from cooperative.settings import Settings

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="COOP_API_KEY", help="The member's API key (or COOP_API_KEY)."
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="COOP_API_URL", help="GraphQL URL (default: from COOP_HOST/COOP_PORT)."
    ),
]


class Client:
    def __init__(self, url: str | None, api_key: str | None) -> None:
        if not api_key:
            fail("an API key is needed: pass --api-key or set COOP_API_KEY")
        settings = Settings()
        self.url = url or f"http://{settings.host}:{settings.port}/graphql"
        self.api_key = api_key

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a query; any error ends the command with its code and sentence."""
        try:
            response = httpx.post(
                self.url,
                json={"query": document, "variables": variables or {}},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=60,
            )
        except httpx.HTTPError as exc:
            fail(f"cannot reach the API at {self.url}: {exc}; is `coop serve` running?")
            raise  # unreachable
        try:
            body = response.json()
        except ValueError:
            fail(f"the API at {self.url} answered {response.status_code} without JSON")
            raise
        if body.get("errors"):
            first = body["errors"][0]
            fail(f"{first.get('extensions', {}).get('code', 'ERROR')}: {first['message']}")
        return body["data"]

    def mutate(self, document: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A mutation's payload; its first user error ends the command."""
        payload = self.query(document, variables)[field]
        if payload["errors"]:
            first = payload["errors"][0]
            where = f" ({first['field']})" if first.get("field") else ""
            fail(f"{first['code']}: {first['message']}{where}")
        return payload
