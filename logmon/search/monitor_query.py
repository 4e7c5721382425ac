"""Datadog log monitor queries, built from structured fields and parsed back.

    logs("@event_type:payment_completion").index("main").rollup("count").by("@merchant.id").last("5m") > 500

Building the text from fields is what keeps the threshold in the query equal to the monitor's
`options.thresholds.critical`; Datadog rejects a monitor whose two numbers disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from typing import Final, Literal, cast

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput, UnexpectedToken

from logmon.search.errors import SearchSyntaxError
from logmon.search.parser import parse

MonitorComparator = Literal[">", ">=", "<", "<="]

ROLLUPS: Final = (
    "count",
    "cardinality",
    "avg",
    "sum",
    "min",
    "max",
    "median",
    "pc75",
    "pc90",
    "pc95",
    "pc98",
    "pc99",
)
"""`count` counts logs; `cardinality` counts distinct values of a facet; the rest aggregate a measure."""

COMPARATORS: Final = (">", ">=", "<", "<=")
MAX_WINDOW_MINUTES: Final = 2880
"""Log monitors look back at most two days."""
MAX_GROUP_BY: Final = 4
"""Datadog groups a log monitor by up to four facets."""

_WINDOW = re.compile(r"([1-9]\d*)([mh])")
_INDEX_NAME = re.compile(r"[a-z][a-z0-9-]*")
_CALL_ORDER: Final = ("index", "rollup", "by", "last")


@dataclass(frozen=True, slots=True)
class MonitorQuery:
    search: str
    indexes: tuple[str, ...]
    """Index names, or `("*",)` for every index."""
    rollup: str
    measure: str | None
    """The facet or measure (`@usr.id`, `@duration`) for every rollup but `count`, which takes none."""
    group_by: tuple[str, ...]
    window_minutes: int
    window_text: str
    """As written in `.last(...)`: `5m`, `1h`."""
    comparator: MonitorComparator
    threshold: float

    def __post_init__(self) -> None:
        problem = (
            _search_problem(self.search)
            or _indexes_problem(self.indexes)
            or _rollup_problem(self.rollup, self.measure)
            or _group_by_problem(self.group_by)
            or _window_problem(self.window_text, self.window_minutes)
            or _comparator_problem(self.comparator)
            or _threshold_problem(self.threshold)
        )
        if problem:
            raise ValueError(problem)


def window_minutes(text: str) -> int:
    """`5m` → 5, `1h` → 60; ValueError outside Datadog's 1–2880 minutes / 1–48 hours."""
    problem = _window_problem(text, None)
    if problem:
        raise ValueError(problem)
    match = _WINDOW.fullmatch(text)
    assert match is not None
    return int(match[1]) * (60 if match[2] == "h" else 1)


def build_monitor_query(query: MonitorQuery) -> str:
    calls = [
        f"logs({_quote(query.search)})",
        f".index({_quote(','.join(query.indexes))})",
        f".rollup({_quote(query.rollup)})"
        if query.measure is None
        else f".rollup({_quote(query.rollup)}, {_quote(query.measure)})",
    ]
    if query.group_by:
        calls.append(f".by({_quote(','.join(query.group_by))})")
    calls.append(f".last({_quote(query.window_text)})")
    return f"{''.join(calls)} {query.comparator} {format_number(query.threshold)}"


def format_number(value: float) -> str:
    """Plain decimal notation, without a `.0` on whole numbers: 500, 0.25, 0.0000001."""
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")


def parse_monitor_query(text: str) -> MonitorQuery:
    """The fields of a log monitor query; SearchSyntaxError (with the position) when it is not one."""
    if not isinstance(text, str):
        raise SearchSyntaxError(f"a monitor query must be text, not {type(text).__name__}", "", 0)
    return _parse_monitor_text(text)


