"""A log monitor evaluated as Datadog does: every minute, over a rolling window, one result per group.

The work splits in two. `MonitorBuckets` accumulates the matching logs per minute and per group (a count,
the distinct values, or a sketch of the measure): that part is per line, mergeable, and is what parallel
replay runs in pieces. `MonitorEvaluator` then evaluates minute boundaries in order: at boundary T it rolls
the buckets of [T − window, T) up per group, compares the value with the critical and warning thresholds,
and sets each group OK, WARN or ALERT, honouring the options the monitor is deployed with
(`logmon.queries.monitor_options`; docs/rule-tests.md, "Monitor options").
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from logmon.evaluation.facets import FacetValues, facet_values, group_value, numbers
from logmon.evaluation.sketch import Sketch
from logmon.logrecord import LogRecord, is_mapping, iter_path_values
from logmon.queries import MonitorOptions
from logmon.search.monitor_query import MonitorQuery

GroupKey = tuple[str, ...]
ALL_GROUPS = "*"
"""The group name of a grouped evaluation in which no group has any log (Datadog: "no logs for all of the
groups")."""
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_QUANTILES = {"median": 0.5, "pc75": 0.75, "pc90": 0.90, "pc95": 0.95, "pc98": 0.98, "pc99": 0.99}

BucketKind = Literal["count", "distinct", "sketch"]


class State(StrEnum):
    OK = "ok"
    WARN = "warn"
    ALERT = "alert"


@dataclass(frozen=True, slots=True)
class GroupResult:
    value: float
    state: State
    evaluated: bool = True
    """False when Datadog would skip the group's evaluation (a new group within its delay, a partial window,
    or no data for a rollup that keeps its last state): `state` and `value` are then the group's last."""


@dataclass
class AlertInterval:
    group: dict[str, str]
    start: int
    """Epoch seconds of the first evaluation that alerted."""
    end: int | None = None
    """Epoch seconds of the first evaluation that no longer alerted; None while still alerting."""


def bucket_kind(query: MonitorQuery) -> BucketKind:
    if query.rollup == "count":
        return "count"
    if query.rollup == "cardinality":
        return "distinct"
    return "sketch"


def _combine(kind: BucketKind, into: dict[GroupKey, Any], other: dict[GroupKey, Any]) -> None:
    """Add `other`'s buckets (one minute's groups) into `into`."""
    if kind == "count":
        for key, count in other.items():
            into[key] = into.get(key, 0) + count
        return
    for key, bucket in other.items():
        mine = into.get(key)
        if mine is None:
            if kind == "distinct":
                into[key] = set(bucket)
            else:
                into[key] = mine = Sketch()
                mine.merge(bucket)
        elif kind == "distinct":
            mine |= bucket
        else:
            mine.merge(bucket)


class MonitorBuckets:
    """One monitor's matching logs, per minute and per group: mergeable, and as large as minutes × groups.

    Logs whose minute is not known yet (no date, and none before them in this piece of the input) wait in
    `undated` until a merge with the piece before says which minute they take.
    """

    def __init__(self, query: MonitorQuery) -> None:
        self.query = query
        self.kind: BucketKind = bucket_kind(query)
        self._readers: list[FacetValues] = [facet_values(facet) for facet in query.group_by]
        self._measure = query.measure[1:] if query.measure and query.measure.startswith("@") else query.measure
        self.minutes: dict[int, dict[GroupKey, Any]] = {}
        self.undated: dict[GroupKey, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"query": self.query, "minutes": self.minutes, "undated": self.undated}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["query"])  # type: ignore[misc]  # the readers are closures: rebuilt, not sent
        self.minutes = state["minutes"]
        self.undated = state["undated"]

    def group_keys(self, record: LogRecord) -> list[GroupKey]:
        """One key per combination of the log's facet values (a log with two currencies counts in both)."""
        if not self._readers:
            return [()]
        if len(self._readers) == 1:
            return [(value,) for value in self._readers[0](record)]
        return list(itertools.product(*(read(record) for read in self._readers)))

    def add(self, record: LogRecord, minute: int | None, times: int = 1) -> None:
        """Count one matching, indexed log dated in `minute` (epoch minutes; None: not known yet), `times`
        times (a cardinality counts its values once however often they come)."""
        keys = self.group_keys(record)
        if self.kind == "count":
            self.count(keys, minute, times)
            return
        groups = self.undated if minute is None else self.minutes.setdefault(minute, {})
        measure = self._measure or ""
        if self.kind == "distinct":
            values = {
                group_value(value)
                for value in iter_path_values(record.attributes, measure)
                if value is not None and not is_mapping(value)
            }
            for key in keys:
                distinct = groups.get(key)
                if distinct is None:
                    groups[key] = set(values)
                else:
                    distinct |= values
            return
        found = numbers(record, measure)
        for key in keys:
            sketch = groups.get(key)
            if sketch is None:
                sketch = groups[key] = Sketch()
            for value in found:
                sketch.add(value, times)

    def count(self, keys: list[GroupKey], minute: int | None, times: int) -> None:
        """Count `times` logs in each of the groups `keys` (`group_keys`) at `minute`, for a count rollup."""
        groups = self.undated if minute is None else self.minutes.setdefault(minute, {})
        for key in keys:
            groups[key] = groups.get(key, 0) + times

    def merge(self, later: MonitorBuckets, undated_minute: int | None) -> None:
        """Add the buckets of the piece of input after this one; its undated logs take `undated_minute`
        (the minute of the last dated log before them), or stay undated when there is none."""
        for minute, groups in later.minutes.items():
            mine = self.minutes.get(minute)
            if mine is None:
                mine = self.minutes[minute] = {}
            _combine(self.kind, mine, groups)
        if later.undated:
            if undated_minute is None:
                _combine(self.kind, self.undated, later.undated)
            else:
                _combine(self.kind, self.minutes.setdefault(undated_minute, {}), later.undated)


