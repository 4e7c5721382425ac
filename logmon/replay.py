"""`logmon replay`: newline-delimited JSON logs through the whole log path, in constant memory.

Each line goes through preprocessing, the pipelines, index routing and exclusion sampling, every
log-based metric and every monitor (evaluated minute by minute as Datadog would), and is counted for the
cost estimate. Lines are what the logger writes (intake), logs exported from Datadog's API
(`{"type": "log", "attributes": {...}}`) or logs from a Datadog archive (`{"_id", "date", ..., "attributes"}`);
the last two were processed by the pipelines already and skip them. Where the lines come from (files,
gzip, directories, an S3 archive) is `logmon.inputs`'s concern. A malformed line is counted and reported,
never fatal.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from logmon.emulator.preprocess import parse_date
from logmon.evaluation import Evaluation, Ingested, Intake
from logmon.evaluation.cost import CostAccumulator
from logmon.logrecord import LogRecord, get_path, iso
from logmon.rules.loader import RuleSet
from logmon.settings import Prices

if TYPE_CHECKING:
    from logmon.inputs import Inputs

__all__ = ["Replay", "archived_record", "exported_record", "iso", "render_text"]

PROGRESS_EVERY = 4096
"""Lines between progress updates: redrawing a bar per line would cost more than replaying it."""
MALFORMED_LINES_KEPT = 100
"""Line numbers reported for malformed lines; the count goes on."""


@dataclass
class Malformed:
    count: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)

    def add(self, number: int, reason: str, source: str | None = None) -> None:
        self.count += 1
        if len(self.lines) < MALFORMED_LINES_KEPT:
            self.lines.append({"line": number, "reason": reason, **({"source": source} if source else {})})


@dataclass
class InputKinds:
    """Lines of each kind replayed: logger output through intake, or logs Datadog had already processed."""

    intake: int = 0
    archive: int = 0
    export: int = 0

    def merge(self, other: InputKinds) -> None:
        self.intake += other.intake
        self.archive += other.archive
        self.export += other.export

    @property
    def kind(self) -> str:
        """`intake`, `archive` or `api-export` when every line was of that kind; `mixed` or `none` otherwise."""
        seen = [
            name
            for name, count in (("intake", self.intake), ("archive", self.archive), ("api-export", self.export))
            if count
        ]
        return seen[0] if len(seen) == 1 else ("mixed" if seen else "none")


def exported_record(log: dict[str, Any]) -> LogRecord:
    """A log from Datadog's API (already processed) as a LogRecord."""
    content = log["attributes"]
    return _processed(content, content.get("timestamp"))


def is_archived(log: dict[str, Any]) -> bool:
    """A log as Datadog writes it to an archive: its ID, date and attributes beside the reserved fields."""
    return "_id" in log and "date" in log and isinstance(log.get("attributes"), dict)


def archived_record(log: dict[str, Any]) -> LogRecord:
    """A log from a Datadog archive (already processed) as a LogRecord.

    The archive holds `_id`, `date`, `host`, `source`, `service`, `status`, `message`, `attributes` and `tags`;
    the trace ID stays where the pipelines found it, `dd.trace_id` among the attributes.
    """
    return _processed(log, log.get("date"))


def _processed(content: dict[str, Any], date: Any) -> LogRecord:
    attributes = content.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}
    trace_id = content.get("trace_id") or get_path(attributes, "dd.trace_id") or ""
    return LogRecord(
        attributes=attributes,
        message=str(content.get("message") or ""),
        status=str(content.get("status") or "info").lower(),
        service=str(content.get("service") or ""),
        host=str(content.get("host") or ""),
        source=str(content.get("source") or ""),
        trace_id=str(trace_id),
        timestamp=parse_date(date),
        tags=_tags(content.get("tags")),
    )


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, list):
        return [str(tag).lower() for tag in value if isinstance(tag, str | int | float)]
    return []


