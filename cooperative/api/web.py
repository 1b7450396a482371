"""The members' web app (web/): proposals, voting custodially or with the member's own
wallet signature, and the CFO's view. Served in every environment, production too.

These routes serve files and nothing else. The page is a client of the published GraphQL
API only: it holds a member's API key and calls `POST /graphql` like any ERP, so it has
exactly an ERP's privileges and isolation, and no second data path needs securing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response

from cooperative.api.limits import error_body
from cooperative.errors import ErrorCode
from deployments.paths import NODE_MODULES, PROJECT_ROOT

WEB_DIR = PROJECT_ROOT / "web"
# The one third-party asset, from the npm package (package.json), never from a CDN.
ETHERS = NODE_MODULES / "ethers" / "dist" / "ethers.min.js"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",  # ES modules load only with a JavaScript type
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def web_files(folder: Path = WEB_DIR) -> dict[str, Path]:
    """The files the app consists of, by their path under `/web/`: a fixed list taken at
    start, so no request path is ever resolved against the file system."""
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in CONTENT_TYPES
    }


def file_response(path: Path | None) -> Response:
    """A static file with its content type, or NOT_FOUND: how the web app's and GraphiQL's
    files are served."""
    if path is None or not path.is_file():
        return JSONResponse(error_body(ErrorCode.NOT_FOUND, "no such file"), status_code=404)
    return FileResponse(path, media_type=CONTENT_TYPES[path.suffix])


def mount_web_app(app: FastAPI) -> None:
    """Serve the app at `/`, its files under `/web/` and ethers at `/vendor/ethers.min.js`."""
    files = web_files()

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return file_response(WEB_DIR / "index.html")

    @app.get("/web/{name:path}", include_in_schema=False)
    async def web_file(name: str) -> Response:
        return file_response(files.get(name))

    @app.get("/vendor/ethers.min.js", include_in_schema=False)
    async def ethers() -> Response:
        return file_response(ETHERS)
