"""Datadog's Sensitive Data Scanner on a processed log: the group's filter, each rule's pattern, scope and
action, and the rule's tags on a log it changed.

As documented (DataDog/documentation `content/en/security/sensitive_data_scanner/setup/telemetry_data.md`,
`troubleshooting.md`): the message and attribute values are scanned, tags are not, nor are integer, float
and double values; the platform's reserved attributes (host, service, status, env, the trace and span IDs,
the date attributes, ...) are never redacted; each match is replaced whole by the replacement string, by
its hash, or has its first or last N characters masked with `*` (DataDog/dd-sensitive-data-scanner,
`match_action.rs`: the hash is FarmHash Fingerprint64 of the match, in hexadecimal).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import farmhash

from logmon.emulator.scanner_library import LIBRARY, Validator
from logmon.logrecord import LogRecord, is_mapping
from logmon.rules.model import ScannerReplacement, ScannerRule, ScannerScope, SensitiveDataScanner

Step = Callable[[LogRecord], None]

KEYWORD_WINDOW: Final = 30
"""Characters before a match in which one of the rule's keywords must start (Datadog's default)."""
PLATFORM_EXCLUDED: Final = frozenset(
    {
        "host",
        "hostname",
        "syslog.hostname",
        "service",
        "status",
        "env",
        "dd.trace_id",
        "trace_id",
        "dd.span_id",
        "span_id",
        "@timestamp",
        "timestamp",
        "_timestamp",
        "Timestamp",
        "date",
        "published_date",
        "syslog.timestamp",
        "error.fingerprint",
        "x-datadog-parent-id",
    }
)
"""Attributes the platform needs and the scanner never redacts (the docs' "Excluded namespaces", logs)."""
_LINK_CHARACTERS: Final = "-_. /"


class ScannerRuleInvalid(ValueError):
    """A custom regex that does not compile."""


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """Keywords as one case-insensitive pattern: whole words, with `-`, `_`, `.`, space and `/` between
    words interchangeable or left out, as Datadog's scanner reads them."""
    if not keywords:
        return None
    alternatives = []
    for keyword in keywords:
        text = keyword.strip()
        parts = []
        for position, character in enumerate(text):
            if character in _LINK_CHARACTERS:
                separator = "[-_. /]"
                parts.append(separator if position in (0, len(text) - 1) else separator + "?")
            else:
                parts.append(re.escape(character))
        body = "".join(parts)
        start = r"(?:\b|_)" if text[0].isalnum() else ""
        end = r"(?:\b|_)" if text[-1].isalnum() else ""
        alternatives.append(f"{start}{body}{end}")
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _replacer(replacement: ScannerReplacement) -> Callable[[str], str]:
    kind = replacement.type
    if kind == "replacement_string":
        fixed = replacement.replacement_string or ""
        return lambda _: fixed
    if kind == "hash":
        return lambda match: format(farmhash.fingerprint64(match), "x")
    count = replacement.number_of_chars or 0
    if kind == "partial_replacement_from_beginning":
        return lambda match: "*" * min(count, len(match)) + match[count:]
    return lambda match: match[: max(len(match) - count, 0)] + "*" * min(count, len(match))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    slug: str
    name: str
    pattern: re.Pattern[str]
    keywords: re.Pattern[str] | None
    validate: Validator | None
    scope: ScannerScope
    replace: Callable[[str], str]
    tags: tuple[str, ...]
    required: str = ""
    """Characters every match contains: a text lacking one cannot match (a fast test before the regex)."""
    gate: re.Pattern[str] | None = None
    """A cheap search the text must pass first (shared by rules with the same gate)."""

    def may_match(self, text: str) -> bool:
        """False when the text surely holds no match, without running the pattern."""
        return all(character in text for character in self.required)

    def redact(self, text: str, path: str) -> str:
        """The text with every accepted match replaced; the same object when nothing matched."""
        keyword_in_path = self.keywords is not None and self.keywords.search(path) is not None
        pieces: list[str] = []
        last = 0
        for match in self.pattern.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            if self.keywords is not None and not keyword_in_path:
                window = text[max(0, start - KEYWORD_WINDOW) : start]
                if self.keywords.search(window) is None:
                    continue
            found = match.group()
            if self.validate is not None and not self.validate(found):
                continue
            pieces.append(text[last:start])
            pieces.append(self.replace(found))
            last = end
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    def covers(self, path: str) -> bool:
        """Whether the rule scans the attribute at `path`: in its scope and not one the platform protects."""
        return path not in PLATFORM_EXCLUDED and self.scope.covers(path)

    def __call__(self, record: LogRecord) -> None:
        """This rule alone over the whole log (traces run rules one by one; `ScannerGroup` runs them all)."""
        changed = False
        if self.scope.covers("message") and record.message:
            redacted = self.redact(record.message, "message")
            if redacted is not record.message:
                record.message = redacted
                changed = True
        for container, key, path, value in _string_leaves(record.attributes, ""):
            if not self.covers(path):
                continue
            redacted = self.redact(value, path)
            if redacted is not value:
                container[key] = redacted
                changed = True
        if changed:
            for tag in self.tags:
                if tag not in record.tags:
                    record.tags.append(tag)


class ScannerGroup:
    """Every rule of the group in one pass over the log. Per attribute path, the rules that cover it and one
    search joining their cheap tests (a gate, or a character every match holds) pick out the few strings
    worth scanning; those go through the rules one after another, as `CompiledRule.__call__` (which
    `process_traced` runs) applies them."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = rules
        self._plans: dict[str, tuple[tuple[CompiledRule, ...], re.Pattern[str] | None]] = {}
        self._root = _PathNode("", (), None)

    def _plan(self, path: str) -> tuple[tuple[CompiledRule, ...], re.Pattern[str] | None]:
        """The rules covering `path`, and a search that finds nothing in a text none of them can match
        (None: every text must be scanned)."""
        plan = self._plans.get(path)
        if plan is None:
            rules = tuple(rule for rule in self.rules if rule.covers(path))
            tests = []
            for rule in rules:
                if rule.gate is not None:
                    tests.append(rule.gate.pattern)
                elif rule.required:
                    tests.append(re.escape(rule.required[0]))
                else:
                    tests = []
                    break
            search = re.compile("|".join(dict.fromkeys(tests))) if tests else None
            plan = (rules, search)
            if len(self._plans) < 4096:
                self._plans[path] = plan
        return plan

    @staticmethod
    def _scan(text: str, path: str, rules: tuple[CompiledRule, ...], changed: set[str]) -> str:
        gates: dict[int, bool] = {}
        for rule in rules:
            if not rule.may_match(text):
                continue
            gate = rule.gate
            if gate is not None:
                passed = gates.get(id(gate))
                if passed is None:
                    passed = gates[id(gate)] = gate.search(text) is not None
                if not passed:
                    continue
            redacted = rule.redact(text, path)
            if redacted is not text:
                text = redacted
                changed.add(rule.slug)
                gates.clear()
        return text

    def __call__(self, record: LogRecord) -> None:
        if not self.rules:
            return
        changed: set[str] = set()
        message = record.message
        if message:
            rules, search = self._plans.get("message") or self._plan("message")
            if rules and (search is None or search.search(message) is not None):
                record.message = self._scan(message, "message", rules, changed)
        self._walk(record.attributes, self._root, changed)
        if changed:
            for rule in self.rules:
                if rule.slug in changed:
                    for tag in rule.tags:
                        if tag not in record.tags:
                            record.tags.append(tag)

    def _child(self, node: _PathNode, key: str) -> _PathNode:
        path = f"{node.path}.{key}" if node.path else key
        child = _PathNode(path, *self._plan(path))
        if len(node.children) < 1024:
            node.children[key] = child
        return child

    def _walk(self, container: Any, node: _PathNode, changed: set[str]) -> None:
        """Scan every string under `container`, whose path is `node`'s; arrays keep their path."""
        if is_mapping(container):
            children = node.children
            for key, value in container.items():
                name = str(key)
                child = children.get(name) or self._child(node, name)
                self._visit(container, key, value, child, changed)
        else:
            for index, value in enumerate(container):
                self._visit(container, index, value, node, changed)

    def _visit(self, container: Any, key: Any, value: Any, node: _PathNode, changed: set[str]) -> None:
        kind = type(value)
        if kind is str:
            search = node.search
            if node.rules and (search is None or search.search(value) is not None):
                redacted = self._scan(value, node.path, node.rules, changed)
                if redacted is not value:
                    container[key] = redacted
        elif kind is dict or kind is list or (kind not in _SCALARS and is_mapping(value)):
            self._walk(value, node, changed)


_SCALARS: Final = frozenset({int, float, bool, type(None)})


class _PathNode:
    """One attribute path in the group's cache: its rules, its cheap search, and the paths under it."""

    __slots__ = ("children", "path", "rules", "search")

    def __init__(self, path: str, rules: tuple[CompiledRule, ...], search: re.Pattern[str] | None) -> None:
        self.path = path
        self.rules = rules
        self.search = search
        self.children: dict[str, _PathNode] = {}


def _string_leaves(node: Any, path: str) -> Iterator[tuple[Any, Any, str, str]]:
    """(container, key or index, attribute path, text) for every string value; arrays keep their path."""
    if is_mapping(node):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, str):
                yield node, key, child, value
            elif isinstance(value, dict | list) or is_mapping(value):
                yield from _string_leaves(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, str):
                yield node, index, path, value
            elif isinstance(value, dict | list) or is_mapping(value):
                yield from _string_leaves(value, path)


