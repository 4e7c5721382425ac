"""`logmon replay`: a newline-delimited JSON log file through the whole log path, in constant memory.

Each line goes through preprocessing, the pipelines, index routing and exclusion sampling, every
log-based metric and every monitor (evaluated minute by minute as Datadog would). Lines are what the
logger writes, or logs exported from Datadog's API (`{"type": "log", "attributes": {...}}`), which are
already processed and skip the pipelines. A malformed line is counted and reported, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from logmon.emulator.preprocess import parse_date
from logmon.evaluation import Evaluation, Ingested, Intake
from logmon.logrecord import LogRecord
from logmon.rules.loader import RuleSet

PROGRESS_EVERY = 4096
"""Lines between progress updates: redrawing a bar per line would cost more than replaying it."""
MALFORMED_LINES_KEPT = 100
"""Line numbers reported for malformed lines; the count goes on."""


@dataclass
class Malformed:
    count: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)

    def add(self, number: int, reason: str) -> None:
        self.count += 1
        if len(self.lines) < MALFORMED_LINES_KEPT:
            self.lines.append({"line": number, "reason": reason})


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def exported_record(log: dict[str, Any]) -> LogRecord:
    """A log from Datadog's API (already processed) as a LogRecord."""
    content = log["attributes"]
    attributes = content.get("attributes")
    return LogRecord(
        attributes=attributes if isinstance(attributes, dict) else {},
        message=str(content.get("message") or ""),
        status=str(content.get("status") or "info").lower(),
        service=str(content.get("service") or ""),
        host=str(content.get("host") or ""),
        source=str(content.get("source") or ""),
        trace_id=str(content.get("trace_id") or ""),
        timestamp=parse_date(content.get("timestamp")),
        tags=_tags(content.get("tags")),
    )


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, list):
        return [str(tag).lower() for tag in value if isinstance(tag, str | int | float)]
    return []


class Replay:
    def __init__(self, rules: RuleSet, evaluation: Evaluation | None = None) -> None:
        """`evaluation` replaces the default one (the reports' charts pass one that keeps timelines)."""
        self.intake = Intake(rules)
        self.evaluation = evaluation if evaluation is not None else Evaluation(rules)
        self.malformed = Malformed()
        self.lines = 0

    def feed_line(self, line: bytes) -> None:
        self.lines += 1
        if not line.strip():
            return
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            self.malformed.add(self.lines, f"not JSON: {error.msg}")
            return
        if not isinstance(raw, dict):
            self.malformed.add(self.lines, f"not a JSON object but {type(raw).__name__}")
            return
        try:
            if raw.get("type") == "log" and isinstance(raw.get("attributes"), dict):
                record = exported_record(raw)
                decision = self.intake.emulator.route(record)
                ingested = Ingested(record, decision, decision.kept(record, line))
            else:
                ingested = self.intake.ingest(raw, line)
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            self.malformed.add(self.lines, f"could not be processed: {type(error).__name__}: {error}")
            return
        self.evaluation.feed(ingested)

    def run(self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Replay every line; `progress` hears of the bytes read, every few thousand lines."""
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
        self.evaluation.finish()
        return self.report()

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
        }


def counted(count: int, noun: str) -> str:
    """`1 alert`, `2 alerts`: a count with its noun in the right number."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['events']} events replayed"]
    malformed = report["malformed"]
    if malformed["count"]:
        shown = ", ".join(str(item["line"]) for item in malformed["lines"][:10])
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
    return "\n".join(lines) + "\n"
