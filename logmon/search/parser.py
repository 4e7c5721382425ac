"""Text to `Query`: lark parses `grammar.lark`, then the tree becomes the typed AST.

Anything wrong with the text, from an unbalanced parenthesis to a bad CIDR block, comes out as a
`SearchSyntaxError` that points at the offending character and says how to fix it.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache, lru_cache
from importlib.resources import files
from typing import Final, cast

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from logmon.logrecord import RESERVED_ATTRIBUTES
from logmon.search.ast import (
    And,
    Cidr,
    Comparator,
    Comparison,
    Exists,
    FieldGroup,
    FieldKind,
    FieldRef,
    Group,
    MatchAll,
    Network,
    Node,
    Not,
    Number,
    Or,
    Pattern,
    PatternPart,
    Query,
    Range,
    Span,
    Term,
    Wildcard,
)
from logmon.search.errors import SearchSyntaxError
from logmon.search.values import parse_number

MAX_DEPTH: Final = 100
"""Nested groups and negations deeper than this are refused rather than risk the interpreter's stack."""

_OPERATOR_WORDS = ("AND", "OR", "NOT", "&&", "||", "-")
_LUCENE_FIELDS: Final = {
    "_exists_": "write @attr:* for logs that have an attribute (tag:* for a tag)",
    "_missing_": "write -@attr:* for logs without an attribute (-tag:* for a tag)",
    "_default_": "search the message with a bare word or a quoted phrase",
}
"""Lucene's meta fields: only Observability Pipelines documents them, so they are refused rather than guessed
(docs/search-semantics.md, S17)."""
_CIDR_EXAMPLE = "write it like CIDR(@network.client.ip, 10.0.0.0/8, 15.0.0.0/8)"
_TOO_DEEP_HINT = f"use at most {MAX_DEPTH} levels of parentheses and NOT"


@cache
def _lark() -> Lark:
    grammar = files("logmon.search").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


def parse(text: str) -> Query:
    """Parse Datadog log search syntax. Raises only `SearchSyntaxError`."""
    if not isinstance(text, str):
        raise SearchSyntaxError(f"a query must be text, not {type(text).__name__}", "", 0)
    return _parse_text(text)


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Query:
    """Large rule sets repeat the same searches many times; the AST is immutable, so one parse serves them all.

    Errors are not cached (lru_cache never stores a raised exception), so a bad query is re-explained each time.
    """
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        raise _explain(text, error) from None
    except LarkError as error:
        raise SearchSyntaxError(f"cannot parse the query ({error})", text, 0) from None
    try:
        root = _Builder(text).start(tree)
    except RecursionError:
        raise SearchSyntaxError("the query nests too deeply", text, 0, _TOO_DEEP_HINT) from None
    return Query(root, text)


