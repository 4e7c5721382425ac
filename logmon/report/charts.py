"""Charts as static SVG drawn by matplotlib's SVG backend, ready to inline in an HTML page.

Every drawn element a reader (or a test) looks for carries an id made from the chart's id: the value
line `<chart>-value`, the thresholds `<chart>-critical` and `<chart>-warning`, the shaded intervals
`<chart>-alert-<n>` and `<chart>-warn-<n>`; an index's hourly bars `<chart>-indexed-<n>`,
`<chart>-flex-<n>`, `<chart>-excluded-<filter>-<n>`, its daily limit `<chart>-daily-limit`. Text stays
text (`svg.fonttype: none`) and the output is deterministic (fixed hash salt per chart, no date in the
metadata), so the same replay gives the same file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from logmon.evaluation import State
from logmon.report.collect import FLEX, INDEXED, IndexHours
from logmon.report.timeline import GroupSeries, MonitorTimeline, spans

VALUE_COLOUR = "#1f5fbf"
BASE_COLOUR = "#8c8c8c"
CRITICAL_COLOUR = "#c62828"
WARNING_COLOUR = "#ef8f00"
FLEX_COLOUR = "#7b57c2"
EXCLUDED_COLOURS = ("#b0bec5", "#90a4ae", "#78909c", "#607d8b")
DAILY_LIMIT_RESET_HOUR = 14
"""Datadog resets an index's daily quota at 14:00 UTC unless the index sets another time (docs/decisions.md)."""
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_NUMBERED_ID = re.compile(r'\bid="([a-z][\w.]*_\d+)"')
"""matplotlib's own element ids (`figure_1`, `line2d_3`): the same in every chart, so each gets the chart's prefix."""
_STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@dataclass(frozen=True)
class Thresholds:
    comparator: str
    critical: float
    warning: float | None


def moment(minute: int) -> float:
    """An epoch minute as matplotlib's date number."""
    return float(date2num(datetime.fromtimestamp(minute * 60, UTC)))  # type: ignore[no-untyped-call]


def _figure(height: float = 2.4) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(9.6, height))
    # Fixed margins (room for a second axis on the right) rather than a layout engine: several times faster.
    figure.subplots_adjust(left=0.075, right=0.925, top=0.95, bottom=0.2 * 2.4 / height)
    axes = figure.add_subplot()
    locator = AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))  # type: ignore[no-untyped-call]
    axes.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    return figure, axes


def _svg(figure: Figure, chart_id: str) -> str:
    """The figure as an `<svg>` element with no XML prologue, ids salted by the chart's id."""
    buffer = io.StringIO()
    style: Any = {**_STYLE, "svg.hashsalt": chart_id}
    with mpl.rc_context(style):
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})  # type: ignore[no-untyped-call]
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1).strip()
    return _NUMBERED_ID.sub(lambda match: f'id="{chart_id}-{match.group(1)}"', svg)


def _threshold_lines(
    axes: Axes, chart_id: str, thresholds: Thresholds, *, suffix: str = "", dashed: bool = False
) -> None:
    style = "--" if dashed else "-"
    label_suffix = f" ({suffix.strip('-')})" if suffix else ""
    line = axes.axhline(thresholds.critical, color=CRITICAL_COLOUR, linewidth=1.2, linestyle=style)
    line.set_gid(f"{chart_id}-critical{suffix}")
    line.set_label(f"critical {thresholds.comparator} {thresholds.critical:g}{label_suffix}")
    if thresholds.warning is not None:
        line = axes.axhline(thresholds.warning, color=WARNING_COLOUR, linewidth=1.0, linestyle=style)
        line.set_gid(f"{chart_id}-warning{suffix}")
        line.set_label(f"warning {thresholds.comparator} {thresholds.warning:g}{label_suffix}")


def _shade(axes: Axes, chart_id: str, minutes: Sequence[int], states: Sequence[State | None]) -> None:
    for state, colour, name in ((State.ALERT, CRITICAL_COLOUR, "alert"), (State.WARN, WARNING_COLOUR, "warn")):
        for number, (start, end) in enumerate(spans(minutes, states, state)):
            patch = axes.axvspan(moment(start), moment(end), color=colour, alpha=0.22, linewidth=0)
            patch.set_gid(f"{chart_id}-{name}-{number}")


def monitor_svg(
    timeline: MonitorTimeline,
    group: GroupSeries,
    chart_id: str,
    *,
    base: tuple[Thresholds, GroupSeries | None] | None = None,
) -> str:
    """One group's value at every evaluation, its thresholds, and its alert and warn intervals shaded.

    With `base`, the base rules' thresholds are drawn dashed beside them, and the base's value too when
    it differs (a changed query or pipeline)."""
    figure, axes = _figure()
    times = [moment(minute) for minute in timeline.minutes]
    values = [float("nan") if value is None else value for value in group.values]
    _shade(axes, chart_id, timeline.minutes, group.states)
    if base is not None:
        base_thresholds, base_group = base
        if base_group is not None and base_group.values != group.values:
            base_values = [float("nan") if value is None else value for value in base_group.values]
            (line,) = axes.plot(times[: len(base_values)], base_values[: len(times)], color=BASE_COLOUR, linewidth=0.9)
            line.set_gid(f"{chart_id}-value-base")
            line.set_label("value (base)")
        _threshold_lines(axes, chart_id, base_thresholds, suffix="-base", dashed=True)
    (line,) = axes.plot(times, values, color=VALUE_COLOUR, linewidth=1.1)
    line.set_gid(f"{chart_id}-value")
    line.set_label("value")
    _threshold_lines(axes, chart_id, Thresholds(timeline.comparator, timeline.critical, timeline.warning))
    axes.set_ylabel(timeline.unit)
    # Headroom above the highest line or threshold, so the legend sits clear of them.
    drawn = [value for value in group.values if value is not None]
    highest = max([timeline.critical, *drawn, *([timeline.warning] if timeline.warning is not None else [])])
    axes.set_ylim(0, max(highest, 1.0) * 1.2)
    axes.legend(loc="upper left", fontsize=8, frameon=False, ncols=3)
    return _svg(figure, chart_id)


