"""The parsed form of a Datadog log search query.

Every node carries the `Span` of text it was parsed from. Spans, and the raw text of leaves, are left out
of equality: two queries are equal when they mean the same thing structurally, however they were spelled,
so `parse(unparse(q)) == q`.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import Enum
from ipaddress import IPv4Network, IPv6Network
from typing import Literal, TypeAlias


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Character offsets `[start, end)` into the query text, 0-based."""

    start: int
    end: int

    def text(self, source: str) -> str:
        return source[self.start : self.end]


NO_SPAN = Span(0, 0)
"""For nodes built in code rather than parsed."""


class FieldKind(Enum):
    ATTRIBUTE = "attribute"
    """`@http.status_code:500`: a custom JSON attribute, dots walk nested objects."""
    RESERVED = "reserved"
    """`service:payments`: one of host, source, status, service, trace_id, message."""
    TAG = "tag"
    """`env:prod`: any other bare `key:` is a tag lookup, never an attribute."""
    FREE_TEXT = "free_text"
    """A word or phrase with no field: searched in the message only."""
    ANY_ATTRIBUTE = "any_attribute"
    """`*:term`: every attribute and the message."""


@dataclass(frozen=True, slots=True)
class FieldRef:
    kind: FieldKind
    path: str
    """Attribute path without `@`, reserved name, tag key, `*` for ANY_ATTRIBUTE, `` for FREE_TEXT."""
    span: Span = dc_field(default=NO_SPAN, compare=False)
    """The field name as written, without its `:`; empty at the term's start for free text."""


FREE_TEXT = FieldRef(FieldKind.FREE_TEXT, "")


class Wildcard(Enum):
    STAR = "*"
    """Any run of characters, including none."""
    ONE = "?"
    """Exactly one character."""


PatternPart: TypeAlias = str | Wildcard
Pattern: TypeAlias = tuple[PatternPart, ...]
"""A value as literal text runs and unescaped wildcards; adjacent literals are merged."""

Number: TypeAlias = int | float
Comparator: TypeAlias = Literal[">", ">=", "<", "<="]
Network: TypeAlias = IPv4Network | IPv6Network


@dataclass(frozen=True, slots=True)
class MatchAll:
    """`*`, `*:*` or an empty query."""

    span: Span = dc_field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Term:
    """A word or quoted phrase, searched in `field`."""

    field: FieldRef
    pattern: Pattern
    quoted: bool = False
    """Written in double quotes: wildcards inside are literal characters."""
    span: Span = dc_field(default=NO_SPAN, compare=False)
    raw: str = dc_field(default="", compare=False)

    @property
    def value(self) -> str:
        """The unescaped text, wildcards shown as `*` and `?`."""
        return "".join(part if isinstance(part, str) else part.value for part in self.pattern)

    @property
    def has_wildcards(self) -> bool:
        return any(isinstance(part, Wildcard) for part in self.pattern)


@dataclass(frozen=True, slots=True)
class Exists:
    """`field:*`: the field is present with any value."""

    field: FieldRef
    span: Span = dc_field(default=NO_SPAN, compare=False)
    raw: str = dc_field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field:>100`; matches numeric values only."""

    field: FieldRef
    op: Comparator
    value: Number
    span: Span = dc_field(default=NO_SPAN, compare=False)
    raw: str = dc_field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Range:
    """`field:[low TO high]` (inclusive) or `{low TO high}` (exclusive); None is an open `*` end."""

    field: FieldRef
    low: Number | None
    high: Number | None
    inclusive: bool = True
    span: Span = dc_field(default=NO_SPAN, compare=False)
    raw: str = dc_field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Cidr:
    """`CIDR(@network.client.ip, 10.0.0.0/8, ...)`: an address inside any of the networks."""

    field: FieldRef
    networks: tuple[Network, ...]
    span: Span = dc_field(default=NO_SPAN, compare=False)
    raw: str = dc_field(default="", compare=False)


Leaf: TypeAlias = Term | Exists | Comparison | Range | Cidr


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    implicit: bool = False
    """Written as juxtaposition (`a b`) rather than `AND`."""
    span: Span = dc_field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    span: Span = dc_field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    dash: bool = False
    """Written `-x` rather than `NOT x`."""
    span: Span = dc_field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class Group:
    """Parentheses around a sub-query."""

    child: Node
    span: Span = dc_field(default=NO_SPAN, compare=False)


@dataclass(frozen=True, slots=True)
class FieldGroup:
    """`field:(a OR b)`: every leaf inside carries `field`."""

    field: FieldRef
    child: Node
    span: Span = dc_field(default=NO_SPAN, compare=False)


Node: TypeAlias = MatchAll | Leaf | And | Or | Not | Group | FieldGroup


@dataclass(frozen=True, slots=True)
class Query:
    root: Node
    text: str = dc_field(default="", compare=False)
    """The text it was parsed from."""

    @property
    def span(self) -> Span:
        return Span(0, len(self.text))


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """A leaf with its field, as `iter_field_terms` reports it."""

    node: Leaf
    field: FieldRef
    span: Span
    negated: bool
    """Under an odd number of NOT / `-`: the query wants the field *not* to match."""
