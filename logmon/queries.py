"""How a monitor rule becomes its Datadog query, and the thresholds that go with it.

One function builds the query that Pulumi sends, that lint checks and that the evaluator runs, so the
number in the query and `options.thresholds.critical` can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from logmon.rules.model import Monitor
from logmon.search.monitor_query import MonitorQuery, build_monitor_query, parse_monitor_query, window_minutes


def scale(monitor: Monitor, value: float, minutes: int) -> float:
    """A threshold as the query compares it: per-minute rates times the window's minutes."""
    return value * minutes if monitor.threshold.unit == "per_minute" else value


def monitor_query(monitor: Monitor) -> MonitorQuery:
    """The structured query of a monitor; ValueError (or SearchSyntaxError) when the rule is broken.

    A monitor written with a complete `query` keeps it as written; lint checks its number against the
    threshold separately.
    """
    if monitor.query is not None:
        return parse_monitor_query(monitor.query)
    assert monitor.search is not None
    assert monitor.window is not None
    minutes = window_minutes(monitor.window)
    return MonitorQuery(
        search=monitor.search,
        indexes=tuple(monitor.indexes),
        rollup=monitor.rollup,
        measure=monitor.measure,
        group_by=tuple(monitor.group_by),
        window_minutes=minutes,
        window_text=monitor.window,
        comparator=monitor.threshold.comparator,
        threshold=scale(monitor, monitor.threshold.critical, minutes),
    )


def thresholds(monitor: Monitor) -> tuple[float, float | None]:
    """(critical, warning) in the query's units, as `options.thresholds` must state them."""
    query = monitor_query(monitor)
    minutes = query.window_minutes
    critical = scale(monitor, monitor.threshold.critical, minutes)
    warning = monitor.threshold.warning
    return critical, (scale(monitor, warning, minutes) if warning is not None else None)


def query_text(monitor: Monitor) -> str:
    return monitor.query if monitor.query is not None else build_monitor_query(monitor_query(monitor))


NEW_GROUP_DELAY_SECONDS: Final = 60
"""Datadog's default `new_group_delay` (Monitor API options guide: "Default: 60"); the program sends none."""


@dataclass(frozen=True)
class MonitorOptions:
    """The evaluation options a monitor is deployed with, which the offline evaluator honours."""

    require_full_window: bool = False
    """Skip a group's evaluation until its data covers the whole window."""
    on_missing_data: Literal["default"] = "default"
    """Count rollups evaluate an empty window as 0; other rollups keep the group's last state."""
    new_group_delay: int = 0
    """Seconds after a group first appears during which it is not evaluated (grouped monitors)."""


def monitor_options(monitor: Monitor) -> MonitorOptions:
    """What the Pulumi program sets on the monitor (infra/components/datadog_logs.py reads it from here)."""
    query = monitor_query(monitor)
    return MonitorOptions(
        require_full_window=query.rollup != "count",
        on_missing_data="default",
        new_group_delay=NEW_GROUP_DELAY_SECONDS if query.group_by else 0,
    )
