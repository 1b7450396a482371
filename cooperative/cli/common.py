"""Shared pieces of the `coop` command: the app, consoles, one-line errors, settings, and
the ids a person types (`Proposal:0x1a2b3c…`, `SlaTemplate:7` or just `7`) made into the
API's global ids (`<Type>:<key>`, cooperative.api.ids)."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from string import hexdigits
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


# ---------------------------------------------------------------- ids a person types

PROPOSAL_ID_HELP = (
    "The proposal's id (Proposal:0x…, or just its 0x… hex), or an abbreviation: its first "
    "hex digits, at least 6, with or without 0x and Proposal: (e.g. 1a2b3c)."
)


def typed_id(value: str, type_name: str, what: str, *, numeric: bool = False) -> str:
    """`value` as the API's id of a `type_name`: an id as the API gives it (`SlaTemplate:7`)
    or the bare key (`7`), to which the type is prefixed; another type's id, or (for a
    `numeric` key) anything but a whole number, ends the command in words."""
    text = value.strip()
    named, colon, key = text.partition(":")
    if not colon:
        named, key = type_name, text
    elif named != type_name:
        fail(f"{value!r} is the id of {_a(named)}, not of {what} ({type_name}:…)")
    if not key or (numeric and not (key.isascii() and key.isdigit())):
        example = f"{type_name}:7 or just 7" if numeric else f"{type_name}:…"
        fail(f"{value!r} is not {what}'s id ({example})")
    return f"{type_name}:{key}"


def typed_key(value: str, type_name: str, what: str, *, numeric: bool = False) -> str:
    """The record's key in `value`, given as its id or as the bare key (see typed_id): for
    the commands that work on the data directory rather than through the API."""
    return typed_id(value, type_name, what, numeric=numeric).partition(":")[2]


def proposal_id(value: str) -> str:
    """The id (`Proposal:0x` + hex) of the proposal `value` names: its id, its hex with or
    without 0x, or its first (at least MIN_ID_PREFIX) hex digits, which the API
    resolves to the one proposal whose id starts with them."""
    from cooperative.proposals import MIN_ID_PREFIX  # as the API resolves abbreviations

    text = value.strip()
    named, colon, rest = text.partition(":")
    if colon:
        if named.lower() != "proposal":
            fail(f"{value!r} is the id of {_a(named)}, not of a proposal (Proposal:0x…)")
        text = rest.strip()
    digits = text[2:] if text[:2].lower() == "0x" else text
    if not (MIN_ID_PREFIX <= len(digits) <= 64 and all(c in hexdigits for c in digits)):
        fail(
            f"{value!r} is not a proposal's id: give Proposal:0x… (or 0x…), or at least "
            f"{MIN_ID_PREFIX} of its first hex digits"
        )
    return f"Proposal:0x{digits.lower()}"


def _a(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