class Replay:
    def __init__(self, rules: RuleSet, prices: Prices | None = None) -> None:
        self.intake = Intake(rules)
        self.evaluation = Evaluation(rules)
        self.cost = CostAccumulator(rules)
        self.prices = prices or Prices()
        self.kinds = InputKinds()
        self.malformed = Malformed()
        self.lines = 0
        self.sources = 0
        self.inputs: Inputs | None = None
        self._source: str | None = None
        self._source_start = 0

    def feed_line(self, line: bytes) -> None:
        self.lines += 1
        if not line.strip():
            return
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            self._malformed(f"not JSON: {error.msg}")
            return
        if not isinstance(raw, dict):
            self._malformed(f"not a JSON object but {type(raw).__name__}")
            return
        try:
            if raw.get("type") == "log" and isinstance(raw.get("attributes"), dict):
                ingested = self._processed(exported_record(raw), line)
                self.kinds.export += 1
            elif is_archived(raw):
                ingested = self._processed(archived_record(raw), line)
                self.kinds.archive += 1
            else:
                ingested = self.intake.ingest(raw, line)
                self.kinds.intake += 1
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            self._malformed(f"could not be processed: {type(error).__name__}: {error}")
            return
        self.evaluation.feed(ingested)
        size = len(line)
        if line.endswith(b"\n"):
            size -= 2 if line.endswith(b"\r\n") else 1
        self.cost.add(ingested.decision, ingested.indexed, ingested.record.timestamp, size)

    def _processed(self, record: LogRecord, line: bytes) -> Ingested:
        """A log the pipelines have already processed: routed and sampled, never processed twice."""
        decision = self.intake.emulator.route(record)
        return Ingested(record, decision, decision.kept(record, line))

    def _malformed(self, reason: str) -> None:
        self.malformed.add(self.lines - self._source_start, reason, self._source)

    def run(self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Replay every line; `progress` hears of the bytes read, every few thousand lines."""
        self.sources += 1
        self._feed(lines, progress)
        self.evaluation.finish()
        return self.report()

    def run_inputs(self, inputs: Inputs, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Replay every source in order; malformed lines are numbered within their source."""
        from logmon.inputs import describe

        self.inputs = inputs
        for source in inputs.sources:
            self.sources += 1
            self._source, self._source_start = describe(source.location), self.lines
            try:
                self._feed(source.lines(), progress)
            except (OSError, EOFError, zlib.error) as error:
                # A truncated or corrupt object is one bad source, not the end of the replay.
                self._malformed(f"unreadable from here on: {type(error).__name__}: {error}")
        self._source = None
        self.evaluation.finish()
        return self.report()

    def _feed(self, lines: Iterable[bytes], progress: Callable[[int], None] | None) -> None:
        pending = 0
        for line in lines:
            self.feed_line(line)
            if progress is not None:
                pending += len(line)
                if self.lines % PROGRESS_EVERY == 0:
                    progress(pending)
                    pending = 0
        if progress is not None and pending:
            progress(pending)

    def input_summary(self) -> dict[str, Any]:
        """What was read: the kind of log detected, how many sources, from where, and which archive hours."""
        inputs = self.inputs
        hours = inputs.hours if inputs is not None else None
        return {
            "kind": self.kinds.kind,
            "sources": self.sources,
            "location": inputs.location if inputs is not None else "stream",
            "archive_layout": inputs.archive_layout if inputs is not None else False,
            "hours": {
                "from": iso(hours.start.timestamp()) if hours.start else None,
                "to": iso(hours.end.timestamp()) if hours.end else None,
            }
            if hours is not None
            else None,
            "events": {"intake": self.kinds.intake, "archive": self.kinds.archive, "api-export": self.kinds.export},
        }

    def _period(self) -> tuple[float, float] | None:
        """The selected archive hours when both ends are given: the span the cost estimate is for."""
        hours = self.inputs.hours if self.inputs is not None else None
        if hours is None or hours.start is None or hours.end is None:
            return None
        return hours.start.timestamp(), hours.end.timestamp()

    def report(self) -> dict[str, Any]:
        evaluation = self.evaluation
        return {
            "events": evaluation.events,
            "malformed": {"count": self.malformed.count, "lines": self.malformed.lines},
            "monitors": {
                slug: {
                    "fired": evaluator.first_alert_at is not None,
                    "first_alert_at": iso(evaluator.first_alert_at),
                    "max_value": evaluator.max_value if evaluator.max_value is not None else 0,
                    "alerts": [
                        {"group": interval.group, "from": iso(interval.start), "to": iso(interval.end)}
                        for interval in evaluator.intervals
                    ],
                }
                for slug, evaluator in evaluation.monitors.items()
            },
            "indexes": {
                name: {"matched": counts.matched, "indexed": counts.indexed, "excluded": counts.excluded}
                for name, counts in evaluation.indexes.items()
            },
            "unrouted": evaluation.unrouted,
            "metrics": {name: aggregator.report() for name, aggregator in evaluation.metrics.items()},
            "input": self.input_summary(),
            "cost": self.cost.report(evaluation.metrics, self.prices, self._period()),
        }


def counted(count: int, noun: str) -> str:
    """`1 alert`, `2 alerts`: a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_text(report: dict[str, Any]) -> str:
    from logmon.cost_text import render_cost, render_input

    lines = [f"{report['events']} events replayed"]
    if "input" in report:
        lines.append(render_input(report["input"]))
    malformed = report["malformed"]
    if malformed["count"]:
        several = len({item.get("source") for item in malformed["lines"]}) > 1
        shown = ", ".join(
            f"{item['source']}:{item['line']}" if several else str(item["line"]) for item in malformed["lines"][:10]
        )
        more = ", …" if malformed["count"] > 10 else ""
        where = "line" if malformed["count"] == 1 else "lines"
        lines.append(f"{counted(malformed['count'], 'malformed line')} skipped ({where} {shown}{more})")
    lines.append("monitors:")
    for slug, result in report["monitors"].items():
        if result["fired"]:
            lines.append(
                f"  {slug}: FIRED at {result['first_alert_at']} (max {result['max_value']:g}, "
                f"{counted(len(result['alerts']), 'alert')})"
            )
            for alert in result["alerts"]:
                group = ", ".join(f"{k}={v}" for k, v in alert["group"].items()) or "all"
                lines.append(f"      {group}: {alert['from']} → {alert['to'] or 'still alerting'}")
        else:
            lines.append(f"  {slug}: quiet (max {result['max_value']:g})")
    lines.append("indexes:")
    for name, counts in report["indexes"].items():
        lines.append(
            f"  {name}: {counts['matched']} matched, {counts['indexed']} indexed, {counts['excluded']} excluded"
        )
    if report["unrouted"]:
        lines.append(f"  (no index): {report['unrouted']}")
    lines.append("metrics:")
    for name, metric in report["metrics"].items():
        if metric["type"] == "count":
            lines.append(f"  {name}: {metric['total']} over {len(metric['groups'])} group(s)")
        elif metric["count"]:
            lines.append(
                f"  {name}: {counted(metric['count'], 'value')}, avg {metric['avg']:.6g}, max {metric['max']:.6g}"
            )
        else:
            lines.append(f"  {name}: no values")
    text = "\n".join(lines) + "\n"
    return text + render_cost(report["cost"]) if "cost" in report else text
