"""`logmon replay`: newline-delimited JSON logs through the whole log path, in constant memory.

Each line goes through preprocessing, the pipelines, index routing and exclusion sampling, every
log-based metric and every monitor (evaluated minute by minute as Datadog would), and is counted for the
cost estimate. Lines are what the logger writes (intake), logs exported from Datadog's API
(`{"type": "log", "attributes": {...}}`) or logs from a Datadog archive (`{"_id", "date", ..., "attributes"}`);
the last two were processed by the pipelines already and skip them. Where the lines come from (files,
gzip, directories, an S3 archive) is `logmon.inputs`'s concern. A malformed line is counted and reported,
never fatal.

The per-line work fills a `ReplayPart` (counters, per-minute buckets and the cost counters, see
`logmon.evaluation.stream`); parts of consecutive pieces of the input merge, and the report evaluates the
merged part. One process replays its input as a single part; `logmon.parallel` replays pieces in other
processes or on a cluster.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from logmon.emulator.preprocess import parse_date
from logmon.evaluation import Evaluation, Ingested, Intake
from logmon.evaluation.cost import CostAccumulator
from logmon.evaluation.fastpath import FastPath, Learning
from logmon.evaluation.hours import HourlyIndexes
from logmon.evaluation.stream import Accumulator, Tally
from logmon.logrecord import LogRecord, get_path, iso
from logmon.rules.loader import RuleSet
from logmon.settings import Prices

if TYPE_CHECKING:
    from logmon.inputs import Inputs, Source

__all__ = ["Replay", "archived_record", "exported_record", "iso", "render_text"]

CHUNK_LINES = 4096
"""Lines read at a time: each chunk goes to every replay fed alongside, then progress is updated (redrawing
a bar per line would cost more than replaying it)."""
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

    def merge(self, later: Malformed, offset_source: str | None, lines_before: int) -> None:
        """Add the malformed lines of the piece that follows. Lines of `offset_source` (the source this part
        ended in and the later piece starts in) continue its numbering after `lines_before`."""
        self.count += later.count
        for item in later.lines[: MALFORMED_LINES_KEPT - len(self.lines)]:
            shift = lines_before if item.get("source") == offset_source else 0
            self.lines.append({**item, "line": item["line"] + shift})


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


@dataclass
class ReplayPart:
    """The mergeable result of replaying one piece of the input (sources, or a byte range of one file).

    Every field merges with the same field of the piece that follows; a new accumulator joins by adding a
    field with a `merge` method and a line in `merge` below.
    """

    tally: Tally
    cost: CostAccumulator
    hours: HourlyIndexes | None = None
    """Each index's events per hour, kept for charts only."""
    kinds: InputKinds = field(default_factory=InputKinds)
    malformed: Malformed = field(default_factory=Malformed)
    lines: int = 0
    """Lines read, blank and malformed ones included."""
    sources: int = 0
    first_source: str | None = None
    """The source the part's first line came from (None for a bare stream)."""
    last_source: str | None = None
    last_source_lines: int = 0
    """Lines read from `last_source`: a later piece of the same source numbers its lines after them."""

    def counted(self, lines: int) -> None:
        """`lines` more lines of logger output were read and counted (the fast path's share)."""
        self.lines += lines
        self.last_source_lines += lines
        self.kinds.intake += lines

    def start_source(self, name: str | None) -> None:
        if self.sources == 0:
            self.first_source = name
        self.sources += 1
        self.last_source, self.last_source_lines = name, 0

    def merge(self, later: ReplayPart) -> None:
        continues = later.sources > 0 and later.first_source == self.last_source and self.sources > 0
        self.malformed.merge(later.malformed, later.first_source if continues else None, self.last_source_lines)
        self.lines += later.lines
        if self.sources == 0:
            self.first_source = later.first_source
        self.sources += later.sources - (1 if continues else 0)
        if later.sources:
            single = later.first_source == later.last_source and later.sources == 1
            self.last_source_lines = (
                self.last_source_lines + later.last_source_lines if continues and single else later.last_source_lines
            )
            self.last_source = later.last_source
        self.kinds.merge(later.kinds)
        self.cost.merge(later.cost, self.tally.latest_minute)
        self.tally.merge(later.tally)
        if self.hours is not None and later.hours is not None:
            self.hours.merge(later.hours)


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


Evaluate = Callable[[RuleSet, "ReplayPart"], Evaluation]
"""How a replay's part is evaluated for its report (the charts evaluate with timelines)."""


