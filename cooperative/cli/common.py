"""Shared pieces of the `coop` command: the app, consoles, one-line errors, settings."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cooperative.errors import CoopError
from cooperative.settings import Settings

app = typer.Typer(
    help="CarrierCoop: the carriers' digital cooperative.",
    no_args_is_help=True,
    add_completion=False,
)

# One message, one line, and tables at full width when piped: scripts and logs grep them.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 250)
err = Console(stderr=True, soft_wrap=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $COOP_DATA_DIR or ./.coop-data)."),
]


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the platform's errors into one-line messages."""
    try:
        yield
    except CoopError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}")


def load_settings(data_dir: Path | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return Settings(**values)
    except Exception as exc:  # pydantic's ValidationError: say which setting is wrong
        fail(f"invalid configuration: {exc}".splitlines()[0])
        raise  # unreachable


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is in use; choose another with --port or COOP_PORT")
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")
