"""A generated day of the services' logs to replay rule changes on: `make sample` writes samples/day.ndjson.gz.

Every line is the logger's real output (`paylog.render`, one template per kind of line, as in
`logmon.simulate`), with per-line timestamps and correlation IDs. Traffic follows a daily curve (quiet at
night, peaks at lunch and in the evening) scaled by the weekday; counts per minute are Poisson draws from
a fixed seed, so the file is the same on every run. Routine lines below warning are sampled as the logger
samples them (kept when the correlation ID's CRC-32 fraction is under `NORMAL_RATE`); always-keep events
and warnings or worse are all written.

Rates are per minute at the daily peak. The failure and error rates are the steady ones of a healthy
service; the incidents are what the monitors exist for:

- 02:10 credential stuffing: failed logins far above the authentication threshold, one security incident;
- 09:20 card testing: fraud blocks up into the warning band, not the critical one;
- 14:05 payment provider degradation: failures climb to ~90 % of completions, near the paging threshold;
- 17:40 a bad deploy: a quarter of API requests answer 503 for ten minutes.
"""

from __future__ import annotations

import argparse
import gzip
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from paylog.catalogue import ALWAYS_KEEP, CATALOGUE, LEVEL_NUMBERS
from paylog.render import render
from paylog.sampling import NORMAL_RATE, unit_fraction

SEED = 20260106
DAY = datetime(2026, 1, 6, tzinfo=UTC)
"""A Tuesday."""
OUTPUT = Path("samples/day.ndjson.gz")

HOURLY = (0.22, 0.18, 0.16, 0.15, 0.16, 0.22, 0.35, 0.55, 0.75, 0.85, 0.9, 0.95,
          1.0, 0.98, 0.9, 0.85, 0.82, 0.85, 0.92, 0.95, 0.88, 0.7, 0.5, 0.32)  # fmt: skip
"""Traffic at each UTC hour relative to the daily peak; minutes in between are interpolated."""
WEEKDAY = (1.0, 1.0, 0.98, 0.97, 0.95, 0.7, 0.6)
"""Monday first: weekends are quieter."""


@dataclass(frozen=True)
class Flow:
    """Lines of one kind, `per_minute` of them at the daily peak (or at an incident's height)."""

    event: str
    per_minute: float
    fields: Mapping[str, Any] = field(default_factory=dict)
    service: str = "payment-service"


@dataclass(frozen=True)
class Incident:
    name: str
    start: str
    """`HH:MM` UTC."""
    minutes: int
    flows: tuple[Flow, ...]
    """Extra lines on top of the steady traffic, at full height; ramps of `RAMP` minutes either side."""

    @property
    def start_minute(self) -> int:
        hours, minutes = self.start.split(":")
        return int(hours) * 60 + int(minutes)


RAMP = 3

STEADY: tuple[Flow, ...] = (
    Flow("api_request", 400, {"status_code": 200}, "checkout-api"),
    Flow("api_request", 3.2, {"status_code": 404}, "checkout-api"),
    Flow("api_request", 1.2, {"status_code": 401}, "checkout-api"),
    Flow("api_request", 0.8, {"status_code": 503}, "checkout-api"),
    Flow("payment_attempt", 60),
    Flow("payment_completion", 57, {"payment_status": "completed"}),
    Flow("payment_completion", 1.8, {"payment_status": "failed"}),
    Flow("fraud_detection", 52, {"action": "allow"}, "risk-service"),
    Flow("fraud_detection", 2.5, {"action": "review"}, "risk-service"),
    Flow("fraud_detection", 0.5, {"action": "block", "risk_score": 0.97}, "risk-service"),
    Flow("authentication_attempt", 80, {"success": True}, "auth-service"),
    Flow("authentication_attempt", 2.4, {"success": False}, "auth-service"),
    Flow("cache_operation", 300, {}, "checkout-api"),
    Flow("database_operation", 150),
    Flow("database_operation", 0.05, {"error_message": "deadlock detected"}),
    Flow("external_service_call", 40, {}, "payment-service"),
    Flow("external_service_call", 0.3, {"error_message": "upstream timeout"}),
)

