"""Questions lint asks of a parsed query: which fields it touches, and where its precedence is unclear."""

from __future__ import annotations

from collections.abc import Iterator

from logmon.search.ast import (
    And,
    Cidr,
    Comparison,
    Exists,
    FieldGroup,
    FieldKind,
    FieldRef,
    FieldTerm,
    Group,
    MatchAll,
    Node,
    Not,
    Or,
    Query,
    Range,
    Span,
    Term,
)


def iter_field_terms(query: Query | Node) -> Iterator[FieldTerm]:
    """Every leaf in text order with its field and polarity; free-text words come with kind FREE_TEXT."""
    root = query.root if isinstance(query, Query) else query
    yield from _leaves(root, negated=False)


def _leaves(node: Node, negated: bool) -> Iterator[FieldTerm]:
    if isinstance(node, (Term, Exists, Comparison, Range, Cidr)):
        yield FieldTerm(node, node.field, node.span, negated)
    elif isinstance(node, (And, Or)):
        for child in node.children:
            yield from _leaves(child, negated)
    elif isinstance(node, Not):
        yield from _leaves(node.child, not negated)
    elif isinstance(node, (Group, FieldGroup)):
        yield from _leaves(node.child, negated)
    else:
        assert isinstance(node, MatchAll)


def ambiguous_precedence(query: Query | Node) -> list[Span]:
    """Spans of every level where AND (written or implied) and OR meet without parentheses.

    `a OR b c` means `a OR (b AND c)` in Datadog, which readers often get wrong; the span covers the
    whole unparenthesised expression, so a fix can wrap the intended part.
    """
    root = query.root if isinstance(query, Query) else query
    spans: list[Span] = []
    _collect(root, spans)
    return sorted(spans)


def _collect(node: Node, spans: list[Span]) -> None:
    if isinstance(node, (And, Or)):
        other = Or if isinstance(node, And) else And
        if any(isinstance(child, other) for child in node.children):
            spans.append(node.span)
        for child in node.children:
            _collect(child, spans)
    elif isinstance(node, (Not, Group, FieldGroup)):
        _collect(node.child, spans)


def clause_values(node: Node, path: str) -> set[str] | None:
    """The values `@path` must take for this clause to match (`@p:x`, `@p:(x OR y)`); None if unrestricted."""
    while isinstance(node, Group):
        node = node.child
    if isinstance(node, FieldGroup):
        if node.field.kind is not FieldKind.ATTRIBUTE or node.field.path != path:
            return None
        node = node.child
        while isinstance(node, Group):
            node = node.child
    leaves = node.children if isinstance(node, Or) else (node,)
    values: set[str] = set()
    for candidate in leaves:
        leaf = candidate
        while isinstance(leaf, Group):
            leaf = leaf.child
        if (
            not isinstance(leaf, Term)
            or leaf.has_wildcards
            or leaf.field.kind is not FieldKind.ATTRIBUTE
            or leaf.field.path != path
        ):
            return None
        values.add(leaf.value)
    return values


def required_values(query: Query | Node, path: str) -> set[str] | None:
    """Values `@path` must equal for the whole query to match, from its top-level AND; None if any value may."""
    node = query.root if isinstance(query, Query) else query
    while isinstance(node, Group):
        node = node.child
    conjuncts = node.children if isinstance(node, And) else (node,)
    required: set[str] | None = None
    for conjunct in conjuncts:
        values = clause_values(conjunct, path)
        if values is not None:
            required = values if required is None else required & values
    return required


def requires_attribute(query: Query | Node, path: str) -> bool:
    """Whether every log the query matches carries attribute `path` (or something under it).

    Only a positive clause on the attribute, written as a conjunct or in every branch of an OR, proves
    it: `@a:*`, `@a:x`, `@a:>1`, `@a.b:x`, `@a:(x OR y)`. Free text, tags and negations prove nothing,
    since `-@a:x` also matches logs without `a`.
    """
    node = query.root if isinstance(query, Query) else query
    if isinstance(node, Group):
        return requires_attribute(node.child, path)
    if isinstance(node, And):
        return any(requires_attribute(child, path) for child in node.children)
    if isinstance(node, Or):
        return all(requires_attribute(child, path) for child in node.children)
    if isinstance(node, FieldGroup):
        return _names(node.field, path) and _positive(node.child)
    if isinstance(node, (Term, Exists, Comparison, Range, Cidr)):
        return _names(node.field, path)
    return False


def _names(field: FieldRef, path: str) -> bool:
    return field.kind is FieldKind.ATTRIBUTE and (field.path == path or field.path.startswith(f"{path}."))


def _positive(node: Node) -> bool:
    """Whether a field group's content needs its field present: some value must match, not just be avoided."""
    if isinstance(node, Group):
        return _positive(node.child)
    if isinstance(node, And):
        return any(_positive(child) for child in node.children)
    if isinstance(node, Or):
        return all(_positive(child) for child in node.children)
    return isinstance(node, (Term, Exists, Comparison, Range, Cidr))
