"""Grok rules compiled to Python regular expressions, and a parser that applies them as Datadog does.

- Match rules are tried top to bottom; the first whose pattern matches the **whole** text parses it (Datadog
  anchors every rule with `^...$`). When none matches, the log is left unchanged.
- `%{name}` inlines a support rule, or a match rule written above the referencing rule.
- Each extracted value goes through its matcher's conversion (`integer` → int, `number` → float, `date` →
  epoch milliseconds, ...) and then its filter. Null and empty values are not written; a filter that cannot
  apply leaves its attribute out. A value extracted twice into one attribute becomes an array; two objects
  into one attribute are merged. A filter without an attribute (`%{data::keyvalue}`) merges its object at
  the root and is ignored when its result is not an object.

Datadog's own grok library (vectordotdev/vrl, `lib/datadog/grok`) and its docs
(DataDog/documentation `logs/log_configuration/parsing.md`) are the references; docs/pipelines.md lists
where this emulation differs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from logmon.emulator.grok.dates import DatePatternError, compile_date
from logmon.emulator.grok.filters import FAILED, Filter, GrokFilterError, build_filter
from logmon.emulator.grok.syntax import Call, GrokSyntaxError, GrokToken, Rule, parse_rules

Converter = Callable[[str, int], Any]
"""The matched text and the log's year → the value written (FAILED when it is not one)."""

RulesField = Literal["match_rules", "support_rules"]

_IPV4: Final = r"(?<![0-9])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9])"
_H16: Final = r"[0-9A-Fa-f]{1,4}"
_IPV6: Final = (
    "(?:"
    + "|".join(
        [
            rf"(?:{_H16}:){{7}}{_H16}",
            rf"(?:{_H16}:){{1,7}}:",
            rf"(?:{_H16}:){{1,6}}:{_H16}",
            rf"(?:{_H16}:){{1,5}}(?::{_H16}){{1,2}}",
            rf"(?:{_H16}:){{1,4}}(?::{_H16}){{1,3}}",
            rf"(?:{_H16}:){{1,3}}(?::{_H16}){{1,4}}",
            rf"(?:{_H16}:){{1,2}}(?::{_H16}){{1,5}}",
            rf"{_H16}:(?::{_H16}){{1,6}}",
            rf":(?:(?::{_H16}){{1,7}}|:)",
            rf"(?:{_H16}:){{6}}{_IPV4}",
            rf"::(?:[Ff]{{4}}:)?{_IPV4}",
            rf"(?:{_H16}:){{1,5}}:{_IPV4}",
        ]
    )
    + r")(?:%[0-9A-Za-z]+)?"
)
_HOSTNAME: Final = r"\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*(?:\.|\b)"


def _as_text(text: str, year: int) -> str:
    return text


def _as_int(text: str, year: int) -> Any:
    return int(text)


def _as_float(text: str, year: int) -> Any:
    return float(text)


def _as_int_ext(text: str, year: int) -> Any:
    return int(float(text))


def _as_bool(text: str, year: int) -> Any:
    return text.lower() == "true"


