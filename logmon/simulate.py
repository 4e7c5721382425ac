"""Logger output of a simulated payment service: steady traffic, plus bursts that should trip monitors.

Each kind of line is rendered once by the real logger (`paylog.render`), so its shape, level, redaction
and field names are exactly what services write; the stream then varies the timestamp and correlation ID
per line. Counts are exact per minute, so a test can say which monitor should fire at which minute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from paylog.catalogue import CATALOGUE
from paylog.render import render

START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Traffic:
    """`per_minute` lines of one event with these fields, spread evenly over each minute of [start, end)."""

    event: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    per_minute: int = 1
    start_minute: int = 0
    end_minute: int | None = None
    """Exclusive; None runs to the end of the simulation."""


STEADY: tuple[Traffic, ...] = (
    Traffic("api_request", {"status_code": 200}, 100),
    Traffic("api_request", {"status_code": 503}, 2),
    Traffic("payment_attempt", {}, 20),
    Traffic("payment_completion", {"payment_status": "completed"}, 18),
    Traffic("payment_completion", {"payment_status": "failed"}, 1),
    Traffic("fraud_detection", {"action": "allow"}, 15),
    Traffic("fraud_detection", {"action": "review"}, 2),
    Traffic("authentication_attempt", {"success": True}, 30),
    Traffic("authentication_attempt", {"success": False}, 3),
    Traffic("cache_operation", {}, 50),
    Traffic("database_operation", {}, 20),
)
"""A quiet hour: every monitor stays below its threshold."""


def burst(event: str, fields: Mapping[str, Any], per_minute: int, start_minute: int, minutes: int) -> Traffic:
    return Traffic(event, fields, per_minute, start_minute, start_minute + minutes)


def _template(traffic: Traffic) -> dict[str, Any]:
    spec = CATALOGUE[traffic.event]
    fields = {f.name: f.example for f in spec.fields if f.required}
    fields.update(traffic.fields)
    return render(
        traffic.event, fields, service="payment-service", env="prod", version="1.4.2", cluster="payments-prod"
    )


def simulate(
    minutes: int, traffic: Sequence[Traffic] = STEADY, start: datetime = START, limit: int | None = None
) -> Iterator[bytes]:
    """NDJSON lines (with trailing newline) in time order; `limit` stops after that many lines."""
    templates = [(item, _template(item)) for item in traffic]
    produced = 0
    for minute in range(minutes):
        lines: list[tuple[float, int, dict[str, Any]]] = []
        for position, (item, template) in enumerate(templates):
            end = item.end_minute if item.end_minute is not None else minutes
            if not item.start_minute <= minute < end:
                continue
            for n in range(item.per_minute):
                offset = minute * 60 + 60 * n / item.per_minute
                lines.append((offset, position, template))
        lines.sort(key=lambda line: (line[0], line[1]))
        for offset, _, template in lines:
            line = dict(template)
            moment = start + timedelta(seconds=offset)
            line["timestamp"] = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
            line["correlation_id"] = f"req-{produced:08d}"
            yield orjson.dumps(line) + b"\n"
            produced += 1
            if limit is not None and produced >= limit:
                return
