"""YAML with its source positions: pyyaml node marks kept beside every value.

pyyaml keeps the last of two equal keys without a word; this loader reports them. Mappings and sequences
come back as `LocatedDict` and `LocatedList`, which carry the position of each key, value and item, so a
model built from them can say where any of its values was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_EXPANDED_NODES = 200_000
"""Aliases may point at large subtrees; a document that expands beyond this is refused (billion laughs)."""


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar as written in the file, able to map an offset in its value back to a file position."""

    location: Location
    style: str | None
    raw: str

    def position(self, offset: int) -> Location:
        line_offset, column = _source_offset(self.style, self.raw, offset)
        if line_offset is None:
            return self.location
        if line_offset == 0:
            return Location(self.location.file, self.location.line, self.location.column + column)
        return Location(self.location.file, self.location.line + line_offset, column + 1)


def _source_offset(style: str | None, raw: str, offset: int) -> tuple[int | None, int]:
    """(lines below the scalar's first line, column) of the value's `offset`; None when unknown."""
    if style in ("|", ">"):
        lines = raw.split("\n")
        body = lines[1:]
        indent = next((len(s) - len(s.lstrip(" ")) for s in body if s.strip()), 0)
        remaining = offset
        for number, text in enumerate(body, start=1):
            content = len(text) - indent if len(text) >= indent else 0
            if remaining <= content:
                return number, indent + remaining
            remaining -= content + 1
        return None, 0
    if "\n" in raw:
        return None, 0
    if not style:  # plain: the C loader says "", the pure-Python one None
        return 0, offset
    # Quoted: walk the escapes so the column lands on the character the value offset names.
    position, consumed = 1, 0
    while consumed < offset and position < len(raw) - 1:
        char = raw[position]
        if style == "'" and raw.startswith("''", position):
            position += 2
        elif style == '"' and char == "\\":
            width = {"x": 4, "u": 6, "U": 10}.get(raw[position + 1 : position + 2], 2)
            position += width
        else:
            position += 1
        consumed += 1
    return 0, position


class LocatedDict(dict[str, Any]):
    """A YAML mapping that remembers where it, each key and each value were written."""

    location: Location
    key_locations: dict[str, Location]
    value_locations: dict[str, Location]
    scalars: dict[str, Scalar]

    def where(self, key: str) -> Location:
        return self.value_locations.get(key, self.location)


class LocatedList(list[Any]):
    """A YAML sequence that remembers where it and each item were written."""

    location: Location
    item_locations: list[Location]
    scalars: dict[int, Scalar]

    def where(self, index: int) -> Location:
        return self.item_locations[index] if 0 <= index < len(self.item_locations) else self.location


_STR_TAG = "tag:yaml.org,2002:str"


