"""Which of a query's terms the emulator cannot decide on a log: those over attributes Datadog computes from
data that is not available offline (`LogRecord.unknown`, docs/pipelines.md)."""

from __future__ import annotations

from logmon.logrecord import LogRecord
from logmon.search.analysis import iter_field_terms
from logmon.search.ast import FieldKind, Query


def undecidable_fields(query: Query, record: LogRecord) -> list[str]:
    """The attribute paths the query reads whose value on this log is unknown offline, in text order.

    When the list is not empty, the query's result on this log is reported as undecidable, not as a match
    or a miss. It errs on the side of caution: `a OR @unknown:x` is undecidable even where `a` holds.
    """
    if not record.unknown:
        return []
    found: list[str] = []
    for term in iter_field_terms(query):
        if term.field.kind is not FieldKind.ATTRIBUTE:
            continue
        path = term.field.path.removeprefix("@")
        if record.is_unknown(path) and path not in found:
            found.append(path)
    return found
