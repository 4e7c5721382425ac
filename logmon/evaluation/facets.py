"""Reading a facet from a processed log: `@attribute`, a reserved attribute, or a tag."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from logmon.logrecord import MISSING, RESERVED_ATTRIBUTES, LogRecord, get_parts, is_mapping, iter_path_values

FacetReader = Callable[[LogRecord], Any]
NOT_AVAILABLE = "N/A"
"""What Datadog shows for a group whose log lacks the facet."""


def facet_reader(facet: str) -> FacetReader:
    """A reader for `@a.b`, `service`/`status`/`host`/`source`/`trace_id`, or a tag key; MISSING when absent."""
    if facet.startswith("@"):
        parts = tuple(facet[1:].split("."))

        def attribute(record: LogRecord) -> Any:
            return get_parts(record.attributes, parts)

        return attribute
    if facet in RESERVED_ATTRIBUTES:

        def reserved(record: LogRecord) -> Any:
            value = getattr(record, facet)
            return value if value else MISSING

        return reserved
    prefix = facet.lower() + ":"

    def tag(record: LogRecord) -> Any:
        for item in record.tags:
            if item.startswith(prefix):
                return item[len(prefix) :]
        return MISSING

    return tag


def group_value(value: Any) -> str:
    """A facet value as the text a group is named by."""
    if value is MISSING or value is None:
        return NOT_AVAILABLE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any) -> float | None:
    """A measure's numeric value; None for anything that is not a number."""
    if isinstance(value, bool) or value is MISSING or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


FacetValues = Callable[[LogRecord], list[str]]


def facet_values(facet: str) -> FacetValues:
    """Every group name a log gives `facet`, as Datadog groups it: one per element of an array, through arrays
    of objects as search reads them (`iter_path_values`), one per value of a tag the log carries several
    times; `[N/A]` when the log has none."""
    if facet.startswith("@"):
        path = facet[1:]

        def attribute(record: LogRecord) -> list[str]:
            return _names(iter_path_values(record.attributes, path))

        return attribute
    if facet in RESERVED_ATTRIBUTES:

        def reserved(record: LogRecord) -> list[str]:
            value = getattr(record, facet)
            return [str(value)] if value else [NOT_AVAILABLE]

        return reserved
    prefix = facet.lower() + ":"

    def tag(record: LogRecord) -> list[str]:
        return _names(item[len(prefix) :] for item in record.tags if item.startswith(prefix))

    return tag


def _names(values: Iterable[Any]) -> list[str]:
    names = list(dict.fromkeys(group_value(value) for value in values if value is not None and not is_mapping(value)))
    return names or [NOT_AVAILABLE]


def numbers(record: LogRecord, path: str) -> list[float]:
    """A measure's numeric values at `path` (one per array element); non-numbers are not measures."""
    found = []
    for value in iter_path_values(record.attributes, path):
        result = number(value)
        if result is not None:
            found.append(result)
    return found