# --- tree to AST ---------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, message: str, position: int, hint: str | None = None) -> SearchSyntaxError:
        return SearchSyntaxError(message, self.text, position, hint)

    def start(self, tree: Tree[Token]) -> Node:
        if not tree.children:
            return MatchAll(Span(0, len(self.text)))
        return self.node(_subtree(tree.children[0]), None, 0)

    def node(self, tree: Tree[Token], field: FieldRef | None, depth: int) -> Node:
        """Convert a boolean or atom subtree; `field` is set inside `field:( ... )`."""
        if depth > MAX_DEPTH:
            raise self.error("the query nests too deeply", _start(tree), _TOO_DEEP_HINT)
        kind = tree.data
        if kind in ("or_expr", "value_or"):
            return self.disjunction(tree, field, depth)
        if kind in ("and_expr", "value_and"):
            return self.conjunction(tree, field, depth)
        if kind in ("not_expr", "value_not"):
            return self.negation(tree, field, depth)
        return self.atom(tree, field, depth)

    def disjunction(self, tree: Tree[Token], field: FieldRef | None, depth: int) -> Node:
        operands = [self.node(child, field, depth) for child in _subtrees(tree)]
        if len(operands) == 1:
            return operands[0]
        return Or(tuple(operands), _cover(operands))

    def conjunction(self, tree: Tree[Token], field: FieldRef | None, depth: int) -> Node:
        """Fold `a b AND c` left to right; a change between implicit and explicit AND nests a level."""
        members: list[Node] = []
        implicit: bool | None = None
        after_operator = False
        for child in tree.children:
            if isinstance(child, Token):
                after_operator = True
                continue
            operand = self.node(child, field, depth)
            if members:
                this_implicit = not after_operator
                if implicit is not None and this_implicit != implicit:
                    members = [And(tuple(members), implicit, _cover(members))]
                implicit = this_implicit
            members.append(operand)
            after_operator = False
        if len(members) == 1:
            return members[0]
        assert implicit is not None
        return And(tuple(members), implicit, _cover(members))

    def negation(self, tree: Tree[Token], field: FieldRef | None, depth: int) -> Node:
        """Collect `NOT`/`-` prefixes iteratively so a long chain does not recurse."""
        operators: list[Token] = []
        current = tree
        while len(current.children) == 2:
            operator, inner = current.children
            operators.append(cast(Token, operator))
            current = _subtree(inner)
        if len(operators) + depth > MAX_DEPTH:
            raise self.error(
                "the query nests too deeply",
                _token_start(operators[0]),
                _TOO_DEEP_HINT,
            )
        node = self.node(_subtree(current.children[0]), field, depth + len(operators))
        for operator in reversed(operators):
            node = Not(node, operator.type == "MINUS", Span(_token_start(operator), node.span.end))
        return node

    def atom(self, tree: Tree[Token], field: FieldRef | None, depth: int) -> Node:
        kind = tree.data
        children = tree.children
        if kind == "free_term":
            token = _token(children[0])
            return self.term(token, _free_text(token), _token_start(token))
        if kind == "free_phrase":
            token = _token(children[0])
            return self.phrase(token, _free_text(token), _token_start(token))
        if kind in ("group", "value_group"):
            inner = self.node(_subtree(children[1]), field, depth + 1)
            return Group(inner, Span(_token_start(_token(children[0])), _token_end(_token(children[2]))))
        if kind == "field_term":
            field_token = _token(children[0])
            ref = self.field(field_token)
            value = _subtree(children[1])
            if _start(value) != _token_end(field_token):
                raise self.error(
                    f"space after {field_token.value!r}",
                    _token_end(field_token),
                    f"write the value right after the colon ({field_token.value}{_first_text(value)}); "
                    "a space ends the field and makes the value a separate search",
                )
            return self.value(value, ref, _token_start(field_token))
        if kind == "field_group":
            field_token = _token(children[0])
            ref = self.field(field_token)
            open_paren = _token(children[1])
            if _token_start(open_paren) != _token_end(field_token):
                raise self.error(
                    f"space after {field_token.value!r}",
                    _token_end(field_token),
                    f"write {field_token.value}( with no space",
                )
            inner = self.node(_subtree(children[2]), ref, depth + 1)
            return FieldGroup(ref, inner, Span(_token_start(field_token), _token_end(_token(children[3]))))
        if kind == "cidr":
            return self.cidr([_token(child) for child in children])
        # A value inside `field:( ... )`.
        assert field is not None
        return self.value(tree, field, _start(tree))

    def field(self, token: Token) -> FieldRef:
        raw = token.value[:-1]
        start = _token_start(token)
        span = Span(start, start + len(raw))
        if raw == "*":
            return FieldRef(FieldKind.ANY_ATTRIBUTE, "*", span)
        if raw.startswith("@"):
            return FieldRef(FieldKind.ATTRIBUTE, self.attribute_path(raw, start), span)
        name = _unescape(raw)
        if name in _LUCENE_FIELDS:
            raise self.error(
                f"{raw}: is not in Datadog's log search syntax (Observability Pipelines only)",
                start,
                _LUCENE_FIELDS[name],
            )
        if name in RESERVED_ATTRIBUTES:
            return FieldRef(FieldKind.RESERVED, name, span)
        return FieldRef(FieldKind.TAG, name, span)

    def attribute_path(self, raw: str, start: int) -> str:
        path = _unescape(raw[1:])
        if any(part == "" for part in path.split(".")):
            raise self.error(
                f"empty segment in attribute path {raw!r}",
                start,
                "write dotted paths as @parent.child, without leading, trailing or doubled dots",
            )
        return path

    def value(self, tree: Tree[Token], field: FieldRef, start: int) -> Node:
        kind = tree.data
        if kind == "value_term":
            return self.term(_token(tree.children[0]), field, start)
        if kind == "value_phrase":
            return self.phrase(_token(tree.children[0]), field, start)
        if kind == "comparison":
            return self.comparison(tree, field, start)
        if kind == "range":
            return self.range(tree, field, start)
        raise self.error(f"unexpected {kind}", _start(tree))  # pragma: no cover - the grammar has no other

    def term(self, token: Token, field: FieldRef, start: int) -> Node:
        span = Span(start, _token_end(token))
        pattern = _pattern(token.value)
        if pattern == (Wildcard.STAR,):
            if field.kind in (FieldKind.FREE_TEXT, FieldKind.ANY_ATTRIBUTE):
                return MatchAll(span)
            return Exists(field, span, span.text(self.text))
        return Term(field, pattern, False, span, span.text(self.text))

    def phrase(self, token: Token, field: FieldRef, start: int) -> Term:
        span = Span(start, _token_end(token))
        content = _unescape(token.value[1:-1])
        return Term(field, (content,) if content else (), True, span, span.text(self.text))

    def comparison(self, tree: Tree[Token], field: FieldRef, start: int) -> Comparison:
        operator, operand = (_token(child) for child in tree.children)
        self.require_numeric_field(field, start)
        value = self.number(operand, "a comparison")
        span = Span(start, _token_end(operand))
        return Comparison(field, cast(Comparator, operator.value), value, span, span.text(self.text))

    def range(self, tree: Tree[Token], field: FieldRef, start: int) -> Range:
        opening, low_tree, _to, high_tree, closing = tree.children
        opening, closing = _token(opening), _token(closing)
        self.require_numeric_field(field, start)
        inclusive = opening.value == "["
        if (closing.value == "]") != inclusive:
            raise self.error(
                "a range must use [ ] (inclusive) or { } (exclusive) on both ends",
                _token_start(closing),
                f"write {'[low TO high]' if inclusive else '{low TO high}'}",
            )
        low = self.bound(_token(_subtree(low_tree).children[0]))
        high = self.bound(_token(_subtree(high_tree).children[0]))
        if low is not None and high is not None and (low > high or (low == high and not inclusive)):
            raise self.error(
                "this range matches nothing",
                _token_start(opening),
                "put the lower bound first, e.g. [200 TO 299]",
            )
        span = Span(start, _token_end(closing))
        return Range(field, low, high, inclusive, span, span.text(self.text))

    def bound(self, token: Token) -> Number | None:
        if token.type == "FVALUE" and token.value == "*":
            return None
        return self.number(token, "a range bound")

    def number(self, token: Token, what: str) -> Number:
        text = _unescape(token.value[1:-1] if token.type == "PHRASE" else token.value)
        number = parse_number(text)
        if number is None:
            raise self.error(
                f"{what} needs a number, not {text!r}",
                _token_start(token),
                "Datadog compares numeric values only (a measure or an integer facet); "
                "units such as 'ms' are not understood, write the value in the attribute's own unit",
            )
        return number

    def require_numeric_field(self, field: FieldRef, start: int) -> None:
        if field.kind is FieldKind.ANY_ATTRIBUTE:
            raise self.error(
                "*: cannot be compared numerically",
                start,
                "name the attribute, e.g. @http.status_code:>=500",
            )

    def cidr(self, tokens: list[Token]) -> Cidr:
        attribute = tokens[1]
        start = _token_start(attribute)
        path = self.attribute_path(attribute.value, start)
        ref = FieldRef(FieldKind.ATTRIBUTE, path, Span(start, _token_end(attribute)))
        networks: list[Network] = []
        for token in tokens[3:-1:2]:
            try:
                networks.append(ipaddress.ip_network(token.value, strict=False))
            except ValueError:
                raise self.error(
                    f"{token.value!r} is not a CIDR block",
                    _token_start(token),
                    "write an IPv4 or IPv6 network such as 10.0.0.0/8 or 2001:db8::/32",
                ) from None
        span = Span(_token_start(tokens[0]), _token_end(tokens[-1]))
        return Cidr(ref, tuple(networks), span, span.text(self.text))


