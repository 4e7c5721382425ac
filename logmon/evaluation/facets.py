"""Reading a facet from a processed log: `@attribute`, a reserved attribute, or a tag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logmon.logrecord import MISSING, RESERVED_ATTRIBUTES, LogRecord, get_parts

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
