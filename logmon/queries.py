"""How a monitor rule becomes its Datadog query, and the thresholds that go with it.

One function builds the query that Pulumi sends, that lint checks and that the evaluator runs, so the
number in the query and `options.thresholds.critical` can never disagree.
"""

from __future__ import annotations

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
