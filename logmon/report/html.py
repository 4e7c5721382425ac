"""`logmon replay --html FILE`: one self-contained page (inline SVG and CSS, no script, nothing fetched).

Per monitor, the value at every evaluation against its thresholds with alert and warn intervals shaded
(one chart per group, busiest first, at most `GROUPS_SHOWN`); per index, events per hour; the cost
section of the replay report as tables when the report has one; and a header saying what was replayed.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from logmon.evaluation import State
from logmon.replay import iso
from logmon.report.charts import index_svg, monitor_svg
from logmon.report.collect import ChartedEvaluation
from logmon.report.timeline import GROUPS_SHOWN, MonitorTimeline, monitor_timeline
from logmon.rules.loader import RuleSet

_ENVIRONMENT = Environment(
    loader=PackageLoader("logmon.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Provenance:
    """What was replayed, against which rules."""

    source: str
    rules: str
    commit: str


def rules_commit(rules_dir: Path) -> str:
    """The commit the rules directory is at, `+ local changes` when it differs from it; `unknown` outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(rules_dir), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(rules_dir), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return head + (" + local changes" if changes else "")


def _when(timestamp: float | None) -> str:
    return iso(timestamp) or "no dated log"


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if not value.is_integer() else f"{int(value):,}"
    return str(value)


_ENVIRONMENT.filters["number"] = _number


def environment() -> Environment:
    """The templates, shared by the replay and rule test pages."""
    return _ENVIRONMENT


def monitor_sections(evaluation: ChartedEvaluation, rules: RuleSet) -> list[dict[str, Any]]:
    sections = []
    for slug, evaluator in evaluation.monitors.items():
        timeline = monitor_timeline(evaluator, rules.monitors[slug].name)
        sections.append(_monitor_section(timeline))
    return sections


def _monitor_section(timeline: MonitorTimeline) -> dict[str, Any]:
    charts = []
    for number, group in enumerate(timeline.groups[:GROUPS_SHOWN]):
        chart_id = f"monitor-{timeline.slug}-{number}"
        charts.append({"id": chart_id, "group": group.label, "svg": Markup(monitor_svg(timeline, group, chart_id))})
    thresholds = f"critical {timeline.comparator} {timeline.critical:g}"
    if timeline.warning is not None:
        thresholds += f", warning {timeline.comparator} {timeline.warning:g}"
    return {
        "slug": timeline.slug,
        "name": timeline.name,
        "thresholds": thresholds,
        "unit": timeline.unit,
        "alerts": timeline.alerts(),
        "alert_minutes": timeline.minutes_in(State.ALERT),
        "warn_minutes": timeline.minutes_in(State.WARN),
        "has_warning": timeline.warning is not None,
        "groups": len(timeline.groups),
        "hidden": max(0, len(timeline.groups) - GROUPS_SHOWN),
        "charts": charts,
    }


def index_sections(evaluation: ChartedEvaluation) -> list[dict[str, Any]]:
    sections = []
    for name, hours in evaluation.index_hours.items():
        totals: dict[str, int] = {}
        for counts in hours.hours.values():
            for key, count in counts.items():
                totals[key] = totals.get(key, 0) + count
        chart_id = f"index-{name}"
        sections.append(
            {
                "name": name,
                "id": chart_id,
                "daily_limit": hours.daily_limit,
                "totals": dict(sorted(totals.items())),
                "svg": Markup(index_svg(hours, chart_id)) if hours.hours else None,
            }
        )
    return sections


def render_html(report: dict[str, Any], evaluation: ChartedEvaluation, rules: RuleSet, provenance: Provenance) -> str:
    """The whole page."""
    template = _ENVIRONMENT.get_template("replay.html.j2")
    return template.render(
        title=f"logmon replay: {provenance.source}",
        provenance=provenance,
        time_range=(_when(evaluation.first_timestamp), _when(evaluation.last_timestamp)),
        report=report,
        monitors=monitor_sections(evaluation, rules),
        indexes=index_sections(evaluation),
        cost=report.get("cost"),
        groups_shown=GROUPS_SHOWN,
    )
