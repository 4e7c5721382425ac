"""Datadog log search syntax: parse it, match logs with it, and build log monitor queries around it."""

from logmon.search.analysis import (
    ambiguous_precedence,
    clause_values,
    iter_field_terms,
    required_values,
    requires_attribute,
)
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
    Wildcard,
)
from logmon.search.errors import SearchSyntaxError
from logmon.search.matcher import Matcher, compile_query, matches
from logmon.search.parser import parse
from logmon.search.unparse import unparse

__all__ = [
    "And",
    "Cidr",
    "Comparison",
    "Exists",
    "FieldGroup",
    "FieldKind",
    "FieldRef",
    "FieldTerm",
    "Group",
    "MatchAll",
    "Matcher",
    "Node",
    "Not",
    "Or",
    "Query",
    "Range",
    "SearchSyntaxError",
    "Span",
    "Term",
    "Wildcard",
    "ambiguous_precedence",
    "clause_values",
    "compile_query",
    "iter_field_terms",
    "matches",
    "parse",
    "required_values",
    "requires_attribute",
    "unparse",
]
