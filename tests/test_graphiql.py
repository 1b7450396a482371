"""GraphiQL (development and demo only) works offline and says where the API key goes:
its page and assets come from this server, and in a real browser that can reach nothing
but 127.0.0.1 it runs a query with a demo member's key."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route, expect

from cooperative.api import graphiql
from cooperative.api.app import create_app
from cooperative.platform import Platform
from tests.browser import chromium, screenshot_path
from tests.conftest import Api, served

HTML = {"Accept": "text/html"}
TEMPLATE = '{"Authorization": "Bearer "}'
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}
# What a source in the page's CSP may be: nothing names a host.
LOCAL_SOURCES = {"'self'", "'none'", "'unsafe-inline'", "data:"}


class PageLinks(HTMLParser):
    """The URLs a page's <script src> and <link href> load, and any inline script text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_script = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        url = named.get("src") if tag == "script" else named.get("href") if tag == "link" else None
        if url is not None:
            self.urls.append(url)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script += data.strip()


@pytest.fixture(scope="module")
def ide(platform: Platform) -> TestClient:
    return TestClient(create_app(platform, graphiql=True))


def page_links(response: Any) -> PageLinks:
    links = PageLinks()
    links.feed(response.text)
    return links


def test_the_page_loads_everything_from_this_server(ide: TestClient) -> None:
    response = ide.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Paste your API key" in response.text
    links = page_links(response)
    assert links.inline_script == ""  # so the CSP can forbid inline scripts
    assets = [url for url in links.urls if not url.startswith("data:")]
    assert len(assets) == 6  # React, ReactDOM, GraphiQL and its CSS, the page's CSS and JS
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = ide.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 0


def test_the_page_policy_names_no_other_host(ide: TestClient) -> None:
    policy = ide.get("/graphql", headers=HTML).headers["content-security-policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    for name, sources in directives.items():
        assert set(sources) <= LOCAL_SOURCES, (name, sources)


def test_only_the_listed_assets_are_served(ide: TestClient) -> None:
    for url in ["/graphiql/nothing.js", "/graphiql/..%2F..%2Fpyproject.toml", "/graphiql/"]:
        assert ide.get(url).status_code == 404, url


def test_without_graphiql_there_is_no_page(client: TestClient, as_member: list[Api]) -> None:
    anonymous = client.get("/graphql", headers=HTML)
    assert anonymous.status_code == 401  # a key first, as for any query
    keyed = client.get("/graphql", headers={**HTML, "Authorization": f"Bearer {as_member[0].key}"})
    assert keyed.status_code == 404
    for response in (anonymous, keyed):
        assert not response.headers["content-type"].startswith("text/html")
        assert "GraphiQL" not in response.text
    assert client.get("/graphiql/graphiql.min.js").status_code == 404


def test_missing_npm_packages_are_named_not_a_blank_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    absent = tmp_path / "graphiql.min.js"
    monkeypatch.setitem(graphiql.ASSETS, "graphiql.min.js", absent)
    page = graphiql.graphiql_page()
    assert str(absent) in page and "make run" in page


# ---------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def server(platform: Platform) -> Iterator[str]:
    """The demo platform's app with GraphiQL, served over HTTP."""
    with served(create_app(platform, graphiql=True)) as url:
        yield url


def editor(page: Page, where: str) -> Any:
    return page.locator(f"{where} .CodeMirror-lines")


def test_graphiql_runs_a_query_offline_with_a_pasted_key(
    server: str, credentials: dict[str, Any]
) -> None:
    key = credentials["members"][0]["apiKey"]
    elsewhere: list[str] = []
    errors: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # no network: what the page needs must all come from the server
            elsewhere.append(route.request.url)
            route.abort()

    with chromium() as browser:
        page = browser.new_page()
        page.route("**/*", only_loopback)
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server}/graphql")

        expect(page.locator(".graphiql-container")).to_be_visible(timeout=30_000)
        expect(editor(page, ".graphiql-query-editor")).to_be_visible()
        note = page.locator("#key-note")
        expect(note).to_be_visible()
        expect(note).to_contain_text('{"Authorization": "Bearer <key>"}')
        expect(note).to_contain_text("demo-credentials.json")
        headers = page.locator(".graphiql-editor-tool .graphiql-editor:visible")
        expect(headers).to_contain_text(TEMPLATE)

        # Paste the key after "Bearer ": the end of the text, then before `"}`.
        editor(page, ".graphiql-editor-tool .graphiql-editor:visible").click()
        page.keyboard.press("Control+End")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.keyboard.insert_text(key)
        expect(headers).to_contain_text(f'{{"Authorization": "Bearer {key}"}}')
        editor(page, ".graphiql-query-editor").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text("{ me { role } }")
        page.locator(".graphiql-execute-button").click()
        expect(page.locator(".graphiql-response")).to_contain_text('"role": "MEMBER"')

        # With a key, GraphiQL fetched the schema again: the docs know the API.
        page.get_by_role("button", name="Show Documentation Explorer").click()
        expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")
        page.screenshot(path=screenshot_path("graphiql"))

        # The key stays nowhere: neither in storage nor in the next visit's headers.
        stored = page.evaluate("JSON.stringify(localStorage)")
        page.reload()
        expect(headers).to_contain_text(TEMPLATE, timeout=30_000)

    assert key not in stored
    assert "graphiql:queries" in stored  # the history was written, without its headers
    assert elsewhere == []
    assert errors == []
