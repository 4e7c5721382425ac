"""`logmon replay --format markdown`: the replay for a pull-request comment, each monitor's timeline as a
Mermaid `xychart-beta` block (GitHub draws Mermaid in comments, so nothing is hosted).

Each series is cut to at most `POINTS` values, each the largest of its stretch, so a short burst over a
threshold still shows. Mermaid's xychart has no legend: the line under each chart names the colours,
which the block sets itself (`plotColorPalette`, in the order the lines are written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from logmon.evaluation import State
from logmon.replay import iso
from logmon.report.collect import ChartedEvaluation
from logmon.report.compare import MonitorChange, outcome_text, verdict
from logmon.report.html import Provenance
from logmon.report.timeline import MonitorTimeline, downsample, monitor_timeline
from logmon.rules.loader import RuleSet

POINTS = 100
"""Points per series at most."""


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    colour_name: str
    values: tuple[float, ...]


VALUE = ("#1f5fbf", "blue")
BASE_VALUE = ("#8c8c8c", "grey")
CRITICAL = ("#c62828", "red")
BASE_CRITICAL = ("#f48fb1", "pink")
WARNING = ("#ef8f00", "orange")
BASE_WARNING = ("#d4b106", "yellow")


def _number(value: float) -> str:
    return f"{value:.4g}" if not float(value).is_integer() else str(int(value))


def _quoted(text: str) -> str:
    """A Mermaid string: double quotes cannot be escaped inside one, so they become single quotes."""
    return '"' + text.replace('"', "'").replace("\n", " ") + '"'


def _start(minutes: Sequence[int]) -> str:
    return datetime.fromtimestamp(minutes[0] * 60, UTC).strftime("%Y-%m-%d %H:%M UTC")


def mermaid_chart(title: str, minutes: Sequence[int], y_label: str, series: Sequence[Series]) -> str:
    """One `xychart-beta` block (with its fence): time in hours from the first evaluation, one line per series."""
    span_hours = max((minutes[-1] - minutes[0]) / 60, 1 / 60) if minutes else 1.0
    top = max((value for item in series for value in item.values), default=0.0)
    top = top * 1.1 if top > 0 else 1.0
    palette = ", ".join(item.colour for item in series)
    lines = [
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
        "xychart-beta",
        f"    title {_quoted(title)}",
        f"    x-axis {_quoted('hours from ' + _start(minutes) if minutes else 'hours')} "
        f"0 --> {_number(round(span_hours, 2))}",
        f"    y-axis {_quoted(y_label)} 0 --> {_number(round(top, 2))}",
    ]
    lines += [f"    line [{', '.join(_number(value) for value in item.values)}]" for item in series]
    lines.append("```")
    return "\n".join(lines)


def _thresholds_words(timeline: MonitorTimeline) -> str:
    words = f"{timeline.comparator} {timeline.critical:g}"
    if timeline.warning is not None:
        words += f" (warns {timeline.comparator} {timeline.warning:g})"
    return words


def legend(series: Sequence[Series]) -> str:
    return " · ".join(f"{item.colour_name}: {item.label}" for item in series)


def _constant(value: float, length: int) -> tuple[float, ...]:
    return (value,) * length


def _value_label(timeline: MonitorTimeline) -> str:
    return "value" if len(timeline.groups) <= 1 else f"value (highest of {len(timeline.groups)} groups)"


def timeline_series(timeline: MonitorTimeline) -> list[Series]:
    values = tuple(downsample(timeline.highest(), POINTS))
    series = [
        Series(_value_label(timeline), *VALUE, values),
        Series(
            f"critical {timeline.comparator} {timeline.critical:g}",
            *CRITICAL,
            _constant(timeline.critical, len(values)),
        ),
    ]
    if timeline.warning is not None:
        series.append(
            Series(
                f"warning {timeline.comparator} {timeline.warning:g}",
                *WARNING,
                _constant(timeline.warning, len(values)),
            )
        )
    return series


def comparison_series(change: MonitorChange) -> tuple[MonitorTimeline, list[Series]]:
    """Head and base on one chart: the head's value (and the base's when it differs), both thresholds."""
    head, base = change.head, change.base
    shown = head or base
    assert shown is not None
    length = len(downsample(shown.highest(), POINTS))
    series: list[Series] = []
    if head is not None:
        series.append(Series(_value_label(head) + " (head)", *VALUE, tuple(downsample(head.highest(), POINTS))))
    if base is not None and (head is None or base.highest() != head.highest()):
        base_values = tuple(downsample(base.highest(), POINTS))[:length]
        base_values += (0.0,) * (length - len(base_values))
        series.append(Series(_value_label(base) + " (base)", *BASE_VALUE, base_values))
    for side, other, name, critical, warning in (
        (head, base, "head", CRITICAL, WARNING),
        (base, head, "base", BASE_CRITICAL, BASE_WARNING),
    ):
        if side is None:
            continue
        # A threshold both versions share is drawn once, from the head, and said to be both.
        for value, other_value, kind, colour in (
            (side.critical, other.critical if other else None, "critical", critical),
            (side.warning, other.warning if other else None, "warning", warning),
        ):
            if value is None or (name == "base" and value == other_value):
                continue
            whose = "both" if value == other_value else name
            series.append(Series(f"{kind} {side.comparator} {value:g} ({whose})", *colour, _constant(value, length)))
    return shown, series


def _header(report: dict[str, Any], evaluation: ChartedEvaluation, provenance: Provenance) -> str:
    malformed = report["malformed"]["count"]
    return (
        f"Replayed `{provenance.source}` ({iso(evaluation.first_timestamp) or 'no dated log'} → "
        f"{iso(evaluation.last_timestamp) or 'no dated log'}): {report['events']:,} events, "
        f"{malformed:,} malformed line{'s' if malformed != 1 else ''}; "
        f"rules `{provenance.rules}` at `{provenance.commit}`."
    )


def render_markdown(
    report: dict[str, Any], evaluation: ChartedEvaluation, rules: RuleSet, provenance: Provenance
) -> str:
    """Every monitor's timeline on the replayed logs."""
    lines = ["### Monitors on the replayed logs", "", _header(report, evaluation, provenance), ""]
    for slug, evaluator in evaluation.monitors.items():
        timeline = monitor_timeline(evaluator, rules.monitors[slug].name)
        alerts = outcome_text(timeline)
        lines.append(f"#### `{slug}`: {timeline.name}")
        lines.append("")
        warned = f", {timeline.minutes_in(State.WARN)} minutes in warn" if timeline.warning is not None else ""
        lines.append(f"Alerts when {timeline.unit} {_thresholds_words(timeline)}: {alerts}{warned}.")
        lines.append("")
        if timeline.minutes:
            series = timeline_series(timeline)
            lines += [mermaid_chart(slug, timeline.minutes, timeline.unit, series), "", legend(series), ""]
    return "\n".join(lines).rstrip() + "\n"


def render_comparison_markdown(
    changes: Sequence[MonitorChange],
    compared: int,
    report: dict[str, Any],
    evaluation: ChartedEvaluation,
    provenance: Provenance,
    base_rules: str,
) -> str:
    """The monitors the change moves: both thresholds on one chart, and what each version would have done."""
    header = _header(report, evaluation, provenance)
    lines = ["### Monitors: base and head rules on the same logs", "", f"{header} Base rules: `{base_rules}`.", ""]
    if not changes:
        lines.append(f"No monitor changes: the {compared} monitors evaluate identically with the base and head rules.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(changes)} of {compared} monitors change.")
    lines.append("")
    for change in changes:
        shown, series = comparison_series(change)
        what = "new" if change.base is None else "removed" if change.head is None else "changed"
        lines.append(f"#### `{change.slug}`: {change.name} ({what})")
        lines.append("")
        lines.append(f"**{verdict(change)}**")
        lines.append("")
        if shown.minutes:
            lines += [mermaid_chart(change.slug, shown.minutes, shown.unit, series), "", legend(series), ""]
    return "\n".join(lines).rstrip() + "\n"
