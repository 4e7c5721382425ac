"""`logmon test --html FILE`: the rule test run as a page, each failed case with a chart per monitor it
checks: the state the monitor had at every minute of the case against the states the case expected."""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from logmon.evaluation import State
from logmon.report.charts import Thresholds, states_svg
from logmon.report.html import environment
from logmon.report.timeline import monitor_timeline
from logmon.ruletest.checks import MINUTE
from logmon.ruletest.lines import BASE_TIME
from logmon.ruletest.model import duration_microseconds
from logmon.ruletest.report import summary
from logmon.ruletest.runner import CaseResult, TestReport

_SEVERITY = {State.OK: 0, State.WARN: 1, State.ALERT: 2}
START_MINUTE = math.floor(BASE_TIME.timestamp() / 60)


def _worst(states: list[State | None]) -> State | None:
    present = [state for state in states if state is not None]
    return max(present, key=_SEVERITY.__getitem__) if present else None


def case_charts(result: CaseResult) -> list[dict[str, Any]]:
    """One chart per monitor the failed case checks, in the order the case names them."""
    if result.evaluation is None or result.case is None:
        return []
    expected: dict[str, list[tuple[int, State]]] = {}
    for expectation in result.case.expect.monitors:
        minute = START_MINUTE + duration_microseconds(expectation.at) // MINUTE
        expected.setdefault(expectation.monitor, []).append((minute, State(expectation.state)))
    quiet = list(result.case.expect.quiet)
    charts = []
    for number, slug in enumerate(dict.fromkeys([*expected, *quiet])):
        evaluator = result.evaluation.monitors[slug]
        timeline = monitor_timeline(evaluator, slug)
        if not timeline.minutes:
            continue
        actual = [_worst([group.states[i] for group in timeline.groups]) for i in range(len(timeline.minutes))]
        marks = list(expected.get(slug, []))
        if slug in quiet:
            # `quiet` expects OK at every minute: mark the minutes where it was not.
            marks += [
                (minute, State.OK)
                for minute, state in zip(timeline.minutes, actual, strict=True)
                if state not in (State.OK, None)
            ]
        chart_id = f"case-{result.id.replace('/', '-')}-{number}"
        thresholds = Thresholds(timeline.comparator, timeline.critical, timeline.warning)
        svg = states_svg(timeline.minutes, actual, marks, chart_id, (timeline.highest(), thresholds))
        charts.append({"monitor": slug, "id": chart_id, "quiet": slug in quiet, "svg": Markup(svg)})
    return charts


def render_ruletests_html(report: TestReport) -> str:
    template = environment().get_template("ruletests.html.j2")
    failed = [
        {"id": case.id, "location": str(case.location), "failures": case.failures, "charts": case_charts(case)}
        for case in report.cases
        if not case.passed
    ]
    return template.render(
        title="logmon rule tests",
        summary=summary(report),
        findings=[f"{f.location}: {f.severity.value} {f.check}: {f.message}" for f in report.findings],
        failed=failed,
        passed=[case.id for case in report.cases if case.passed],
    )