class Replay:
    def __init__(
        self,
        rules: RuleSet,
        prices: Prices | None = None,
        *,
        keep_timeline: bool = False,
        charts: Evaluate | None = None,
        count_hours: bool = False,
        fast: bool = True,
    ) -> None:
        """`charts`: also count each index's events per hour, and evaluate with this (the reports pass
        `ChartedEvaluation.of`); `count_hours` counts them for a piece whose part is evaluated elsewhere.
        `fast`: decide once per distinct combination of the values the rules read (`FastPath`); the part
        is the same either way, which the tests prove."""
        self.rules = rules
        self.intake = Intake(rules)
        self.prices = prices or Prices()
        self.part = ReplayPart(
            Tally(rules), CostAccumulator(rules), HourlyIndexes(rules) if charts or count_hours else None
        )
        self.accumulator = Accumulator(rules, self.part.tally)
        self.fast_path = FastPath.for_rules(rules, self.accumulator, self.part.cost) if fast else None
        self.keep_timeline = keep_timeline
        self._evaluate = charts
        self.inputs: Inputs | None = None
        self.evaluation: Evaluation | None = None
        """The evaluation behind the last report (with each monitor's timeline when `keep_timeline`)."""

    @property
    def lines(self) -> int:
        return self.part.lines

    @property
    def malformed(self) -> Malformed:
        return self.part.malformed

    @property
    def cost(self) -> CostAccumulator:
        return self.part.cost

    def feed_line(self, line: bytes) -> None:
        """Replay one line (see `accumulate` to replay many: it decides once per distinct key)."""
        self._feed_plain(line, None)

    def _feed_plain(self, line: bytes, learning: Learning | None) -> None:
        """One line through the emulator; when the fast path met its key first, it learns a plan from it."""
        part = self.part
        part.lines += 1
        part.last_source_lines += 1
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
                part.kinds.export += 1
            elif is_archived(raw):
                ingested = self._processed(archived_record(raw), line)
                part.kinds.archive += 1
            else:
                ingested = self.intake.ingest(raw, line)
                part.kinds.intake += 1
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            self._malformed(f"could not be processed: {type(error).__name__}: {error}")
            return
        minute = self.accumulator.feed(ingested)
        if learning is not None and self.fast_path is not None:
            self.fast_path.learn(learning, ingested)
        if part.hours is not None:
            part.hours.add(ingested.record.timestamp, ingested.decision, ingested.indexed)
        part.cost.add(ingested.decision, ingested.indexed, minute, len(line.rstrip(b"\r\n")))

    def _processed(self, record: LogRecord, line: bytes) -> Ingested:
        """A log the pipelines have already processed: routed and sampled, never processed twice."""
        decision = self.intake.emulator.route(record)
        return Ingested(record, decision, decision.kept(record, line))

    def _malformed(self, reason: str) -> None:
        part = self.part
        part.malformed.add(part.last_source_lines, reason, part.last_source)

    def accumulate(
        self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None, source: str | None = None
    ) -> ReplayPart:
        """Feed the lines of one source (named `source`, None for a bare stream); no evaluation yet."""
        self.part.start_source(source)
        self._feed(lines, progress)
        return self.part

    def accumulate_source(
        self, source: Source, progress: Callable[[int], None] | None = None, alongside: Sequence[Replay] = ()
    ) -> ReplayPart:
        """Feed one source of the inputs, to this replay and to those `alongside` (one read serves them all);
        a truncated or corrupt source is one bad source, not the end of the replay."""
        from logmon.inputs import describe

        replays = (self, *alongside)
        for replay in replays:
            replay.part.start_source(describe(source.location))
        try:
            self._feed(source.lines(), progress, alongside)
        except (OSError, EOFError, zlib.error) as error:
            for replay in replays:
                replay._malformed(f"unreadable from here on: {type(error).__name__}: {error}")
        return self.part

    def run(self, lines: Iterable[bytes], progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Replay every line and report."""
        self.accumulate(lines, progress)
        return self.report()

    def run_inputs(
        self, inputs: Inputs, progress: Callable[[int], None] | None = None, alongside: Sequence[Replay] = ()
    ) -> dict[str, Any]:
        """Replay every source in order and report; malformed lines are numbered within their source.
        The replays `alongside` (other rules, for a comparison) are fed the same lines; report them after."""
        for replay in (self, *alongside):
            replay.inputs = inputs
        for source in inputs.sources:
            self.accumulate_source(source, progress, alongside)
        return self.report()

    def _feed(
        self, lines: Iterable[bytes], progress: Callable[[int], None] | None, alongside: Sequence[Replay] = ()
    ) -> None:
        """Feed the lines in chunks, each to this replay and to those `alongside`; the fast path's counts
        are flushed at the end. An error reading the lines is raised after the lines before it are counted."""
        replays = (self, *alongside)
        remaining = iter(lines)
        failure: OSError | EOFError | zlib.error | None = None
        try:
            while failure is None:
                chunk: list[bytes] = []
                try:
                    # `extend` keeps the lines it took before the source failed, so they are still replayed.
                    chunk.extend(itertools.islice(remaining, CHUNK_LINES))
                except (OSError, EOFError, zlib.error) as error:
                    failure = error
                if not chunk:
                    break
                for replay in replays:
                    replay._feed_chunk(chunk)
                if progress is not None:
                    progress(sum(map(len, chunk)))
        finally:
            for replay in replays:
                if replay.fast_path is not None:
                    replay.fast_path.flush()
        if failure is not None:
            raise failure

    def _feed_chunk(self, chunk: list[bytes]) -> None:
        if self.fast_path is not None:
            self.fast_path.feed_lines(chunk, self.part, self._feed_plain, self.part.hours)
            return
        for line in chunk:
            self._feed_plain(line, None)

    def report(self, part: ReplayPart | None = None) -> dict[str, Any]:
        """Evaluate the monitors over this replay's part (or a merged one) and say what the log path did."""
        part = part if part is not None else self.part
        if self._evaluate is not None:
            self.evaluation = self._evaluate(self.rules, part)
        else:
            self.evaluation = Evaluation.from_tally(self.rules, part.tally, keep_timeline=self.keep_timeline)
        return describe(part, self.evaluation, self.prices, self.inputs)


def input_summary(part: ReplayPart, inputs: Inputs | None) -> dict[str, Any]:
    """What was read: the kind of log detected, how many sources, from where, and which archive hours."""
    hours = inputs.hours if inputs is not None else None
    kinds = part.kinds
    return {
        "kind": kinds.kind,
        "sources": part.sources,
        "location": inputs.location if inputs is not None else "stream",
        "archive_layout": inputs.archive_layout if inputs is not None else False,
        "hours": {
            "from": iso(hours.start.timestamp()) if hours.start else None,
            "to": iso(hours.end.timestamp()) if hours.end else None,
        }
        if hours is not None
        else None,
        "events": {"intake": kinds.intake, "archive": kinds.archive, "api-export": kinds.export},
    }


def _period(inputs: Inputs | None) -> tuple[float, float] | None:
    """The selected archive hours when both ends are given: the span the cost estimate is for."""
    hours = inputs.hours if inputs is not None else None
    if hours is None or hours.start is None or hours.end is None:
        return None
    return hours.start.timestamp(), hours.end.timestamp()


def describe(part: ReplayPart, evaluation: Evaluation, prices: Prices, inputs: Inputs | None) -> dict[str, Any]:
    return {
        "events": evaluation.events,
        "malformed": {"count": part.malformed.count, "lines": part.malformed.lines},
        "monitors": {
            slug: {
                "fired": evaluator.first_alert_at is not None,
                "first_alert_at": iso(evaluator.first_alert_at),
                "max_value": evaluator.max_value if evaluator.max_value is not None else 0,
                "alerts": [
                    {"group": interval.group, "from": iso(interval.start), "to": iso(interval.end)}
                    for interval in evaluator.intervals
                ],
                **({"undecidable_logs": n} if (n := part.tally.undecidable[slug]) else {}),
            }
            for slug, evaluator in evaluation.monitors.items()
        },
        "indexes": {
            name: {"matched": counts.matched, "indexed": counts.indexed, "excluded": counts.excluded}
            for name, counts in evaluation.indexes.items()
        },
        "unrouted": evaluation.unrouted,
        "metrics": {name: aggregator.report() for name, aggregator in evaluation.metrics.items()},
        "input": input_summary(part, inputs),
        "cost": part.cost.report(evaluation.metrics, prices, _period(inputs) or part.tally.data_period()),
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
        if result.get("undecidable_logs"):
            lines.append(
                f"      {counted(result['undecidable_logs'], 'log')} undecidable offline (the search reads an "
                "attribute only Datadog computes; counted as absent)"
            )
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