def _free_text(token: Token) -> FieldRef:
    start = _token_start(token)
    return FieldRef(FieldKind.FREE_TEXT, "", Span(start, start))


def _pattern(raw: str) -> Pattern:
    """Split an unquoted value into literal runs and wildcards; `\\x` is always the literal x."""
    parts: list[PatternPart] = []
    literal: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            literal.append(raw[index + 1])
            index += 2
            continue
        if char in "*?":
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Wildcard(char))
        else:
            literal.append(char)
        index += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def _unescape(raw: str) -> str:
    return re.sub(r"\\([\s\S])", r"\1", raw)


# --- lark helpers --------------------------------------------------------------------------------------


def _token(child: Tree[Token] | Token) -> Token:
    assert isinstance(child, Token)
    return child


def _subtree(child: Tree[Token] | Token) -> Tree[Token]:
    assert isinstance(child, Tree)
    return child


def _subtrees(tree: Tree[Token]) -> list[Tree[Token]]:
    return [child for child in tree.children if isinstance(child, Tree)]


def _token_start(token: Token) -> int:
    return token.start_pos or 0


def _token_end(token: Token) -> int:
    return token.end_pos or 0


def _start(tree: Tree[Token]) -> int:
    """Where a subtree's text begins: its first token's position (the parser keeps no tree positions,
    which halves its time)."""
    first = next(tree.scan_values(lambda value: isinstance(value, Token)), None)
    return _token_start(first) if first is not None else 0