@lru_cache(maxsize=4096)
def _parse_monitor_text(text: str) -> MonitorQuery:
    """Lint, plan and the evaluator each read a monitor's query; MonitorQuery is immutable, so one parse
    serves them all (errors are raised again, never cached)."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        raise _explain(text, error) from None
    except LarkError as error:
        raise SearchSyntaxError(f"cannot parse the monitor query ({error})", text, 0) from None
    return _Reader(text).read(tree)


# --- reading -------------------------------------------------------------------------------------------


@cache
def _lark() -> Lark:
    grammar = files("logmon.search").joinpath("monitor_query.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, token: Token, hint: str | None = None) -> SearchSyntaxError:
        return SearchSyntaxError(message, self.text, token.start_pos or 0, hint)

    def read(self, tree: Tree[Token]) -> MonitorQuery:
        source, _open, search_token, _close, *calls, comparator, number = tree.children
        source, search_token = cast(Token, source), cast(Token, search_token)
        comparator, number = cast(Token, comparator), cast(Token, number)
        if source.value != "logs":
            raise self.fail(f"{source.value}() is not a log monitor query", source, 'start with logs("...")')
        search = self.search(search_token)
        arguments = self.calls([cast(Tree[Token], call) for call in calls], comparator)

        index_token = arguments.get("index")
        indexes = ("*",) if index_token is None else self.indexes(index_token[1][0])
        rollup, measure = self.rollup(arguments["rollup"][1])
        group_by = () if "by" not in arguments else self.group_by(arguments["by"][1][0])
        window_token = arguments["last"][1][0]
        window_text = _unquote(window_token.value)
        problem = _window_problem(window_text, None)
        if problem:
            raise self.fail(problem, window_token, 'write it like .last("5m") or .last("1h")')
        if comparator.value not in COMPARATORS:
            raise self.fail(f"comparator {comparator.value!r} is not supported", comparator, "use >, >=, < or <=")
        threshold = float(number.value)
        if not math.isfinite(threshold):
            raise self.fail("the threshold is not a finite number", number, "write a plain number like 500")
        return MonitorQuery(
            search=search,
            indexes=indexes,
            rollup=rollup,
            measure=measure,
            group_by=group_by,
            window_minutes=window_minutes(window_text),
            window_text=window_text,
            comparator=cast(MonitorComparator, comparator.value),
            threshold=threshold,
        )

    def search(self, token: Token) -> str:
        search, offsets = _decode(token.value)
        try:
            parse(search)
        except SearchSyntaxError as error:
            position = (token.start_pos or 0) + offsets[min(error.position, len(offsets) - 1)]
            raise SearchSyntaxError(f"in the search: {error.message}", self.text, position, error.hint) from None
        return search

    def calls(self, calls: list[Tree[Token]], comparator: Token) -> dict[str, tuple[Token, list[Token]]]:
        """Each call's name token and string arguments, checked for names, order and arity."""
        seen: dict[str, tuple[Token, list[Token]]] = {}
        for call in calls:
            name = cast(Token, call.children[1])
            arguments = [child for child in call.children[2:] if isinstance(child, Token) and child.type == "STRING"]
            if name.value not in _CALL_ORDER:
                raise self.fail(
                    f".{name.value}() is not part of a log monitor query",
                    name,
                    "use .index(), .rollup(), .by() and .last()",
                )
            if name.value in seen:
                raise self.fail(f".{name.value}() appears twice", name, "keep one of them")
            if any(_CALL_ORDER.index(other) > _CALL_ORDER.index(name.value) for other in seen):
                raise self.fail(
                    f".{name.value}() is out of order",
                    name,
                    "write .index(), .rollup(), .by(), .last() in that order",
                )
            wanted = (1, 2) if name.value == "rollup" else (1,)
            if len(arguments) not in wanted:
                raise self.fail(
                    f".{name.value}() takes {' or '.join(map(str, wanted))} quoted argument(s)",
                    name,
                    'write it like .rollup("count"), .rollup("avg", "@duration") or .last("5m")',
                )
            seen[name.value] = (name, arguments)
        for required in ("rollup", "last"):
            if required not in seen:
                raise self.fail(
                    f"the query has no .{required}()",
                    comparator,
                    'write it like logs("...").index("*").rollup("count").last("5m") > 10',
                )
        return seen

    def indexes(self, token: Token) -> tuple[str, ...]:
        indexes = tuple(_unquote(token.value).split(","))
        problem = _indexes_problem(indexes)
        if problem:
            raise self.fail(problem, token, 'list index names separated by commas, or "*" for all')
        return indexes

    def rollup(self, arguments: list[Token]) -> tuple[str, str | None]:
        rollup = _unquote(arguments[0].value)
        measure = _unquote(arguments[1].value) if len(arguments) == 2 else None
        problem = _rollup_problem(rollup, measure)
        if problem:
            raise self.fail(problem, arguments[0], f"rollups are {', '.join(ROLLUPS)}")
        return rollup, measure

    def group_by(self, token: Token) -> tuple[str, ...]:
        group_by = tuple(_unquote(token.value).split(","))
        problem = _group_by_problem(group_by)
        if problem:
            raise self.fail(problem, token, 'separate facets with commas: .by("@usr.id,service")')
        return group_by


