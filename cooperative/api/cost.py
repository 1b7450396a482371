"""The size of a query once its fragments are expanded, counted before it is validated.

Validation rules (OverlappingFieldsCanBeMerged, depth) walk every fragment spread again,
so nested spreads (`fragment F2 { ...F1 ...F1 }`, …) double their work per level: 768
bytes of query stalled the server. Counting with each fragment's size memoised takes
time linear in the document, and a query that would expand beyond the limit is refused
before any rule runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import ValidationCache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# The standard introspection query (GraphiQL, codegen) expands to 229 fields, the largest
# ready operation to 37; validation work grows with the square of a selection's fields.
MAX_EXPANDED_FIELDS = 300


def expanded_fields(document: DocumentNode, limit: int = MAX_EXPANDED_FIELDS) -> int:
    """Fields the document's operations select with fragments expanded (a cycle or an
    unknown fragment counts as nothing here: validation reports it). Counting stops
    past `limit`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes: dict[str, int] = {}
    visiting: set[str] = set()

    def size(selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += 1 + size(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += size(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += fragment(selection.name.value)
            if total > limit:
                return total
        return total

    def fragment(name: str) -> int:
        if name not in sizes:
            if name in visiting or name not in fragments:
                return 0
            visiting.add(name)
            sizes[name] = size(fragments[name].selection_set)
            visiting.discard(name)
        return sizes[name]

    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += size(definition.selection_set)
    return total


class BoundedValidation(ValidationCache):
    """Validation (cached per operation text) only of a query within the size limit."""

    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None and expanded_fields(document) > MAX_EXPANDED_FIELDS:
            self.execution_context.pre_execution_errors = [
                GraphQLError(
                    f"the query selects more than {MAX_EXPANDED_FIELDS} fields once its "
                    "fragments are expanded; ask for less per request"
                )
            ]
            yield
            return
        yield from super().on_validate()
