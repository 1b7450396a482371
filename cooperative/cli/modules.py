"""The administrators' upgrade workflow: list modules, deploy a new implementation, check
its storage layout, and propose the upgrade for the members' vote.

`list`, `deploy` and `check` work on the chain and the deployment records (joining the
node of a running `coop serve`); `propose-upgrade` checks locally, then proposes through
the API with a member's key, since only members propose.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.table import Table

from cooperative.cli.client import PAYLOAD_ERRORS, ApiKeyOption, Client, UrlOption
from cooperative.cli.common import DataDirOption, app, console, err, load_settings, user_errors
from cooperative.platform import Platform
from governance.service import modules as registry_modules

modules_app = typer.Typer(
    help="Cooperative modules and their governed upgrades.", no_args_is_help=True
)
app.add_typer(modules_app, name="modules")

ModuleArgument = Annotated[str, typer.Argument(help="The module's name, e.g. Anchor.")]
ImplementationArgument = Annotated[str, typer.Argument(help="The new implementation's address.")]


@contextmanager
def attached(data_dir: DataDirOption) -> Iterator[Platform]:
    settings = load_settings(data_dir)
    with user_errors():
        platform = Platform.start(settings, attach=True)
    try:
        with user_errors():
            yield platform
    finally:
        platform.stop()


@modules_app.command("list")
def modules_list(data_dir: DataDirOption = None) -> None:
    """Name, proxy, implementation, version and codehash of every module."""
    with attached(data_dir) as platform:
        table = Table()
        for column in ("module", "proxy", "beacon", "implementation", "version", "codehash"):
            table.add_column(column)
        for m in registry_modules(platform.governance):
            table.add_row(
                m.name, m.proxy, m.beacon, m.implementation, str(m.version), "0x" + m.codehash.hex()
            )
        console.print(table)


@modules_app.command("deploy")
def modules_deploy(module: ModuleArgument, data_dir: DataDirOption = None) -> None:
    """Deploy a new implementation of MODULE from contracts/ and record it (not yet in use)."""
    with attached(data_dir) as platform:
        record = platform.deploy_module_implementation(module)
        console.print(
            f"deployed {module} v{record.version} at {record.address} (codehash {record.codehash})"
        )
        err.print(f"next: coop modules check {module} {record.address}", highlight=False)


@modules_app.command("check")
def modules_check(
    module: ModuleArgument, implementation: ImplementationArgument, data_dir: DataDirOption = None
) -> None:
    """Check that IMPLEMENTATION's storage layout can replace MODULE's current one."""
    with attached(data_dir) as platform:
        record = platform.check_module_upgrade(module, implementation)
        console.print(
            f"compatible: {module} v{record.version} at {record.address} only appends to the layout"
        )


@modules_app.command("propose-upgrade")
def modules_propose_upgrade(
    module: ModuleArgument,
    implementation: ImplementationArgument,
    description: Annotated[str, typer.Option("--description", "-d", help="Why, for the members.")],
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Propose switching MODULE to IMPLEMENTATION; refused when the layout is incompatible."""
    client = Client(url, api_key)
    with attached(data_dir) as platform:
        record = platform.check_module_upgrade(module, implementation)
    payload = client.mutate(
        "mutation($in: ProposeModuleUpgradeInput!) { proposeModuleUpgrade(input: $in) "
        f"{{ proposal {{ id state }} {PAYLOAD_ERRORS} }} }}",
        "proposeModuleUpgrade",
        {
            "in": {
                "module": module,
                "implementation": record.address,
                "version": record.version,
                "description": description,
            }
        },
    )
    console.print(
        f"proposed {payload['proposal']['id']} ({payload['proposal']['state']}): {module} -> v{record.version}"
    )
