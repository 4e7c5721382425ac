"""A stream of raw logs through intake, index routing, every log-based metric and every monitor.

One engine for rule tests and replay, in two steps. `Accumulator` does the per-line work (routing counts,
metric aggregation, each monitor's per-minute buckets) into a `Tally`, which merges with the tally of
another piece of the input; `Evaluation` then evaluates the monitors minute by minute over the (merged)
tally. A single process, `logmon replay --jobs N` and a Dask cluster all run accumulate → merge →
evaluate, so they give the same report.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from logmon.emulator import Emulator, IndexDecision
from logmon.evaluation.metrics import MetricAggregator
from logmon.evaluation.monitors import MonitorBuckets, MonitorEvaluator
from logmon.logrecord import LogRecord
from logmon.queries import monitor_options, monitor_query, thresholds
from logmon.rules.loader import RuleSet
from logmon.search import Matcher, Query, compile_query, parse, required_values
from logmon.search.undecidable import undecidable_fields


@dataclass(slots=True)
class Ingested:
    record: LogRecord
    decision: IndexDecision
    indexed: bool
    """Kept by the index it was routed to, after exclusion sampling (Flex-only indexes included; monitors
    also require `decision.may_be_indexed`)."""


@dataclass(slots=True)
class IndexCounts:
    matched: int = 0
    """Logs routed to the index."""
    indexed: int = 0
    """Logs the index kept."""
    excluded: int = 0
    """Logs its exclusion filters dropped."""

    def merge(self, other: IndexCounts) -> None:
        self.matched += other.matched
        self.indexed += other.indexed
        self.excluded += other.excluded


class Intake:
    """Preprocessing, pipelines and index routing for one rule set."""

    def __init__(self, rules: RuleSet, emulator: Emulator | None = None) -> None:
        self.emulator = emulator or Emulator(rules)

    def ingest(self, raw: MutableMapping[str, Any], sampling_key: bytes) -> Ingested:
        record = self.emulator.process(raw)
        decision = self.emulator.route(record)
        kept = decision.kept(record, sampling_key)
        return Ingested(record, decision, kept)


Item = TypeVar("Item")


class _ByEventType(Generic[Item]):
    """Queries grouped by the `@event_type` they require, so a log is only tested against queries that can
    match it; a query that requires no particular event type is tested against every log."""

    def __init__(self, entries: list[tuple[Query, Item]]) -> None:
        self.everything = [item for _, item in entries]
        required = [(required_values(query, "event_type"), item) for query, item in entries]
        event_types = {value for values, _ in required if values is not None for value in values}
        self._by_type = {
            event_type: [item for values, item in required if values is None or event_type in values]
            for event_type in event_types
        }
        self._unconstrained = [item for values, item in required if values is None]

    def candidates(self, event_type: object) -> list[Item]:
        if event_type is None:
            return self._unconstrained  # no event type: a query that needs one cannot match
        if type(event_type) is not str:
            return self.everything  # an odd event_type value (a number, say): test every query
        return self._by_type.get(event_type, self._unconstrained)


class Tally:
    """What the per-line work leaves: counters and per-minute buckets, never the lines themselves.

    `merge` adds the tally of the piece of input that follows this one, so a file cut into pieces, each
    accumulated on its own and merged in order, gives the tally of the whole file.
    """

    def __init__(self, rules: RuleSet) -> None:
        self.events = 0
        self.unrouted = 0
        self.indexes = {name: IndexCounts() for name in rules.indexes}
        self.metrics = {name: MetricAggregator(name, metric) for name, metric in rules.metrics.items()}
        self.monitors = {slug: MonitorBuckets(monitor_query(monitor)) for slug, monitor in rules.monitors.items()}
        self.first_minute: int | None = None
        """The earliest minute of a dated log."""
        self.last_minute: int | None = None
        """The latest minute of a dated log."""
        self.latest_minute: int | None = None
        """The minute of the last dated log in input order: undated logs after it take it."""
        self.undecidable: Counter[str] = Counter()
        """Per monitor, the logs whose match reads an attribute only Datadog can compute."""

    def dated(self, minute: int) -> None:
        """The next dated log, in input order, is in `minute`."""
        self.latest_minute = minute
        if self.first_minute is None or minute < self.first_minute:
            self.first_minute = minute
        if self.last_minute is None or minute > self.last_minute:
            self.last_minute = minute

    def data_period(self) -> tuple[float, float] | None:
        """Epoch seconds from the start of the first dated log's minute to the end of the last one's."""
        if self.first_minute is None or self.last_minute is None:
            return None
        return self.first_minute * 60.0, (self.last_minute + 1) * 60.0

    def merge(self, later: Tally) -> None:
        """Add the tally of the input that comes right after this tally's."""
        self.undecidable.update(later.undecidable)
        self.events += later.events
        self.unrouted += later.unrouted
        for name, counts in later.indexes.items():
            self.indexes[name].merge(counts)
        for name, aggregator in later.metrics.items():
            self.metrics[name].merge(aggregator)
        for slug, buckets in later.monitors.items():
            self.monitors[slug].merge(buckets, self.latest_minute)
        for minute in (later.first_minute, later.last_minute):
            if minute is not None:
                self.first_minute = minute if self.first_minute is None else min(self.first_minute, minute)
                self.last_minute = minute if self.last_minute is None else max(self.last_minute, minute)
        if later.latest_minute is not None:
            self.latest_minute = later.latest_minute


