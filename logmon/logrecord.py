"""A log as Datadog holds it after intake: reserved attributes, nested attributes and tags.

The pipeline emulator produces these, and the search matcher, index router and monitor evaluator read
them. Attribute paths are dotted (`network.client.ip`); preprocessing has already turned flat dotted
JSON keys into nested objects, so a path walks nested mappings only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

RESERVED_ATTRIBUTES: Final = frozenset({"host", "source", "status", "service", "trace_id", "message"})
"""Searched without `@`: `service:payments`, `status:error`."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()
"""Returned for a path that a log does not have; distinct from a JSON null."""


@dataclass(slots=True)
class LogRecord:
    attributes: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    status: str = "info"
    service: str = ""
    host: str = ""
    source: str = ""
    trace_id: str = ""
    timestamp: float | None = None
    """Seconds since the epoch, UTC."""
    tags: list[str] = field(default_factory=list)
    """`key:value` (or bare `value`) strings, lower-case as Datadog stores them."""
    span_id: str = ""
    """Set by a span ID remapper: the span the log belongs to."""
    unknown: frozenset[str] = frozenset()
    """Attribute paths Datadog writes that the emulator cannot compute offline (a GeoIP lookup, a Reference
    Table): a query over one of them, or over anything below it, is undecidable rather than false."""

    def mark_unknown(self, path: str) -> None:
        """Record that Datadog sets `path` (and what lies below it) to a value unknown offline."""
        self.unknown = self.unknown | {path}

    def is_unknown(self, path: str) -> bool:
        """Whether the value at `path` is one the emulator cannot know (it lies at or below an unknown path)."""
        return any(path == unknown or path.startswith(unknown + ".") for unknown in self.unknown)

    def reserved(self, name: str) -> str:
        value: str = getattr(self, name)
        return value

    def get(self, path: str) -> Any:
        return get_path(self.attributes, path)

    def values(self, path: str) -> Iterator[Any]:
        return iter_path_values(self.attributes, path)


def iso(seconds: float | None) -> str | None:
    """Epoch seconds as the reports write a time: ISO 8601 in UTC, `Z`-suffixed; None stays None."""
    if seconds is None:
        return None
    # A window or period that ends after the last date there is (9999-12-31T23:59:59) is written as ending there.
    seconds = min(seconds, _LAST_SECOND)
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


_LAST_SECOND = datetime.max.replace(microsecond=0, tzinfo=UTC).timestamp()


def get_path(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path through nested mappings, or MISSING."""
    if "." not in path:
        return document.get(path, MISSING) if type(document) is dict else _get_parts(document, (path,))
    return _get_parts(document, path.split("."))


def get_parts(document: Mapping[str, Any], parts: tuple[str, ...]) -> Any:
    """`get_path` for a path already split on its dots (hot loops split once, up front)."""
    return _get_parts(document, parts)


_JSON_LEAVES: Final = frozenset({str, int, float, bool, list, type(None)})


def is_mapping(node: Any) -> bool:
    """A JSON object: logs decoded from JSON are plain dicts, and isinstance on the Mapping ABC costs several
    times more, so the common answers come from the exact type."""
    kind = type(node)
    if kind is dict:
        return True
    if kind in _JSON_LEAVES:
        return False
    return isinstance(node, Mapping)


def _get_parts(document: Any, parts: tuple[str, ...] | list[str]) -> Any:
    node = document
    for part in parts:
        if not is_mapping(node):
            return MISSING
        node = node.get(part, MISSING)
        if node is MISSING:
            return MISSING
    return node


def iter_path_values(document: Mapping[str, Any], path: str) -> Iterator[Any]:
    """Every scalar reachable at a dotted path, descending into arrays as Datadog search does.

    `@tags.name:x` matches `{"tags": [{"name": "x"}]}`, and `@ids:3` matches `{"ids": [1, 3]}`.
    """
    yield from _walk(document, path.split("."), 0)


def _walk(node: Any, parts: list[str], index: int) -> Iterator[Any]:
    if type(node) is list:
        for item in node:
            yield from _walk(item, parts, index)
        return
    if index == len(parts):
        yield node
        return
    if is_mapping(node):
        part = parts[index]
        if part in node:
            yield from _walk(node[part], parts, index + 1)


def set_path(document: MutableMapping[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, creating intermediate objects; a scalar in the way is replaced."""
    if "." not in path:
        document[path] = value
        return
    *parents, leaf = path.split(".")
    node: MutableMapping[str, Any] = document
    for part in parents:
        child: Any = node.get(part)
        if not is_mapping(child):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def pop_path(document: MutableMapping[str, Any], path: str) -> Any:
    """Remove and return the value at a dotted path (MISSING if absent); empty parents are pruned."""
    if "." not in path:
        return document.pop(path, MISSING)
    parts = path.split(".")
    trail: list[tuple[MutableMapping[str, Any], str]] = []
    node: Any = document
    for part in parts[:-1]:
        if not is_mapping(node) or part not in node:
            return MISSING
        trail.append((node, part))
        node = node[part]
    if not is_mapping(node) or parts[-1] not in node:
        return MISSING
    value = node.pop(parts[-1])
    for parent, key in reversed(trail):
        if parent[key]:
            break
        del parent[key]
    return value
