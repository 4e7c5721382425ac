"""A case's streams as log lines: rendered by the real logger (or taken raw), dated, in time order.

Each line of an event or plain stream is written by `paylog.render.render`, the logger services run, so
level rules, redaction and enrichment are the real ones. Unless a stream fixes one, every line gets its own
correlation ID, derived from the stream's name (or position) and the line's number: sampling is then
decided per request, as in production, and the same way on every run.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from logmon.diagnostics import Finding, Location, Severity
from logmon.rules.source import LocatedDict
from logmon.ruletest.model import Case, Stream
from paylog.catalogue import CATALOGUE
from paylog.render import render
from paylog.schema import EventSchemaError

BASE_TIME = datetime(2026, 1, 5, tzinfo=UTC)
"""Every case starts here, on a minute boundary; `at: 5m` means 00:05:00 on this day."""
DEFAULT_SERVICE = "payment-service"


@dataclass(frozen=True, slots=True)
class Line:
    offset: int
    """Microseconds after the case's start."""
    stream: int
    """The position of its stream in the case."""
    raw: dict[str, Any]
    """The JSON object as written; the intake consumes a copy."""
    sampling_key: bytes
    """What exclusion sampling hashes when the filter has no sample attribute."""

    @property
    def timestamp(self) -> float:
        return (BASE_TIME + timedelta(microseconds=self.offset)).timestamp()


def stream_label(stream: Stream, position: int) -> str:
    return stream.name or f"#{position + 1}"


def _correlation_id(seed: str) -> str:
    digest = hashlib.blake2b(seed.encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def _write(stream: Stream, case: Case, when: datetime, correlation_id: str | None) -> dict[str, Any]:
    """One line of an event or plain stream, as the logger writes it; EventSchemaError or ValueError."""
    service = stream.service or DEFAULT_SERVICE
    env = stream.env or case.stack or "test"
    fields = _plain(stream.fields)
    if stream.event is not None:
        spec = CATALOGUE[stream.event]
        complete = {spec_field.name: spec_field.example for spec_field in spec.fields if spec_field.required}
        complete.update(fields)
        return render(stream.event, complete, timestamp=when, correlation_id=correlation_id, service=service, env=env)
    return render(
        None,
        fields,
        message=stream.message,
        level=stream.level,
        timestamp=when,
        correlation_id=correlation_id,
        service=service,
        env=env,
    )


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    """YAML's located containers as plain JSON values (dates as ISO text, as a JSON writer would)."""
    plain: dict[str, Any] = orjson.loads(orjson.dumps(value))
    return plain


def check_stream(stream: Stream, case: Case, source: Any = None) -> list[Finding]:
    """Render one line of the stream so a field the catalogue refuses is a test-file error, at the field.

    `source` is the stream's mapping as read from YAML, which knows where each field is written.
    """
    if stream.raw is not None:
        try:
            _plain(stream.raw)
        except orjson.JSONEncodeError as error:
            return [Finding("ruletest/raw", Severity.ERROR, stream.where("raw"), f"not a JSON object: {error}")]
        return []
    try:
        _plain(stream.fields)
        _write(stream, case, BASE_TIME, stream.correlation_id or _correlation_id("check"))
    except EventSchemaError as error:
        fields = source.get("fields") if isinstance(source, LocatedDict) else None
        return [_violation_finding(stream, fields, v.field, v.describe()) for v in error.violations]
    except (ValueError, TypeError, orjson.JSONEncodeError) as error:
        return [
            Finding(
                "ruletest/render", Severity.ERROR, stream.where("fields"), f"the logger refuses these fields: {error}"
            )
        ]
    return []


def _violation_finding(stream: Stream, fields: Any, field: str | None, problem: str) -> Finding:
    where: Location = stream.where("fields") if "fields" in stream.model_fields_set else stream.where("event")
    if isinstance(fields, LocatedDict) and field is not None:
        where = fields.value_locations.get(field, where)
    what = f"event {stream.event!r}" if stream.event is not None else "this plain line"
    return Finding(
        "ruletest/event-fields",
        Severity.ERROR,
        where,
        f"the logger refuses {what}: {problem}; fix the field so it matches paylog's catalogue",
        field,
    )


def case_lines(case: Case) -> list[Line]:
    """Every line of the case, in time order (streams interleaved by time, then by their order)."""
    lines = list(_all_lines(case))
    lines.sort(key=lambda line: (line.offset, line.stream))
    return lines


def _all_lines(case: Case) -> Iterator[Line]:
    for position, stream in enumerate(case.events):
        label = stream_label(stream, position)
        raw = orjson.dumps(stream.raw) if stream.raw is not None else None
        for number, offset in enumerate(stream.offsets()):
            seed = f"{label}/{number}"
            if raw is not None:
                yield Line(offset, position, orjson.loads(raw), seed.encode())
                continue
            correlation_id = stream.correlation_id or _correlation_id(seed)
            when = BASE_TIME + timedelta(microseconds=offset)
            yield Line(offset, position, _write(stream, case, when, correlation_id), seed.encode())