class Accumulator:
    """The per-line work for one rule set: which metrics and monitors each ingested log counts for."""

    def __init__(self, rules: RuleSet, tally: Tally | None = None) -> None:
        self.tally = tally if tally is not None else Tally(rules)
        monitor_filters: list[tuple[Query, tuple[MonitorBuckets, Matcher, frozenset[str] | None]]] = []
        self._monitor_searches: dict[str, Query] = {}
        for slug, monitor in rules.monitors.items():
            query = monitor_query(monitor)
            indexes = None if "*" in query.indexes else frozenset(query.indexes)
            search = self._monitor_searches[slug] = parse(query.search)
            monitor_filters.append((search, (self.tally.monitors[slug], compile_query(search), indexes)))
        self._monitor_filters = _ByEventType(monitor_filters)
        metric_filters = []
        for name, metric in rules.metrics.items():
            search = parse(metric.filter)
            metric_filters.append((search, (self.tally.metrics[name], compile_query(search))))
        self._metric_filters = _ByEventType(metric_filters)

    def feed(self, ingested: Ingested) -> int | None:
        """Count one log (see `count`) for the metrics and monitors whose filters match it; its minute."""
        record = ingested.record
        decision = ingested.decision
        metrics = self.matching_metrics(record)
        monitors = (
            self.matching_monitors(record, decision.index) if ingested.indexed and decision.may_be_indexed else ()
        )
        return self.count(ingested, metrics, monitors)

    def matching_metrics(self, record: LogRecord) -> list[MetricAggregator]:
        """The log-based metrics whose filter matches the record."""
        event_type = record.attributes.get("event_type")
        return [aggregator for aggregator, matches in self._metric_filters.candidates(event_type) if matches(record)]

    def matching_monitors(self, record: LogRecord, index: str | None) -> list[MonitorBuckets]:
        """The monitors whose search matches the record and whose indexes include `index`."""
        event_type = record.attributes.get("event_type")
        return [
            buckets
            for buckets, matches, indexes in self._monitor_filters.candidates(event_type)
            if (indexes is None or index in indexes) and matches(record)
        ]

    def count(
        self, ingested: Ingested, metrics: Iterable[MetricAggregator], monitors: Iterable[MonitorBuckets]
    ) -> int | None:
        """Count one log for its index and the given metrics and monitors (those that match it), and say
        which minute it counts in. A log without a date takes the previous dated log's minute; before any
        dated log, its minute is not known yet (None) and monitors keep it aside (`MonitorBuckets.undated`)."""
        tally = self.tally
        record = ingested.record
        timestamp = record.timestamp
        minute = tally.latest_minute
        placed = True  # a date no window holds (not finite) counts for indexes and metrics only
        if timestamp is not None:
            if math.isfinite(timestamp):
                minute = math.floor(timestamp / 60)
                tally.dated(minute)
            else:
                placed = False
        tally.events += 1
        decision = ingested.decision
        if decision.index is None:
            tally.unrouted += 1
        else:
            counts = tally.indexes[decision.index]
            counts.matched += 1
            if ingested.indexed:
                counts.indexed += 1
            else:
                counts.excluded += 1
        for aggregator in metrics:
            aggregator.add(record)
        if not (placed and ingested.indexed and decision.may_be_indexed):
            return minute
        if record.unknown:
            for slug in self.undecidable_monitors(record):
                tally.undecidable[slug] += 1
        for buckets in monitors:
            buckets.add(record, minute)
        return minute

    def undecidable_monitors(self, record: LogRecord) -> list[str]:
        """The monitors whose match the emulator cannot decide for this log: the search reads an attribute
        only Datadog can compute (GeoIP, Reference Tables). They are evaluated as if it were absent."""
        if not record.unknown:
            return []
        return [slug for slug, search in self._monitor_searches.items() if undecidable_fields(search, record)]


