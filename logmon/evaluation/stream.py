"""A stream of raw logs through intake, index routing, every log-based metric and every monitor.

One engine for rule tests and replay: the rule tests feed it the logger's rendered output, replay feeds
it a log file, and both read the same results.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from logmon.emulator import Emulator, IndexDecision
from logmon.evaluation.metrics import MetricAggregator
from logmon.evaluation.monitors import MonitorEvaluator
from logmon.logrecord import LogRecord
from logmon.queries import monitor_query, thresholds
from logmon.rules.loader import RuleSet
from logmon.search import Matcher, Query, compile_query, parse, required_values


@dataclass(slots=True)
class Ingested:
    record: LogRecord
    decision: IndexDecision
    indexed: bool
    """Kept by the index it was routed to, after exclusion sampling (Flex-only indexes included; monitors
    also require `decision.may_be_indexed`)."""


@dataclass
class IndexCounts:
    matched: int = 0
    """Logs routed to the index."""
    indexed: int = 0
    """Logs the index kept."""
    excluded: int = 0
    """Logs its exclusion filters dropped."""


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


class Evaluation:
    """Feed ingested logs in time order; monitors are evaluated at every minute boundary they cross."""

    def __init__(self, rules: RuleSet, *, keep_timeline: bool = False) -> None:
        self.rules = rules
        self.monitors: dict[str, MonitorEvaluator] = {}
        monitor_filters: list[tuple[Query, tuple[MonitorEvaluator, Matcher, frozenset[str] | None]]] = []
        for slug, monitor in rules.monitors.items():
            query = monitor_query(monitor)
            _, warning = thresholds(monitor)
            evaluator = MonitorEvaluator(slug, query, warning, keep_timeline)
            self.monitors[slug] = evaluator
            indexes = None if "*" in query.indexes else frozenset(query.indexes)
            search = parse(query.search)
            monitor_filters.append((search, (evaluator, compile_query(search), indexes)))
        self._monitor_filters = _ByEventType(monitor_filters)
        self.metrics = {name: MetricAggregator(name, metric) for name, metric in rules.metrics.items()}
        metric_filters = []
        for aggregator, metric in zip(self.metrics.values(), rules.metrics.values(), strict=True):
            search = parse(metric.filter)
            metric_filters.append((search, (aggregator, compile_query(search))))
        self._metric_filters = _ByEventType(metric_filters)
        self.indexes = {name: IndexCounts() for name in rules.indexes}
        self.unrouted = 0
        self.events = 0
        self._last_boundary: int | None = None
        self._last_timestamp: float | None = None
        self._keep_timeline = keep_timeline

    def feed(self, ingested: Ingested) -> None:
        """Count one log. A log without a date takes the previous log's; before any dated log, it counts for
        indexes and metrics but no monitor can place it in a window."""
        record = ingested.record
        timestamp = record.timestamp if record.timestamp is not None else self._last_timestamp
        minute: int | None = None
        if timestamp is not None and math.isfinite(timestamp):
            self._last_timestamp = timestamp
            minute = math.floor(timestamp / 60)
            self.advance_to(minute)
        self.events += 1
        decision = ingested.decision
        if decision.index is None:
            self.unrouted += 1
        else:
            counts = self.indexes[decision.index]
            counts.matched += 1
            if ingested.indexed:
                counts.indexed += 1
            else:
                counts.excluded += 1
        event_type = record.attributes.get("event_type")
        for aggregator, matches in self._metric_filters.candidates(event_type):
            if matches(record):
                aggregator.add(record)
        if minute is None or not (ingested.indexed and decision.may_be_indexed):
            return
        for evaluator, matches, indexes in self._monitor_filters.candidates(event_type):
            if (indexes is None or decision.index in indexes) and matches(record):
                evaluator.add(record, minute)

    def advance_to(self, minute: int) -> None:
        """Evaluate every monitor at each minute boundary up to and including `minute`."""
        if self._last_boundary is None:
            self._last_boundary = minute
            return
        boundary = self._last_boundary + 1
        while boundary <= minute:
            if not self._keep_timeline and all(e.idle for e in self.monitors.values()):
                break  # nothing in any window and no alert open: every evaluation until `minute` is all OK
            for evaluator in self.monitors.values():
                evaluator.evaluate(boundary)
            boundary += 1
        self._last_boundary = max(self._last_boundary, minute)

    def finish(self) -> None:
        """Keep evaluating after the last log until every window has emptied and every alert resolved."""
        if self._last_boundary is None:
            return
        longest = max((e.window for e in self.monitors.values()), default=0)
        for _ in range(longest + 1):
            if all(e.idle for e in self.monitors.values()):
                break
            self.advance_to(self._last_boundary + 1)
