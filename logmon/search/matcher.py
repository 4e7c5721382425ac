"""Compile a `Query` into a predicate over `LogRecord`, with Datadog's matching rules.

`compile_query` does all the work once: wildcards become globs, numbers are parsed and tag strings built
before the first record is seen, so the returned closure only compares. The rules, and where each comes
from, are in docs/search-semantics.md.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Final

from logmon.logrecord import MISSING, LogRecord, get_path, iter_path_values
from logmon.search.ast import (
    And,
    Cidr,
    Comparator,
    Comparison,
    Exists,
    FieldGroup,
    FieldKind,
    Group,
    Leaf,
    MatchAll,
    Node,
    Not,
    Number,
    Or,
    Pattern,
    PatternPart,
    Query,
    Range,
    Term,
    Wildcard,
)
from logmon.search.glob import Glob
from logmon.search.parser import parse
from logmon.search.values import parse_number

Matcher = Callable[[LogRecord], bool]
ValuePredicate = Callable[[Any], bool]

STATUS_NAMES: Final = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug", "ok")
"""The values `status:` can match, for checks that want to flag a misspelt status."""
_STATUS_ALIASES: Final = {"emerg": "emergency", "warn": "warning"}
"""Datadog shows and accepts the short forms too (`status:warn`); both spell the same status."""

_WORD = re.compile(r"\w+")
_EXACT_FLOAT_LIMIT: Final = 2.0**53


def compile_query(query: Query | Node) -> Matcher:
    """A predicate for the query; build it once and call it per record."""
    root = query.root if isinstance(query, Query) else query
    return _compile(root)


def matches(query: Query | str, record: LogRecord) -> bool:
    """One-off evaluation; compiled matchers are cached per query."""
    matcher = _compiled_text(query) if isinstance(query, str) else _compiled(query)
    return matcher(record)


@lru_cache(maxsize=512)
def _compiled(query: Query) -> Matcher:
    return compile_query(query)


@lru_cache(maxsize=512)
def _compiled_text(text: str) -> Matcher:
    return compile_query(parse(text))


def _always(record: LogRecord) -> bool:
    return True


def _never(record: LogRecord) -> bool:
    return False


# --- boolean structure ---------------------------------------------------------------------------------


def _compile(node: Node) -> Matcher:
    if isinstance(node, MatchAll):
        return _always
    if isinstance(node, And):
        return _all([_compile(child) for child in node.children])
    if isinstance(node, Or):
        values = _one_of(node)
        if values is not None:
            return values
        return _any([_compile(child) for child in node.children])
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda record: not inner(record)
    if isinstance(node, (Group, FieldGroup)):
        return _compile(node.child)
    return _leaf(node)


def _plain_terms(node: Node) -> list[Term] | None:
    """The terms of an OR of plain values, flattened through groups; None if anything else is inside."""
    while isinstance(node, (Group, FieldGroup)):
        node = node.child
    if isinstance(node, Term):
        return None if node.has_wildcards else [node]
    if isinstance(node, Or):
        terms: list[Term] = []
        for child in node.children:
            inner = _plain_terms(child)
            if inner is None:
                return None
            terms.extend(inner)
        return terms
    return None


def _one_of(node: Or) -> Matcher | None:
    """`@a:(x OR y OR z)` as one lookup and a set test instead of one closure per value.

    Equivalent to the OR of `_equals_predicate`s: strings compare exactly, numbers by value, booleans by
    the words true/false.
    """
    terms = _plain_terms(node)
    if terms is None or len(terms) < 3:
        return None
    fields = {(term.field.kind, term.field.path) for term in terms}
    if len(fields) != 1 or terms[0].field.kind is not FieldKind.ATTRIBUTE:
        return None
    texts = frozenset(term.value for term in terms)
    numbers = frozenset(n for n in (parse_number(text) for text in texts) if n is not None)
    booleans = frozenset({"true": True, "false": False}[text] for text in texts if text in ("true", "false"))

    def member(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in texts
        if kind is bool:
            return value in booleans
        if kind is int or kind is float:
            return value in numbers
        return isinstance(value, str) and value in texts

    return _attribute(terms[0].field.path, member)


def _all(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda record: first(record) and second(record)

    def every(record: LogRecord) -> bool:
        # A plain loop: all() over a generator costs a frame per record on the hot path.
        for matcher in matchers:  # noqa: SIM110
            if not matcher(record):
                return False
        return True

    return every


def _any(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda record: first(record) or second(record)

    def some(record: LogRecord) -> bool:
        for matcher in matchers:  # noqa: SIM110
            if matcher(record):
                return True
        return False

    return some


def _leaf(node: Leaf) -> Matcher:
    kind = node.field.kind
    if kind is FieldKind.ATTRIBUTE:
        return _attribute(node.field.path, _value_predicate(node))
    if kind is FieldKind.TAG:
        return _tag(node)
    if kind is FieldKind.RESERVED:
        return _reserved(node)
    if kind is FieldKind.FREE_TEXT:
        return _message_words(node.pattern) if isinstance(node, Term) else _never
    return _any_attribute(node)


# --- custom attributes ---------------------------------------------------------------------------------


def _attribute(path: str, predicate: ValuePredicate) -> Matcher:
    """Any value at `path` (every element of an array on the way) satisfies `predicate`."""
    if "." not in path:

        def top_level(record: LogRecord) -> bool:
            value = record.attributes.get(path, MISSING)
            if value is MISSING:
                return False
            if type(value) is list:
                return any(predicate(item) for item in iter_path_values(record.attributes, path))
            return predicate(value)

        return top_level

    head = path.split(".", 1)[0]

    def nested(record: LogRecord) -> bool:
        attributes = record.attributes
        if head not in attributes:
            return False
        value = get_path(attributes, path)
        if value is MISSING or type(value) is list:
            # An array on the way (or at the end): Datadog searches every element.
            return any(predicate(item) for item in iter_path_values(attributes, path))
        return predicate(value)

    return nested


def _value_predicate(node: Leaf) -> ValuePredicate:
    if isinstance(node, Exists):
        return _present
    if isinstance(node, Term):
        if node.has_wildcards:
            return _glob_predicate(Glob(node.pattern))
        return _equals_predicate(node.value)
    if isinstance(node, (Comparison, Range)):
        return _number_test(node)
    return _cidr_predicate(node)


def _present(value: Any) -> bool:
    return True


def _equals_predicate(text: str) -> ValuePredicate:
    """Whole-value, case-sensitive equality; `404` also equals the number 404 and `false` the boolean."""
    number = parse_number(text)
    boolean = {"true": True, "false": False}.get(text)

    def equals(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return bool(value == text)
        if kind is bool:
            return value is boolean
        if kind is int or kind is float:
            return number is not None and bool(value == number)
        return isinstance(value, str) and value == text

    return equals


def _glob_predicate(glob: Glob) -> ValuePredicate:
    def globbed(value: Any) -> bool:
        text = _scalar_text(value)
        return text is not None and glob.fullmatch(text)

    return globbed


def _number_test(node: Comparison | Range) -> ValuePredicate:
    """True for a JSON number within the bounds; a string "150" is not a measure, nor is a boolean.

    Each case is its own closure so the hot path is one call with the type check inline.
    """
    if isinstance(node, Comparison):
        return _bound(node.op, node.value)
    low, high = node.low, node.high
    if low is None and high is None:
        return lambda v: type(v) is int or (type(v) is float and not math.isnan(v))
    if low is None:
        assert high is not None
        return _bound("<=" if node.inclusive else "<", high)
    if high is None:
        return _bound(">=" if node.inclusive else ">", low)
    if node.inclusive:
        return lambda v: (type(v) is int or type(v) is float) and low <= v <= high
    return lambda v: (type(v) is int or type(v) is float) and low < v < high


def _bound(op: Comparator, bound: Number) -> ValuePredicate:
    if op == ">":
        return lambda v: (type(v) is int or type(v) is float) and v > bound
    if op == ">=":
        return lambda v: (type(v) is int or type(v) is float) and v >= bound
    if op == "<":
        return lambda v: (type(v) is int or type(v) is float) and v < bound
    return lambda v: (type(v) is int or type(v) is float) and v <= bound


def _cidr_predicate(node: Cidr) -> ValuePredicate:
    by_version: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
    for network in node.networks:
        by_version[network.version].append((int(network.network_address), int(network.broadcast_address)))

    def inside(value: Any) -> bool:
        if type(value) is not str:
            return False
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        number = int(address)
        return any(low <= number <= high for low, high in by_version[address.version])

    return inside


# --- tags ----------------------------------------------------------------------------------------------


def _tag(node: Leaf) -> Matcher:
    """`key:value` against `record.tags` (`key:value` strings, lower-case as Datadog stores them)."""
    key = node.field.path.lower()
    whole_tag = key == "tags"  # `tags:<tag>` matches a tag string as a whole, for tags without a key
    prefix = "" if whole_tag else f"{key}:"
    if isinstance(node, Exists):
        if whole_tag:
            return lambda record: bool(record.tags)
        return lambda record: any(tag == key or tag.startswith(prefix) for tag in record.tags)
    if isinstance(node, Term):
        if node.has_wildcards:
            glob = Glob((prefix, *node.pattern) if prefix else node.pattern, ignore_case=True)
            return lambda record: any(glob.fullmatch(tag) for tag in record.tags)
        target = prefix + node.value.lower()
        return lambda record: target in record.tags
    if isinstance(node, (Comparison, Range)):
        test = _number_test(node)
        start = len(prefix)

        def tag_number(record: LogRecord) -> bool:
            for tag in record.tags:
                if tag.startswith(prefix):
                    number = parse_number(tag[start:])
                    if number is not None and test(number):
                        return True
            return False

        return tag_number
    return _never  # CIDR takes attributes only


# --- reserved attributes -------------------------------------------------------------------------------


def _reserved(node: Leaf) -> Matcher:
    name = node.field.path
    if name == "message":
        return _message(node)
    if name == "status":
        return _status(node)
    if isinstance(node, Exists):
        return lambda record: bool(getattr(record, name))
    if isinstance(node, Term):
        if node.has_wildcards:
            glob = Glob(node.pattern)
            return lambda record: glob.fullmatch(getattr(record, name))
        text = node.value
        return lambda record: bool(getattr(record, name) == text)
    return _never  # reserved attributes are strings: no numeric comparison matches


def _status(node: Leaf) -> Matcher:
    if isinstance(node, Exists):
        return lambda record: bool(record.status)
    if isinstance(node, Term):
        if node.has_wildcards:
            glob = Glob(node.pattern, ignore_case=True)
            return lambda record: glob.fullmatch(_canonical_status(record.status))
        wanted = _canonical_status(node.value)
        return lambda record: record.status == wanted or _canonical_status(record.status) == wanted
    return _never


def _canonical_status(text: str) -> str:
    lowered = text.lower()
    return _STATUS_ALIASES.get(lowered, lowered)


def _message(node: Leaf) -> Matcher:
    if isinstance(node, Exists):
        return lambda record: bool(record.message)
    if isinstance(node, Term):
        if node.has_wildcards:
            # `message:*timeout*` globs the whole message, so it can find punctuation words cannot.
            glob = Glob(node.pattern, ignore_case=True)
            return lambda record: glob.fullmatch(record.message)
        return _message_words(node.pattern)
    return _never


# --- free text -----------------------------------------------------------------------------------------

_last_message: list[list[Any]] = [["", "", ()]]
"""The most recent message, lower-cased and (once asked for) split into words. Every free-text leaf of
every query reading the same record shares it. The entry is replaced whole, so a concurrent reader sees
either the old message's entry or the new one's."""


def _message_entry(message: str) -> list[Any]:
    entry = _last_message[0]
    if entry[0] is not message:
        entry = [message, message.lower(), None]
        _last_message[0] = entry
    return entry


def _words_of(entry: list[Any]) -> tuple[str, ...]:
    words: tuple[str, ...] | None = entry[2]
    if words is None:
        words = tuple(_WORD.findall(entry[1]))
        entry[2] = words
    return words


def _message_words(pattern: Pattern) -> Matcher:
    """Free text: the query's words appear consecutively among the message's words, ignoring case."""
    tests, needle = _word_tests(pattern)
    if not tests:
        return _never  # only punctuation: Datadog cannot search for special characters in a message

    if len(tests) == 1 and isinstance(tests[0], str):
        word = tests[0]

        def one_word(record: LogRecord) -> bool:
            entry = _message_entry(record.message)
            return word in entry[1] and word in _words_of(entry)

        return one_word

    def word_sequence(record: LogRecord) -> bool:
        entry = _message_entry(record.message)
        return needle in entry[1] and _contains_sequence(_words_of(entry), tests)

    return word_sequence


def _word_tests(pattern: Pattern) -> tuple[list[str | Glob], str]:
    """Split a value into words the way messages are split; a word with wildcards becomes a glob.

    Returns the tests and the longest literal run, which must occur in any matching message.
    """
    words: list[list[PatternPart]] = [[]]
    for part in pattern:
        if isinstance(part, Wildcard):
            words[-1].append(part)
            continue
        pieces = re.split(r"(\W+)", part.lower())
        for index, piece in enumerate(pieces):
            if index % 2:  # a separator ends the current word
                words.append([])
            elif piece:
                words[-1].append(piece)
    tests: list[str | Glob] = []
    literals: list[str] = []
    for word in words:
        if not word:
            continue
        if any(isinstance(part, Wildcard) for part in word):
            tests.append(Glob(tuple(word)))
        else:
            text = "".join(part for part in word if isinstance(part, str))
            tests.append(text)
        literals.extend(part for part in word if isinstance(part, str))
    return tests, max(literals, key=len, default="")


def _contains_sequence(words: tuple[str, ...], tests: list[str | Glob]) -> bool:
    span = len(tests)
    for start in range(len(words) - span + 1):
        for offset, test in enumerate(tests):
            word = words[start + offset]
            if isinstance(test, str):
                if word != test:
                    break
            elif not test.fullmatch(word):
                break
        else:
            return True
    return False


# --- every attribute -----------------------------------------------------------------------------------


def _any_attribute(node: Leaf) -> Matcher:
    """`*:term`: full-text search of the message, the reserved attributes and every attribute value."""
    if not isinstance(node, Term):
        return _never
    tests, _ = _word_tests(node.pattern)
    if not tests:
        return _never

    def anywhere(record: LogRecord) -> bool:
        return any(_contains_sequence(tuple(_WORD.findall(text.lower())), tests) for text in _all_texts(record))

    return anywhere


def _all_texts(record: LogRecord) -> Iterator[str]:
    yield record.message
    yield record.service
    yield record.host
    yield record.source
    yield record.status
    yield record.trace_id
    pending: list[Any] = [record.attributes]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        else:
            text = _scalar_text(value)
            if text is not None:
                yield text


# --- values --------------------------------------------------------------------------------------------


def _scalar_text(value: Any) -> str | None:
    """A JSON scalar as text for wildcard and full-text search; None for objects, arrays and null."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        try:
            return str(value)
        except ValueError:  # more digits than Python will print
            return None
    if kind is float:
        if value.is_integer() and abs(value) < _EXACT_FLOAT_LIMIT:
            return str(int(value))
        return repr(value)
    return value if isinstance(value, str) else None