class MonitorEvaluator:
    """One monitor's rolling evaluation over its buckets, one minute boundary after another."""

    def __init__(
        self,
        slug: str,
        query: MonitorQuery,
        warning: float | None,
        keep_timeline: bool = False,
        options: MonitorOptions | None = None,
        buckets: MonitorBuckets | None = None,
        prune: bool = True,
    ) -> None:
        self.slug = slug
        self.query = query
        self.options = options or MonitorOptions()
        self.window = query.window_minutes
        self.critical = query.threshold
        self.warning = warning
        self.compare = _COMPARE[query.comparator]
        self.group_facets = query.group_by
        self.buckets = buckets if buckets is not None else MonitorBuckets(query)
        self.prune = prune
        """Forget minutes no later evaluation reads (when logs arrive as they are evaluated); an evaluation over
        an accumulated tally leaves the tally as it is."""
        self._count_like = query.rollup in ("count", "cardinality")
        """Datadog's `on_missing_data: default` evaluates an empty count as 0; other rollups keep their state."""
        self._alerting: dict[GroupKey, AlertInterval] = {}
        self._last: dict[GroupKey, GroupResult] = {}
        self._first_seen: dict[GroupKey, int] = {}
        self._evaluated: int | None = None
        """The last boundary evaluated."""
        self._pruned_below: int | None = None
        self._empty_window = False
        self.intervals: list[AlertInterval] = []
        self.first_alert_at: int | None = None
        self.max_value: float | None = None
        self.timeline: dict[int, dict[GroupKey, GroupResult]] | None = {} if keep_timeline else None

    def add(self, record: LogRecord, minute: int) -> None:
        """Count one matching, indexed log dated in `minute` (epoch minutes)."""
        if self._evaluated is not None and minute < self._evaluated + 1 - self.window:
            return  # outside every window still to be evaluated: too late to count
        self.buckets.add(record, minute)

    def _prune(self, start: int) -> None:
        """Forget the minutes before `start`: no later evaluation reads them."""
        minutes = self.buckets.minutes
        below = self._pruned_below
        if below is not None and start - below <= 4096:
            for minute in range(below, start):
                minutes.pop(minute, None)
        else:
            for minute in [m for m in minutes if m < start]:
                del minutes[minute]
        self._pruned_below = start

    def evaluate(self, at_minute: int) -> dict[GroupKey, GroupResult]:
        """The state of every group at the boundary `at_minute`, over [at − window, at)."""
        self._evaluated = at_minute if self._evaluated is None else max(self._evaluated, at_minute)
        start = at_minute - self.window
        if self.prune:
            self._prune(start)
        kind = self.buckets.kind
        merged: dict[GroupKey, Any] = {}
        minutes = self.buckets.minutes
        for minute in range(start, at_minute):
            groups = minutes.get(minute)
            if groups:
                _combine(kind, merged, groups)
        self._empty_window = not merged
        full = self._full_groups(start) if self.options.require_full_window and not self._count_like else None
        results: dict[GroupKey, GroupResult] = {}
        for key, bucket in merged.items():
            value = self._value(bucket)
            if value is None:
                continue
            if full is not None and key not in full:
                results[key] = self._held(key, value)
                continue
            results[key] = GroupResult(value, self._state(value))
        if self._count_like:
            if not self.group_facets and () not in results:
                results[()] = GroupResult(0.0, self._state(0.0))
            elif self.group_facets and not results:
                everything = (ALL_GROUPS,) * len(self.group_facets)
                results[everything] = GroupResult(0.0, self._state(0.0))
        else:
            for key, last in self._last.items():
                if key not in results:
                    results[key] = GroupResult(last.value, last.state, evaluated=False)
        if self.options.new_group_delay and self.group_facets:
            self._delay_new_groups(at_minute, results)
        if not self._count_like:
            self._last.update(results)
        self._record(at_minute, results)
        return results

    def _full_groups(self, start: int) -> set[GroupKey]:
        """Groups with data in the window's first minute: their data covers the whole window."""
        return set(self.buckets.minutes.get(start, {}))

    def _held(self, key: GroupKey, value: float) -> GroupResult:
        last = self._last.get(key)
        return GroupResult(value, last.state if last is not None else State.OK, evaluated=False)

    def _delay_new_groups(self, at_minute: int, results: dict[GroupKey, GroupResult]) -> None:
        delay_minutes = -(-self.options.new_group_delay // 60)
        for key, result in list(results.items()):
            if ALL_GROUPS in key and all(part == ALL_GROUPS for part in key):
                continue
            first = self._first_seen.setdefault(key, at_minute)
            if at_minute - first < delay_minutes and result.evaluated:
                results[key] = self._held(key, result.value)

    def _value(self, bucket: Any) -> float | None:
        kind = self.buckets.kind
        if kind == "count":
            return float(bucket)
        if kind == "distinct":
            return float(len(bucket))
        sketch: Sketch = bucket
        if sketch.count == 0:
            return None
        rollup = self.query.rollup
        if rollup == "avg":
            return sketch.average
        if rollup == "sum":
            return sketch.total
        if rollup == "min":
            return sketch.minimum
        if rollup == "max":
            return sketch.maximum
        return sketch.quantile(_QUANTILES[rollup])

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
            if result.evaluated and (self.max_value is None or result.value > self.max_value):
                self.max_value = result.value
        # Groups that start alerting together are listed in key order, not in the order their logs were
        # counted, which depends on how the input was cut and batched.
        starting = [key for key, result in results.items() if result.state is State.ALERT and key not in self._alerting]
        for key in sorted(starting):
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
    def steady(self) -> bool:
        """The last evaluation saw an empty window: every evaluation until new data enters gives the same
        results, so they may be skipped when no timeline is kept."""
        return self._empty_window and self._evaluated is not None

    @property
    def idle(self) -> bool:
        """No log is left for any later window and no group is alerting: further evaluations change nothing."""
        if self._alerting:
            return False
        if self._evaluated is None:
            return not self.buckets.minutes
        start = self._evaluated + 1 - self.window
        return all(minute < start for minute in self.buckets.minutes)


def describe(results: dict[GroupKey, GroupResult], evaluator: MonitorEvaluator) -> list[dict[str, Any]]:
    return [
        {"group": evaluator.group_names(key), "value": result.value, "state": result.state.value}
        for key, result in sorted(results.items())
    ]
