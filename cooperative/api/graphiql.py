"""GraphiQL at GET /graphql (development and demo only), working offline.

Strawberry's own IDE page loads React and GraphiQL from a public CDN: offline it is blank.
This page loads them from node_modules (versions pinned in package.json) and its own
bootstrap script and styles from graphiql_assets/, all from this server: no inline script,
so the page's CSP can say `script-src 'self'` (cooperative.api.headers.PAGE_POLICY).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response

from cooperative.api.web import file_response
from deployments.paths import NODE_MODULES

ASSETS_DIR = Path(__file__).resolve().parent / "graphiql_assets"
PREFIX = "/graphiql"
# What /graphiql/<name> serves: a fixed list, so no request can name any other file.
ASSETS: dict[str, Path] = {
    "react.production.min.js": NODE_MODULES / "react/umd/react.production.min.js",
    "react-dom.production.min.js": NODE_MODULES / "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": NODE_MODULES / "graphiql/graphiql.min.js",
    "graphiql.min.css": NODE_MODULES / "graphiql/graphiql.min.css",
    "page.css": ASSETS_DIR / "page.css",
    "boot.js": ASSETS_DIR / "boot.js",
}

PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>CarrierCoop GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{PREFIX}/graphiql.min.css">
    <link rel="stylesheet" href="{PREFIX}/page.css">
  </head>
  <body>
    <p class="coop-key-note" id="key-note">
      Paste your API key: it goes in the <strong>Headers</strong> tab as
      <code>{{"Authorization": "Bearer &lt;key&gt;"}}</code>;
      <code>coop serve --demo</code> prints the demo keys and writes them to
      <code>demo-credentials.json</code>.
    </p>
    <div id="graphiql">Loading GraphiQL…</div>
    <noscript>GraphiQL needs JavaScript.</noscript>
    <script src="{PREFIX}/react.production.min.js"></script>
    <script src="{PREFIX}/react-dom.production.min.js"></script>
    <script src="{PREFIX}/graphiql.min.js"></script>
    <script src="{PREFIX}/boot.js"></script>
  </body>
</html>
"""


def graphiql_page() -> str:
    """The IDE page, or what to run when the npm packages are not installed (not a blank page)."""
    missing = [str(path) for path in ASSETS.values() if not path.exists()]
    if missing:
        return (
            "<!doctype html><title>GraphiQL is not installed</title>"
            f"<p>GraphiQL's files are missing ({', '.join(missing)}): run <code>make run</code>"
            " (or <code>npm install</code>) to set up.</p>"
        )
    return PAGE


def mount_graphiql_assets(app: FastAPI) -> None:
    """GET /graphiql/<name>: the page's scripts and styles."""

    @app.get(PREFIX + "/{name}", include_in_schema=False)
    async def graphiql_asset(name: str) -> Response:
        return file_response(ASSETS.get(name))