def _first_text(tree: Tree[Token]) -> str:
    first = next(tree.scan_values(lambda value: isinstance(value, Token)), None)
    return str(first.value) if first is not None else ""


def _cover(nodes: list[Node]) -> Span:
    return Span(nodes[0].span.start, nodes[-1].span.end)


# --- errors --------------------------------------------------------------------------------------------


def _explain(text: str, error: UnexpectedInput) -> SearchSyntaxError:
    """Turn a lark error into a message that names the problem and the fix."""
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        position = _token_start(error.token)
        expected = set(error.expected)
    elif isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        expected = set(error.allowed or ())
    else:
        expected = set(getattr(error, "expected", ()) or ())
        return _explain_end(text, expected)
    if position >= len(text.rstrip()):
        return _explain_end(text, expected)
    return _explain_at(text, position, expected)


def _explain_end(text: str, expected: set[str]) -> SearchSyntaxError:
    stripped = text.rstrip()
    unclosed = _unclosed(text)
    if unclosed is not None:
        opener, position = unclosed
        closer = {"(": ")", "[": "]", "{": "}", '"': '"'}[opener]
        what = "quote" if opener == '"' else "range" if opener in "[{" else "parenthesis"
        return SearchSyntaxError(f"unclosed {what} {opener!r}", text, position, f"add the matching {closer!r}")
    for word in _OPERATOR_WORDS:
        if stripped.endswith(word) and _ends_operator(stripped, word):
            return SearchSyntaxError(
                f"nothing after {word!r}",
                text,
                len(stripped) - len(word),
                "finish the expression or remove the operator",
            )
    if stripped.endswith(":"):
        return SearchSyntaxError(
            f"{stripped.split()[-1]!r} has no value",
            text,
            len(stripped) - 1,
            "add a value (use field:* to match any value), or escape the colon as \\:",
        )
    if stripped.endswith(("<", ">", "=")):
        return SearchSyntaxError("a comparison needs a number", text, len(stripped) - 1, "write it like @duration:>100")
    if "CIDR_NET" in expected or "COMMA" in expected:
        return SearchSyntaxError(
            "CIDR() is not closed", text, len(stripped), "write CIDR(@network.client.ip, 10.0.0.0/8)"
        )
    return SearchSyntaxError("the query ends unexpectedly", text, len(stripped))


