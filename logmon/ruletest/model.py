"""What a rule test file may say: cases of log lines and what the rules must make of them.

The models keep the source position of every value (they are `RuleModel`s), so a failing expectation and a
mistake in a test file both point at `rules/tests/payments.yaml:41:9`. Checks that need the rules (does
this monitor exist?) live in `logmon.ruletest.checks`; these models check only what a file says on its own.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from logmon.emulator.preprocess import DATE_KEYS
from logmon.rules.model import RuleModel
from paylog.catalogue import CATALOGUE, LEVELS

MAX_SPAN_SECONDS = 7 * 24 * 3600
"""A case covers at most a week: long enough for any monitor window (two days at most) to fill and empty."""
MAX_LINES_PER_STREAM = 100_000

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h)")
_UNIT_MICROSECONDS = {"ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000}


def duration_microseconds(text: str) -> int:
    """`500ms`, `90s`, `5m`, `1h` in microseconds; ValueError for anything else."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"{text!r} is not a duration; write a whole number and a unit (ms, s, m or h), e.g. `90s` or `5m`"
        )
    return int(match[1]) * _UNIT_MICROSECONDS[match[2]]


def _check_duration(text: str) -> str:
    if duration_microseconds(text) > MAX_SPAN_SECONDS * 1_000_000:
        raise ValueError(f"{text!r} is longer than a case may run (7 days); keep cases short")
    return text


Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    Field(
        json_schema_extra={"pattern": r"^\s*[0-9]+(ms|s|m|h)\s*$"},
        description="A duration: a whole number and a unit, `ms`, `s`, `m` or `h` (`90s`, `5m`, `1h`).",
    ),
]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Scalar = str | int | float | bool