INCIDENTS: tuple[Incident, ...] = (
    Incident(
        "credential stuffing",
        "02:10",
        25,
        (
            Flow("authentication_attempt", 38, {"success": False}, "auth-service"),
            Flow("authentication_attempt", 0.05, {"success": True}, "auth-service"),
        ),
    ),
    Incident(
        "credential stuffing confirmed",
        "02:31",
        1,
        (Flow("security_incident", 2, {"incident_type": "credential_stuffing"}, "auth-service"),),
    ),
    Incident(
        "card testing",
        "09:20",
        15,
        (Flow("fraud_detection", 7, {"action": "block", "risk_score": 0.99}, "risk-service"),),
    ),
    Incident(
        "payment provider degradation",
        "14:05",
        30,
        (
            Flow("payment_completion", 52, {"payment_status": "failed"}),
            Flow("external_service_call", 30, {"error_message": "provider returned 502"}),
        ),
    ),
    Incident("bad deploy", "17:40", 10, (Flow("api_request", 120, {"status_code": 503}, "checkout-api"),)),
)


def daily_shape(minute_of_day: float, weekday: int) -> float:
    """The traffic multiplier at a minute of the day: the hourly curve, interpolated, times the weekday's."""
    hour = minute_of_day / 60
    low = math.floor(hour) % 24
    high = (low + 1) % 24
    fraction = hour - math.floor(hour)
    return (HOURLY[low] * (1 - fraction) + HOURLY[high] * fraction) * WEEKDAY[weekday]


def incident_shape(incident: Incident, minute: int) -> float:
    """0 outside the incident; inside, ramps up over `RAMP` minutes, holds, ramps down (an incident too
    short for both ramps is at full height throughout)."""
    offset = minute - incident.start_minute
    if not 0 <= offset < incident.minutes:
        return 0.0
    if incident.minutes <= 2 * RAMP:
        return 1.0
    return min(1.0, (offset + 1) / RAMP, (incident.minutes - offset) / RAMP)


def _sampled(flow: Flow, template: Mapping[str, Any]) -> bool:
    """Whether the logger samples these lines: routine events below warning."""
    level = LEVEL_NUMBERS.get(str(template.get("level", "info")), 0)
    return flow.event not in ALWAYS_KEEP and level < LEVEL_NUMBERS["warning"]


def _template(flow: Flow) -> dict[str, Any]:
    spec = CATALOGUE[flow.event]
    fields = {f.name: f.example for f in spec.fields if f.required}
    fields.update(flow.fields)
    return render(flow.event, fields, service=flow.service, env="prod", version="1.4.2", cluster="payments-prod")


def day_lines(
    day: datetime = DAY,
    seed: int = SEED,
    minutes: int = 24 * 60,
    steady: Sequence[Flow] = STEADY,
    incidents: Sequence[Incident] = INCIDENTS,
) -> Iterator[bytes]:
    """NDJSON lines (each with its newline) of `minutes` minutes from `day`, in time order."""
    rng = np.random.default_rng(seed)
    flows: list[tuple[Flow, Incident | None]] = [(flow, None) for flow in steady]
    flows += [(flow, incident) for incident in incidents for flow in incident.flows]
    templates = [_template(flow) for flow, _ in flows]
    sampled = [_sampled(flow, template) for (flow, _), template in zip(flows, templates, strict=True)]
    request = 0
    for minute in range(minutes):
        shape = daily_shape(minute % 1440, (day.weekday() + minute // 1440) % 7)
        rates = [
            flow.per_minute * (shape if incident is None else incident_shape(incident, minute % 1440))
            for flow, incident in flows
        ]
        counts = rng.poisson(rates)
        lines: list[tuple[float, int]] = []
        for position, count in enumerate(counts):
            lines += [(offset, position) for offset in rng.uniform(0, 60, int(count))]
        lines.sort()
        for offset, position in lines:
            request += 1
            correlation_id = f"req-{request:09d}"
            if sampled[position] and unit_fraction(correlation_id) >= NORMAL_RATE:
                continue
            line = dict(templates[position])
            moment = day + timedelta(minutes=minute, seconds=offset)
            line["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            line["correlation_id"] = correlation_id
            yield orjson.dumps(line) + b"\n"


def write_sample(path: Path, lines: Iterator[bytes]) -> int:
    """Write the lines gzip-compressed with no name or time in the header (the same bytes every run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as out:
        for line in lines:
            out.write(line)
            written += 1
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m logmon.sampleday", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT, help=f"where to write (default {OUTPUT})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--day", default=DAY.date().isoformat(), help="the UTC date to simulate (YYYY-MM-DD)")
    arguments = parser.parse_args(argv)
    day = datetime.fromisoformat(arguments.day).replace(tzinfo=UTC)
    count = write_sample(arguments.out, day_lines(day, arguments.seed))
    print(f"wrote {count} lines to {arguments.out} ({arguments.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