def _explain(text: str, error: UnexpectedInput) -> SearchSyntaxError:
    position = getattr(error, "pos_in_stream", None)
    if isinstance(error, UnexpectedToken):
        position = error.token.start_pos if error.token.type != "$END" else len(text.rstrip())
    position = len(text) if position is None else position
    expected = sorted(getattr(error, "expected", None) or getattr(error, "allowed", None) or ())
    readable = {
        "STRING": "a double-quoted string",
        "NUMBER": "a number",
        "COMPARATOR": "a comparison (>, >=, <, <=)",
        "LPAR": "'('",
        "RPAR": "')'",
        "DOT": "'.'",
        "COMMA": "','",
        "NAME": "a name",
        "$END": "the end of the query",
        "<END-OF-FILE>": "the end of the query",
    }
    wanted = ", ".join(readable.get(name, name) for name in expected) or "something else"
    return SearchSyntaxError(
        f"malformed monitor query: expected {wanted}",
        text,
        position,
        'the form is logs("<search>").index("*").rollup("count").by("@facet").last("5m") > 10',
    )


# --- field rules, shared by construction and parsing -------------------------------------------------


def _search_problem(search: str) -> str | None:
    try:
        parse(search)
    except SearchSyntaxError as error:
        return f"search: {error}"
    return None


def _indexes_problem(indexes: tuple[str, ...]) -> str | None:
    if not indexes:
        return 'no index: use ("*",) for every index'
    if "*" in indexes:
        return None if indexes == ("*",) else '"*" already means every index; list it alone'
    for index in indexes:
        if not _INDEX_NAME.fullmatch(index):
            return f"{index!r} is not an index name (lower-case letters, digits and -, starting with a letter)"
    if len(set(indexes)) != len(indexes):
        return "an index is listed twice"
    return None


def _rollup_problem(rollup: str, measure: str | None) -> str | None:
    if rollup not in ROLLUPS:
        return f"{rollup!r} is not a log monitor rollup"
    if rollup == "count":
        return None if measure is None else "count takes no measure"
    if measure is None:
        return f"{rollup} needs a facet or measure, e.g. @duration"
    return _facet_problem(measure)


def _group_by_problem(group_by: tuple[str, ...]) -> str | None:
    if len(group_by) > MAX_GROUP_BY:
        return f"log monitors group by at most {MAX_GROUP_BY} facets"
    if len(set(group_by)) != len(group_by):
        return "a facet is grouped by twice"
    for facet in group_by:
        problem = _facet_problem(facet)
        if problem:
            return problem
    return None


def _facet_problem(facet: str) -> str | None:
    if (
        not facet
        or facet != facet.strip()
        or any(char in facet for char in ',"\\')
        or any(char.isspace() for char in facet)
    ):
        return f"{facet!r} is not a facet name (no spaces, commas, quotes or backslashes)"
    return None


def _window_problem(text: str, minutes: int | None) -> str | None:
    match = _WINDOW.fullmatch(text)
    if match is None:
        return f"window {text!r} must be minutes or hours, like 5m or 1h"
    value = int(match[1]) * (60 if match[2] == "h" else 1)
    if value > MAX_WINDOW_MINUTES:
        return f"window {text!r} is longer than Datadog's 2 days (2880m or 48h)"
    if minutes is not None and minutes != value:
        return f"window_minutes {minutes} disagrees with window_text {text!r} ({value} minutes)"
    return None


def _comparator_problem(comparator: str) -> str | None:
    return None if comparator in COMPARATORS else f"comparator {comparator!r} is not one of >, >=, <, <="


def _threshold_problem(threshold: float) -> str | None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        return f"threshold {threshold!r} is not a number"
    return None if math.isfinite(threshold) else "the threshold must be a finite number"


# --- string literals ---------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(literal: str) -> str:
    return _decode(literal)[0]


def _decode(literal: str) -> tuple[str, list[int]]:
    """The string inside quotes, and for each of its characters (plus the end) its offset in `literal`.

    `\\"` is a quote and `\\\\` a backslash; any other backslash is kept, so a hand-written
    `logs("a\\:b")` keeps its search escape.
    """
    chars: list[str] = []
    offsets: list[int] = []
    index = 1
    end = len(literal) - 1
    while index < end:
        offsets.append(index)
        if literal[index] == "\\" and index + 1 < end and literal[index + 1] in '"\\':
            chars.append(literal[index + 1])
            index += 2
            continue
        chars.append(literal[index])
        index += 1
    offsets.append(end)
    return "".join(chars), offsets