MATCHERS: Final[dict[str, tuple[str, Converter]]] = {
    "notSpace": (r"\S+", _as_text),
    "data": (r"[\s\S]*", _as_text),
    "word": (r"\b\w+\b", _as_text),
    "integer": (r"[+-]?\d+", _as_int),
    "integerStr": (r"[+-]?\d+", _as_text),
    "integerExt": (r"[+-]?\d+(?:[eE][+-]?\d+)?", _as_int_ext),
    "integerExtStr": (r"[+-]?\d+(?:[eE][+-]?\d+)?", _as_text),
    "number": (r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", _as_float),
    "numberStr": (r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", _as_text),
    "numberExt": (r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", _as_float),
    "numberExtStr": (r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", _as_text),
    "doubleQuotedString": (r'"(?:[^"\\]|\\.)*"', _as_text),
    "singleQuotedString": (r"'(?:[^'\\]|\\.)*'", _as_text),
    "quotedString": (r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', _as_text),
    "uuid": (r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}", _as_text),
    "mac": (r"(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}", _as_text),
    "ipv4": (_IPV4, _as_text),
    "ipv6": (_IPV6, _as_text),
    "ip": (f"{_IPV6}|{_IPV4}", _as_text),
    "hostname": (_HOSTNAME, _as_text),
    "ipOrHost": (f"{_IPV6}|{_IPV4}|{_HOSTNAME}", _as_text),
    "port": (r"\b(?:6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}|0)\b", _as_text),
}
"""Datadog's matchers without arguments: the regex each matches and how its text becomes a value."""

ARGUMENT_MATCHERS: Final = ("date", "regex", "boolean")


class GrokCompileError(ValueError):
    """A rule that cannot be compiled: which field and character offset of the rules text, and why."""

    def __init__(self, message: str, field_name: RulesField, offset: int, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field_name
        self.offset = offset
        self.rule = rule


@dataclass(frozen=True, slots=True)
class _Capture:
    group: str
    path: str | None
    convert: Converter
    filter: Filter | None


@dataclass
class _Fragment:
    regex: str
    captures: list[_Capture] = field(default_factory=list)


_NAMED_GROUP: Final = re.compile(r"\(\?<(?![=!])([A-Za-z_][A-Za-z0-9_.@\-]*)>")


@dataclass(frozen=True)
class CompiledRule:
    name: str
    regex: re.Pattern[str]
    captures: tuple[_Capture, ...]
    line: int


class _Compiler:
    def __init__(self, match: list[Rule], support: list[Rule]) -> None:
        self._match = match
        self._support = {rule.name: rule for rule in support}
        self._counter = 0

    def group(self) -> str:
        self._counter += 1
        return f"g{self._counter}"

    def fragment(self, rule: Rule, field_name: RulesField, visiting: tuple[str, ...]) -> _Fragment:
        result = _Fragment("")
        pieces: list[str] = []
        for part in rule.pattern:
            if isinstance(part, str):
                pieces.append(self._text(part, result))
                continue
            try:
                pieces.append(self._token(part, rule, field_name, visiting, result))
            except (GrokFilterError, DatePatternError) as error:
                raise GrokCompileError(f"rule {rule.name!r}: {error}", field_name, part.offset, rule.name) from None
        result.regex = "".join(pieces)
        return result

    def _text(self, text: str, result: _Fragment) -> str:
        """Regex text as written; `(?<name>...)` groups (Java's syntax) extract into `name`."""

        def named(match: re.Match[str]) -> str:
            group = self.group()
            result.captures.append(_Capture(group, match[1], _as_text, None))
            return f"(?P<{group}>"

        return _NAMED_GROUP.sub(named, text)

    def _token(
        self, token: GrokToken, rule: Rule, field_name: RulesField, visiting: tuple[str, ...], result: _Fragment
    ) -> str:
        matcher = token.matcher
        filter_ = build_filter(token.filter) if token.filter is not None else None
        if matcher.name in MATCHERS:
            if matcher.args:
                raise GrokFilterError(f"the matcher '{matcher.name}' takes no arguments")
            regex, convert = MATCHERS[matcher.name]
        elif matcher.name in ARGUMENT_MATCHERS:
            regex, convert = _argument_matcher(matcher)
        else:
            referenced = self._reference(matcher.name, rule, field_name, token.offset)
            if matcher.name in visiting:
                raise GrokCompileError(
                    f"rule {rule.name!r}: `%{{{matcher.name}}}` refers back to itself", field_name, token.offset
                )
            inner = self.fragment(
                referenced, "support_rules" if matcher.name in self._support else field_name, (*visiting, matcher.name)
            )
            result.captures.extend(inner.captures)
            if token.extract is None and filter_ is None:
                return f"(?:{inner.regex})"
            regex, convert = inner.regex, _as_text
        if token.extract is None and filter_ is None:
            return f"(?:{regex})"
        group = self.group()
        result.captures.append(_Capture(group, token.extract, convert, filter_))
        return f"(?P<{group}>{regex})"

    def _reference(self, name: str, rule: Rule, field_name: RulesField, offset: int) -> Rule:
        if name in self._support:
            return self._support[name]
        above = (
            {match.name: match for match in self._match if match.line < rule.line}
            if field_name == "match_rules"
            else {}
        )
        if name in above:
            return above[name]
        raise GrokCompileError(
            f"rule {rule.name!r}: unknown matcher or rule '{name}'; use one of Datadog's matchers "
            f"({', '.join([*ARGUMENT_MATCHERS, *MATCHERS])}), a support rule, or a match rule written above",
            field_name,
            offset,
            rule.name,
        )


def _argument_matcher(call: Call) -> tuple[str, Converter]:
    args = call.args
    if not all(isinstance(arg, str) for arg in args):
        raise GrokFilterError(f"invalid arguments for the matcher '{call.name}': quote them")
    texts = [str(arg) for arg in args]
    if call.name == "regex":
        if len(texts) != 1:
            raise GrokFilterError('regex takes one quoted pattern, e.g. regex("[a-z]+")')
        try:
            re.compile(texts[0])
        except re.error as error:
            raise GrokFilterError(f"regex({texts[0]!r}) is not a valid regular expression: {error}") from None
        return f"(?:{texts[0]})", _as_text
    if call.name == "boolean":
        if not texts:
            return r"(?i:true|false)", _as_bool
        if len(texts) != 2:
            raise GrokFilterError('boolean takes no arguments, or the true and false patterns: boolean("ok", "no")')
        true, false = texts
        return f"{re.escape(true)}|{re.escape(false)}", lambda text, year: text == true
    if not 1 <= len(texts) <= 3:
        raise GrokFilterError('date takes a pattern, then optionally a time zone and a locale: date("dd/MMM/yyyy")')
    matcher = compile_date(*texts)

    def convert(text: str, year: int) -> Any:
        millis = matcher.to_millis(text, year)
        return FAILED if millis is None else millis

    return matcher.regex, convert


def _parse(text: str, field_name: RulesField) -> list[Rule]:
    try:
        return parse_rules(text)
    except GrokSyntaxError as error:
        raise GrokCompileError(error.message, field_name, error.offset, error.rule) from None


@dataclass(frozen=True)
class GrokParser:
    rules: tuple[CompiledRule, ...]

    def parse(self, text: str, year: int | None = None) -> tuple[str, dict[str, Any]] | None:
        """(the matching rule's name, the attributes it extracts), or None when no rule matches."""
        for rule in self.rules:
            match = rule.regex.fullmatch(text)
            if match is not None:
                return rule.name, _extract(match, rule.captures, year if year is not None else _this_year())
        return None


def _this_year() -> int:
    return datetime.now(UTC).year


def _extract(match: re.Match[str], captures: tuple[_Capture, ...], year: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    built: set[int] = set()
    """The arrays this extraction made from repeated values, which further values extend."""
    for capture in sorted(captures, key=lambda c: match.start(c.group)):
        text = match.group(capture.group)
        if text is None:
            continue
        try:
            value = capture.convert(text, year)
        except (ValueError, OverflowError):
            value = FAILED
        if value is not FAILED and capture.filter is not None:
            value = capture.filter(value)
        if value is FAILED or value is None or value == "":
            continue
        if capture.path is None:
            if isinstance(value, Mapping):
                for key, inner in value.items():
                    if inner is not None and inner != "":
                        _insert(result, [key], inner, built)
            continue
        _insert(result, capture.path.split("."), value, built)
    return result


def _insert(target: dict[str, Any], parts: list[str], value: Any, built: set[int]) -> None:
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    last = parts[-1]
    existing = node.get(last)
    if last not in node:
        node[last] = value
    elif isinstance(existing, dict) and isinstance(value, Mapping):
        for key, inner in value.items():
            _insert(existing, [key], inner, built)
    elif isinstance(existing, list) and id(existing) in built:
        existing.append(value)
    else:
        array = [existing, value]
        built.add(id(array))
        node[last] = array


@functools.lru_cache(maxsize=256)
def compile_grok(match_rules: str, support_rules: str = "") -> GrokParser:
    """Match and support rules as a parser; GrokCompileError for the first rule that cannot be compiled.

    Parsers are immutable, so lint's checks and the emulator share one per rules text."""
    match = _parse(match_rules, "match_rules")
    support = _parse(support_rules, "support_rules")
    if not match:
        raise GrokCompileError("no match rule: write at least one `name pattern` line", "match_rules", 0)
    for rules, field_name in ((match, "match_rules"), (support, "support_rules")):
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise GrokCompileError(
                    f"rule name {rule.name!r} is used twice; rule names are unique in a grok parser",
                    field_name,  # type: ignore[arg-type]
                    rule.offset,
                    rule.name,
                )
            seen.add(rule.name)
    compiler = _Compiler(match, support)
    for rule in support:
        _compiled(compiler, rule, "support_rules")
    return GrokParser(tuple(_compiled(compiler, rule, "match_rules") for rule in match))


def _compiled(compiler: _Compiler, rule: Rule, field_name: RulesField) -> CompiledRule:
    fragment = compiler.fragment(rule, field_name, (rule.name,))
    try:
        regex = re.compile(fragment.regex)
    except re.error as error:
        raise GrokCompileError(
            f"rule {rule.name!r} is not a valid regular expression: {error.msg}",
            field_name,
            rule.pattern_offset,
            rule.name,
        ) from None
    except RecursionError:
        raise GrokCompileError(
            f"rule {rule.name!r} nests too deeply", field_name, rule.pattern_offset, rule.name
        ) from None
    return CompiledRule(rule.name, regex, tuple(fragment.captures), rule.line)