def _explain_at(text: str, position: int, expected: set[str]) -> SearchSyntaxError:
    char = text[position]
    before = text[:position].rstrip()
    escape_hint = "escape it with \\ or put the value in double quotes"

    def fail(message: str, hint: str | None = None) -> SearchSyntaxError:
        return SearchSyntaxError(message, text, position, hint)

    if "TO" in expected:
        return fail("a range needs the form [low TO high]", "write it like @http.status_code:[400 TO 499]")
    if "CIDR_ATTR" in expected:
        return fail(
            "CIDR() takes an attribute first",
            "write CIDR(@network.client.ip, 10.0.0.0/8); the attribute needs its @",
        )
    if char == ")" and expected == {"COMMA"}:
        return fail("CIDR() needs at least one network", _CIDR_EXAMPLE)
    if expected & {"CIDR_NET", "COMMA"} and "FIELD" not in expected:
        return fail("CIDR() expects ', network' or ')'", "write CIDR(@network.client.ip, 10.0.0.0/8, 15.0.0.0/8)")
    if char == '"':
        return fail("unterminated quote", 'close the phrase with another " (escape a literal quote as \\")')
    if char in "\u201c\u201d":
        return fail("curly quotation mark", 'use straight double quotes (") around phrases')
    if char == "\\":
        return fail("a backslash at the end escapes nothing", "remove it, or write \\\\ for a literal backslash")
    if char == "@":
        if text[position + 1 : position + 2] in ("", ":", " "):
            return fail("'@' needs an attribute name", "write it like @http.status_code:500")
        return fail("an attribute needs a value", "write @name:value, or @name:* for 'has this attribute'")
    if char == ":":
        word = before.split()[-1] if before.split() else ""
        if "*" in word or "?" in word:
            return fail("wildcards are not allowed in field names", "name the field exactly, or use *:value")
        if not word or before.endswith(("(", ")")):
            return fail("':' needs a field name before it", f"write field:value, or {escape_hint}")
        return fail("unescaped ':' inside a value", "write it as \\: or put the whole value in double quotes")
    if char == ")":
        if _unmatched_close(text, position):
            return fail("unmatched ')'", "remove it or add the opening '('")
        if before.endswith("("):
            return fail("empty parentheses", "put a search inside them or remove them")
        return _operator_problem(text, position, before) or fail("unexpected ')'")
    if text.startswith(("AND", "OR", "&&", "||"), position):
        return _operator_problem(text, position, before) or fail("unexpected operator")
    if char in "<>":
        if before.endswith(("<", ">", "=")):
            return fail("a comparison needs a number", "write it like @duration:>100")
        return fail("a comparison needs a field", "write it like @duration:>100")
    if char == "=" and "CMP_OP" in expected:
        return fail("'=' is not an operator", "write field:value for equality, or >= / <= to compare")
    if char in "[{" and "LSQB" not in expected:
        return fail("a range needs a field", "write it like @http.status_code:[400 TO 499]")
    if char == "#":
        return fail("calculated fields (#name) are not supported", "escape the # as \\# to search for it")
    if char in "+=!^~&|,[]{}":
        return fail(f"special character {char!r}", escape_hint)
    return fail(f"unexpected {text[position:].split(maxsplit=1)[0]!r}")


def _operator_problem(text: str, position: int, before: str) -> SearchSyntaxError | None:
    if not before or before.endswith("("):
        return SearchSyntaxError(
            "operator with nothing before it", text, position, "put a search term on both sides, or remove it"
        )
    for word in _OPERATOR_WORDS:
        if before.endswith(word) and _ends_operator(before, word):
            return SearchSyntaxError(
                "two operators in a row", text, position, "remove one, or put a search term between them"
            )
    return None


def _ends_operator(text: str, word: str) -> bool:
    """Whether `text` ends with the operator `word` standing alone (not the end of a longer word)."""
    head = text[: len(text) - len(word)]
    if word == "-":
        return not head or head[-1] in " \t\r\n(" or head.endswith(("AND", "OR", "NOT"))
    return not head or head[-1] in " \t\r\n()"


def _unclosed(text: str) -> tuple[str, int] | None:
    """The innermost opening `(`, `[`, `{` or `"` that is never closed, skipping quoted and escaped text."""
    stack: list[tuple[str, int]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            end = _closing_quote(text, index)
            if end is None:
                return ('"', index)
            index = end + 1
            continue
        if char in "([{":
            stack.append((char, index))
        elif char in ")]}" and stack:
            stack.pop()
        index += 1
    return stack[-1] if stack else None


def _closing_quote(text: str, start: int) -> int | None:
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    return None


def _unmatched_close(text: str, position: int) -> bool:
    depth = 0
    index = 0
    while index < position:
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            end = _closing_quote(text, index)
            index = (end if end is not None else len(text)) + 1
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        index += 1
    return depth <= 0
