"""`Query` back to canonical text: upper-case operators, single spaces, minimal escaping.

For every query `parse` produces, `parse(unparse(q)) == q`. Trees built in code that no text could produce
(an `Or` directly inside an `And`, say) get the parentheses their meaning needs, so the text still means
the same thing.
"""

from __future__ import annotations

from logmon.search.ast import (
    And,
    Cidr,
    Comparison,
    Exists,
    FieldGroup,
    FieldKind,
    FieldRef,
    Group,
    MatchAll,
    Node,
    Not,
    Number,
    Or,
    Query,
    Range,
    Term,
)

_ESCAPED = frozenset(' "()[]{}:\\<>\u201c\u201d*?-+=!^~#@&|,')
_KEYWORDS = frozenset({"AND", "OR", "NOT", "TO"})


def unparse(query: Query | Node) -> str:
    root = query.root if isinstance(query, Query) else query
    return _node(root, bare=False)


def _node(node: Node, bare: bool) -> str:
    """`bare` inside `field:( ... )`, where leaves are written without their field."""
    if isinstance(node, And):
        parts = []
        for index, child in enumerate(node.children):
            text = _node(child, bare)
            refolds = index == 0 and isinstance(child, And) and child.implicit != node.implicit
            if isinstance(child, Or) or (isinstance(child, And) and not refolds):
                text = f"({text})"
            parts.append(text)
        return (" " if node.implicit else " AND ").join(parts)
    if isinstance(node, Or):
        return " OR ".join(
            f"({_node(child, bare)})" if isinstance(child, Or) else _node(child, bare) for child in node.children
        )
    if isinstance(node, Not):
        inner = _node(node.child, bare)
        if isinstance(node.child, (And, Or)):
            inner = f"({inner})"
        return f"-{inner}" if node.dash else f"NOT {inner}"
    if isinstance(node, Group):
        return f"({_node(node.child, bare)})"
    if isinstance(node, FieldGroup):
        return f"{_field(node.field)}:({_node(node.child, bare=True)})"
    if isinstance(node, MatchAll):
        return "*"
    prefix = "" if bare else _prefix(node.field)
    if isinstance(node, Term):
        return prefix + _term_value(node)
    if isinstance(node, Exists):
        return prefix + "*"
    if isinstance(node, Comparison):
        return f"{prefix}{node.op}{_number(node.value)}"
    if isinstance(node, Range):
        low = "*" if node.low is None else _number(node.low)
        high = "*" if node.high is None else _number(node.high)
        return f"{prefix}[{low} TO {high}]" if node.inclusive else f"{prefix}{{{low} TO {high}}}"
    if isinstance(node, Cidr):
        networks = ", ".join(str(network) for network in node.networks)
        return f"CIDR(@{escape(node.field.path)}, {networks})"
    raise TypeError(f"not a query node: {node!r}")


def _prefix(field: FieldRef) -> str:
    if field.kind is FieldKind.FREE_TEXT:
        return ""
    return f"{_field(field)}:"


def _field(field: FieldRef) -> str:
    if field.kind is FieldKind.ANY_ATTRIBUTE:
        return "*"
    if field.kind is FieldKind.ATTRIBUTE:
        return "@" + escape(field.path)
    return escape(field.path)


def _term_value(term: Term) -> str:
    if term.quoted or not term.pattern:
        return '"' + term.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = "".join(part.value if not isinstance(part, str) else escape(part) for part in term.pattern)
    return "\\" + text if text in _KEYWORDS else text


def escape(text: str) -> str:
    """Backslash-escape every character that would otherwise end a word or mean syntax."""
    return "".join("\\" + char if char in _ESCAPED or char.isspace() else char for char in text)


def _number(value: Number) -> str:
    return str(value) if isinstance(value, int) else repr(value)
