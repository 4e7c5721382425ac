"""A log monitor evaluated as Datadog does: every minute, over a rolling window, one result per group.

At each minute boundary T the monitor looks at the logs dated in [T − window, T): it rolls them up
(count, distinct values, or a measure aggregation) per group, compares the value with the critical and
warning thresholds, and sets each group OK, WARN or ALERT. Memory holds one window of minutes.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from logmon.evaluation.facets import FacetReader, facet_reader, group_value, number
from logmon.logrecord import LogRecord
from logmon.search.monitor_query import MonitorQuery

GroupKey = tuple[str, ...]
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class State(StrEnum):
    OK = "ok"
    WARN = "warn"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class GroupResult:
    value: float
    state: State


@dataclass
class AlertInterval:
    group: dict[str, str]
    start: int
    """Epoch seconds of the first evaluation that alerted."""
    end: int | None = None
    """Epoch seconds of the first evaluation that no longer alerted; None while still alerting."""


@dataclass
class _Bucket:
    """One minute of one group: what the rollup needs from the logs dated in that minute."""

    count: int = 0
    distinct: set[str] = field(default_factory=set)
    values: list[float] = field(default_factory=list)


def _rollup(name: str) -> Callable[[list[float]], float]:
    if name == "avg":
        return statistics.fmean
    if name == "sum":
        return math.fsum
    if name == "min":
        return min
    if name == "max":
        return max
    fraction = 0.5 if name == "median" else int(name.removeprefix("pc")) / 100

    def percentile(values: list[float]) -> float:
        ordered = sorted(values)
        position = fraction * (len(ordered) - 1)
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return percentile


class MonitorEvaluator:
    """One monitor's rolling evaluation; feed it matching logs in time order and evaluate each minute."""

    def __init__(self, slug: str, query: MonitorQuery, warning: float | None, keep_timeline: bool = False) -> None:
        self.slug = slug
        self.query = query
        self.window = query.window_minutes
        self.critical = query.threshold
        self.warning = warning
        self.compare = _COMPARE[query.comparator]
        self.group_facets = query.group_by
        self._readers: list[FacetReader] = [facet_reader(facet) for facet in query.group_by]
        self._measure: FacetReader | None = facet_reader(query.measure) if query.measure else None
        self._aggregate = None if query.rollup in ("count", "cardinality") else _rollup(query.rollup)
        self._minutes: deque[tuple[int, dict[GroupKey, _Bucket]]] = deque()
        self._alerting: dict[GroupKey, AlertInterval] = {}
        self._evaluated: int | None = None
        """The last boundary evaluated."""
        self.intervals: list[AlertInterval] = []
        self.first_alert_at: int | None = None
        self.max_value: float | None = None
        self.timeline: dict[int, dict[GroupKey, GroupResult]] | None = {} if keep_timeline else None

    def group_of(self, record: LogRecord) -> GroupKey:
        return tuple(group_value(read(record)) for read in self._readers)

    def add(self, record: LogRecord, minute: int) -> None:
        """Count one matching, indexed log dated in `minute` (epoch minutes)."""
        groups = self._minutes[-1][1] if self._minutes and self._minutes[-1][0] == minute else self._bucket_for(minute)
        if groups is None:
            return
        key = self.group_of(record) if self._readers else ()
        bucket = groups.get(key)
        if bucket is None:
            bucket = groups[key] = _Bucket()
        rollup = self.query.rollup
        if rollup == "count":
            bucket.count += 1
        elif self._measure is not None:
            raw = self._measure(record)
            if rollup == "cardinality":
                if raw is not None and group_value(raw) != "N/A":
                    bucket.distinct.add(group_value(raw))
            else:
                value = number(raw)
                if value is not None:
                    bucket.values.append(value)

    def _bucket_for(self, minute: int) -> dict[GroupKey, _Bucket] | None:
        for existing, existing_groups in reversed(self._minutes):
            if existing == minute:
                return existing_groups
            if existing < minute:
                break
        if self._evaluated is not None and minute < self._evaluated + 1 - self.window:
            return None  # outside the next evaluation's window: too late to count
        groups: dict[GroupKey, _Bucket] = {}
        self._minutes.append((minute, groups))
        if len(self._minutes) > 1 and self._minutes[-2][0] > minute:
            self._minutes = deque(sorted(self._minutes, key=lambda item: item[0]))
        return groups

    def evaluate(self, at_minute: int) -> dict[GroupKey, GroupResult]:
        """The state of every group at the boundary `at_minute`, over [at − window, at)."""
        self._evaluated = at_minute if self._evaluated is None else max(self._evaluated, at_minute)
        start = at_minute - self.window
        while self._minutes and self._minutes[0][0] < start:
            self._minutes.popleft()
        merged: dict[GroupKey, _Bucket] = {}
        for minute, groups in self._minutes:
            if minute >= at_minute:
                break
            for key, bucket in groups.items():
                total = merged.get(key)
                if total is None:
                    total = merged[key] = _Bucket()
                total.count += bucket.count
                total.distinct |= bucket.distinct
                total.values.extend(bucket.values)
        if not self._readers and () not in merged and self.query.rollup in ("count", "cardinality"):
            merged[()] = _Bucket()  # an ungrouped count is 0, not missing, when nothing matched
        results: dict[GroupKey, GroupResult] = {}
        for key, bucket in merged.items():
            value = self._value(bucket)
            if value is None:
                continue
            results[key] = GroupResult(value, self._state(value))
        self._record(at_minute, results)
        return results

    def _value(self, bucket: _Bucket) -> float | None:
        rollup = self.query.rollup
        if rollup == "count":
            return float(bucket.count)
        if rollup == "cardinality":
            return float(len(bucket.distinct))
        if not bucket.values or self._aggregate is None:
            return None
        return float(self._aggregate(bucket.values))

    def _state(self, value: float) -> State:
        if self.compare(value, self.critical):
            return State.ALERT
        if self.warning is not None and self.compare(value, self.warning):
            return State.WARN
        return State.OK

    def _record(self, at_minute: int, results: dict[GroupKey, GroupResult]) -> None:
        at = at_minute * 60
        if self.timeline is not None:
            self.timeline[at_minute] = results
        for result in results.values():
            if self.max_value is None or result.value > self.max_value:
                self.max_value = result.value
        for key, result in results.items():
            if result.state is State.ALERT and key not in self._alerting:
                interval = AlertInterval(self.group_names(key), at)
                self._alerting[key] = interval
                self.intervals.append(interval)
                if self.first_alert_at is None:
                    self.first_alert_at = at
        for key in [k for k in self._alerting if k not in results or results[k].state is not State.ALERT]:
            self._alerting.pop(key).end = at

    def group_names(self, key: GroupKey) -> dict[str, str]:
        return dict(zip(self.group_facets, key, strict=True))

    @property
    def idle(self) -> bool:
        """No log is left in any window and no group is alerting: further evaluations change nothing."""
        return not self._minutes and not self._alerting

    def oldest_minute(self) -> int | None:
        return self._minutes[0][0] if self._minutes else None


def describe(results: dict[GroupKey, GroupResult], evaluator: MonitorEvaluator) -> list[dict[str, Any]]:
    return [
        {"group": evaluator.group_names(key), "value": result.value, "state": result.state.value}
        for key, result in sorted(results.items())
    ]