class Evaluation:
    """Feed ingested logs, then evaluate: every monitor at every minute boundary, as Datadog does.

    `feed` accumulates; `advance_to(M)` evaluates the boundaries up to M over what has been fed; `finish`
    evaluates on past the last log until every window has emptied. `from_tally` evaluates a tally that
    was accumulated elsewhere (in pieces, merged).
    """

    def __init__(self, rules: RuleSet, *, keep_timeline: bool = False, tally: Tally | None = None) -> None:
        self.rules = rules
        self.accumulator = Accumulator(rules, tally)
        self.tally = self.accumulator.tally
        self.monitors: dict[str, MonitorEvaluator] = {}
        for slug, monitor in rules.monitors.items():
            _, warning = thresholds(monitor)
            self.monitors[slug] = MonitorEvaluator(
                slug,
                monitor_query(monitor),
                warning,
                keep_timeline,
                options=monitor_options(monitor),
                buckets=self.tally.monitors[slug],
                prune=False,
            )
        self._last_boundary: int | None = None
        self._keep_timeline = keep_timeline

    @classmethod
    def from_tally(cls, rules: RuleSet, tally: Tally, *, keep_timeline: bool = False) -> Evaluation:
        evaluation = cls(rules, keep_timeline=keep_timeline, tally=tally)
        evaluation.finish()
        return evaluation

    @property
    def metrics(self) -> dict[str, MetricAggregator]:
        return self.tally.metrics

    @property
    def indexes(self) -> dict[str, IndexCounts]:
        return self.tally.indexes

    @property
    def unrouted(self) -> int:
        return self.tally.unrouted

    @property
    def events(self) -> int:
        return self.tally.events

    def feed(self, ingested: Ingested) -> None:
        self.accumulator.feed(ingested)

    def advance_to(self, minute: int) -> None:
        """Evaluate every monitor at each minute boundary after the last one evaluated, through `minute`.
        The first call (or, without one, the first dated log) sets where evaluation starts."""
        if self._last_boundary is None:
            if self.tally.first_minute is None or self.tally.first_minute >= minute:
                self._last_boundary = minute
                return
            self._last_boundary = self.tally.first_minute
        boundary = self._last_boundary + 1
        evaluators = list(self.monitors.values())
        dated = sorted({m for e in evaluators for m in e.buckets.minutes}) if not self._keep_timeline else []
        while boundary <= minute:
            if not self._keep_timeline and all(e.steady for e in evaluators):
                # Every window was empty at the last evaluation: nothing changes until the next dated minute
                # enters a window, so the boundaries before it are skipped.
                following = bisect.bisect_left(dated, boundary - 1)
                boundary = max(boundary, dated[following] if following < len(dated) else minute + 1)
                if boundary > minute:
                    break
            for evaluator in evaluators:
                evaluator.evaluate(boundary)
            boundary += 1
        self._last_boundary = max(self._last_boundary, minute)

    def finish(self) -> None:
        """Evaluate through the last log's windows: up to the boundary after the longest window has emptied."""
        tally = self.tally
        if self._last_boundary is None:
            if tally.first_minute is None:
                return
            self._last_boundary = tally.first_minute
        if tally.last_minute is None:
            end = self._last_boundary
        else:
            longest = max((e.window for e in self.monitors.values()), default=0)
            end = tally.last_minute + longest + 1
        self.advance_to(max(end, self._last_boundary))
