"""`logmon process`: raw logs, as Datadog's HTTP intake receives them, through the emulator, one line at a time.

Each input line is one JSON object (`message`, `service`, `ddsource`, `ddtags`, `hostname`, `status` and
any custom attributes). It goes through preprocessing, the pipelines, the Sensitive Data Scanner and index
routing with exclusion sampling, and comes out as one JSON object:

    {"message", "status", "service", "host", "source", "tags", "attributes", "index", "excluded_by"}

`index` is the index that keeps the log (None when no index takes it or an exclusion filter drops it);
`excluded_by` is the exclusion filter that drops it. With tracing, `trace` lists what preprocessing and
each processor or scanner rule changed (see docs/pipelines.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from logmon.emulator import Emulator
from logmon.rules.loader import RuleSet

PROCESSED_KEYS = ("message", "status", "service", "host", "source", "tags", "attributes", "index", "excluded_by")


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.reason}


def intake_emulator(rules: RuleSet) -> Emulator:
    """The emulator as the intake sees a raw line: only what the line says about source, host and tags
    (the agent's own additions are already in `ddsource`, `hostname` and `ddtags` when it sends)."""
    return Emulator(rules, source="", host="", tag_fields={})


def process_line(emulator: Emulator, line: bytes, number: int, *, trace: bool = False) -> dict[str, Any] | LineError:
    """One raw line through the emulator; a LineError for a line that is not a JSON object."""
    try:
        raw = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return LineError(number, f"not JSON: {error.msg} (column {error.colno})")
    if not isinstance(raw, dict):
        return LineError(number, f"expected a JSON object, got {_json_kind(raw)}")
    try:
        if trace:
            record, entries = emulator.process_traced(raw)
        else:
            record, entries = emulator.process(raw), []
        decision = emulator.route(record)
        kept = decision.kept(record, line)
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        return LineError(number, f"could not be processed: {type(error).__name__}: {error}")
    document: dict[str, Any] = {
        "message": record.message,
        "status": record.status,
        "service": record.service or None,
        "host": record.host or None,
        "source": record.source or None,
        "tags": record.tags,
        "attributes": record.attributes,
        "index": decision.index if kept else None,
        "excluded_by": decision.exclusion if decision.index is not None and not kept else None,
    }
    if trace:
        document["trace"] = [entry.to_json() for entry in entries]
    return document


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def process_lines(
    emulator: Emulator, lines: Iterable[bytes], *, trace: bool = False
) -> Iterator[dict[str, Any] | LineError]:
    """Every non-blank line, in order, processed or refused with its line number (1 for the first)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield process_line(emulator, line, number, trace=trace)


def dumps(document: dict[str, Any]) -> bytes:
    """One output line; values JSON cannot hold natively (a date a pipeline left, say) become strings."""
    return orjson.dumps(document, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n"
