"""Datadog's grok rule language, parsed: rule lines, and in each pattern the `%{MATCHER:EXTRACT:FILTER}` tokens.

A rules text holds one rule per line, `name pattern`. Outside the `%{...}` tokens a pattern is a regular
expression, written as is. A token names a matcher (built in, or another rule), optionally the attribute
that receives what it matched, and optionally a filter that transforms the value. Matchers and filters may
take arguments: quoted strings, numbers, `true`/`false`, or (for `array`) a filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from lark import Lark, Token, Transformer, UnexpectedInput

GRAMMAR: Final = r"""
    pattern: (token | text)*
    token: "%{" call [":" [EXTRACT] [":" call]] "}"
    call: NAME [args]
    args: LPAR [arg (COMMA arg)*] RPAR
    ?arg: STRING -> string
        | NUMBER -> number
        | OPTION -> string_option
        | call
    text: TEXT

    NAME: /[A-Za-z_][A-Za-z0-9_.]*/
    OPTION.2: /[A-Za-z]+:(?:true|false)/
    EXTRACT: /[A-Za-z0-9_@$][A-Za-z0-9_.@$\-]*/
    STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
    NUMBER: /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/
    TEXT: /(?:[^%]|%(?!\{))+/s
    LPAR: /\(\s*/
    COMMA: /\s*,\s*/
    RPAR: /\s*\)/
"""

_PARSER: Final = Lark(GRAMMAR, start="pattern", parser="lalr", lexer="contextual", maybe_placeholders=True)

RULE_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]*")
"""Datadog: alphanumeric characters, `_` and `.`, starting with an alphanumeric character (its own
integration pipelines also start support rules with `_`, so that is accepted)."""


@dataclass(frozen=True, slots=True)
class Call:
    """A matcher or filter with its arguments, e.g. `date("MM/dd/yyyy")` or `keyvalue("=", "/:")`."""

    name: str
    args: tuple[str | float | int | Call, ...] = ()


@dataclass(frozen=True, slots=True)
class GrokToken:
    """One `%{matcher:extract:filter}`; `offset` is where it starts in the pattern."""

    matcher: Call
    extract: str | None
    filter: Call | None
    offset: int


Part = str | GrokToken
"""Regular-expression text, or a token."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: tuple[Part, ...]
    line: int
    """0-based line of the rule in its rules text."""
    offset: int
    """Character offset of the rule's line in its rules text."""
    pattern_offset: int
    """Character offset of the pattern in its rules text."""


@dataclass
class GrokSyntaxError(ValueError):
    """A rule that does not parse; `offset` is the character offset in the rules text."""

    message: str
    offset: int
    rule: str | None = None
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _unquote(text: str) -> str:
    r"""A quoted argument's value: `\\` and the quote may be escaped; other backslashes stay as written, so
    `regex("\\d+")` and `regex("\d+")` both mean `\d+`."""
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in "\\\"'":
            out.append(body[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _Build(Transformer[Token, tuple[Part, ...]]):
    def pattern(self, items: list[Part]) -> tuple[Part, ...]:
        return tuple(items)

    def text(self, items: list[Token]) -> str:
        return str(items[0])

    def string(self, items: list[Token]) -> str:
        return _unquote(str(items[0]))

    def string_option(self, items: list[Token]) -> str:
        return str(items[0])

    def number(self, items: list[Token]) -> float | int:
        text = str(items[0])
        number = float(text)
        return int(number) if re.fullmatch(r"[+-]?[0-9]+", text) else number

    def args(self, items: list[Any]) -> tuple[str | float | int | Call, ...]:
        return tuple(item for item in items if item is not None and not isinstance(item, Token))

    def call(self, items: list[Token | tuple[str | float | int | Call, ...] | None]) -> Call:
        name, args = items
        assert isinstance(name, Token)
        return Call(str(name), args if isinstance(args, tuple) else ())

    def token(self, items: list[Call | Token | None]) -> GrokToken:
        matcher, extract, filter_ = items
        assert isinstance(matcher, Call)
        return GrokToken(matcher, str(extract) if extract else None, filter_ if isinstance(filter_, Call) else None, 0)


def parse_pattern(text: str, base_offset: int = 0) -> tuple[Part, ...]:
    """A rule's pattern as text and tokens; GrokSyntaxError at the offending character."""
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        position = error.pos_in_stream if error.pos_in_stream is not None else 0
        raise GrokSyntaxError(_describe(text, position), base_offset + position) from None
    parts = _Build().transform(tree)
    # Tokens learn their offsets by walking the text: lark drops positions once transformed.
    located: list[Part] = []
    cursor = 0
    for part in parts:
        if isinstance(part, str):
            cursor = text.index(part, cursor) + len(part)
            located.append(part)
        else:
            start = text.index("%{", cursor)
            located.append(GrokToken(part.matcher, part.extract, part.filter, base_offset + start))
            cursor = _token_end(text, start)
    return tuple(located)


def _token_end(text: str, start: int) -> int:
    """The index after the `}` closing the token at `start` (quoted arguments may hold braces)."""
    index, quote = start + 2, None
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "}":
            return index + 1
        index += 1
    return len(text)


def _describe(text: str, position: int) -> str:
    opening = text.rfind("%{", 0, position + 1)
    if opening != -1 and "}" not in text[opening:position]:
        token = text[opening : _token_end(text, opening)]
        return (
            f"cannot read the token `{token}` (at column {position + 1} of the pattern); write "
            "`%{matcher}`, `%{matcher:attribute}` or `%{matcher:attribute:filter}`, with quoted arguments, "
            'e.g. `%{date("dd/MMM/yyyy:HH:mm:ss Z"):date}`'
        )
    return f"unexpected character {text[position : position + 1]!r} at column {position + 1} of the pattern"


def parse_rules(text: str) -> list[Rule]:
    """Each non-blank line of a rules text as a rule; GrokSyntaxError for a malformed line."""
    rules: list[Rule] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            start = offset + len(line) - len(line.lstrip())
            name, _, rest = stripped.partition(" ")
            if not RULE_NAME.fullmatch(name):
                raise GrokSyntaxError(
                    f"rule name {name!r} is not valid: it must start with a letter, digit or `_` and hold only "
                    "letters, digits, `_` and `.`; write each rule as `name pattern` on one line",
                    start,
                    name,
                )
            pattern = rest.strip()
            if not pattern:
                raise GrokSyntaxError(
                    f"rule {name!r} has no pattern; write each rule as `name pattern` on one line", start, name
                )
            pattern_start = start + len(name) + (len(rest) - len(rest.lstrip())) + 1
            try:
                parts = parse_pattern(pattern, pattern_start)
            except GrokSyntaxError as error:
                raise GrokSyntaxError(f"rule {name!r}: {error.message}", error.offset, name) from None
            rules.append(Rule(name, parts, number, start, pattern_start))
        offset += len(line) + 1
    return rules
