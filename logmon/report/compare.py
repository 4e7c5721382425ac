"""`logmon replay --compare BASE_RULES_DIR`: the same logs through the base and the head rules, in one pass.

A monitor counts as changed when its query or thresholds differ between the two rule sets, when it exists
in only one of them, or when it evaluated differently on these logs (a pipeline or index change can move
a monitor whose own rule did not change). For each, the verdict says how many alerts and minutes in alert
each version would have produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from logmon.evaluation import State
from logmon.queries import query_text, thresholds
from logmon.report.collect import ChartedEvaluation
from logmon.report.timeline import MonitorTimeline, monitor_timeline
from logmon.rules.loader import RuleSet


@dataclass(frozen=True)
class MonitorChange:
    slug: str
    base: MonitorTimeline | None
    """None: the monitor is new in the head rules."""
    head: MonitorTimeline | None
    """None: the head rules remove it."""
    definition_changed: bool

    @property
    def name(self) -> str:
        either = self.head or self.base
        assert either is not None
        return either.name


def _definition(rules: RuleSet, slug: str) -> tuple[str, tuple[float, float | None]]:
    monitor = rules.monitors[slug]
    return query_text(monitor), thresholds(monitor)


def _outcome(timeline: MonitorTimeline) -> tuple[object, ...]:
    return timeline.minutes, tuple((group.group, group.values, group.states) for group in timeline.groups)


def changed_monitors(
    base_rules: RuleSet, head_rules: RuleSet, base: ChartedEvaluation, head: ChartedEvaluation
) -> list[MonitorChange]:
    """Every monitor whose rule or whose evaluation on these logs differs, in the head rules' order."""
    slugs = list(head_rules.monitors) + [slug for slug in base_rules.monitors if slug not in head_rules.monitors]
    changes = []
    for slug in slugs:
        base_timeline = (
            monitor_timeline(base.monitors[slug], base_rules.monitors[slug].name) if slug in base.monitors else None
        )
        head_timeline = (
            monitor_timeline(head.monitors[slug], head_rules.monitors[slug].name) if slug in head.monitors else None
        )
        if base_timeline is None or head_timeline is None:
            changes.append(MonitorChange(slug, base_timeline, head_timeline, True))
            continue
        definition_changed = _definition(base_rules, slug) != _definition(head_rules, slug)
        if definition_changed or _outcome(base_timeline) != _outcome(head_timeline):
            changes.append(MonitorChange(slug, base_timeline, head_timeline, definition_changed))
    return changes


def outcome_text(timeline: MonitorTimeline | None) -> str:
    """`2 alerts, 14 minutes in alert`, or why there is none."""
    if timeline is None:
        return "no such monitor"
    alerts = timeline.alerts()
    minutes = timeline.minutes_in(State.ALERT)
    if not alerts:
        return "no alert"
    return f"{alerts} alert{'s' if alerts != 1 else ''}, {minutes} minute{'s' if minutes != 1 else ''} in alert"


def threshold_text(timeline: MonitorTimeline | None) -> str:
    if timeline is None:
        return "absent"
    text = f"{timeline.comparator} {timeline.critical:g}"
    if timeline.warning is not None:
        text += f", warn {timeline.comparator} {timeline.warning:g}"
    return text


def verdict(change: MonitorChange) -> str:
    """One line: what each version would have done on the same logs."""
    return (
        f"base ({threshold_text(change.base)}): {outcome_text(change.base)}; "
        f"head ({threshold_text(change.head)}): {outcome_text(change.head)}"
    )


def comparison_document(changes: list[MonitorChange], compared: int) -> dict[str, Any]:
    """The comparison for `--format json`."""

    def side(timeline: MonitorTimeline | None) -> dict[str, Any] | None:
        if timeline is None:
            return None
        return {
            "critical": timeline.critical,
            "warning": timeline.warning,
            "comparator": timeline.comparator,
            "alerts": timeline.alerts(),
            "alert_minutes": timeline.minutes_in(State.ALERT),
            "warn_minutes": timeline.minutes_in(State.WARN),
        }

    return {
        "monitors_compared": compared,
        "changed": {
            change.slug: {
                "definition_changed": change.definition_changed,
                "base": side(change.base),
                "head": side(change.head),
                "verdict": verdict(change),
            }
            for change in changes
        },
    }