def index_svg(index: IndexHours, chart_id: str) -> str:
    """Events per hour, stacked: indexed, Flex only, and what each exclusion filter dropped; with a daily
    limit, the running total of indexed events since the quota's last reset against it on a second axis."""
    figure, axes = _figure()
    hours = sorted(index.hours)
    times = [moment(hour * 60) for hour in hours]
    width = 1 / 24 * 0.9
    bottom = [0.0] * len(hours)
    layers = [(INDEXED, "indexed", VALUE_COLOUR), (FLEX, "Flex", FLEX_COLOUR)]
    layers += [
        (f"excluded:{name}", f"excluded by {name}", EXCLUDED_COLOURS[n % len(EXCLUDED_COLOURS)])
        for n, name in enumerate(index.filters)
    ]
    for key, label, colour in layers:
        counts = [float(index.hours[hour][key]) for hour in hours]
        if not any(counts):
            continue
        bars = axes.bar(times, counts, width=width, bottom=bottom, align="edge", color=colour, label=label)
        for number, patch in enumerate(bars.patches):
            patch.set_gid(f"{chart_id}-{key.replace(':', '-')}-{number}")
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("events per hour")
    axes.set_ylim(0, max([*bottom, 1.0]) * 1.25)  # headroom for the legend
    if index.daily_limit is not None:
        running = axes.twinx()
        running.spines["top"].set_visible(False)
        totals: list[float] = []
        day, total = None, 0.0
        for hour in hours:
            if (hour - DAILY_LIMIT_RESET_HOUR) // 24 != day:
                day, total = (hour - DAILY_LIMIT_RESET_HOUR) // 24, 0.0
            total += index.hours[hour][INDEXED]
            totals.append(total)
        (line,) = running.step(
            times, totals, where="post", color="#2e7d32", linewidth=1.0, label="indexed since the daily reset"
        )
        line.set_gid(f"{chart_id}-running")
        limit = running.axhline(index.daily_limit, color=CRITICAL_COLOUR, linewidth=1.2, label="daily limit")
        limit.set_gid(f"{chart_id}-daily-limit")
        running.set_ylabel("indexed since 14:00 UTC")
        running.set_ylim(0, max([*totals, float(index.daily_limit)]) * 1.25)
        running.legend(loc="upper right", fontsize=8, frameon=False)
    axes.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    return _svg(figure, chart_id)


def states_svg(
    minutes: Sequence[int],
    actual: Sequence[State | None],
    expected: Sequence[tuple[int, State]],
    chart_id: str,
    values: tuple[Sequence[float | None], Thresholds] | None = None,
) -> str:
    """A rule test's monitor over the case's timeline: the state it had at each minute as a step line,
    and each expectation as a marker at its minute (filled when it held, hollow when it did not)."""
    figure, axes = _figure(2.0)
    order = {State.OK: 0, State.WARN: 1, State.ALERT: 2}
    times = [moment(minute) for minute in minutes]
    levels = [float("nan") if state is None else order[state] for state in actual]
    (line,) = axes.step(times, levels, where="post", color=VALUE_COLOUR, linewidth=1.2, label="actual state")
    line.set_gid(f"{chart_id}-actual")
    held = dict(zip(minutes, actual, strict=True))
    for number, (minute, state) in enumerate(expected):
        holds = held.get(minute) is state
        marker = axes.plot(
            [moment(minute)],
            [order[state]],
            marker="o",
            markersize=7,
            color=CRITICAL_COLOUR if not holds else "#2e7d32",
            markerfacecolor="none" if not holds else "#2e7d32",
            linestyle="none",
            label="expected (held)" if holds else "expected (did not hold)",
        )[0]
        marker.set_gid(f"{chart_id}-expected-{number}")
    axes.set_yticks([0, 1, 2], ["ok", "warn", "alert"])
    axes.set_ylim(-0.4, 2.6)
    if values is not None:
        series, thresholds = values
        value_axes = axes.twinx()
        value_axes.spines["top"].set_visible(False)
        plotted = [float("nan") if value is None else value for value in series]
        (value_line,) = value_axes.plot(times, plotted, color=BASE_COLOUR, linewidth=0.8, label="value")
        value_line.set_gid(f"{chart_id}-value")
        _threshold_lines(value_axes, chart_id, thresholds, dashed=True)
        value_axes.set_ylim(bottom=0)
        value_axes.set_ylabel("value")
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    axes.legend(unique.values(), unique.keys(), loc="upper left", fontsize=8, frameon=False, ncols=3)
    return _svg(figure, chart_id)
