"""Before a query runs: its size once its fragments are expanded, counted before it is
validated, and the cache of documents that validated.

Validation rules (OverlappingFieldsCanBeMerged, depth) walk every fragment spread again,
so nested spreads (`fragment F2 { ...F1 ...F1 }`, …) double their work per level: 768
bytes of query stalled the server. Counting with each fragment's size memoised takes
time linear in the document, and a query that would expand beyond the limit is refused
before any rule runs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

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
DOCUMENT_CACHE_SIZE = 512  # distinct operation texts kept parsed and validated


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


class ValidatedDocuments(SchemaExtension):
    """Parse and validate each operation text once, and keep only those that validate.

    ERP systems send the same few operations again and again: parsing and validating each
    took over half of a request's CPU time (profiled with yappi), so a document that
    validated is answered from here the next time. A document that does not validate, or
    is refused by the size limit before validation, is not kept: a client sending ever new
    bad queries cannot churn the cache, and the garbage it leaves dies young. (Strawberry's
    ParserCache kept every parsed text: under such an attack the collector's full passes
    over the cached trees held the interpreter for 400-600 ms at a time.)
    """

    def __init__(self, maxsize: int = DOCUMENT_CACHE_SIZE) -> None:
        super().__init__()
        self.maxsize = maxsize
        self._cached = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            with _guard:
                document = _documents.get(context.query)
                if document is not None:
                    _documents.move_to_end(context.query)
            if document is not None:
                context.graphql_document, self._cached = document, True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if self._cached or document is None:
            if self._cached:
                context.pre_execution_errors = []
            yield
            return
        if expanded_fields(document) > MAX_EXPANDED_FIELDS:
            context.pre_execution_errors = [
                GraphQLError(
                    f"the query selects more than {MAX_EXPANDED_FIELDS} fields once its "
                    "fragments are expanded; ask for less per request"
                )
            ]
            yield
            return
        errors = validate_document(context.schema._schema, document, context.validation_rules)
        context.pre_execution_errors = errors
        if not errors and context.query is not None:
            with _guard:
                _documents[context.query] = document
                while len(_documents) > self.maxsize:
                    _documents.popitem(last=False)
        yield


# Shared by every request (the extension is made anew per request): text -> document.
_documents: OrderedDict[str, DocumentNode] = OrderedDict()
_guard = threading.Lock()


class IntrospectionAnswers(SchemaExtension):
    """The answer to an introspection-only operation, computed once per operation text.

    The schema does not change while the server runs, so neither does what `__schema` and
    `__type` answer; GraphiQL, codegen and Postman send the standard introspection query
    again and again, and each took ~150 ms of CPU to answer.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        key = context.query if _introspection_only(context) else None
        if key is not None:
            with _guard:
                cached = _introspections.get(key)
            if cached is not None:
                context.result = cached
                yield
                return
        yield
        result = context.result
        if key is not None and result is not None and not result.errors:
            with _guard:
                _introspections[key] = result
                while len(_introspections) > INTROSPECTION_CACHE_SIZE:
                    _introspections.popitem(last=False)


def _introspection_only(context: Any) -> bool:
    """A validated document whose operation selects only `__schema`, `__type` and
    `__typename`, with no variables (so the text alone decides the answer)."""
    document = context.graphql_document
    if document is None or context.pre_execution_errors or context.variables:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].variable_definitions:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value.startswith("__")
        for selection in operations[0].selection_set.selections
    )


INTROSPECTION_CACHE_SIZE = 16
_introspections: OrderedDict[str, Any] = OrderedDict()
