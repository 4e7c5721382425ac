"""Monitor windows over time: at each minute boundary T a monitor sees the logs dated in [T − window, T)."""

from __future__ import annotations

from typing import Any

import pytest
from evaluation_testing import T0, log, monitor, raw_line, rules_from_yaml

from logmon.evaluation import Evaluation, Intake, State
from logmon.rules.loader import RuleSet

RULES = """
    indexes:
      main:
        filter: "*"
    monitors:
      errors:
        name: errors
        search: "status:error"
        window: 5m
        threshold: {critical: 3, warning: 1}
      one_minute:
        name: one minute
        search: "@event_type:security_incident"
        window: 1m
        threshold: {comparator: ">=", critical: 1}
"""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return rules_from_yaml(RULES)


def replay(rules: RuleSet, lines: list[dict[str, Any]], *, finish: bool = True) -> Evaluation:
    intake, evaluation = Intake(rules), Evaluation(rules, keep_timeline=True)
    for number, line in enumerate(lines):
        evaluation.feed(intake.ingest(line, str(number).encode()))
    if finish:
        evaluation.finish()
    return evaluation


def values(evaluation: Evaluation, slug: str) -> dict[int, float]:
    """Minute boundary (relative to T0) → the ungrouped value evaluated there."""
    timeline = evaluation.monitors[slug].timeline
    assert timeline is not None
    return {minute - T0: results[()].value for minute, results in timeline.items()}


class TestWindowBoundaries:
    def test_log_at_window_start_is_counted(self) -> None:
        """A log dated exactly T − window is inside the window evaluated at T."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") > 0')
        evaluator.add(log(minute=T0), T0)
        assert evaluator.evaluate(T0 + 5)[()].value == 1

    def test_log_at_the_boundary_is_not_counted(self) -> None:
        """A log dated exactly T belongs to the next evaluation, not the one at T."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") > 0')
        evaluator.add(log(minute=T0 + 5), T0 + 5)
        assert evaluator.evaluate(T0 + 5)[()].value == 0
        assert evaluator.evaluate(T0 + 6)[()].value == 1

    def test_window_edges_through_the_stream(self, rules: RuleSet) -> None:
        """Dated logs count from the boundary after their minute until `window` boundaries later."""
        evaluation = replay(
            rules,
            [
                raw_line(None, T0, level="error"),  # exactly on a minute
                raw_line(None, T0 + 2 + 59.999 / 60, level="error"),  # the last instant of minute 2
            ],
        )
        seen = values(evaluation, "errors")
        assert [seen[t] for t in range(1, 9)] == [1, 1, 2, 2, 2, 1, 1, 0]

    def test_every_minute_is_evaluated_across_gaps(self, rules: RuleSet) -> None:
        """Boundaries are evaluated one by one, also through a long quiet gap."""
        evaluation = replay(rules, [raw_line(None, T0, level="error"), raw_line(None, T0 + 90, level="error")])
        seen = values(evaluation, "errors")
        assert sorted(seen) == list(range(1, 97))
        assert [seen[t] for t in (1, 5, 6, 7, 90, 91, 95, 96)] == [1, 1, 0, 0, 0, 1, 1, 0]

    def test_one_minute_window(self, rules: RuleSet) -> None:
        """A one-minute window holds exactly the previous minute."""
        evaluation = replay(rules, [raw_line("security_incident", T0 + 0.5), raw_line("security_incident", T0 + 2.25)])
        seen = values(evaluation, "one_minute")
        assert [seen[t] for t in range(1, 5)] == [1, 0, 1, 0]

    def test_advance_to_evaluates_up_to_and_including_the_minute(self, rules: RuleSet) -> None:
        """advance_to(M) evaluates every boundary after the last one, through M."""
        evaluation = replay(rules, [raw_line(None, T0, level="error")], finish=False)
        evaluation.advance_to(T0 + 3)
        timeline = evaluation.monitors["errors"].timeline
        assert timeline is not None
        assert sorted(timeline) == [T0 + 1, T0 + 2, T0 + 3]
        evaluation.advance_to(T0 + 2)  # the past: nothing to do
        assert sorted(timeline) == [T0 + 1, T0 + 2, T0 + 3]

    def test_logs_without_a_date_take_the_previous_date(self, rules: RuleSet) -> None:
        """A log without a readable date counts in the minute of the log before it."""
        undated: dict[str, object] = {"level": "error", "message": "no date"}
        evaluation = replay(rules, [raw_line(None, T0 + 1, level="error"), undated])
        assert values(evaluation, "errors")[2] == 2


class TestLateLogs:
    def test_late_log_older_than_the_window_is_ignored(self) -> None:
        """A log dated before every future window can never be counted."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") > 0')
        evaluator.add(log(), T0 + 9)
        evaluator.evaluate(T0 + 10)
        evaluator.add(log(), T0 + 2)  # next window is [T0+6, T0+11)
        assert evaluator.evaluate(T0 + 11)[()].value == 1

    def test_late_log_in_a_minute_still_held_is_counted(self, rules: RuleSet) -> None:
        """A log arriving after later ones, in a minute the window still holds, is counted."""
        evaluation = replay(
            rules,
            [
                raw_line(None, T0 + 1, level="error"),
                raw_line(None, T0 + 3, level="error"),
                raw_line(None, T0 + 1.5, level="error"),
            ],
        )
        assert values(evaluation, "errors")[4] == 3

    def test_late_log_inside_the_next_window_is_counted(self) -> None:
        """A late log is ignored only when it is older than the next window, not older than other logs."""
        evaluator = monitor('logs("*").index("*").rollup("count").last("5m") > 0')
        evaluator.add(log(), T0 + 99)
        evaluator.evaluate(T0 + 100)
        evaluator.add(log(), T0 + 100)
        evaluator.add(log(), T0 + 97)
        assert evaluator.evaluate(T0 + 101)[()].value == 3


class TestFinish:
    def test_finish_drains_every_window_and_closes_alerts(self, rules: RuleSet) -> None:
        """After the last log, evaluation goes on until the windows are empty and every alert resolved."""
        lines = [raw_line(None, T0 + n / 10, level="error") for n in range(5)]
        evaluation = replay(rules, lines)
        errors = evaluation.monitors["errors"]
        assert errors.idle
        assert [(i.start, i.end) for i in errors.intervals] == [((T0 + 1) * 60, (T0 + 6) * 60)]
        assert values(evaluation, "errors")[6] == 0

    def test_finish_without_logs_does_nothing(self, rules: RuleSet) -> None:
        """With nothing fed, finish evaluates nothing."""
        evaluation = Evaluation(rules, keep_timeline=True)
        evaluation.finish()
        assert all(not e.timeline for e in evaluation.monitors.values())

    def test_an_alert_on_absence_stays_open(self) -> None:
        """A `< 1` count alerts while nothing matches, so after the stream it is still alerting."""
        rules = rules_from_yaml(
            """
            indexes: {main: {filter: "*"}}
            monitors:
              heartbeat:
                name: heartbeat
                search: "@event_type:heartbeat"
                window: 2m
                threshold: {comparator: "<", critical: 1}
            """
        )
        evaluation = replay(rules, [raw_line("heartbeat", T0), raw_line("other", T0 + 1)])
        heartbeat = evaluation.monitors["heartbeat"]
        assert [(i.start, i.end) for i in heartbeat.intervals] == [((T0 + 3) * 60, None)]
        timeline = heartbeat.timeline
        assert timeline is not None
        assert timeline[T0 + 3][()].state is State.ALERT
