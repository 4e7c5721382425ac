"""A monitor's evaluation over time as series a chart can draw: one per group, busiest first.

Read from the evaluator's timeline (`Evaluation(rules, keep_timeline=True)`): at every evaluated minute,
each group's value and state. A count or cardinality is 0 in a minute where its group had no log; a
measure rollup has no value there (a gap in the line), as Datadog shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from logmon.evaluation import MonitorEvaluator, State

GROUPS_SHOWN = 6
"""Groups charted per monitor in the HTML report; the rest are counted in a note."""


@dataclass(frozen=True)
class GroupSeries:
    group: dict[str, str]
    """Facet → value; empty for an ungrouped monitor."""
    values: tuple[float | None, ...]
    """One per minute of the monitor's timeline; None where the group had no value."""
    states: tuple[State | None, ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{facet}: {value}" for facet, value in self.group.items()) or "all logs"

    @property
    def total(self) -> float:
        return sum(value for value in self.values if value is not None)


@dataclass(frozen=True)
class MonitorTimeline:
    slug: str
    name: str
    comparator: str
    critical: float
    warning: float | None
    window_minutes: int
    rollup: str
    minutes: tuple[int, ...]
    """Epoch minutes of every evaluation, in order."""
    groups: tuple[GroupSeries, ...]
    """Busiest first (largest sum of values), then by label."""

    @property
    def unit(self) -> str:
        """What the value counts, for an axis label."""
        if self.rollup == "count":
            return f"logs in {self.window_minutes}m"
        return f"{self.rollup} over {self.window_minutes}m"

    def highest(self) -> tuple[float | None, ...]:
        """At each minute, the largest value of any group: what decides whether anything alerts."""
        return tuple(
            max((value for group in self.groups if (value := group.values[i]) is not None), default=None)
            for i in range(len(self.minutes))
        )

    def alerts(self) -> int:
        """Alerts raised: each time a group enters ALERT."""
        return sum(len(spans(self.minutes, group.states, State.ALERT)) for group in self.groups)

    def minutes_in(self, state: State) -> int:
        """Minutes during which at least one group was in `state`."""
        return sum(1 for i in range(len(self.minutes)) if any(group.states[i] is state for group in self.groups))


def monitor_timeline(evaluator: MonitorEvaluator, name: str) -> MonitorTimeline:
    """The evaluator's timeline as series; it must have been kept (`keep_timeline=True`)."""
    if evaluator.timeline is None:
        raise ValueError(f"monitor {evaluator.slug} was evaluated without keeping its timeline")
    minutes = tuple(sorted(evaluator.timeline))
    keys = sorted({key for results in evaluator.timeline.values() for key in results})
    missing_is_zero = evaluator.query.rollup in ("count", "cardinality")
    groups = []
    for key in keys:
        values: list[float | None] = []
        states: list[State | None] = []
        for minute in minutes:
            result = evaluator.timeline[minute].get(key)
            if result is not None:
                values.append(result.value)
                states.append(result.state)
            elif missing_is_zero:
                values.append(0.0)
                states.append(State.OK)
            else:
                values.append(None)
                states.append(None)
        groups.append(GroupSeries(evaluator.group_names(key), tuple(values), tuple(states)))
    groups.sort(key=lambda group: (-group.total, group.label))
    return MonitorTimeline(
        slug=evaluator.slug,
        name=name,
        comparator=evaluator.query.comparator,
        critical=evaluator.critical,
        warning=evaluator.warning,
        window_minutes=evaluator.window,
        rollup=evaluator.query.rollup,
        minutes=minutes,
        groups=tuple(groups),
    )


def spans(minutes: Sequence[int], states: Sequence[State | None], state: State) -> list[tuple[int, int]]:
    """Runs of consecutive evaluations in `state`, as [first minute, minute after the last)."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    for minute, current in zip(minutes, states, strict=True):
        if current is state and start is None:
            start = minute
        elif current is not state and start is not None:
            found.append((start, minute))
            start = None
    if start is not None:
        found.append((start, minutes[-1] + 1))
    return found


def downsample(values: Sequence[float | None], points: int) -> list[float]:
    """At most `points` values, each the largest of its stretch (a peak that crossed a threshold stays
    visible); a stretch with no value is 0."""
    if points < 1:
        raise ValueError("points must be at least 1")
    if len(values) <= points:
        return [value or 0.0 for value in values]
    size = len(values) / points
    result = []
    for bucket in range(points):
        stretch = values[round(bucket * size) : round((bucket + 1) * size)]
        result.append(max((value for value in stretch if value is not None), default=0.0))
    return result
