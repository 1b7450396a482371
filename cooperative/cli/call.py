"""`coop call OPERATION`: any ready operation of graphql/operations/ (or a .graphql file)
as the member, with its variables from the command line. So every step an ERP can take has
a command, and a member holding its own key signs each of them with COOP_KEYSTORE (the
client adds the prepared transaction to the payload's errors and signs what it asks for).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cooperative.cli.client import ApiKeyOption, Client, UrlOption
from cooperative.cli.common import app, console, fail
from cooperative.signing import UNSIGNED_TRANSACTION_FIELDS
from deployments.paths import OPERATIONS_DIR
from graphql import (
    FieldNode,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)


@app.command("call")
def call(
    operation: Annotated[
        str,
        typer.Argument(help="A ready operation's name (e.g. RequestQuote) or a .graphql file"),
    ],
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            help="name=value, once per variable; the value is read as JSON when it is "
            '(3, true, ["TroubleTicket:5-0"], {...}), else as text (an id: Order:12)',
        ),
    ] = None,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Run a ready operation as the member and print its answer as JSON."""
    definition, document = _operation(operation)
    variables = dict(_variable(item) for item in var or [])
    client = Client(url, api_key)
    if definition.operation is OperationType.MUTATION:
        roots = definition.selection_set.selections
        if len(roots) != 1 or not isinstance(roots[0], FieldNode):
            fail(f"{operation}: a mutation of one field, please (it has {len(roots)})")
        root = roots[0]
        assert isinstance(root, FieldNode)
        signable = print_ast(visit(document, _WithTransactions()))
        answer: Any = client.mutate(signable, (root.alias or root.name).value, variables)
    else:
        answer = client.query(print_ast(document), variables)
    console.print_json(json.dumps(answer))


def _operation(name: str) -> tuple[OperationDefinitionNode, Any]:
    path = Path(name) if name.endswith(".graphql") else OPERATIONS_DIR / f"{name}.graphql"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql")))
        fail(f"no operation {name!r}: give a .graphql file or one of {known}")
    try:
        document = parse(path.read_text())
    except GraphQLSyntaxError as exc:
        fail(f"{path} is not a GraphQL document: {exc.message}")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        fail(f"{path} holds {len(operations)} operations: one, please")
    return operations[0], document


def _variable(item: str) -> tuple[str, Any]:
    name, equals, text = item.partition("=")
    if not equals or not name:
        fail(f"--var {item!r}: write it as name=value")
    try:
        return name, json.loads(text)
    except ValueError:
        return name, text


class _WithTransactions(Visitor):
    """Selects the prepared transaction in a payload's errors, which the client signs for
    a member holding its own key (a ready operation selects code, message and field)."""

    extra = parse(f"{{ {UNSIGNED_TRANSACTION_FIELDS} }}").definitions[0].selection_set.selections  # type: ignore[attr-defined]

    def leave_field(self, node: FieldNode, *_args: Any) -> FieldNode | None:
        fields = node.selection_set.selections if node.selection_set else ()
        names = {f.name.value for f in fields if isinstance(f, FieldNode)}
        if node.name.value != "errors" or "code" not in names or "transaction" in names:
            return None  # unchanged
        return FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=node.directives,
            selection_set=SelectionSetNode(selections=(*fields, *self.extra)),
        )