class _LocatingLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    file_name: str
    text: str
    duplicate_findings: list[Finding]
    plain_tags: dict[str, str]
    """The tag of each plain scalar text met so far: rules repeat the same keys and values thousands of times,
    and the resolver's regular expressions would run on every one."""

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # For a plain scalar the implicit resolvers look at the text alone (no path resolvers are added).
        if kind is ScalarNode and implicit[0]:
            tag = self.plain_tags.get(value)
            if tag is None:
                tag = self.plain_tags[value] = super().resolve(kind, value, implicit)
            return tag
        return str(super().resolve(kind, value, implicit))

    def _value(self, node: Node) -> Any:
        """The node's value; text is taken as it stands, as pyyaml's own string constructor does."""
        if node.tag == _STR_TAG and type(node) is ScalarNode:
            return node.value
        return self.construct_object(node, deep=True)

    def _location(self, node: Node) -> Location:
        return Location(self.file_name, node.start_mark.line + 1, node.start_mark.column + 1)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> LocatedDict:
        if any(key_node.tag == "tag:yaml.org,2002:merge" for key_node, _ in node.value):
            self._check_duplicates(node)
            self.flatten_mapping(node)
            return self._located_mapping(node, check=False)
        return self._located_mapping(node, check=True)

    def _located_mapping(self, node: MappingNode, check: bool) -> LocatedDict:
        """The mapping with every key's and value's position; with `check`, equal keys are reported."""
        result = LocatedDict()
        result.location = self._location(node)
        key_locations: dict[str, Location] = {}
        value_locations: dict[str, Location] = {}
        scalars: dict[str, Scalar] = {}
        value_of, text, file_name = self._value, self.text, self.file_name
        for key_node, value_node in node.value:
            key = value_of(key_node)
            mark = key_node.start_mark
            key_location = Location(file_name, mark.line + 1, mark.column + 1)
            if not isinstance(key, str):
                raise _NonStringKey(key, key_location)
            if check and key in key_locations:
                self._duplicate(key, key_location, key_locations[key])
            result[key] = value_of(value_node)
            key_locations[key] = key_location
            mark = value_node.start_mark
            value_location = Location(file_name, mark.line + 1, mark.column + 1)
            value_locations[key] = value_location
            if type(value_node) is ScalarNode:
                scalars[key] = Scalar(value_location, value_node.style, text[mark.index : value_node.end_mark.index])
        result.key_locations = key_locations
        result.value_locations = value_locations
        result.scalars = scalars
        return result

    def _check_duplicates(self, node: MappingNode) -> None:
        seen: dict[Any, Location] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            where = self._location(key_node)
            if not isinstance(key, str):
                raise _NonStringKey(key, where)
            if key in seen:
                self._duplicate(key, where, seen[key])
            seen[key] = where

    def _duplicate(self, key: str, where: Location, first: Location) -> None:
        self.duplicate_findings.append(
            Finding(
                "yaml/duplicate-key",
                Severity.ERROR,
                where,
                f"key '{key}' is already defined at line {first.line}; YAML would silently keep "
                "only this one — remove or rename one of them",
                key,
            )
        )

    def construct_sequence(self, node: Node, deep: bool = False) -> LocatedList:
        value_of, locate, text = self._value, self._location, self.text
        children = node.value
        result = LocatedList([value_of(child) for child in children])
        result.location = locate(node)
        result.item_locations = locations = [locate(child) for child in children]
        result.scalars = {
            index: Scalar(locations[index], child.style, text[child.start_mark.index : child.end_mark.index])
            for index, child in enumerate(children)
            if type(child) is ScalarNode
        }
        return result


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _LocatingLoader.construct_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _LocatingLoader.construct_sequence)


class _NonStringKey(Exception):
    def __init__(self, key: Any, where: Location) -> None:
        self.key = key
        self.where = where


