"""`coop custody`: a member takes its key into its own custody.

`export` writes the member's key to a keystore file encrypted with a passphrase of the
member's choosing; from then on the platform never signs for the member, and the other
commands sign what it prepares with that file (COOP_KEYSTORE). `confirm` signs the
confirmation with the file's key, and the platform erases its copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address

from cooperative.cli.client import PAYLOAD_ERRORS, ApiKeyOption, Client, UrlOption, unlock
from cooperative.cli.common import app, console, fail
from cooperative.signing import custody_confirmation

custody_app = typer.Typer(help="Take the member's key into its own custody.", no_args_is_help=True)
app.add_typer(custody_app, name="custody")

EXPORT = f"""mutation($in: ExportMemberKeyInput!) {{
  exportMemberKey(input: $in) {{ keystore keyCustody {PAYLOAD_ERRORS} }}
}}"""
CONFIRM = f"""mutation($in: ConfirmKeyCustodyInput!) {{
  confirmKeyCustody(input: $in) {{ keyCustody {PAYLOAD_ERRORS} }}
}}"""


@custody_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Where to write the keystore (a new file).")],
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Export the member's key, encrypted with a passphrase; the platform stops signing."""
    if file.exists():
        fail(f"{file} exists: choose a new file, so no key is overwritten")
    passphrase = os.environ.get("COOP_KEYSTORE_PASSPHRASE") or typer.prompt(
        "passphrase for the keystore", hide_input=True, confirmation_prompt=True
    )
    payload = Client(url, api_key).mutate(
        EXPORT, "exportMemberKey", {"in": {"passphrase": passphrase}}
    )
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload["keystore"] + "\n")
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror}; export again to another file")
    address = json.loads(payload["keystore"])["address"]
    console.print(
        f"wrote the key of {to_checksum_address(address)} to {file}; the platform no longer "
        f"signs for it. Set COOP_KEYSTORE={file} for the other commands, keep a copy safe, "
        "then run `coop custody confirm` to have the platform's copy erased.",
        highlight=False,
    )


@custody_app.command("confirm")
def confirm(api_key: ApiKeyOption = None, url: UrlOption = None) -> None:
    """Sign the confirmation with COOP_KEYSTORE's key: the platform erases its copy."""
    path = os.environ.get("COOP_KEYSTORE")
    if not path:
        fail("set COOP_KEYSTORE to the keystore file `coop custody export` wrote")
    key = unlock(Path(str(path)))
    message = encode_defunct(text=custody_confirmation(key.address))
    signature = "0x" + bytes(key.sign_message(message).signature).hex()
    payload = Client(url, api_key).mutate(
        CONFIRM, "confirmKeyCustody", {"in": {"signature": signature}}
    )
    console.print(
        f"key custody: {payload['keyCustody']}; the platform holds no copy", highlight=False
    )
