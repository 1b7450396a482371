"""`coop`: the platform's command line.

`platform` holds the operator's commands (serve, deploy, keys, schema, modules), which
work on the data directory and the chain; `governance` holds the members' commands
(proposals, propose, vote), which go through the GraphQL API with the member's API key,
like any other client.
"""

from cooperative.cli import (  # noqa: F401  (register the commands)
    call,
    custody,
    governance,
    modules,
    platform,
    tickets,
    verify,
)
from cooperative.cli.common import app


def main() -> None:
    app()


__all__ = ["app", "main"]