def parse_yaml(text: str, file_name: str) -> Any:
    """The document in `text`, with positions; raises RulesInvalid with `yaml/...` findings."""
    loader = _LocatingLoader(text)
    loader.file_name = file_name
    loader.text = text
    loader.duplicate_findings = []
    loader.plain_tags = {}
    try:
        document = loader.get_single_data()
    except _NonStringKey as error:
        raise RulesInvalid(
            [
                Finding(
                    "yaml/non-string-key",
                    Severity.ERROR,
                    error.where,
                    f"key {error.key!r} is read as {describe_type(error.key)}, not text; quote it",
                    str(error.key),
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = Location(file_name, mark.line + 1, mark.column + 1) if mark else Location(file_name, 1, 1)
        problem = " ".join(part for part in (error.context, error.problem) if part)
        hint = "fix the syntax here"
        found = text[mark.index : mark.index + 1] if mark is not None else ""
        if found == "\t":
            hint = "YAML does not allow tabs for indentation; indent with spaces"
        elif found in RESERVED_INDICATORS and error.problem == "found character that cannot start any token":
            hint = f"a value starting with '{found}' must be quoted, e.g. search: \"{found}event_type:...\""
        elif mark is not None and error.problem == "mapping values are not allowed in this context":
            swallowed = _swallowed_line(text, mark.line)
            if swallowed is not None:
                line, column = swallowed
                where = Location(file_name, line + 1, column + 1)
                hint = (
                    "this line has no `key: value` form at its siblings' indentation, so YAML read it as the "
                    "continuation of the value above; indent it like its siblings and write `key: value`"
                )
        raise RulesInvalid(
            [Finding("yaml/syntax", Severity.ERROR, where, f"malformed YAML: {problem}; {hint}")]
        ) from None
    except yaml.YAMLError as error:
        raise RulesInvalid([_reader_finding(error, file_name, text)]) from None
    except (ValueError, OverflowError) as error:  # e.g. an impossible date such as 2024-13-45
        raise RulesInvalid(
            [Finding("yaml/syntax", Severity.ERROR, Location(file_name, 1, 1), f"unreadable value: {error}")]
        ) from None
    except RecursionError:
        raise RulesInvalid(
            [Finding("yaml/syntax", Severity.ERROR, Location(file_name, 1, 1), "nesting is too deep to read")]
        ) from None
    finally:
        loader.dispose()
    if loader.duplicate_findings:
        raise RulesInvalid(loader.duplicate_findings)
    # Only aliases can expand a document beyond its text, and an alias needs an anchor (`&name`).
    if "&" in text and _expanded_size(document, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
        raise RulesInvalid(
            [
                Finding(
                    "yaml/too-large",
                    Severity.ERROR,
                    Location(file_name, 1, 1),
                    f"the document expands to more than {MAX_EXPANDED_NODES} values through aliases; "
                    "write the values out or use fewer aliases",
                )
            ]
        )
    return document


def offset_location(file_name: str, text: str, offset: int) -> Location:
    """The line and column of a character offset into `text`."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(file_name, text.count("\n", 0, offset) + 1, offset - line_start + 1)


RESERVED_INDICATORS = ("@", "`")
"""Characters YAML reserves: a plain value cannot start with them."""


def _swallowed_line(text: str, problem_line: int) -> tuple[int, int] | None:
    """(line, column), 0-based, of the first line before `problem_line` that a multi-line plain value took in.

    A line without `key:` that is dedented (or mis-indented) becomes part of the value above it; YAML only
    notices at the next `key:`, one or more lines later, which is not where the mistake is.
    """
    lines = text.split("\n")
    first = None
    for number in range(problem_line - 1, -1, -1):
        stripped = lines[number].strip()
        if not stripped or stripped.startswith(("#", "- ")) or stripped.endswith(":") or ": " in stripped:
            break
        first = number
    if first is None:
        return None
    return first, len(lines[first]) - len(lines[first].lstrip(" "))


def _reader_finding(error: yaml.YAMLError, file_name: str, text: str) -> Finding:
    position = getattr(error, "position", None)
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    where = offset_location(file_name, text, int(position)) if position is not None else Location(file_name, 1, 1)
    return Finding("yaml/syntax", Severity.ERROR, where, f"unreadable YAML: {message}")


def _expanded_size(document: Any, limit: int) -> int:
    count = 0
    stack = [document]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def not_utf8(file_name: str, error: UnicodeDecodeError) -> Finding:
    """A finding at the first byte that is not UTF-8."""
    before = bytes(error.object[: error.start]).decode("utf-8", errors="replace")
    return Finding(
        "yaml/syntax",
        Severity.ERROR,
        offset_location(file_name, before, len(before)),
        f"not UTF-8 text ({error.reason} at byte {error.start}); save the file as UTF-8",
    )


def load_yaml_file(path: Path, display_name: str | None = None) -> Any:
    """Parse one file; an unreadable or empty file is a finding, not an exception."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RulesInvalid([not_utf8(name, error)]) from None
    return parse_yaml(text, name)


def describe_type(value: Any) -> str:
    """How a YAML reader would name the type it read, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