def compile_rule(scanner: SensitiveDataScanner, slug: str) -> CompiledRule | None:
    """One rule as a step; None for a library rule the emulator does not reproduce. ScannerRuleInvalid for
    a regex that does not compile."""
    rule: ScannerRule = scanner.rules[slug]
    validate: Validator | None = None
    gate: re.Pattern[str] | None = None
    keywords: tuple[str, ...] = ()
    if rule.library_rule is not None:
        library = LIBRARY.get(rule.library_rule)
        if library is None:
            return None
        pattern, keywords, validate, gate = library.pattern, library.keywords, library.validate, library.gate
    else:
        try:
            pattern = re.compile(rule.regex or "")
        except re.error as error:
            raise ScannerRuleInvalid(f"sensitive data rule '{slug}': the regex does not compile: {error}") from None
    return CompiledRule(
        slug,
        rule.name,
        pattern,
        _keyword_pattern(keywords),
        validate,
        scanner.scope(slug),
        _replacer(rule.replacement),
        tuple(tag.lower() for tag in rule.tags),
        required_characters(pattern),
        gate,
    )


def required_characters(pattern: re.Pattern[str]) -> str:
    """Characters every match of the pattern contains: its top-level literals (`@` and `.` of an email
    pattern). Empty when it cannot tell, which only costs speed."""
    try:
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern.pattern, pattern.flags)
        ignore_case = bool((pattern.flags | parsed.state.flags) & re.IGNORECASE)
        characters = [
            chr(argument)
            for operation, argument in parsed
            if operation == parser.LITERAL and not (ignore_case and chr(argument).lower() != chr(argument).upper())
        ]
    except Exception:  # the parser is CPython's own, read only for speed: any surprise means "no shortcut"
        return ""
    return "".join(dict.fromkeys(characters))