def _suggest(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


# ------------------------------------------------------------------------------------------------ streams


class Stream(RuleModel):
    """Log lines of one kind: a catalogued event, a plain line, or a raw JSON line written by another program."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["event"]}, {"required": ["message"]}, {"required": ["raw"]}]}
    )

    name: Name | None = None
    """A name for the stream, so `routing` expectations can refer to it."""
    event: str | None = Field(default=None, json_schema_extra={"enum": list(CATALOGUE)})
    """A catalogue event type, logged with `log.event(...)` by the real logger."""
    message: str | None = None
    """A plain line's message, logged with `log.<level>(message, **fields)`."""
    raw: dict[str, Any] | None = None
    """A JSON line exactly as some other program writes it (no date key: the stream dates it)."""
    fields: dict[str, Any] = {}
    """The event's fields; required fields left out take the catalogue's example value."""
    level: Literal["debug", "info", "warning", "error", "critical"] | None = None
    """A plain line's level; an event's level comes from the catalogue's level rules."""
    service: str | None = None
    """The `service` the logger is configured with (default `payment-service`)."""
    env: str | None = None
    """The `env` the logger is configured with (default: the case's stack, else `test`)."""
    correlation_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,128}$")
    """One correlation ID for every line (one request); by default each line gets its own."""
    count: int = Field(default=1, ge=1, le=MAX_LINES_PER_STREAM)
    """How many lines."""
    at: Duration = "0s"
    """When the first line is logged, after the case's start."""
    over: Duration | None = None
    """Spread the lines evenly over this long, starting at `at`."""
    every: Duration | None = None
    """Log one line every so often, starting at `at`."""

    @field_validator("event")
    @classmethod
    def _catalogued(cls, value: str | None) -> str | None:
        if value is not None and value not in CATALOGUE:
            raise ValueError(
                f"unknown event type {value!r}{_suggest(value, list(CATALOGUE))} "
                "(`logmon catalogue` lists the event types)"
            )
        return value

    @field_validator("raw")
    @classmethod
    def _undated(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        dated = [key for key in DATE_KEYS if value is not None and key in value]
        if dated:
            raise ValueError(f"a raw line is dated by the stream's `at`/`over`/`every`; remove `{dated[0]}` from it")
        return value

    @field_validator("level")
    @classmethod
    def _plain_lines_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        event = info.data.get("event")
        if value is not None and event is not None:
            raise ValueError(
                f"event {event!r} takes its level from the catalogue's level rules; remove `level` and set the "
                "fields that select the level (or log a plain line with `message:` and `level:`)"
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Stream:
        kinds = [key for key in ("event", "message", "raw") if getattr(self, key) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a stream is one of `event: <type>`, `message: <text>` with `level:`, or `raw: {...}`; "
                + (f"this one says {' and '.join(kinds)}" if kinds else "this one says none")
            )
        if self.message is not None and self.level is None:
            raise ValueError(f"a plain line needs a `level`: one of {', '.join(LEVELS)}")
        if self.raw is not None:
            extra = [
                key for key in ("fields", "level", "service", "env", "correlation_id") if key in self.model_fields_set
            ]
            if extra:
                raise ValueError(f"a raw line is written as given; put {', '.join(extra)} inside `raw` instead")
        if self.over is not None and self.every is not None:
            raise ValueError("spread the lines with either `over` or `every`, not both")
        if self.offsets()[-1] > MAX_SPAN_SECONDS * 1_000_000:
            raise ValueError("the last line would come more than 7 days after the start; use fewer or closer lines")
        return self

    def offsets(self) -> list[int]:
        """Microseconds after the case's start of each line."""
        start = duration_microseconds(self.at)
        if self.over is not None:
            span = duration_microseconds(self.over)
            return [start + index * span // self.count for index in range(self.count)]
        step = duration_microseconds(self.every) if self.every is not None else 0
        return [start + index * step for index in range(self.count)]


# ------------------------------------------------------------------------------------------- expectations


class MonitorExpectation(RuleModel):
    """A monitor's state at one evaluation time."""

    monitor: str
    """The monitor's slug in `rules/`."""
    at: Duration
    """The evaluation time after the case's start, in whole minutes; the window ends just before it."""
    state: Literal["ok", "warn", "alert"]
    """Without `groups`: the worst state across all groups. With `groups`: the worst state among those groups."""
    groups: list[dict[str, Scalar]] | None = None
    """Groups of a group-by monitor, as `{facet: value}` (each group checked on its own)."""
    value: float | None = None
    """The evaluated value (a count over the window, for count monitors)."""


class MetricExpectation(RuleModel):
    """A log-based metric over every line of the case."""

    metric: str
    """The metric's name in `rules/`."""
    tags: dict[str, Scalar] = {}
    """Only the series with these tag values (all series when empty)."""
    value: int | None = None
    """A count metric's count."""
    count: int | None = None
    """A distribution's number of values."""
    sum: float | None = None
    min: float | None = None
    max: float | None = None
    avg: float | None = None
    p50: float | None = None
    """Percentiles (metrics with `include_percentiles`) are compared within 2 %, as sketches approximate them."""
    p75: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None


DISTRIBUTION_KEYS = ("count", "sum", "min", "max", "avg", "p50", "p75", "p90", "p95", "p99")
PERCENTILE_KEYS = ("p50", "p75", "p90", "p95", "p99")


class RoutingExpectation(RuleModel):
    """Where the lines of one stream land, and how many the index keeps."""

    events: Name
    """The `name` of a stream of this case."""
    index: str | None
    """The index every line goes to (the first whose filter matches); `null` for none."""
    indexed: int | None = Field(default=None, ge=0)
    """Lines the index keeps (Flex-only indexes keep lines that monitors never see)."""
    excluded: int | None = Field(default=None, ge=0)
    """Lines the index's exclusion filters drop."""


class Expect(RuleModel):
    monitors: list[MonitorExpectation] = []
    quiet: list[str] = []
    """Monitors that stay OK at every evaluation time of the case."""
    metrics: list[MetricExpectation] = []
    routing: list[RoutingExpectation] = []

    @model_validator(mode="after")
    def _something(self) -> Expect:
        if not (self.monitors or self.quiet or self.metrics or self.routing):
            raise ValueError("a case must expect something: `monitors`, `quiet`, `metrics` or `routing`")
        return self


# ---------------------------------------------------------------------------------------------- cases


class Case(RuleModel):
    """Log lines fed to the rules from a fixed start, and what must come of them."""

    description: str = ""
    """What the case shows, for the people who read it."""
    stack: Literal["dev", "staging", "prod"] | None = None
    """Apply this stack's `logmon:overrides` (from `Pulumi.<stack>.yaml`); by default the rules as written."""
    events: list[Stream] = Field(min_length=1)
    expect: Expect


class RuleTestFile(RuleModel):
    """One file under `rules/tests/`: cases keyed by a stable name. Keep one concern per file."""

    tests: dict[Name, Case] = Field(min_length=1)
